"""The 2-D toy problems: closed-form gradients and Hessians against finite differences, grids, tasks."""

import numpy as np
import pytest

from mamlviz import toy

EPS = 1e-6


def problems():
    rng = np.random.default_rng(0)
    sp = toy.softplus_tasks(rng, toy.SOFTPLUS_TASK_SETS["four"], n_support=7, n_query=5)
    return [(toy.SoftplusLine(), sp), (toy.Bumps(), toy.bump_tasks()),
            (toy.Quadratic(), toy.quadratic_task(0.4, -0.3, 0.2))]


@pytest.mark.parametrize("model,tasks", problems(), ids=["softplus", "bumps", "quadratic"])
def test_gradient_and_hessian_finite_differences(model, tasks):
    rng = np.random.default_rng(1)
    for t in range(tasks.n_tasks):
        x, y = tasks.xs[t], tasks.ys[t]
        for theta in rng.uniform(0, 1, (4, 2)):
            loss, grad, hess = model.loss_grad_hessian(theta, x, y)
            assert np.isclose(loss, model.loss(theta, x, y))
            fd = np.array([(model.loss(theta + EPS * e, x, y) - model.loss(theta - EPS * e, x, y)) / (2 * EPS)
                           for e in np.eye(2)])
            np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
            fdh = np.array([(model.loss_grad(theta + EPS * e, x, y)[1] - model.loss_grad(theta - EPS * e, x, y)[1])
                            / (2 * EPS) for e in np.eye(2)])
            np.testing.assert_allclose(hess, fdh, rtol=1e-5, atol=1e-7)
            v = rng.normal(size=2)
            np.testing.assert_allclose(model.hvp(theta, x, y, v), hess @ v, rtol=1e-12)


@pytest.mark.parametrize("model,tasks", problems(), ids=["softplus", "bumps", "quadratic"])
def test_grid_and_task_batch_in_one_call(model, tasks):
    g = toy.grid(11)
    assert g.shape == (11, 11, 2) and g[0, 3, 0] == pytest.approx(0.3) and g[3, 0, 1] == pytest.approx(0.3)
    land = model.loss(g, tasks.xs[0], tasks.ys[0])
    assert land.shape == (11, 11)
    assert land[2, 7] == pytest.approx(model.loss(g[2, 7], tasks.xs[0], tasks.ys[0]), rel=1e-12)
    per_task = model.loss(g[:, :, None, :], tasks.xs, tasks.ys)
    assert per_task.shape == (11, 11, tasks.n_tasks)
    np.testing.assert_allclose(per_task[..., -1], model.loss(g, tasks.xs[-1], tasks.ys[-1]), rtol=1e-12)
    loss, grad = model.loss_grad(g.reshape(-1, 2), tasks.xs[0], tasks.ys[0])
    assert loss.shape == (121,) and grad.shape == (121, 2)
    thetas = np.random.default_rng(2).uniform(0, 1, (tasks.n_tasks, 2))
    _, gb = model.loss_grad(thetas, tasks.xs, tasks.ys)
    for t in range(tasks.n_tasks):
        np.testing.assert_allclose(gb[t], model.loss_grad(thetas[t], tasks.xs[t], tasks.ys[t])[1], rtol=1e-12)


def test_task_definitions():
    rng = np.random.default_rng(3)
    sp = toy.softplus_tasks(rng, [(0.3, 0.05), (0.83, 0.75)], n_support=10, n_query=4)
    assert sp.xs.shape == (2, 10, 1) and sp.xq.shape == (2, 4, 1) and np.all(np.abs(sp.xs) <= 3)
    np.testing.assert_allclose(sp.ys[1], np.log1p(np.exp(0.83 * sp.xs[1] + 0.75)))
    # the true parameters minimise the loss of their own task
    assert toy.SoftplusLine().loss(np.array([0.3, 0.05]), sp.xs[0], sp.ys[0]) == pytest.approx(0, abs=1e-20)
    b = toy.bump_tasks()
    assert b.xs.shape == (2, 4, 2) and b.ys.shape == (2, 4, 1)
    np.testing.assert_allclose(b.ys[0, :, 0], toy.BUMP_WEIGHTS)
    np.testing.assert_allclose(b.xq - b.xs, np.broadcast_to([0.02, -0.02], b.xs.shape))
    phi = np.array([0.3, 0.6])
    expected = sum(w / (1 + np.exp(10 * np.sum((phi - c) ** 2))) for w, c in zip(toy.BUMP_WEIGHTS, toy.BUMP_CENTRES[0]))
    assert toy.Bumps().loss(phi, b.xs[0], b.ys[0]) == pytest.approx(expected, rel=1e-12)
    q = toy.quadratic_task(0.5, 0.1, -0.2)
    c = np.array([[0.5, 0.1], [0.1, -0.2]])
    assert toy.Quadratic().loss(phi, q.xs[0], q.ys[0]) == pytest.approx(
        0.5 * (phi - 0.5) @ c @ (phi - 0.5) + np.dot(toy.QUADRATIC_G, phi))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        toy.Bumps().loss_grad(np.zeros(3), np.zeros((4, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        toy.Bumps().loss_grad(np.zeros(2), np.zeros((4, 2)), np.zeros((3, 1)))


@pytest.mark.parametrize("model,tasks", problems(), ids=["softplus", "bumps", "quadratic"])
def test_the_hessian_is_formed_at_the_first_product_only_with_the_same_numbers(model, tasks, monkeypatch):
    """linearize gives the loss and gradient of loss_grad_hessian, and an hvp that multiplies by its Hessian; the
    Hessian is formed once, at the first product (an inner loop that never multiplies pays nothing for it)."""
    theta = np.random.default_rng(2).uniform(0, 1, (3, tasks.n_tasks, 2))   # a batch of θ per task
    loss, grad, hess = model.loss_grad_hessian(theta, tasks.xs, tasks.ys)
    parts = model._parts
    formed = []

    def counted(*args):
        loss, grad, hessian = parts(*args)
        return loss, grad, lambda: formed.append(1) or hessian()

    monkeypatch.setattr(model, "_parts", counted)
    l2, g2, hvp = model.linearize(theta, tasks.xs, tasks.ys)
    np.testing.assert_array_equal(l2, loss)
    np.testing.assert_array_equal(g2, grad)
    assert formed == []
    v = np.random.default_rng(3).normal(size=grad.shape)
    np.testing.assert_array_equal(hvp(v), np.einsum("...ij,...j->...i", hess, v))
    np.testing.assert_array_equal(hvp(2 * v), np.einsum("...ij,...j->...i", hess, 2 * v))
    assert formed == [1]
    l3, g3 = model.loss_grad(theta, tasks.xs, tasks.ys)
    np.testing.assert_array_equal(l3, loss)
    np.testing.assert_array_equal(g3, grad)
    assert formed == [1]
