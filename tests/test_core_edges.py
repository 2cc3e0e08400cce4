"""Edges of the core that the mutation run found untested: the MLP's argument checks, initialisation and odd shapes
(one point per task, two outputs), the toy problems' data constructors and helpers, the methods' own defaults.
Every expected value is computed here from the formulas, not taken from the library."""

from __future__ import annotations

import numpy as np
import pytest

from mamlviz import meta, sine, toy
from mamlviz.nn import MLP


# ------------------------------------------------------------------------------------------------------- MLP
def test_mlp_needs_an_input_and_an_output_size_all_positive():
    for bad in [(1,), (), (1, 0, 1), (0, 4, 1)]:
        with pytest.raises(ValueError, match="sizes"):
            MLP(bad)
    linear = MLP((1, 1))                              # no hidden layer: y = w·x + b
    assert linear.size == 2
    assert linear.predict(np.array([2.0, 0.5]), np.array([[3.0]]))[0, 0] == pytest.approx(6.5)


def test_init_is_he_normal_with_zero_biases():
    model = MLP((1, 300, 200, 1))
    theta = model.init(np.random.default_rng(0))
    for d_in, d_out, w0, b0, b1 in model.layers:
        w = theta[w0:b0]
        assert np.all(theta[b0:b1] == 0)
        if w.size >= 300:
            assert w.std() == pytest.approx(np.sqrt(2.0 / d_in), rel=0.05) and abs(w.mean()) < 0.1 * w.std()


def per_task(model, theta, x, y):
    """Loss, gradient and HVP task by task, with a plain loop: the reference for the batched calls."""
    v = np.linspace(-1, 1, model.size)
    out = [model.linearize(theta, x[t], y[t]) for t in range(x.shape[0])]
    return (np.array([o[0] for o in out]), np.array([o[1] for o in out]), np.array([o[2](v) for o in out]), v)


@pytest.mark.parametrize("sizes, n_points", [((1, 5, 4, 1), 1), ((1, 6, 2), 3), ((2, 3, 3), 1)])
def test_shared_theta_batches_agree_with_a_loop_for_odd_shapes(sizes, n_points):
    """One point per task and several outputs take other branches of the shared-θ fast path."""
    model = MLP(sizes)
    rng = np.random.default_rng(1)
    theta = model.init(rng) + rng.normal(0, 0.1, model.size)
    x = rng.normal(size=(4, n_points, sizes[0]))
    y = rng.normal(size=(4, n_points, sizes[-1]))
    loss, grad, hvp = model.linearize(theta, x, y)
    want_loss, want_grad, want_hv, v = per_task(model, theta, x, y)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hvp(v), want_hv, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hvp(np.tile(v, (4, 1)), reduce=True), want_hv.sum(0), rtol=1e-10, atol=1e-13)
    pred = model.predict(theta, x)
    assert pred.shape == (4, n_points, sizes[-1])
    np.testing.assert_allclose(pred, [model.predict(theta, x[t]) for t in range(4)], rtol=1e-12)
    # per-task θ as well
    thetas = theta + rng.normal(0, 0.05, (4, model.size))
    np.testing.assert_allclose(model.linearize(thetas, x, y)[1],
                               [model.linearize(thetas[t], x[t], y[t])[1] for t in range(4)], rtol=1e-10, atol=1e-14)


def test_hvp_rejects_vectors_of_the_wrong_shape():
    model = MLP((1, 4, 1))
    rng = np.random.default_rng(2)
    theta = model.init(rng)
    _, _, hvp = model.linearize(theta, rng.normal(size=(3, 5, 1)), rng.normal(size=(3, 5, 1)))
    for bad in [np.zeros(model.size + 1), np.zeros((3, 1, model.size)), np.zeros((2, model.size)),
                np.zeros((3, model.size - 1))]:
        with pytest.raises(ValueError, match="v has shape"):
            hvp(bad)
    assert hvp(np.zeros((3, model.size))).shape == (3, model.size)
    _, _, single = model.linearize(theta, rng.normal(size=(5, 1)), rng.normal(size=(5, 1)))
    assert single(np.ones(model.size)).shape == (model.size,)
    with pytest.raises(ValueError, match="v has shape"):
        single(np.ones((2, 2, model.size)))


# ------------------------------------------------------------------------------------------------- toy problems
def test_grid_default_and_orientation():
    g = toy.grid()
    assert g.shape == (101, 101, 2)
    assert g[0, 0].tolist() == [0.0, 0.0] and g[0, 100].tolist() == [1.0, 0.0] and g[100, 0].tolist() == [0.0, 1.0]
    assert toy.grid(3, -1, 1)[2, 1].tolist() == [0.0, 1.0]


def test_toy_init_is_uniform_in_the_unit_square():
    thetas = np.array([toy.SoftplusLine().init(np.random.default_rng(s)) for s in range(400)])
    assert thetas.shape == (400, 2) and thetas.min() >= 0 and thetas.max() <= 1
    assert thetas.min() < 0.02 and thetas.max() > 0.98 and abs(thetas.mean() - 0.5) < 0.05


def test_softplus_tasks_defaults_ranges_and_noise():
    t = toy.softplus_tasks(np.random.default_rng(0))
    assert t.xs.shape == t.xq.shape == (2, 10, 1) and t.params.tolist() == [[0.3, 0.05], [0.83, 0.75]]
    big = toy.softplus_tasks(np.random.default_rng(1), [(0.5, 0.1)], n_support=3000, n_query=5)
    assert big.xs.min() >= -3 and big.xs.max() <= 3 and big.xs.min() < -2.9 and big.xs.max() > 2.9
    assert big.xq.shape == (1, 5, 1)
    clean = np.log1p(np.exp(0.5 * big.xs + 0.1))
    np.testing.assert_allclose(big.ys, clean, rtol=1e-12)
    noisy = toy.softplus_tasks(np.random.default_rng(1), [(0.5, 0.1)], n_support=3000, n_query=5, noise=0.2)
    np.testing.assert_array_equal(noisy.xs, big.xs)
    r = noisy.ys - clean
    assert r.std() == pytest.approx(0.2, rel=0.05) and abs(r.mean()) < 0.02


def test_quadratic_task_and_its_predict_and_hessian():
    t = toy.quadratic_task(0.4, -0.3, 0.2, g_query=(0.05, 0.2))
    assert t.xs.tolist() == [[[0.4, -0.3], [-0.3, 0.2]]] and t.ys[0, :, 0].tolist() == [0.1, -0.1]
    assert t.yq[0, :, 0].tolist() == [0.05, 0.2] and t.params.tolist() == [[0.4, -0.3, 0.2]]
    same = toy.quadratic_task(1.0, 0.0, 2.0)
    np.testing.assert_array_equal(same.yq, same.ys)
    q = toy.Quadratic()
    phi = np.array([0.9, 0.1])
    c = np.array([[0.4, -0.3], [-0.3, 0.2]])
    np.testing.assert_allclose(q.predict(phi, t.xs[0])[:, 0], c @ (phi - 0.5), rtol=1e-12)
    np.testing.assert_allclose(q.hessian(phi, t.xs[0], t.ys[0]), c)
    np.testing.assert_allclose(q.loss_grad(phi, t.xs[0], t.ys[0])[1], c @ (phi - 0.5) + [0.1, -0.1], rtol=1e-12)
    sp = toy.SoftplusLine()
    x, y = np.array([[0.5], [-1.0]]), np.array([[1.0], [0.2]])
    h = sp.hessian(np.array([0.3, 0.2]), x, y)
    e = 1e-6
    fd = np.array([(sp.loss_grad(np.array([0.3, 0.2]) + d, x, y)[1] - sp.loss_grad(np.array([0.3, 0.2]) - d, x, y)[1])
                   / (2 * e) for d in np.eye(2) * e])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-9)


def test_bump_tasks_default_and_shift():
    t = toy.bump_tasks()
    assert t.xs.shape == (2, 4, 2) and t.ys[0, :, 0].tolist() == list(toy.BUMP_WEIGHTS)
    np.testing.assert_allclose(t.xq - t.xs, np.broadcast_to([0.02, -0.02], t.xs.shape))
    one = toy.bump_tasks(centres=toy.BUMP_CENTRES[0], query_shift=(0.0, 0.0))
    assert one.n_tasks == 1
    np.testing.assert_array_equal(one.xq, one.xs)


# ---------------------------------------------------------------------------------------- the methods' defaults
@pytest.mark.parametrize("direction", [meta.maml_direction, meta.fomaml_direction, meta.reptile_direction,
                                       meta.imaml_direction])
def test_direction_functions_called_directly_keep_no_path_and_report_the_loss_before(direction):
    model = toy.SoftplusLine()
    tasks = toy.softplus_tasks(np.random.default_rng(3))
    extra = {"reg": 2.0, "cg_steps": 4} if direction is meta.imaml_direction else {}
    d, info = direction(model, np.array([0.4, 0.6]), tasks, inner_lr=0.05, inner_steps=2, **extra)
    assert "path" not in info
    np.testing.assert_allclose(info["loss_before"], model.loss(np.array([0.4, 0.6]), tasks.xq, tasks.yq))
    d2, _ = meta.meta_gradient(direction.__name__.split("_")[0], model, np.array([0.4, 0.6]), tasks,
                               inner_lr=0.05, inner_steps=2, **extra)
    np.testing.assert_allclose(d, d2)


def test_imaml_needs_a_positive_lambda():
    tasks = toy.softplus_tasks(np.random.default_rng(3))
    for reg in (None, 0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="reg"):
            meta.meta_gradient("imaml", toy.SoftplusLine(), np.array([0.4, 0.6]), tasks, inner_lr=0.05,
                               inner_steps=2, reg=reg)


def test_cg_from_a_warm_start():
    """With x0 given, CG starts from it: the first residual is ‖b − A·x0‖ and it reaches the same solution."""
    from mamlviz.cg import cg

    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    x0 = np.array([0.3, -0.7, 0.1])
    x, info = cg(lambda v: v @ a.T, b, 3, x0=x0)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10)
    assert info["residuals"][0] == pytest.approx(np.linalg.norm(b - a @ x0))
    assert info["residuals"][0] != pytest.approx(np.linalg.norm(b))
    np.testing.assert_array_equal(x0, [0.3, -0.7, 0.1])          # not modified in place
    one, _ = cg(lambda v: v @ a.T, b, 1, x0=x0)
    r0 = b - a @ x0                                             # one step of CG from x0 is one steepest-descent step
    np.testing.assert_allclose(one, x0 + (r0 @ r0) / (r0 @ a @ r0) * r0, rtol=1e-12)


def test_quadratic_uses_the_symmetric_part_of_c_on_a_grid_of_theta():
    q = toy.Quadratic()
    c = np.array([[[1.0, 2.0], [0.0, 1.0]]])                   # not symmetric: f only sees (C + Cᵀ)/2
    g = np.array([[[0.1], [-0.1]]])
    theta = toy.grid(5)                                         # (5, 5, 2)
    loss, grad, hess = q.loss_grad_hessian(theta[:, :, None, :], c, g)
    assert hess.shape == (5, 5, 1, 2, 2)
    np.testing.assert_allclose(hess[3, 1, 0], [[1.0, 1.0], [1.0, 1.0]])
    d = theta[3, 1] - 0.5
    assert loss[3, 1, 0] == pytest.approx(0.5 * d @ c[0] @ d + theta[3, 1] @ [0.1, -0.1])
    np.testing.assert_allclose(grad[3, 1, 0], [[1.0, 1.0], [1.0, 1.0]] @ d + [0.1, -0.1])


def test_sine_tasks_default_query_for_several_tasks_and_2d_points():
    t = sine.tasks([1.0, 2.0], [0.0, 0.5], np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
                   np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))
    assert t.xq.shape == (2, 3, 1) and t.xq[1, 2, 0] == 0.6
    assert t.yq[1, 2, 0] == pytest.approx(2.0 * np.sin(0.6 - 0.5))
    d = sine.tasks([1.0, 2.0], [0.0, 0.5], [[0.0], [1.0]])
    assert d.xq.shape == (2, 100, 1)
    np.testing.assert_array_equal(d.xq[0], d.xq[1])
    assert d.yq[1, 99, 0] == pytest.approx(2.0 * np.sin(5.0 - 0.5))


# ----------------------------------------------------------------------------------- meta_gradient's defaults
class _InfLossModel:
    """A stand-in model whose loss is infinite while its gradient and HVP stay finite."""

    size = 2

    def linearize(self, theta, x, y):
        grad = np.ones(np.broadcast_shapes(np.shape(theta), x.shape[:-2] + (2,)))
        return np.full(x.shape[:-2], np.inf), grad, (lambda v, reduce=False: 0.0 * v.sum(0) if reduce else 0.0 * v)

    def loss(self, theta, x, y):
        return self.linearize(theta, x, y)[0]

    def loss_grad(self, theta, x, y):
        return self.linearize(theta, x, y)[:2]


def test_meta_gradient_defaults_and_what_info_holds():
    model = toy.SoftplusLine()
    tasks = toy.softplus_tasks(np.random.default_rng(5))
    theta = np.array([0.2, 0.7])
    _, info = meta.meta_gradient("maml", model, theta, tasks, inner_lr=0.05, inner_steps=2)
    assert "path" not in info and "task_directions" not in info and "loss_before" in info
    _, info = meta.maml_direction(model, theta, tasks, inner_lr=0.05, inner_steps=2)
    assert "task_directions" not in info
    # the support loss at θ is reported even when the query loss at θ is skipped
    _, info = meta.meta_gradient("fomaml", model, theta, tasks, inner_lr=0.05, inner_steps=1, query_before=False)
    np.testing.assert_allclose(info["support_loss_before"], model.loss(theta, tasks.xs, tasks.ys))
    assert meta.inner_sgd(model, theta, tasks.xs, tasks.ys, lr=0.05, steps=2).path == []
    # iMAML's default: 5 CG iterations
    _, info = meta.meta_gradient("imaml", model, theta, tasks, inner_lr=0.05, inner_steps=2, reg=3.0)
    assert info["cg_residuals"].shape == (6, 2)


def test_an_infinite_loss_is_flagged_even_when_the_direction_is_finite():
    tasks = toy.softplus_tasks(np.random.default_rng(5))
    d, info = meta.meta_gradient("fomaml", _InfLossModel(), np.zeros(2), tasks, inner_lr=0.1, inner_steps=1)
    assert np.isfinite(d).all() and info["nonfinite"] is True


# ------------------------------------------------------------------------------- CG on matrices that are not PD
def test_cg_flags_negative_curvature_however_small_the_residual():
    from mamlviz.cg import cg

    a = np.diag([-1.0, -2.0])
    b = np.array([0.1, 0.05])                            # ‖b‖ < 1
    x, info = cg(lambda v: v @ a.T, b, 3)
    assert info["nonpd"] and np.allclose(x, b)              # truncated CG: the steepest-descent direction


def test_cg_flags_zero_curvature():
    from mamlviz.cg import cg

    a = np.diag([1.0, 0.0])
    x, info = cg(lambda v: v @ a.T, np.array([0.0, 1.0]), 2)
    assert info["nonpd"] and np.allclose(x, [0.0, 1.0]) and np.isfinite(info["residuals"]).all()


def test_cg_stops_at_the_last_good_iterate_when_curvature_turns_negative_later():
    from mamlviz.cg import cg

    a = np.array([[2.0, 0.0], [0.0, -1.0]])
    b = np.array([1.0, 0.5])
    x1 = (b @ b) / (b @ a @ b) * b                           # one CG step from 0: pᵀAp = 1.75 > 0
    r1 = b - a @ x1
    p1 = r1 + (r1 @ r1) / (b @ b) * b
    assert p1 @ a @ p1 < 0                                  # the second direction has negative curvature
    x, info = cg(lambda v: v @ a.T, b, 4)
    assert info["nonpd"]
    np.testing.assert_allclose(x, x1, rtol=1e-12)
    assert info["residuals"][2:] == pytest.approx([np.linalg.norm(r1)] * 3)
    # batched with a PD system beside it: each system keeps its own fate
    pd = np.eye(2) * 3.0
    xb, ib = cg(lambda v: np.stack([v[0] @ a.T, v[1] @ pd.T]), np.stack([b, b]), 4)
    assert ib["nonpd"].tolist() == [True, False]
    np.testing.assert_allclose(xb, [x1, b / 3.0], rtol=1e-12)


def test_mlp_rejects_inputs_with_too_many_axes():
    model = MLP((1, 3, 1))
    with pytest.raises(ValueError, match="x has shape"):
        model.predict(np.zeros(model.size), np.zeros((2, 3, 4, 1)))
