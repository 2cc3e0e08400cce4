"""Part 7 (iMAML) on the two bump tasks: forces that cancel at a solved inner problem, the implicit meta-gradient
against finite differences through the solver, CG in 2-D, the non-positive-definite case, and the figures' numbers.
Known answers come from code written here: Newton's method on the regularised problem, direct 2 × 2 solves,
central differences."""

import numpy as np
import pytest

from mamlviz import figures, meta, toy
from mamlviz.cg import cg
from mamlviz.figures import part7

BUMPS, TASKS = toy.Bumps(), toy.bump_tasks()


def bump_loss(phi, centres, weights=toy.BUMP_WEIGHTS):
    """Σ_k w_k / (1 + exp(10‖φ − c_k‖²)), written directly."""
    return sum(w / (1 + np.exp(10 * np.sum((np.asarray(phi) - c) ** 2))) for w, c in zip(weights, centres))


def num_grad(f, x, h=1e-6):
    e = np.eye(2) * h
    return np.array([(f(x + e[m]) - f(x - e[m])) / (2 * h) for m in range(2)])


def newton_solve(theta, lam, j, phi, iters=50):
    """φ* of task j: Newton on L_j(φ) + (λ/2)‖φ − θ‖² from φ, with the library's closed-form bump Hessian."""
    for _ in range(iters):
        _, g, h = BUMPS.loss_grad_hessian(phi, TASKS.xs[j], TASKS.ys[j])
        phi = phi - np.linalg.solve(h + lam * np.eye(2), g + lam * (phi - theta))
    return phi


def readout(scene, label):
    return next(r["value"] for r in scene["readouts"] if r["label"] == label)


@pytest.fixture(scope="module", autouse=True)
def registry():
    figures.load_all()


def test_bump_model_matches_the_direct_formula():
    phi = np.array([0.37, 0.52])
    for j in range(2):
        assert BUMPS.loss(phi, TASKS.xs[j], TASKS.ys[j]) == pytest.approx(bump_loss(phi, TASKS.xs[j]), rel=1e-12)
        np.testing.assert_allclose(BUMPS.loss_grad(phi, TASKS.xs[j], TASKS.ys[j])[1],
                                   num_grad(lambda p: bump_loss(p, TASKS.xs[j]), phi), rtol=1e-6, atol=1e-9)


def test_inner_rate_makes_gradient_descent_converge_for_every_lambda():
    """α = 1/(λ + L_max) with L_max the top curvature over the region: every λ on the slider converges."""
    g = toy.grid(61, -0.25, 1.25)[:, :, None, :]
    top = np.linalg.eigvalsh(BUMPS.hessian(g, TASKS.xs, TASKS.ys)).max()
    assert part7.l_max() == pytest.approx(top, rel=1e-2)
    for log_lam in (-2, -1, 0, 1, 2):
        scene = figures.run("imaml-forces", {"log_lam": log_lam, "steps": 300, "theta": [0.45, 0.45]})
        lam = 10.0 ** log_lam
        assert readout(scene, "inner rate α = 1/(λ + L_max)") == pytest.approx(1 / (lam + part7.l_max()))
        assert max(readout(scene, "imbalance, task 1"), readout(scene, "imbalance, task 2")) < 1e-3


def test_the_two_forces_cancel_at_a_converged_inner_solve():
    state = {"log_lam": 0.5, "steps": 300, "theta": [0.45, 0.45]}
    scene = figures.run("imaml-forces", state)
    lam, theta = 10 ** 0.5, np.array([0.45, 0.45])
    for j in range(2):
        layers = scene["panels"][j]["layers"]
        phi = np.array(next(l for l in layers if l["kind"] == "points")["x"] + next(
            l for l in layers if l["kind"] == "points")["y"])
        task_force = -num_grad(lambda p: bump_loss(p, TASKS.xs[j]), phi)        # −∇L_j(φ_j), independently
        reg_force = -lam * (phi - theta)                                        # −λ(φ_j − θ)
        assert np.linalg.norm(task_force + reg_force) < 1e-6
        assert readout(scene, f"imbalance, task {j + 1}") < 1e-6
        np.testing.assert_allclose(phi, newton_solve(theta, lam, j, phi.copy()), atol=1e-7)
        arrows = {l["class"]: l for l in layers if l["kind"] == "arrow"}
        scale = readout(scene, "force arrows drawn ×")
        np.testing.assert_allclose(np.subtract(arrows["gradient"]["to"], phi) / scale, task_force, atol=1e-5)
        np.testing.assert_allclose(np.subtract(arrows["regulariser"]["to"], phi) / scale, reg_force, atol=1e-5)
        assert arrows["gradient"]["label"].startswith("−∇L") and arrows["regulariser"]["label"] == "−λ(φ − θ)"


def test_an_unsolved_inner_problem_shows_the_imbalance():
    scene = figures.run("imaml-forces", {"log_lam": 0.0, "steps": 2, "theta": [0.45, 0.45]})
    path = part7.proximal_path([0.45, 0.45], 1.0, 2)
    imbalance = np.linalg.norm(part7.residual([0.45, 0.45], path[-1], 1.0), axis=-1)
    assert readout(scene, "imbalance, task 1") == pytest.approx(imbalance[0]) and imbalance[0] > 1e-2


@pytest.mark.parametrize("lam,theta", [(1.0, (0.45, 0.45)), (10.0, (0.3, 0.6)), (0.3, (0.7, 0.25))])
def test_implicit_meta_gradient_equals_finite_differences_through_the_solver(lam, theta):
    """The library's iMAML direction per task at a converged inner solve equals d/dθ L_j^te(φ_j*(θ)) to 1e-5."""
    theta = np.array(theta)
    _, info = meta.meta_gradient("imaml", BUMPS, theta, TASKS, inner_lr=part7.inner_rate(lam), inner_steps=3000,
                                 reg=lam, cg_steps=2)
    assert not info["nonpd"].any() and info["inner_residual"].max() < 1e-9
    for j in range(2):
        phi_star = newton_solve(theta, lam, j, info["phi"][j].copy())
        f = lambda t: bump_loss(newton_solve(t, lam, j, phi_star.copy()), TASKS.xq[j])   # query landscape
        fd = num_grad(f, theta, h=1e-5)
        g = info["task_directions"][j]
        assert np.linalg.norm(g - fd) <= 1e-5 * np.linalg.norm(fd), (g, fd)


def test_cg_reaches_the_exact_solution_in_two_steps_in_2d():
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = rng.standard_normal((2, 2))
        a = m @ m.T + 0.1 * np.eye(2)
        b = rng.standard_normal(2)
        x, info = cg(lambda v: a @ v, b, 2)
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
        assert info["residuals"][-1] < 1e-9 * np.linalg.norm(b) and not info["nonpd"]
        x1, _ = cg(lambda v: a @ v, b, 1)
        assert np.linalg.norm(a @ x1 - b) > 1e-6 * np.linalg.norm(b) or np.allclose(x1, x)


def test_gradient_figure_cg_slider_and_exact_solution():
    state = {"log_lam": 0.0, "steps": 100, "theta": [0.45, 0.45], "task": "0"}
    theta = np.array([0.45, 0.45])
    phi = part7.proximal_path(theta, 1.0, 100)[-1][0]
    a = np.eye(2) + BUMPS.hessian(phi, TASKS.xs[0], TASKS.ys[0])
    b = num_grad(lambda p: bump_loss(p, TASKS.xq[0]), phi)                 # the QUERY gradient at φ
    exact = np.linalg.solve(a, b)
    residuals = []
    for n in range(6):
        scene = figures.run("imaml-gradient", state | {"n": n})
        assert [readout(scene, "exact g: a"), readout(scene, "exact g: b")] == pytest.approx(exact.tolist(), abs=1e-7)
        g_n = np.array([readout(scene, "CG g: a"), readout(scene, "CG g: b")])
        residuals.append(np.linalg.norm(b - a @ g_n))
        assert readout(scene, "CG residual after n") == pytest.approx(residuals[-1], abs=1e-9)
        line = scene["panels"][1]["layers"][0]
        assert len(line["x"]) == n + 1
    assert residuals[0] == pytest.approx(np.linalg.norm(b)) and residuals[1] > 1e-4 and max(residuals[2:]) < 1e-8  # b here by finite differences
    fd = np.array([readout(scene, "finite differences: a"), readout(scene, "finite differences: b")])
    assert np.linalg.norm(exact - fd) < 1e-5 * np.linalg.norm(fd)
    assert readout(scene, "error of g (solved φ*) vs FD") < 1e-5
    assert scene["message"] is None and "g = (" in scene["description"]


def test_gradient_figure_an_approximate_phi_gives_another_gradient():
    scene = figures.run("imaml-gradient", {"log_lam": -1.0, "steps": 3, "n": 2, "theta": [0.3, 0.5], "task": "0"})
    assert readout(scene, "error of g (this φ) vs FD") > 0.1
    assert readout(scene, "error of g (solved φ*) vs FD") < 1e-5


def test_a_non_positive_definite_system_is_flagged_and_shown():
    theta, lam = np.array([0.45, 0.45]), 0.01
    h = BUMPS.hessian(theta, TASKS.xs[0], TASKS.ys[0])                       # 0 inner steps: φ = θ
    eig = np.linalg.eigvalsh(np.eye(2) + h / lam)
    assert eig[0] < 0 < eig[1]
    scene = figures.run("imaml-gradient", {"log_lam": -2.0, "steps": 0, "n": 2, "theta": [0.45, 0.45], "task": "0"})
    assert readout(scene, "eigenvalues of I + H/λ: smallest") == pytest.approx(eig[0])
    assert "not positive definite" in scene["message"] and "flagged" in scene["message"]
    assert "not positive definite" in scene["description"]
    b = BUMPS.loss_grad(theta, TASKS.xq[0], TASKS.yq[0])[1]
    g, info = cg(lambda v: v + h @ v / lam, b, 2)
    assert info["nonpd"]
    assert [readout(scene, "CG g: a"), readout(scene, "CG g: b")] == pytest.approx(g.tolist())


def test_an_indefinite_system_cg_has_not_noticed_says_so():
    """The first CG direction is b itself: bᵀAb > 0 although A is indefinite, so one step flags nothing."""
    state = {"log_lam": -2.0, "steps": 0, "n": 1, "theta": [0.45, 0.45], "task": "0"}
    scene = figures.run("imaml-gradient", state)
    theta = np.array([0.45, 0.45])
    a = np.eye(2) + BUMPS.hessian(theta, TASKS.xs[0], TASKS.ys[0]) / 0.01
    b = BUMPS.loss_grad(theta, TASKS.xq[0], TASKS.yq[0])[1]
    assert np.linalg.eigvalsh(a)[0] < 0 < b @ a @ b
    assert "not positive definite" in scene["message"] and "no flag is no proof" in scene["message"]


# ------------------------------------------------------------- the library's inner solver for iMAML (sine MLP)
def test_proximal_descent_solves_a_quadratic_proximal_problem():
    """On f(φ) = ½(φ − ½)ᵀC(φ − ½) + gᵀφ the proximal solution is (C + λI)⁻¹(C·½ − g + λθ)."""
    model = toy.Quadratic()
    c, g = np.array([[30.0, 4.0], [4.0, 2.0]]), np.array([0.1, -0.1])
    task = toy.quadratic_task(c[0, 0], c[0, 1], c[1, 1], g)
    theta, lam = np.array([0.9, 0.1]), 0.5
    want = np.linalg.solve(c + lam * np.eye(2), c @ [0.5, 0.5] - g + lam * theta)
    inner = meta.proximal_descent(model, theta, task.xs, task.ys, reg=lam, steps=200, max_lr=1 / lam, keep_path=True)
    np.testing.assert_allclose(inner.phi[0], want, atol=1e-10)
    objective = [model.loss(p, task.xs, task.ys)[0] + lam / 2 * np.sum((p - theta) ** 2) for p in inner.path]
    assert np.all(np.diff(objective) <= 1e-15)                    # never uphill on a convex quadratic


def test_proximal_descent_adapts_where_a_fixed_rate_diverges():
    """Curvature 30 + λ: a fixed α = 0.1 overshoots (α(λ + 30) > 2); the curvature-sized step does not."""
    model = toy.Quadratic()
    task = toy.quadratic_task(30.0, 0.0, 1.0)
    theta, lam = np.array([0.9, 0.1]), 1.0
    fixed = meta.inner_sgd(model, theta, task.xs, task.ys, lr=0.1, steps=200, reg=lam).phi
    adaptive = meta.proximal_descent(model, theta, task.xs, task.ys, reg=lam, steps=200, max_lr=0.1).phi
    grad = lambda p: model.loss_grad(p, task.xs, task.ys)[1] + lam * (p - theta)
    assert np.linalg.norm(grad(fixed)) > 1e3 and np.linalg.norm(grad(adaptive)) < 1e-8


# ------------------------------------------------------------------------------ the helpers, by hand
def test_regularised_landscapes_are_the_bump_loss_plus_the_proximal_term():
    theta, lam = np.array([0.3, 0.7]), 2.5
    z = part7.regularised_landscapes(theta, lam)
    n = part7.N_GRID
    for i, j in ((0, 0), (7, 31), (50, 50), (25, 3)):
        phi = np.array([j / (n - 1), i / (n - 1)])                      # row i: b = i/(n−1); column j: a = j/(n−1)
        for t in range(2):
            want = bump_loss(phi, TASKS.xs[t]) + lam / 2 * np.sum((phi - theta) ** 2)
            assert z[i, j, t] == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_heatmap_layers_by_hand():
    heat, contour = part7._heatmap(np.array([[0.123456, 1.0], [2.0, 3.3]]), 0.0, 1.1)
    assert heat["z"].tolist() == contour["z"].tolist() == [[0.1235, 1.0], [2.0, 3.3]]
    assert heat["extent"] == contour["extent"] == [0, 1, 0, 1] and (heat["zmin"], heat["zmax"]) == (0.0, 1.1)
    np.testing.assert_allclose(contour["levels"], [0.1 * m for m in range(1, 11)])       # 10 levels inside
    assert part7._fmt([0.1234, -2.0]) == "(0.123, -2.000)"


@pytest.mark.parametrize("lam, theta", [(0.01, (0.45, 0.45)), (0.1, (0.9, 0.1)), (1.0, (0.1, 0.9)), (0.3, (0.6, 0.2))])
def test_solve_accurately_reaches_the_minimum_that_descent_reaches(lam, theta):
    """From the figure's φ after 5 inner steps (at (0.9, 0.1) and λ = 0.1 task 2's Hessian is indefinite there):
    φ* to machine precision, the same minimum as a long plain descent (the model's gradient, checked against the
    direct formula above) followed by Newton written here."""
    theta = np.array(theta)
    phi0 = part7.proximal_path(theta, lam, 5)[-1]
    got = part7.solve_accurately(theta, lam, phi0)
    for j in range(2):
        phi = phi0[j].copy()
        for _ in range(600):
            phi = phi - 0.1 * (BUMPS.loss_grad(phi, TASKS.xs[j], TASKS.ys[j])[1] + lam * (phi - theta))
        want = newton_solve(theta, lam, j, phi)
        np.testing.assert_allclose(got[j], want, atol=1e-9)
        r = BUMPS.loss_grad(got[j], TASKS.xs[j], TASKS.ys[j])[1] + lam * (got[j] - theta)
        assert np.abs(r).max() < 1e-12


@pytest.mark.parametrize("lam, theta, gd_steps", [(0.01, (0.45, 0.45), 300), (0.1, (0.9, 0.1), 300),
                                                 (1.0, (0.1, 0.9), 0), (100.0, (0.5, 0.5), 0), (8.0, (0.86, 0.03), 0),
                                                 (50.0, (0.49, 0.89), 0), (3.9, (0.12, 0.67), 0)])
def test_solve_accurately_stops_early_with_the_very_phi_of_all_its_steps(lam, theta, gd_steps):
    """Once Newton's iterates repeat (a fixed point, or two iterates alternating in the last bit, as from the last
    three starts), solve_accurately stops and returns the iterate the remaining steps would end on: bit for bit the
    φ of every step written out."""
    theta = np.array(theta)
    phi0 = part7.proximal_path(theta, lam, 5)[-1]
    phi = np.broadcast_to(phi0, (2, 2))
    for _ in range(gd_steps):
        phi = phi - part7.inner_rate(lam) * part7.residual(theta, phi, lam)
    for steps in range(1, 31):   # after every number of Newton steps, converged or not
        h = BUMPS.hessian(phi, TASKS.xs, TASKS.ys) + lam * np.eye(2)
        r = part7.residual(theta, phi, lam)
        pd = np.linalg.eigvalsh(h).min(axis=-1) > 0
        phi = phi - np.where(pd[:, None], np.linalg.solve(h, r[..., None])[..., 0], part7.inner_rate(lam) * r)
        got = part7.solve_accurately(theta, lam, phi0, gd_steps=gd_steps, newton_steps=steps)
        np.testing.assert_array_equal(got, phi, err_msg=f"after {steps} Newton steps")
