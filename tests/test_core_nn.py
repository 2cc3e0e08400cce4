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


# ------------------------------------------------------------- what mutation testing showed the tests left open
def test_repr_names_the_sizes_and_a_loss_other_than_mse():
    assert repr(MLP()) == "MLP([1, 40, 40, 1])"
    assert repr(MLP((4, 9, 3), loss="xent")) == "MLP([4, 9, 3], loss='xent')"


def test_a_label_shape_error_says_the_expected_shape():
    model = MLP((2, 5, 3))
    with pytest.raises(ValueError, match=r"expected y \(4, 6, 3\)"):
        model.loss(model.init(np.random.default_rng(0)), np.zeros((4, 6, 2)), np.zeros((4, 6, 1)))


def test_linearize_returns_the_loss_itself_for_both_heads():
    rng = np.random.default_rng(3)
    for model, y in ((MLP((2, 6, 3)), rng.normal(size=(5, 3))),
                     (MLP((2, 6, 3), loss="xent"), np.eye(3)[rng.integers(0, 3, 5)])):
        theta, x = model.init(rng), rng.normal(size=(5, 2))
        out = model.predict(theta, x)
        if model.loss_name == "mse":
            want = np.mean((out - y) ** 2)
        else:   # −(1/N) Σ_n log softmax(out_n)[label_n], written out
            want = -np.mean([o[c] - np.log(np.exp(o).sum()) for o, c in zip(out, y.argmax(axis=1))])
        assert model.linearize(theta, x, y)[0] == pytest.approx(want, rel=1e-12)


def test_hvp_of_one_point_along_a_batch_of_directions(setup):
    """A linearisation at one θ, one data set, applied to T directions at once: T products, each the plain one."""
    model, theta, x, y, rng = setup
    hvp = model.linearize(theta, x[0], y[0])[2]
    v = rng.normal(size=(4, model.size))
    np.testing.assert_allclose(hvp(v), np.stack([hvp(row) for row in v]), rtol=1e-12, atol=1e-14)


def test_the_base_model_derives_loss_gradient_and_hvp_from_linearize():
    """`Model`'s defaults, on a model that only defines `linearize`: L = ½θᵀAθ − bᵀθ (x, y unused)."""
    from mamlviz.nn import Model

    a, b = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -1.0])

    class Quadratic(Model):
        size = 2

        def linearize(self, theta, x, y):
            return 0.5 * theta @ a @ theta - b @ theta, a @ theta - b, lambda v: a @ v

    q, th, v = Quadratic(), np.array([0.3, -0.7]), np.array([1.0, 2.0])
    assert q.loss(th, None, None) == pytest.approx(0.5 * th @ a @ th - b @ th)
    loss, grad = q.loss_grad(th, None, None)
    np.testing.assert_allclose(grad, a @ th - b)
    np.testing.assert_allclose(q.hvp(th, None, None, v), a @ v)
    assert q.loss_grad_factors(th, None, None)[2] is None
