"""Softmax cross-entropy on the MLP: loss against a per-point loop, gradient and Hessian-vector product against
finite differences, MAML / FOMAML / Reptile / iMAML meta-gradients (k = 1…3) against finite differences of the
objective, batched = per task, and the MSE head unchanged."""

from types import SimpleNamespace

import numpy as np
import pytest

from mamlviz.meta import inner_sgd, meta_gradient
from mamlviz.nn import MLP, softmax

EPS = 1e-6
SIZES = (6, 8, 7, 4)           # small, so that finite differences are cheap; 4 classes


def one_hot(labels, n):
    return np.eye(n)[labels]


def setup(n_tasks=3, n_support=4, n_query=5, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(SIZES, loss="xent")
    theta = model.init(rng) + rng.normal(0, 0.05, model.size)
    c = SIZES[-1]
    batch = SimpleNamespace(
        xs=rng.normal(size=(n_tasks, n_support, SIZES[0])), ys=one_hot(rng.integers(c, size=(n_tasks, n_support)), c),
        xq=rng.normal(size=(n_tasks, n_query, SIZES[0])), yq=one_hot(rng.integers(c, size=(n_tasks, n_query)), c))
    return model, theta, batch, rng


def xent_by_loop(model, theta, x, y):
    """−(1/N) Σ_n log p(y_n | x_n), one point at a time, log-sum-exp written out."""
    total = 0.0
    for xn, yn in zip(x, y):
        z = model.predict(theta, xn[None])[0]
        m = z.max()
        total -= z[np.argmax(yn)] - m - np.log(np.sum(np.exp(z - m)))
    return total / len(x)


def test_loss_equals_a_per_point_loop_and_predict_gives_logits():
    model, theta, batch, _ = setup()
    for t in range(3):
        assert model.loss(theta, batch.xs[t], batch.ys[t]) == pytest.approx(
            xent_by_loop(model, theta, batch.xs[t], batch.ys[t]), rel=1e-12)
    p = softmax(model.predict(theta, batch.xq))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert (p > 0).all()


def test_huge_logits_do_not_overflow():
    model = MLP((2, 3), loss="xent")
    theta = np.zeros(model.size)
    theta[:6] = [1e4, 0, 0, 0, 0, 0]                      # logit 1e4 for class 0 at x = (1, 0)
    x, y = np.array([[1.0, 0.0]]), one_hot([1], 3)
    loss, grad = model.loss_grad(theta, x, y)
    assert loss == pytest.approx(1e4) and np.isfinite(grad).all()


def test_gradient_finite_differences():
    model, theta, batch, rng = setup()
    x, y = batch.xs[0], batch.ys[0]
    _, grad = model.loss_grad(theta, x, y)
    for _ in range(5):
        u = rng.normal(size=model.size)
        fd = (model.loss(theta + EPS * u, x, y) - model.loss(theta - EPS * u, x, y)) / (2 * EPS)
        assert grad @ u == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_hvp_finite_differences_of_the_gradient():
    model, theta, batch, rng = setup()
    x, y = batch.xs[1], batch.ys[1]
    for _ in range(3):
        v = rng.normal(size=model.size)
        hv = model.hvp(theta, x, y, v)
        fd = (model.loss_grad(theta + EPS * v, x, y)[1] - model.loss_grad(theta - EPS * v, x, y)[1]) / (2 * EPS)
        np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-8)


def test_hvp_is_symmetric():
    model, theta, batch, rng = setup()
    u, v = rng.normal(size=(2, model.size))
    hvp = model.linearize(theta, batch.xs[0], batch.ys[0])[2]
    assert u @ hvp(v) == pytest.approx(v @ hvp(u), rel=1e-10)


def test_batched_equals_per_task():
    model, theta, batch, rng = setup(n_tasks=4)
    thetas = theta + rng.normal(0, 0.1, (4, model.size))
    v = rng.normal(size=(4, model.size))
    for th in (theta, thetas):                          # shared θ and one θ per task
        loss, grad, hvp = model.linearize(th, batch.xs, batch.ys)
        hv, hv_sum = hvp(v), hvp(v, reduce=True)
        for t in range(4):
            tt = th if th.ndim == 1 else th[t]
            lt, gt, ht = model.linearize(tt, batch.xs[t], batch.ys[t])
            assert loss[t] == pytest.approx(lt, rel=1e-12)
            np.testing.assert_allclose(grad[t], gt, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(hv[t], ht(v[t]), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(hv_sum, hv.sum(axis=0), rtol=1e-10, atol=1e-13)


def objective(model, theta, batch, lr, steps, reg=None):
    """mean over tasks of L^te(U^(k)(θ)), with no derivative bookkeeping."""
    phi = inner_sgd(model, theta, batch.xs, batch.ys, lr=lr, steps=steps, reg=reg).phi
    return model.loss(np.broadcast_to(phi, (batch.xs.shape[0], model.size)), batch.xq, batch.yq).mean()


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_maml_meta_gradient_finite_differences(steps):
    model, theta, batch, rng = setup()
    lr = 0.5                                             # a large α, so the second-order terms matter
    direction, info = meta_gradient("maml", model, theta, batch, inner_lr=lr, inner_steps=steps)
    fo, _ = meta_gradient("fomaml", model, theta, batch, inner_lr=lr, inner_steps=steps)
    assert not info["nonfinite"] and np.linalg.norm(direction - fo) > 1e-3 * np.linalg.norm(direction)
    for _ in range(3):
        u = rng.normal(size=model.size)
        fd = (objective(model, theta + EPS * u, batch, lr, steps)
              - objective(model, theta - EPS * u, batch, lr, steps)) / (2 * EPS)
        assert direction @ u == pytest.approx(fd, rel=1e-5, abs=1e-8)
    per_task, info = meta_gradient("maml", model, theta, batch, inner_lr=lr, inner_steps=steps, per_task=True)
    np.testing.assert_allclose(per_task, direction, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("steps", [1, 3])
def test_fomaml_and_reptile_on_classification(steps):
    """FOMAML = the query gradient at φ; Reptile = θ − φ̄ (both against a task-by-task loop)."""
    model, theta, batch, _ = setup()
    fo, _ = meta_gradient("fomaml", model, theta, batch, inner_lr=0.3, inner_steps=steps)
    rep, _ = meta_gradient("reptile", model, theta, batch, inner_lr=0.3, inner_steps=steps)
    phis = []
    for t in range(3):
        phi = theta.copy()
        for _ in range(steps):
            phi = phi - 0.3 * model.loss_grad(phi, batch.xs[t], batch.ys[t])[1]
        phis.append(phi)
    np.testing.assert_allclose(fo, np.mean([model.loss_grad(p, batch.xq[t], batch.yq[t])[1]
                                            for t, p in enumerate(phis)], axis=0), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rep, theta - np.mean(phis, axis=0), rtol=1e-10, atol=1e-13)


def test_imaml_against_a_direct_solve():
    """iMAML's CG direction equals (I + H/λ)⁻¹ ∇L^te(φ) solved with the dense support Hessian at φ."""
    model, theta, batch, _ = setup(n_tasks=2)
    reg = 5.0
    direction, info = meta_gradient("imaml", model, theta, batch, inner_lr=0.1, inner_steps=3, reg=reg, cg_steps=60)
    expected = []
    for t in range(2):
        phi = info["phi"][t]
        hvp = model.linearize(phi, batch.xs[t], batch.ys[t])[2]
        h = np.array([hvp(e) for e in np.eye(model.size)])
        g = model.loss_grad(phi, batch.xq[t], batch.yq[t])[1]
        expected.append(np.linalg.solve(np.eye(model.size) + h / reg, g))
    np.testing.assert_allclose(direction, np.mean(expected, axis=0), rtol=1e-6, atol=1e-9)


def test_mse_head_is_the_default_and_unchanged():
    model = MLP((3, 5, 2))
    rng = np.random.default_rng(1)
    theta, x, y = model.init(rng), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    assert model.loss(theta, x, y) == pytest.approx(np.mean((model.predict(theta, x) - y) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="unknown loss"):
        MLP((3, 2), loss="hinge")
