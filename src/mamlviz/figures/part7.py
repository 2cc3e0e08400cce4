"""Part 7 — implicit MAML on two bump tasks: the regularised landscapes and their forces; the implicit meta-gradient.

The inner problem of task j is φ_j* = argmin_φ L_j(φ) + (λ/2)‖φ − θ‖² (support landscape), solved by the library's
`inner_sgd` with reg = λ at the rate α = 1/(λ + L_max), L_max the largest curvature of the task landscapes, so that
it converges for every λ. The meta-gradient solves (I + ∇²L_j(φ_j)/λ) g = ∇L_j^te(φ_j) (query landscape on the
right), by the library's `cg` or, in 2-D, directly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mamlviz import meta, toy
from mamlviz.cg import cg

from . import Handle, Select, Slider, figure
from ._common import COARSE_GRID, memo, unit_panel

BUMPS = toy.Bumps()
TASKS = toy.bump_tasks()                 # support: the spec's centres; query: the centres shifted by (0.02, −0.02)
N_GRID = 51
THETA_DEFAULT = (0.45, 0.45)


def lam_of(state):
    """λ from the log-scale slider."""
    return float(10.0 ** float(state["log_lam"]))


def _lam_slider(default):
    return Slider("log_lam", "Regularisation log₁₀ λ (λ from 0.01 to 100)", -2.0, 2.0, step=0.05, default=default)


@lru_cache(maxsize=1)
def l_max():
    """The largest curvature of either task's support landscape over [−0.25, 1.25]² (eigenvalues of ∇²L_j)."""
    g = toy.grid(151, -0.25, 1.25)[:, :, None, :]
    return float(np.linalg.eigvalsh(BUMPS.hessian(g, TASKS.xs, TASKS.ys)).max())


def inner_rate(lam):
    """α = 1/(λ + L_max): the regularised problem's curvature is at most λ + L_max, so every step decreases it."""
    return 1.0 / (lam + l_max())


def proximal_path(theta, lam, steps):
    """k gradient steps on L_j(φ) + (λ/2)‖φ − θ‖² from φ = θ, both tasks at once: path of shape (k + 1, 2, 2)."""
    path = meta.inner_sgd(BUMPS, np.asarray(theta, dtype=float), TASKS.xs, TASKS.ys, lr=inner_rate(lam),
                          steps=steps, reg=lam, keep_path=True).path
    return np.stack([np.broadcast_to(p, (2, 2)) for p in path])


def residual(theta, phi, lam):
    """∇L_j(φ_j) + λ(φ_j − θ) per task (2, 2): the gradient of the regularised problem, 0 at its solution."""
    return BUMPS.loss_grad(phi, TASKS.xs, TASKS.ys)[1] + lam * (phi - np.asarray(theta, dtype=float))


def solve_accurately(theta, lam, phi0, gd_steps=300, newton_steps=30):
    """φ* to machine precision, continuing from φ0: more gradient steps at α, then Newton steps on the regularised
    problem (Hessian ∇²L_j + λI) wherever that Hessian is positive definite."""
    theta = np.asarray(theta, dtype=float)
    phi = np.broadcast_to(np.asarray(phi0, dtype=float), (2, 2))
    for _ in range(gd_steps):
        phi, before = phi - inner_rate(lam) * residual(theta, phi, lam), phi
        if np.array_equal(phi, before):   # a fixed point (below the last bit): the rest of the steps change nothing
            break
    seen = [None, phi]   # the last two iterates
    for i in range(newton_steps):
        h = BUMPS.hessian(phi, TASKS.xs, TASKS.ys) + lam * np.eye(2)
        r = residual(theta, phi, lam)
        pd = np.linalg.eigvalsh(h).min(axis=-1) > 0
        newton = np.linalg.solve(h, r[..., None])[..., 0]
        phi = phi - np.where(pd[:, None], newton, inner_rate(lam) * r)
        if seen[0] is not None and np.array_equal(phi, seen[0]):
            # converged into a cycle of one or two iterates (rounding in the last bit): the remaining steps
            # would only alternate, so the iterate they end on is known (the same φ as all newton_steps give)
            return phi if (newton_steps - 1 - i) % 2 == 0 else seen[1]
        seen = [seen[1], phi]
    return phi


def implicit_system(theta, phi, lam):
    """(A, b) per task: A = I + ∇²L_j^tr(φ_j)/λ (support Hessian), b = ∇L_j^te(φ_j) (query gradient)."""
    a = np.eye(2) + BUMPS.hessian(phi, TASKS.xs, TASKS.ys) / lam
    b = BUMPS.loss_grad(phi, TASKS.xq, TASKS.yq)[1]
    return a, b


def fd_meta_gradient(theta, lam, phi_star, h=1e-5):
    """d/dθ L_j^te(φ_j*(θ)) by central differences, φ_j* re-solved accurately at θ ± h·e_m (warm-started at φ_j*)."""
    theta = np.asarray(theta, dtype=float)
    out = np.zeros((2, 2))
    for m in range(2):
        e = np.zeros(2)
        e[m] = h
        plus = BUMPS.loss(solve_accurately(theta + e, lam, phi_star, gd_steps=0), TASKS.xq, TASKS.yq)
        minus = BUMPS.loss(solve_accurately(theta - e, lam, phi_star, gd_steps=0), TASKS.xq, TASKS.yq)
        out[:, m] = (plus - minus) / (2 * h)
    return out


def _heatmap(z, lo, hi):
    z = np.round(z, 4)
    return [{"kind": "heatmap", "z": z, "extent": [0, 1, 0, 1], "zmin": lo, "zmax": hi, "cmap": "viridis"},
            {"kind": "contour", "z": z, "extent": [0, 1, 0, 1], "levels": np.linspace(lo, hi, 12)[1:-1]}]


def regularised_landscapes(theta, lam, n=N_GRID):
    """L_j(φ) + (λ/2)‖φ − θ‖² over the unit square, (n, n, 2)."""
    g = toy.grid(n)
    reg = 0.5 * lam * ((g - np.asarray(theta)) ** 2).sum(axis=-1)
    return BUMPS.loss(g[:, :, None, :], TASKS.xs, TASKS.ys) + reg[:, :, None]


def _fmt(v):
    return f"({v[0]:.3f}, {v[1]:.3f})"


# ------------------------------------------------------------------------------------- regularised landscapes
@figure("imaml-forces", title="Regularised task landscapes and the two forces at φ", refine=True, controls=[
    _lam_slider(0.0),
    Slider("steps", "Inner steps", 0, 300, step=1, default=5),
    Handle("theta", "θ", panel=0, default=THETA_DEFAULT, bounds=((0, 1), (0, 1)), step=0.01),
])
def imaml_forces_figure(state, action=None, coarse=False):
    lam, steps = lam_of(state), int(state["steps"])
    theta = np.array(state["theta"], dtype=float)
    path = proximal_path(theta, lam, steps)
    phi = path[-1]
    task_force = -BUMPS.loss_grad(phi, TASKS.xs, TASKS.ys)[1]         # −∇L_j(φ_j)
    reg_force = -lam * (phi - theta)                                  # −λ(φ_j − θ), the proximal term's pull
    imbalance = np.linalg.norm(task_force + reg_force, axis=-1)       # ‖∇L_j(φ_j) + λ(φ_j − θ)‖
    z = regularised_landscapes(theta, lam, COARSE_GRID if coarse else N_GRID)   # coarse: every other point
    lo, hi = float(z.min()), float(np.percentile(z, 95))
    scale = 0.25 / max(float(np.linalg.norm(np.concatenate([task_force, reg_force]), axis=-1).max()), 1e-12)
    panels = []
    for j in range(2):
        layers = _heatmap(z[:, :, j], lo, hi)
        layers += [{"kind": "line", "x": path[:, j, 0], "y": path[:, j, 1], "class": f"task{j + 1}",
                    "label": "inner path"},
                   {"kind": "points", "x": [phi[j, 0]], "y": [phi[j, 1]], "class": f"task{j + 1}", "r": 5,
                    "label": f"φ{'₁₂'[j]}"},
                   {"kind": "arrow", "from": phi[j], "to": phi[j] + scale * task_force[j], "class": "gradient",
                    "label": f"−∇L{'₁₂'[j]}"},
                   {"kind": "arrow", "from": phi[j], "to": phi[j] + scale * reg_force[j], "class": "regulariser",
                    "label": "−λ(φ − θ)"}]
        panels.append(unit_panel(f"Task {j + 1}: L{'₁₂'[j]}(φ) + (λ/2)‖φ − θ‖²", layers))
    return {
        "panels": panels,
        "legend": [{"class": "theta", "label": "θ (drag; shared by both tasks)"},
                   {"class": "task1", "label": "task 1: inner path and φ₁"},
                   {"class": "task2", "label": "task 2: inner path and φ₂"},
                   {"class": "gradient", "label": "task force −∇Lⱼ(φⱼ)"},
                   {"class": "regulariser", "label": "regulariser force −λ(φⱼ − θ)"}],
        "readouts": [
            {"label": "λ", "value": lam, "format": ".3g"},
            {"label": "inner rate α = 1/(λ + L_max)", "value": inner_rate(lam), "format": ".4f"},
            {"label": "L_max", "value": l_max(), "format": ".2f"},
            {"label": "imbalance, task 1", "value": float(imbalance[0]), "format": ".2e"},
            {"label": "imbalance, task 2", "value": float(imbalance[1]), "format": ".2e"},
            {"label": "force arrows drawn ×", "value": scale, "format": ".3g"},
        ],
        "message": None,
        "description": (f"Two bump tasks, each landscape plus the proximal term (λ/2)‖φ − θ‖² with λ = {lam:.3g}, "
                        f"θ = {_fmt(theta)}. After {steps} gradient step{'s' * (steps != 1)} at α = "
                        f"{inner_rate(lam):.4f}, φ₁ = {_fmt(phi[0])} and φ₂ = {_fmt(phi[1])}. At each φⱼ the task "
                        f"force −∇Lⱼ and the regulariser force −λ(φⱼ − θ) are drawn; they cancel only when the inner "
                        f"problem is solved. Imbalance ‖∇Lⱼ(φⱼ) + λ(φⱼ − θ)‖: task 1 {imbalance[0]:.2e}, task 2 "
                        f"{imbalance[1]:.2e}."),
        "state": {"theta": theta.tolist()},
    }


# ----------------------------------------------------------------------------------- the implicit meta-gradient
@lru_cache(maxsize=32)
def _inner(theta, lam, steps):
    """φ after the inner steps, both tasks (cached: the CG and task controls do not change it)."""
    return proximal_path(theta, lam, steps)[-1]


_CHECKS = {}  # (θ, λ, steps) → (φ*, finite differences), both tasks; the newest 32


def checks(theta, lam, steps, compute=True):
    """The slow part, both tasks: φ* solved accurately from φ, and finite differences of Lᵗᵉ(φ*(θ)). Cached (the CG
    and task controls do not change them); None if not cached and compute is False."""
    def solve():
        phi_star = solve_accurately(theta, lam, _inner(theta, lam, steps))
        return phi_star, fd_meta_gradient(theta, lam, phi_star)

    return memo(_CHECKS, (theta, lam, steps), solve, only_cached=not compute)


@figure("imaml-gradient", title="The implicit meta-gradient: a 2 × 2 linear system and conjugate gradient",
        refine=True, controls=[
    _lam_slider(0.0),
    Slider("steps", "Inner steps", 0, 200, step=1, default=100),
    Slider("n", "CG iterations n", 0, 5, step=1, default=1),
    Select("task", "Task", options={"0": "task 1", "1": "task 2"}, default="0"),
    Handle("theta", "θ", panel=0, default=THETA_DEFAULT, bounds=((0, 1), (0, 1)), step=0.01),
])
def imaml_gradient_figure(state, action=None, coarse=False):
    """coarse=True: the landscape on every other grid point and without the checks (solved φ*, finite differences),
    which the full answer adds; everything else is the same."""
    lam, steps, n, j = lam_of(state), int(state["steps"]), int(state["n"]), int(state["task"])
    theta = np.array(state["theta"], dtype=float)
    phi = _inner(tuple(theta), lam, steps)
    a, b = implicit_system(theta, phi, lam)
    a, b = a[j], b[j]
    exact = np.linalg.solve(a, b)
    eig = np.linalg.eigvalsh(a)
    g_n, info = cg(lambda v: a @ v, b, n)
    res = info["residuals"]
    checked = checks(tuple(theta), lam, steps, compute=not coarse)   # coarse: only if already computed
    if checked is None:
        g_star = fd = None
        err = lambda g: None
    else:
        phi_star, fd_both = checked
        a_star, b_star = implicit_system(theta, phi_star, lam)
        g_star = np.linalg.solve(a_star[j], b_star[j])
        fd = fd_both[j]
        err = lambda g: float(np.linalg.norm(g - fd) / max(np.linalg.norm(fd), 1e-300))
    vectors = {"rhs": b, "exact": exact, "cg": g_n}
    scale = 0.3 / max(max(np.linalg.norm(v) for v in vectors.values()), 1e-12)
    z = regularised_landscapes(theta, lam, COARSE_GRID if coarse else N_GRID)[:, :, j]
    layers = _heatmap(z, float(z.min()), float(np.percentile(z, 95)))
    layers += [{"kind": "points", "x": [phi[j, 0]], "y": [phi[j, 1]], "class": f"task{j + 1}", "r": 5, "label": "φ"},
               {"kind": "label", "at": phi[j] + [0.0, 0.03], "text": "φ", "class": f"task{j + 1}"},
               {"kind": "arrow", "from": theta, "to": theta + scale * b, "class": "query", "label": "b = ∇Lᵗᵉ(φ)"},
               {"kind": "arrow", "from": theta, "to": theta + scale * g_n, "class": "gradient", "label": f"CG, n = {n}"},
               {"kind": "arrow", "from": theta, "to": theta + scale * exact, "class": "imaml exact", "label": "exact g"}]
    log_res = np.log10(np.maximum(res, 1e-16))
    residual_panel = {"title": "CG residual ‖b − A gᵢ‖, log₁₀", "xlim": [0, 5],
                      "ylim": [-16, max(1.0, float(np.ceil(log_res.max())))], "xlabel": "CG iteration i",
                      "ylabel": "log₁₀ residual",
                      "layers": [{"kind": "line", "x": np.arange(n + 1), "y": log_res, "class": "gradient"},
                                 {"kind": "points", "x": np.arange(n + 1), "y": log_res, "class": "gradient"}]}
    pd = bool(eig.min() > 0)
    if not pd:
        message = (f"I + H/λ is not positive definite here (eigenvalues {eig[0]:.3g} and {eig[1]:.3g}): the system "
                   f"has no minimum for CG to find. "
                   + ("CG met a direction of non-positive curvature, stopped and flagged the system; "
                      f"it returned {_fmt(g_n)}." if info["nonpd"] else
                      f"In {n} iteration{'s' * (n != 1)} CG has not met such a direction, so nothing is flagged "
                      f"(no flag is no proof); it returned {_fmt(g_n)}."))
    else:
        message = None
    rel_res = float(np.linalg.norm(residual(theta, phi, lam)[j]) / max(np.linalg.norm(
        BUMPS.loss_grad(theta, TASKS.xs[j], TASKS.ys[j])[1]), 1e-300))
    return {
        "panels": [unit_panel(f"Task {j + 1}: vectors at θ (drawn ×{scale:.2g})", layers),
                   residual_panel],
        "legend": [{"class": "query", "label": "right-hand side b = ∇Lᵗᵉ(φ) (query)"},
                   {"class": "imaml", "label": "exact g = (I + H/λ)⁻¹ b"},
                   {"class": "gradient", "label": f"CG iterate after n = {n}"}],
        "readouts": [
            {"label": "λ", "value": lam, "format": ".3g"},
            {"label": "eigenvalues of I + H/λ: smallest", "value": float(eig[0]), "format": ".4g"},
            {"label": "eigenvalues of I + H/λ: largest", "value": float(eig[1]), "format": ".4g"},
            {"label": "inner residual (relative)", "value": rel_res, "format": ".2e"},
            {"label": "CG residual after n", "value": float(res[-1]), "format": ".2e"},
            {"label": "exact g: a", "value": float(exact[0]), "format": ".5f"},
            {"label": "exact g: b", "value": float(exact[1]), "format": ".5f"},
            {"label": "CG g: a", "value": float(g_n[0]), "format": ".5f"},
            {"label": "CG g: b", "value": float(g_n[1]), "format": ".5f"},
            {"label": "finite differences: a", "value": None if fd is None else float(fd[0]), "format": ".5f"},
            {"label": "finite differences: b", "value": None if fd is None else float(fd[1]), "format": ".5f"},
            {"label": "error of g (this φ) vs FD", "value": err(exact), "format": ".2e"},
            {"label": "error of g (solved φ*) vs FD", "value": err(g_star), "format": ".2e"},
        ],
        "message": message,
        "description": (f"Task {j + 1}, λ = {lam:.3g}, θ = {_fmt(theta)}; after {steps} inner step"
                        f"{'s' * (steps != 1)} φ = {_fmt(phi[j])}. The system (I + H/λ) g = b has b = ∇Lᵗᵉ(φ) = "
                        f"{_fmt(b)} and, solved directly, g = {_fmt(exact)}; the eigenvalues of I + H/λ are "
                        f"{eig[0]:.3g} and {eig[1]:.3g}{'' if pd else ' (not positive definite)'}. After n = {n} CG "
                        f"iteration{'s' * (n != 1)} the iterate is {_fmt(g_n)} with residual {res[-1]:.2e}. "
                        + ("The check against finite differences follows when θ rests." if fd is None else
                           f"Finite differences of Lᵗᵉ(φ*(θ)) through an accurately solved inner problem give "
                           f"{_fmt(fd)}; relative error of g at this φ {err(exact):.2e}, at the solved φ* "
                           f"{err(g_star):.2e}.")),
        "state": {"theta": theta.tolist()},
    }
