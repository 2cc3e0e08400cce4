"""Meta-gradients: finite differences through the inner steps, identities between methods, iMAML against a
direct solve, conjugate gradient on its own, batched = per task."""

import numpy as np
import pytest

from mamlviz import sine, toy
from mamlviz.cg import cg
from mamlviz.meta import inner_sgd, meta_gradient, meta_gradients
from mamlviz.nn import MLP
from mamlviz.toy import ToyTasks

EPS = 1e-6


def maml_objective(model, theta, batch, lr, steps):
    """F(θ) = mean over tasks of L^te(U^(k)(θ)), computed without any derivative bookkeeping."""
    phi = inner_sgd(model, theta, batch.xs, batch.ys, lr=lr, steps=steps).phi
    return model.loss(np.broadcast_to(phi, (batch.xs.shape[0], model.size)), batch.xq, batch.yq).mean()


def sine_setup(n_tasks=3, k=5, sizes=(1, 40, 40, 1), seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(sizes)
    theta = model.init(rng) + rng.normal(0, 0.05, model.size)
    return model, theta, sine.sample(rng, n_tasks, k, k), rng


def toy_setups():
    rng = np.random.default_rng(4)
    return [
        ("softplus", toy.SoftplusLine(), toy.softplus_tasks(rng, toy.SOFTPLUS_TASK_SETS["two"], 6, 6), 0.1),
        ("bumps", toy.Bumps(), toy.bump_tasks(), 0.05),
        ("quadratic", toy.Quadratic(), toy.quadratic_task(0.4, -0.3, 0.2, g_query=(0.05, 0.2)), 0.5),
    ]


@pytest.mark.parametrize("steps", [0, 1, 2, 3])
def test_maml_mlp_finite_differences(steps):
    model, theta, batch, rng = sine_setup()
    direction, info = meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=steps)
    assert direction.shape == (model.size,) and not info["nonfinite"]
    for _ in range(3):
        u = rng.normal(size=model.size)
        fd = (maml_objective(model, theta + EPS * u, batch, 0.01, steps)
              - maml_objective(model, theta - EPS * u, batch, 0.01, steps)) / (2 * EPS)
        assert direction @ u == pytest.approx(fd, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name,model,tasks,lr", toy_setups(), ids=lambda p: p if isinstance(p, str) else "")
@pytest.mark.parametrize("steps", [1, 2, 5])
def test_maml_toy_finite_differences(name, model, tasks, lr, steps):
    rng = np.random.default_rng(5)
    for theta in rng.uniform(0.1, 0.9, (3, 2)):
        direction, _ = meta_gradient("maml", model, theta, tasks, inner_lr=lr, inner_steps=steps)
        fd = np.array([(maml_objective(model, theta + EPS * e, tasks, lr, steps)
                        - maml_objective(model, theta - EPS * e, tasks, lr, steps)) / (2 * EPS) for e in np.eye(2)])
        np.testing.assert_allclose(direction, fd, rtol=1e-5, atol=1e-8)


def test_maml_zero_steps_is_joint_training_gradient():
    model, theta, batch, _ = sine_setup(n_tasks=4)
    direction, info = meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=0)
    expected = np.mean([model.loss_grad(theta, batch.xq[t], batch.yq[t])[1] for t in range(4)], axis=0)
    np.testing.assert_allclose(direction, expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(info["loss_before"], info["loss_after"])


@pytest.mark.parametrize("steps", [1, 3])
def test_maml_with_zero_inner_lr_is_fomaml(steps):
    model, theta, batch, _ = sine_setup()
    a, _ = meta_gradient("maml", model, theta, batch, inner_lr=0.0, inner_steps=steps)
    b, _ = meta_gradient("fomaml", model, theta, batch, inner_lr=0.0, inner_steps=steps)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_fomaml_is_query_gradient_at_adapted_parameters():
    model, theta, batch, _ = sine_setup()
    direction, info = meta_gradient("fomaml", model, theta, batch, inner_lr=0.02, inner_steps=2)
    expected = []
    for t in range(3):
        phi = theta
        for _ in range(2):
            phi = phi - 0.02 * model.loss_grad(phi, batch.xs[t], batch.ys[t])[1]
        np.testing.assert_allclose(info["phi"][t], phi, rtol=1e-12, atol=1e-14)
        expected.append(model.loss_grad(phi, batch.xq[t], batch.yq[t])[1])
    np.testing.assert_allclose(direction, np.mean(expected, axis=0), rtol=1e-10, atol=1e-13)


def test_reptile_one_step_is_lr_times_gradient_and_moves_toward_mean():
    model, theta, batch, _ = sine_setup(n_tasks=4)
    direction, info = meta_gradient("reptile", model, theta, batch, inner_lr=0.03, inner_steps=1)
    grads = np.mean([model.loss_grad(theta, batch.xs[t], batch.ys[t])[1] for t in range(4)], axis=0)
    np.testing.assert_allclose(direction, 0.03 * grads, rtol=1e-10, atol=1e-14)
    d3, info3 = meta_gradient("reptile", model, theta, batch, inner_lr=0.03, inner_steps=3, keep_path=True)
    np.testing.assert_allclose(d3, theta - info3["phi"].mean(axis=0), rtol=1e-12, atol=1e-15)
    assert info3["path"].shape == (4, 4, model.size)
    np.testing.assert_array_equal(info3["path"][0], np.broadcast_to(theta, (4, model.size)))


@pytest.mark.parametrize("method", ["maml", "fomaml", "reptile", "imaml"])
@pytest.mark.parametrize("steps", [0, 1, 2])
def test_batched_equals_mean_of_per_task(method, steps):
    model, theta, batch, _ = sine_setup(n_tasks=3)
    kw = dict(inner_lr=0.01, inner_steps=steps, reg=2.0, cg_steps=4)
    direction, info = meta_gradient(method, model, theta, batch, per_task=True, **kw)
    np.testing.assert_allclose(meta_gradient(method, model, theta, batch, **kw)[0], direction, rtol=1e-10, atol=1e-13)
    singles = []
    for t in range(3):
        one = sine.SineTasks(batch.xs[t:t + 1], batch.ys[t:t + 1], batch.xq[t:t + 1], batch.yq[t:t + 1],
                             batch.amplitude[t:t + 1], batch.phase[t:t + 1])
        d, i1 = meta_gradient(method, model, theta, one, **kw)
        singles.append(d)
        np.testing.assert_allclose(i1["loss_after"][0], info["loss_after"][t], rtol=1e-10)
        np.testing.assert_allclose(info["task_directions"][t], d, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(direction, np.mean(singles, axis=0), rtol=1e-9, atol=1e-13)


def test_imaml_cg_equals_direct_solve_with_explicit_hessian():
    model, theta, batch, _ = sine_setup(n_tasks=2, sizes=(1, 5, 4, 1))
    reg, lr, steps = 1.5, 0.05, 4
    direction, info = meta_gradient("imaml", model, theta, batch, inner_lr=lr, inner_steps=steps, reg=reg,
                                    cg_steps=3 * model.size)
    expected = []
    for t in range(2):
        phi = theta
        for _ in range(steps):
            phi = phi - lr * (model.loss_grad(phi, batch.xs[t], batch.ys[t])[1] + reg * (phi - theta))
        np.testing.assert_allclose(info["phi"][t], phi, rtol=1e-12, atol=1e-14)
        hess = np.array([model.hvp(phi, batch.xs[t], batch.ys[t], e) for e in np.eye(model.size)])
        gq = model.loss_grad(phi, batch.xq[t], batch.yq[t])[1]           # query data on the right-hand side
        expected.append(np.linalg.solve(np.eye(model.size) + hess / reg, gq))
    np.testing.assert_allclose(direction, np.mean(expected, axis=0), rtol=1e-7, atol=1e-10)
    assert info["cg_residuals"].shape == (3 * model.size + 1, 2)


@pytest.mark.parametrize("name,model,tasks,lr", toy_setups(), ids=lambda p: p if isinstance(p, str) else "")
def test_imaml_toy_is_gradient_through_the_exact_inner_solution(name, model, tasks, lr):
    reg = 3.0 if name != "quadratic" else 1.0
    steps, inner_lr = 3000, 0.05

    def objective(theta):
        phi = inner_sgd(model, theta, tasks.xs, tasks.ys, lr=inner_lr, steps=steps, reg=reg).phi
        return model.loss(phi, tasks.xq, tasks.yq).mean()

    theta = np.array([0.45, 0.55])
    direction, info = meta_gradient("imaml", model, theta, tasks, inner_lr=inner_lr, inner_steps=steps, reg=reg,
                                    cg_steps=10)
    eps = 1e-5
    fd = np.array([(objective(theta + eps * e) - objective(theta - eps * e)) / (2 * eps) for e in np.eye(2)])
    np.testing.assert_allclose(direction, fd, rtol=1e-5, atol=1e-8)
    assert not info["nonpd"].any()


def test_cg_against_direct_solve_and_batched():
    rng = np.random.default_rng(7)
    m = rng.normal(size=(3, 12, 12))
    a = m @ np.swapaxes(m, 1, 2) + 0.5 * np.eye(12)
    b = rng.normal(size=(3, 12))
    x, info = cg(lambda v: np.einsum("tij,tj->ti", a, v), b, 40)
    np.testing.assert_allclose(x, np.linalg.solve(a, b[..., None])[..., 0], rtol=1e-8, atol=1e-10)
    assert info["residuals"].shape == (41, 3) and not info["nonpd"].any()
    np.testing.assert_allclose(info["residuals"][0], np.linalg.norm(b, axis=1))
    x0, _ = cg(lambda v: a[0] @ v, b[0], 40)
    np.testing.assert_allclose(x0, x[0], rtol=1e-8, atol=1e-10)


def test_cg_reports_non_positive_definite_without_crashing():
    a = np.diag([1.0, -2.0, 3.0])
    x, info = cg(lambda v: v @ a, np.ones(3), 5)
    assert info["nonpd"] and np.isfinite(x).all()
    neg = -np.eye(3)                                  # negative curvature on the first direction: x = b
    xb, infob = cg(lambda v: v @ neg, np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), 4)
    assert list(infob["nonpd"]) == [True, False]
    np.testing.assert_allclose(xb, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(infob["residuals"][-1], [2 * np.sqrt(14), 0.0])
    pd, info2 = cg(lambda v: v @ np.eye(3), np.ones((2, 3)), 3)
    assert not info2["nonpd"].any()
    np.testing.assert_allclose(pd, np.ones((2, 3)))


def test_nonfinite_is_flagged_not_silent():
    model, theta, batch, _ = sine_setup()
    direction, info = meta_gradient("maml", model, theta, batch, inner_lr=1e6, inner_steps=5)
    assert info["nonfinite"] is True


def test_errors_name_shapes_and_methods():
    model, theta, batch, _ = sine_setup()
    with pytest.raises(ValueError, match="unknown method"):
        meta_gradient("mammal", model, theta, batch, inner_lr=0.01, inner_steps=1)
    with pytest.raises(ValueError, match=r"\(7,\)"):
        meta_gradient("maml", model, np.zeros(7), batch, inner_lr=0.01, inner_steps=1)
    with pytest.raises(ValueError, match="reg"):
        meta_gradient("imaml", model, theta, batch, inner_lr=0.01, inner_steps=1)
    bad = ToyTasks(batch.xs, batch.ys[:, :2], batch.xq, batch.yq, None)
    with pytest.raises(ValueError, match="shape"):
        meta_gradient("maml", model, theta, bad, inner_lr=0.01, inner_steps=1)


def test_info_contents():
    model, theta, batch, _ = sine_setup()
    _, info = meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=2, keep_path=True)
    assert info["loss_before"].shape == info["loss_after"].shape == info["support_loss_before"].shape == (3,)
    np.testing.assert_allclose(info["loss_before"], [model.loss(theta, batch.xq[t], batch.yq[t]) for t in range(3)])
    assert info["phi"].shape == (3, model.size) and info["path"].shape == (3, 3, model.size)
    assert info["nonfinite"] is False


def test_query_before_can_be_skipped_without_changing_the_direction():
    model, theta, batch, _ = sine_setup()
    for method in ("maml", "fomaml", "reptile", "imaml"):
        kw = dict(inner_lr=0.01, inner_steps=2, reg=1.0, cg_steps=3)
        a, ia = meta_gradient(method, model, theta, batch, **kw)
        b, ib = meta_gradient(method, model, theta, batch, query_before=False, **kw)
        np.testing.assert_array_equal(a, b)
        assert "loss_before" in ia and "loss_before" not in ib and ib["nonfinite"] is False


# ------------------------------------------------------------- what mutation testing showed the tests left open
from mamlviz import meta  # noqa: E402


def test_held_bytes_counts_each_buffer_once_through_views_lists_and_closures():
    a, b = np.zeros(100), np.zeros((3, 7))
    keep = a[10:20]                                       # a view: counts as its base, once
    fn = (lambda: (a, b))
    assert meta.held_bytes([a, keep, {"x": (b, b)}]) == a.nbytes + b.nbytes
    assert meta.held_bytes(fn) == a.nbytes + b.nbytes     # the cells of a closure
    assert meta.held_bytes([fn, [a], 3.0, "text", len]) == a.nbytes + b.nbytes   # callables without a closure: 0
    assert meta.held_bytes([[a], [a], [keep]]) == a.nbytes


def test_methods_keep_only_what_their_backward_pass_needs():
    """FOMAML and Reptile keep φ^(k) alone (T·P floats), MAML adds a forward pass per step, whoever calls the
    direction functions directly gets the memory and the query loss at θ by default."""
    model, theta, batch, _ = sine_setup()
    t, p = batch.xs.shape[0], model.size
    for direction in (meta.fomaml_direction, meta.reptile_direction):
        _, info = direction(model, theta, batch, inner_lr=0.01, inner_steps=3)
        assert info["kept_bytes"] == 8 * t * p and "loss_before" in info
    _, info = meta.maml_direction(model, theta, batch, inner_lr=0.01, inner_steps=3)
    assert info["kept_bytes"] > 8 * t * p and "loss_before" in info
    _, info = meta.imaml_direction(model, theta, batch, inner_lr=0.01, inner_steps=3, reg=10.0, cg_steps=2)
    assert info["kept_bytes"] > 8 * t * p and "loss_before" in info
    inner = meta.inner_sgd(model, theta, batch.xs, batch.ys, lr=0.01, steps=3)
    assert inner.hvps == [] and inner.path == []          # nothing kept unless asked


def test_proximal_descent_steps_are_the_exact_line_minimisers_of_the_local_model():
    """One step on a toy with an explicit Hessian: r = ∇L + λ(φ − θ), α = rᵀr / rᵀ(∇²L + λI)r (capped), and the
    residual iMAML reports is ‖∇L(φ) + λ(φ − θ)‖, all written out here."""
    model = toy.SoftplusLine()
    rng = np.random.default_rng(6)
    tasks = toy.softplus_tasks(rng, toy.SOFTPLUS_TASK_SETS["two"], 6, 6)
    theta, reg = np.array([0.4, 0.6]), 2.0
    for max_lr in (10.0, 1e-3):                          # the exact step, then the cap
        inner = meta.proximal_descent(model, theta, tasks.xs, tasks.ys, reg=reg, steps=1, max_lr=max_lr,
                                      keep_path=True)
        for i in range(tasks.xs.shape[0]):
            _, g = model.loss_grad(theta, tasks.xs[i], tasks.ys[i])
            h = np.stack([model.hvp(theta, tasks.xs[i], tasks.ys[i], e) for e in np.eye(2)])
            r = g                                         # φ = θ at the start
            step = min(r @ r / (r @ (h + reg * np.eye(2)) @ r), max_lr)
            np.testing.assert_allclose(inner.phi[i], theta - step * r, rtol=1e-12)
        np.testing.assert_array_equal(inner.path[0], theta)
    assert meta.proximal_descent(model, theta, tasks.xs, tasks.ys, reg=reg, steps=2, max_lr=1.0).path == []
    _, info = meta.imaml_direction(model, theta, tasks, inner_lr=0.5, inner_steps=3, reg=reg, cg_steps=2)
    for i, phi in enumerate(info["phi"]):
        _, g = model.loss_grad(phi, tasks.xs[i], tasks.ys[i])
        assert info["inner_residual"][i] == pytest.approx(np.linalg.norm(g + reg * (phi - theta)), rel=1e-12)


def test_proximal_descent_takes_the_cap_where_the_curvature_along_r_is_not_positive():
    """A concave toy loss −½‖φ‖² with λ = 0.5: rᵀ(∇²L + λI)r = −½‖r‖² < 0, so the step is max_lr exactly."""
    from mamlviz.nn import Model

    class Concave(Model):
        size = 2

        def linearize(self, theta, x, y):
            return -0.5 * (theta * theta).sum(-1), -theta, lambda v: -v

    theta = np.array([[1.0, 2.0]])
    inner = meta.proximal_descent(Concave(), theta, None, None, reg=0.5, steps=1, max_lr=0.25)
    np.testing.assert_allclose(inner.phi, theta - 0.25 * (-theta))
    # and a small positive curvature (0.6·‖r‖² = 0.03) is used as it is
    small = np.array([[0.1, 0.2]])
    inner = meta.proximal_descent(Concave(), small, None, None, reg=1.6, steps=1, max_lr=100.0)
    np.testing.assert_allclose(inner.phi, small - (1 / 0.6) * (-small))


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_methods_in_lock_step_equal_each_method_alone_and_share_one_inner_pass(steps):
    """`meta_gradients` (each method from its own θ; MAML, FOMAML and Reptile adapted as one stack) gives every
    method's direction, per-task directions, φ and query losses of `meta_gradient`, with the support passes of one
    method: k linearisations for the three, not 3k."""
    rng = np.random.default_rng(steps)
    for name, model, batch, lr in toy_setups():
        thetas = {m: rng.uniform(0.1, 0.9, 2) for m in ("maml", "fomaml", "reptile", "imaml")}
        got = meta_gradients(thetas, model, batch, inner_lr=lr, inner_steps=steps, reg=2.0, cg_steps=4)
        assert set(got) == set(thetas)
        for m, theta in thetas.items():
            want, info = meta_gradient(m, model, theta, batch, inner_lr=lr, inner_steps=steps, reg=2.0, cg_steps=4,
                                       per_task=m == "maml", query_before=False, kept_bytes=False)
            d, mine = got[m]
            np.testing.assert_allclose(d, want, rtol=1e-12, atol=1e-15, err_msg=f"{name} {m}")
            for key in ("task_directions", "phi", "loss_after"):
                np.testing.assert_allclose(mine[key], info[key], rtol=1e-12, atol=1e-15, err_msg=f"{name} {m} {key}")
            assert mine["nonfinite"] is False
    calls = []
    model, batch = toy.SoftplusLine(), toy_setups()[0][2]
    linearize = model.linearize
    model.linearize = lambda *a: calls.append(1) or linearize(*a)
    meta_gradients({m: np.array([0.3, 0.6]) for m in ("maml", "fomaml", "reptile")}, model, batch, inner_lr=0.1,
                   inner_steps=steps)
    assert len(calls) == steps


def test_methods_in_lock_step_refuse_a_theta_of_the_wrong_size():
    model, batch = toy.SoftplusLine(), toy_setups()[0][2]
    with pytest.raises(ValueError, match="expected"):
        meta_gradients({"maml": np.zeros(3)}, model, batch, inner_lr=0.1, inner_steps=1)
