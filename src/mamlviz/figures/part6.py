"""Part 6 — Reptile: one task's inner path and Reptile step; four tasks, the batched step and many meta-updates.

Reptile's update is θ ← θ + ε(φ̄ − θ), φ̄ the mean over tasks of φ_i = U_i^(k)(θ), k SGD steps on the task's data.
Everything below comes from `mamlviz.meta` (the same `inner_sgd` and `reptile_direction` as the sine MLP uses).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mamlviz import meta, toy

from . import Button, Handle, Slider, figure
from ._common import COARSE_GRID, MAX_TRAIL, accumulated_loss, argmin, counter, log_heatmap, memo, trail_points, unit_panel

SOFTPLUS = toy.SoftplusLine()
ONE_TASK = toy.SOFTPLUS_TASK_SETS["one"]
FOUR_TASKS = toy.SOFTPLUS_TASK_SETS["four"]
N_GRID = 51
N_SAMPLES = 10
RUN_UPDATES = 50          # meta-updates per press of "Run"
RUN_CHUNK = 5             # meta-updates between two frames


def softplus_tasks(targets, seed):
    """Softplus tasks with 10 support and 10 query points each (seeded). Reptile itself uses only the support set."""
    return toy.softplus_tasks(np.random.default_rng(seed), targets, n_support=N_SAMPLES, n_query=N_SAMPLES)


def reptile_update(tasks, theta, alpha, k, eps):
    """One batched Reptile update from θ: (φ_i, the inner paths (k + 1, T, 2), φ̄, θ + ε(φ̄ − θ))."""
    with np.errstate(over="ignore", invalid="ignore"):
        direction, info = meta.meta_gradient("reptile", SOFTPLUS, theta, tasks, inner_lr=alpha, inner_steps=k,
                                             keep_path=True)
    phi_bar = theta - direction                              # direction = θ − φ̄
    return info["phi"], info["path"], phi_bar, theta + eps * (phi_bar - theta)


def _controls(k_default, eps_default, theta_default):
    return [
        Slider("alpha", "Inner learning rate α", 0.001, 0.07, step=0.001, default=0.03),
        Slider("k", "Inner steps k", 1, 10, step=1, default=k_default),
        Slider("eps", "Reptile step size ε", 0.0, 1.0, step=0.01, default=eps_default),
        Handle("theta", "θ", panel=0, default=theta_default, bounds=((0, 1), (0, 1)), step=0.01),
    ]


def _sub(j):
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(j))


def _step(j):
    """φ⁽ʲ⁾: the inner step j as a superscript in parentheses."""
    return "φ⁽" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(j)) + "⁾"


def _overshoots(tasks, path):
    """True if, for any task, the inner steps end higher on its loss than they started (or not finite): with
    α·L_max < 2 gradient steps never do that, so α is too large for the landscape here."""
    with np.errstate(over="ignore", invalid="ignore"):
        start, end = (SOFTPLUS.loss(p, tasks.xs, tasks.ys) for p in (path[0], path[-1]))
    return not (np.isfinite(path).all() and np.all(end <= start))


DIVERGED = "The inner steps overshoot at this α: the loss at φ is higher than at θ. Lower α (or k); θ stays put."


# ---------------------------------------------------------------------------------------------------- one task
@lru_cache(maxsize=4)
def _one_task_layers(seed):
    tasks = softplus_tasks(ONE_TASK, seed)
    return log_heatmap(SOFTPLUS.loss(toy.grid(N_GRID)[:, :, None, :], tasks.xs, tasks.ys)[:, :, 0])


@figure("reptile-step", title="One task: the inner path and the Reptile step", controls=[
    *_controls(5, 0.5, (0.15, 0.85)),
    Button("step", "Take the Reptile step"),
])
def reptile_step_figure(state, action=None):
    tasks = softplus_tasks(ONE_TASK, 0)
    alpha, k, eps = float(state["alpha"]), int(state["k"]), float(state["eps"])
    theta = np.array(state["theta"], dtype=float)
    phi, path, _, new_theta = reptile_update(tasks, theta, alpha, k, eps)
    message = None
    if _overshoots(tasks, path):
        message = DIVERGED
    elif action == "step":
        theta = np.clip(new_theta, 0.0, 1.0)
        phi, path, _, new_theta = reptile_update(tasks, theta, alpha, k, eps)
    layers = list(_one_task_layers(0))
    layers.append({"kind": "points", "x": [ONE_TASK[0][0]], "y": [ONE_TASK[0][1]], "class": "muted",
                   "label": "task optimum"})
    if message is None:
        p = path[:, 0]
        layers += [
            {"kind": "line", "x": p[:, 0], "y": p[:, 1], "class": "task1", "label": "inner path"},
            {"kind": "points", "x": p[1:, 0], "y": p[1:, 1], "class": "task1"},
            *([{"kind": "label", "at": p[1], "text": _step(1), "class": "task1"}] if k > 1 else []),
            {"kind": "label", "at": p[-1], "text": f"{_step(k)} = φ", "class": "task1"},
            {"kind": "arrow", "from": theta, "to": new_theta, "class": "gradient", "label": "θ + ε(φ − θ)"},
        ]
    loss = lambda q: float(SOFTPLUS.loss(q, tasks.xs, tasks.ys)[0])
    phi = phi[0]
    ok = message is None
    return {
        "panels": [unit_panel("Task loss L(a, b) on its data, log₁₀", layers)],
        "legend": [{"class": "task1", "label": "inner path θ → φ⁽¹⁾ → … → φ⁽ᵏ⁾"},
                   {"class": "gradient", "label": "Reptile step θ → θ + ε(φ − θ)"},
                   {"class": "muted", "label": "task optimum (0.5, 0.05)"}],
        "readouts": [
            {"label": "L(θ)", "value": loss(theta), "format": ".4f"},
            {"label": "L(φ)", "value": loss(phi) if ok else None, "format": ".4f"},
            {"label": "L(new θ)", "value": loss(new_theta) if ok else None, "format": ".4f"},
            {"label": "new θ: a", "value": float(new_theta[0]) if ok else None, "format": ".3f"},
            {"label": "new θ: b", "value": float(new_theta[1]) if ok else None, "format": ".3f"},
        ],
        "message": message,
        "description": (f"One softplus task, its loss over (a, b) as colour. θ = ({theta[0]:.2f}, {theta[1]:.2f}). "
                        + (f"{k} inner step{'s' * (k > 1)} at α = {alpha:g} lead to φ = ({phi[0]:.3f}, "
                           f"{phi[1]:.3f}); the Reptile step with ε = {eps:g} moves θ to ({new_theta[0]:.3f}, "
                           f"{new_theta[1]:.3f}), a fraction ε of the way to φ." if ok else message)),
        "state": {"theta": theta.tolist()},
    }


# -------------------------------------------------------------------------------------------------- four tasks
def joint_minimum(tasks):
    """argmin_θ Σ_i L_i(θ; support): the joint-training minimum (grid argmin, then Newton with the exact Hessian)."""
    z = SOFTPLUS.loss(toy.grid(N_GRID)[:, :, None, :], tasks.xs, tasks.ys).sum(axis=-1)
    theta = np.array(argmin(z)[:2])
    for _ in range(20):
        _, g, h = SOFTPLUS.loss_grad_hessian(theta, tasks.xs, tasks.ys)
        theta = theta - np.linalg.solve(h.sum(axis=0), g.sum(axis=0))
    return theta


def maml_minimum(tasks, alpha, k, n=COARSE_GRID, rounds=3, m=11):
    """argmin over the unit square of the MAML objective Σ_i L_i(U_i^(k)(θ); query): an n×n grid, then `rounds`
    m×m grids, each over ± one spacing of the last around its best point (the spacing shrinks 5× a round: 1/25,
    then 0.008, 0.0016, 0.00032, finer than the 51×51 grid and its 21×21 refinement it replaces, at a third of the
    cost: the first grid is most of it)."""
    best = np.array(argmin(accumulated_loss(tasks, k, alpha, n)[0])[:2])
    h = 1.0 / (n - 1)
    for _ in range(rounds):
        t = np.linspace(-h, h, m)
        fine = np.clip(np.stack(np.meshgrid(best[0] + t, best[1] + t), axis=-1), 0.0, 1.0)
        phi = meta.inner_sgd(SOFTPLUS, fine[:, :, None, :], tasks.xs, tasks.ys, lr=alpha, steps=k).phi
        j = SOFTPLUS.loss(phi, tasks.xq, tasks.yq).sum(axis=-1)
        best, h = fine[np.unravel_index(np.nanargmin(j), j.shape)], 2 * h / (m - 1)
    return best


@lru_cache(maxsize=8)
def _four_tasks_landscape(seed):
    """The landscape and the two reference points that depend on the tasks only (not on α, k or θ)."""
    tasks = softplus_tasks(FOUR_TASKS, seed)
    z = SOFTPLUS.loss(toy.grid(N_GRID)[:, :, None, :], tasks.xs, tasks.ys).sum(axis=-1)
    return log_heatmap(z), {"optima": np.mean(FOUR_TASKS, axis=0), "joint": joint_minimum(tasks)}


_MAML_MARKS = {}  # (seed, α, k) → the MAML objective's minimum


def _four_tasks_marks(seed, alpha, k, coarse=False):
    """The landscape and the three reference points (they depend on the tasks, α and k, not on θ). coarse: the
    MAML objective's minimum (a grid search) only if it was found before, else None."""
    heat, marks = _four_tasks_landscape(seed)
    maml = memo(_MAML_MARKS, (seed, alpha, k), lambda: maml_minimum(softplus_tasks(FOUR_TASKS, seed), alpha, k),
                only_cached=coarse)
    return heat, {**marks, "maml": maml}


MARKS = {"optima": ("average of the task optima", "mark-optima", "avg", (0.07, -0.01)),   # name, css, tag, offset
         "joint": ("joint-training minimum", "mark-joint", "joint", (-0.05, 0.04)),
         "maml": ("MAML objective's minimum", "mark-maml", "MAML", (0.0, 0.045))}


@figure("reptile-tasks", title="Four tasks: the batched Reptile step, repeated", refine=True, controls=[
    *_controls(5, 0.3, (0.15, 0.85)),
    Button("run", f"Run {RUN_UPDATES} meta-updates"),
    Button("resample", "New samples"),
])
def reptile_tasks_figure(state, action=None, coarse=False):
    """coarse=True: without the MAML objective's minimum where it is not known yet (it takes a grid search), and the
    scene before a run (the run itself streams once the reader pauses)."""
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    tasks = softplus_tasks(FOUR_TASKS, seed)
    theta = np.array(state["theta"], dtype=float)
    trail = trail_points(state.get("_trail"))
    if not trail or not np.allclose(trail[-1], theta):     # the reader moved θ: a new run starts here
        trail = [theta.tolist()]
    if action == "run" and not coarse:
        return _run(state, tasks, theta, trail, seed)
    scene = _tasks_scene(state, tasks, theta, trail, seed, coarse=coarse)
    if coarse and action != "run" and scene["readouts"][-1]["value"] is not None:
        scene["complete"] = True   # the MAML minimum was known: nothing left to refine (θ moved, say)
    return scene


def _run(state, tasks, theta, trail, seed):
    alpha, k, eps = float(state["alpha"]), int(state["k"]), float(state["eps"])
    for i in range(RUN_UPDATES):
        _, path, _, new_theta = reptile_update(tasks, theta, alpha, k, eps)
        if _overshoots(tasks, path):
            yield _tasks_scene(state, tasks, theta, trail, seed, DIVERGED)
            return
        theta = np.clip(new_theta, 0.0, 1.0)
        trail = (trail + [theta.tolist()])[-MAX_TRAIL:]
        if (i + 1) % RUN_CHUNK == 0:
            yield _tasks_scene(state, tasks, theta, trail, seed)


def _tasks_scene(state, tasks, theta, trail, seed, message=None, coarse=False):
    alpha, k, eps = float(state["alpha"]), int(state["k"]), float(state["eps"])
    phi, path, phi_bar, new_theta = reptile_update(tasks, theta, alpha, k, eps)
    ok = not _overshoots(tasks, path)
    if not ok:
        message = DIVERGED
    heat, marks = _four_tasks_marks(seed, alpha, k, coarse)
    marks = {key: mark for key, mark in marks.items() if mark is not None}
    layers = list(heat)
    layers.append({"kind": "points", "x": [p[0] for p in FOUR_TASKS], "y": [p[1] for p in FOUR_TASKS],
                   "class": "muted", "label": "task optima"})
    for key, (label, css, tag, offset) in MARKS.items():
        if key not in marks:
            continue
        layers += [{"kind": "points", "x": [marks[key][0]], "y": [marks[key][1]], "class": css, "label": label, "r": 5},
                   {"kind": "label", "at": marks[key] + offset, "text": tag, "class": css}]
    t = np.array(trail)
    layers.append({"kind": "line", "x": t[:, 0], "y": t[:, 1], "class": "trail", "label": "θ's trajectory"})
    if ok:
        for i in range(len(FOUR_TASKS)):
            layers.append({"kind": "line", "x": path[:, i, 0], "y": path[:, i, 1], "class": f"task{i + 1}",
                           "label": f"inner path of task {i + 1}"})
            layers.append({"kind": "label", "at": phi[i], "text": f"φ{_sub(i + 1)}", "class": f"task{i + 1}"})
        layers += [{"kind": "points", "x": [phi_bar[0]], "y": [phi_bar[1]], "class": "phibar", "label": "φ̄"},
                   {"kind": "label", "at": phi_bar, "text": "φ̄", "class": "phibar"},
                   {"kind": "arrow", "from": theta, "to": new_theta, "class": "gradient",
                    "label": "θ + ε(φ̄ − θ)"}]
    steps = np.arange(len(trail))
    dist = {key: np.linalg.norm(t - marks[key], axis=1) for key in MARKS if key in marks}
    top = max(float(max(d.max() for d in dist.values())) * 1.1, 0.05)
    distance_panel = {"title": "Distance from θ to each mark", "xlim": [0, max(len(trail) - 1, 1)], "ylim": [0, top],
                      "xlabel": "meta-update", "ylabel": "distance",
                      "layers": [layer for key in dist for layer in (
                          {"kind": "line", "x": steps, "y": dist[key], "class": MARKS[key][1], "label": MARKS[key][0]},
                          {"kind": "points", "x": steps[-1:], "y": dist[key][-1:], "class": MARKS[key][1]})]}
    fmt = lambda p: f"({p[0]:.3f}, {p[1]:.3f})"
    pending = "(found when the sliders rest)"   # a coarse answer's MAML minimum, not searched for yet
    maml_text = fmt(marks["maml"]) if "maml" in marks else pending
    maml_dist = f"{dist['maml'][-1]:.3f}" if "maml" in dist else pending
    return {
        "panels": [unit_panel("Joint loss Σᵢ Lᵢ(θ), log₁₀; tasks' inner paths", layers), distance_panel],
        "legend": [{"class": "task1", "label": "task 1 (0, 0)"}, {"class": "task2", "label": "task 2 (1, 0)"},
                   {"class": "task3", "label": "task 3 (0.2, 0)"}, {"class": "task4", "label": "task 4 (0.5, 0.2)"},
                   {"class": "phibar", "label": "φ̄, the mean of the φᵢ"},
                   {"class": "gradient", "label": "batched step θ + ε(φ̄ − θ)"},
                   {"class": "trail", "label": "θ's trajectory"}]
                  + [{"class": css, "label": label} for label, css, *_ in MARKS.values()],
        "readouts": [
            {"label": "φ̄: a", "value": float(phi_bar[0]) if ok else None, "format": ".3f"},
            {"label": "φ̄: b", "value": float(phi_bar[1]) if ok else None, "format": ".3f"},
            {"label": "meta-updates", "value": len(trail) - 1, "format": "d"},
            {"label": "distance to average of optima", "value": float(dist["optima"][-1]), "format": ".3f"},
            {"label": "distance to joint minimum", "value": float(dist["joint"][-1]), "format": ".3f"},
            {"label": "distance to MAML minimum", "value": float(dist["maml"][-1]) if "maml" in dist else None,
             "format": ".3f"},
        ],
        "message": message,
        "description": (f"Four softplus tasks; colour is the joint loss. θ = {fmt(theta)}. "
                        + (f"Each task takes {k} inner step{'s' * (k > 1)} at α = {alpha:g}; the mean of the four "
                           f"adapted points is φ̄ = {fmt(phi_bar)}, and the batched Reptile step with ε = {eps:g} "
                           f"leads to {fmt(new_theta)}. " if ok else message + " ")
                        + f"Marked: the average of the task optima {fmt(marks['optima'])}, the joint-training "
                          f"minimum {fmt(marks['joint'])} and the MAML objective's minimum {maml_text} for "
                          f"the same α and k. After {len(trail) - 1} meta-updates θ is "
                          f"{dist['optima'][-1]:.3f} from the average of the optima, {dist['joint'][-1]:.3f} from "
                          f"the joint minimum and {maml_dist} from the MAML minimum."),
        "state": {"theta": theta.tolist(), "_trail": trail, "_seed": seed},
    }
