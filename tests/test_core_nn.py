"""The MLP: layout, exact gradients and Hessian-vector products against central finite differences, batching."""

import numpy as np
import pytest

from mamlviz.nn import MLP

EPS = 1e-6


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    model = MLP()
    theta = model.init(rng) + rng.normal(0, 0.1, model.size)
    x = rng.uniform(-5, 5, (3, 8, 1))
    y = rng.normal(size=(3, 8, 1))
    return model, theta, x, y, rng


def test_size_and_layout():
    model = MLP()
    assert model.size == 1761
    rng = np.random.default_rng(1)
    theta = model.init(rng)
    assert theta.shape == (1761,) and theta.dtype == np.float64
    theta = theta + rng.normal(size=1761)
    w1, b1 = theta[:40].reshape(1, 40), theta[40:80]
    w2, b2 = theta[80:1680].reshape(40, 40), theta[1680:1720]
    w3, b3 = theta[1720:1760].reshape(40, 1), theta[1760:]
    x = rng.uniform(-5, 5, (7, 1))
    relu = lambda z: np.maximum(z, 0)
    expected = relu(relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3
    np.testing.assert_allclose(model.predict(theta, x), expected, rtol=1e-12)
    y = rng.normal(size=(7, 1))
    assert np.isclose(model.loss(theta, x, y), np.mean((expected - y) ** 2))


def test_gradient_full_finite_differences_small_mlp():
    rng = np.random.default_rng(2)
    model = MLP((2, 5, 3, 2))
    theta = model.init(rng) + rng.normal(0, 0.3, model.size)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    _, grad = model.loss_grad(theta, x, y)
    fd = np.array([(model.loss(theta + EPS * e, x, y) - model.loss(theta - EPS * e, x, y)) / (2 * EPS)
                   for e in np.eye(model.size)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_gradient_directional_finite_differences(setup):
    model, theta, x, y, rng = setup
    loss, grad = model.loss_grad(theta, x[0], y[0])
    for _ in range(5):
        u = rng.normal(size=model.size)
        fd = (model.loss(theta + EPS * u, x[0], y[0]) - model.loss(theta - EPS * u, x[0], y[0])) / (2 * EPS)
        assert np.isclose(grad @ u, fd, rtol=1e-6, atol=1e-8)


def test_hvp_against_finite_differences_of_gradient(setup):
    model, theta, x, y, rng = setup
    for _ in range(3):
        v = rng.normal(size=model.size)
        hv = model.hvp(theta, x[1], y[1], v)
        fd = (model.loss_grad(theta + EPS * v, x[1], y[1])[1]
              - model.loss_grad(theta - EPS * v, x[1], y[1])[1]) / (2 * EPS)
        np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6 * np.abs(hv).max())


def test_explicit_hessian_is_symmetric_small_mlp():
    rng = np.random.default_rng(3)
    model = MLP((1, 6, 4, 1))
    theta = model.init(rng) + rng.normal(0, 0.3, model.size)
    x, y = rng.uniform(-3, 3, (9, 1)), rng.normal(size=(9, 1))
    hess = np.array([model.hvp(theta, x, y, e) for e in np.eye(model.size)])
    np.testing.assert_allclose(hess, hess.T, atol=1e-10)


@pytest.mark.parametrize("shared", [True, False])
def test_batched_agrees_with_per_task(setup, shared):
    model, theta, x, y, rng = setup
    thetas = theta if shared else theta + rng.normal(0, 0.1, (3, model.size))
    v = rng.normal(size=(3, model.size))
    loss, grad = model.loss_grad(thetas, x, y)
    hv = model.hvp(thetas, x, y, v)
    pred = model.predict(thetas, x)
    assert loss.shape == (3,) and grad.shape == (3, model.size) and hv.shape == (3, model.size)
    for t in range(3):
        th = theta if shared else thetas[t]
        lt, gt = model.loss_grad(th, x[t], y[t])
        np.testing.assert_allclose(loss[t], lt, rtol=1e-12)
        np.testing.assert_allclose(grad[t], gt, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(hv[t], model.hvp(th, x[t], y[t], v[t]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(pred[t], model.predict(th, x[t]), rtol=1e-12)


def test_shape_mismatches_raise_value_error(setup):
    model, theta, x, y, _ = setup
    with pytest.raises(ValueError, match=r"\(5,\)"):
        model.loss_grad(np.zeros(5), x, y)
    with pytest.raises(ValueError, match=r"\(3, 8, 1\)"):
        model.loss_grad(theta, x, y[:, :4])
    with pytest.raises(ValueError, match="task axes"):
        model.loss_grad(np.zeros((2, model.size)), x, y)
    with pytest.raises(ValueError):
        model.hvp(theta, x, y, np.zeros(7))


def test_inputs_not_mutated(setup):
    model, theta, x, y, rng = setup
    copies = [a.copy() for a in (theta, x, y)]
    model.hvp(theta, x, y, rng.normal(size=(3, model.size)))
    for a, b in zip((theta, x, y), copies):
        np.testing.assert_array_equal(a, b)
