"""Part 5 — First-order MAML: the local-curvature demonstration, and MAML against FOMAML on the sine MLP, measured
while both train in the reader's browser.

First-order MAML drops the factors A_j = I − α∇²L^tr(φ^(j)) of the meta-gradient A_0⋯A_{k−1}∇L^te(φ^(k)),
keeping ∇L^te(φ^(k)) alone. What it drops is measured here, never assumed small.
"""

from __future__ import annotations

import numpy as np

from mamlviz import meta, sine, toy
from mamlviz.lanczos import lanczos
from mamlviz.nn import MLP
from mamlviz.train import MetaTrainer, TrainConfig

from . import Button, Handle, Slider, figure, sessions, training_buttons
from ._common import (RECORDED_LEGEND, angle_degrees, fmt_matrix, fmt_vector, recorded_layers, recorded_note,
                      recorded_run, unit_panel)

# ------------------------------------------------------------------------------------------ local curvature
QUADRATIC = toy.Quadratic()
G = np.array(toy.QUADRATIC_G)                  # g = (0.1, −0.1)
N_GRID = 41
ARROW_SCALE = 2.0                              # both arrows drawn at twice their length (angles unchanged)


def curvature_arrows(a, b, c, x):
    """At x: −∇f(x) = −(C(x − ½) + g) and its C = 0 approximation −g, from the library's quadratic."""
    task = toy.quadratic_task(a, b, c)
    grad = QUADRATIC.loss_grad(np.asarray(x, dtype=float), task.xs[0], task.ys[0])[1]
    return -grad, -G


@figure("local-curvature", title="The gradient with and without curvature", controls=[
    Slider("a", "C₁₁ = a", -0.5, 0.5, step=0.01, default=0.4),
    Slider("b", "C₁₂ = C₂₁ = b", -0.5, 0.5, step=0.01, default=0.2),
    Slider("c", "C₂₂ = c", -0.5, 0.5, step=0.01, default=-0.3),
    Button("zero", "C = 0"),
    Handle("x", "x", panel=0, default=(0.75, 0.35), bounds=((0, 1), (0, 1)), step=0.01),
])
def local_curvature_figure(state, action=None):
    a, b, c = (0.0, 0.0, 0.0) if action == "zero" else (float(state[n]) for n in "abc")
    x = np.array(state["x"], dtype=float)
    true, approx = curvature_arrows(a, b, c, x)
    task = toy.quadratic_task(a, b, c)
    f = QUADRATIC.loss(toy.grid(N_GRID), task.xs[0], task.ys[0])
    lo, hi = float(f.min()), float(f.max())
    levels = np.linspace(lo, hi, 10)[1:-1] if hi > lo else []
    layers = [{"kind": "contour", "z": np.round(f, 4), "extent": [0, 1, 0, 1], "levels": levels, "class": "task2"},
              {"kind": "arrow", "from": x, "to": x + ARROW_SCALE * true, "class": "maml", "label": "−∇f"},
              {"kind": "arrow", "from": x, "to": x + ARROW_SCALE * approx, "class": "gradient secondary",
               "label": "−g"}]
    angle = angle_degrees(true, approx)
    dropped = np.linalg.norm(true - approx)                          # ‖C(x − ½)‖, the curvature term
    eig = np.linalg.eigvalsh(np.array([[a, b], [b, c]]))
    readouts = [
        {"label": "Hessian C", "value": fmt_matrix([[a, b], [b, c]], 2), "format": ""},
        {"label": "eigenvalues of C", "value": fmt_vector(eig[::-1], 3), "format": ""},
        {"label": "−∇f(x)", "value": fmt_vector(true, 3), "format": ""},
        {"label": "−g", "value": fmt_vector(approx, 3), "format": ""},
        {"label": "angle between the arrows (°)", "value": angle, "format": ".1f"},
        {"label": "‖C(x − ½)‖ / ‖∇f(x)‖", "value": dropped / np.linalg.norm(true) if angle is not None else None,
         "format": ".3f"},
    ]
    return {
        "panels": [unit_panel("Contours of f; both arrows drawn ×2", layers)],
        "legend": [{"class": "maml", "label": "−∇f(x), the true descent direction (solid)"},
                   {"class": "gradient", "label": "−g, the same with C = 0 (dashed)"},
                   {"class": "task2", "label": "contours of f(x) = ½(x − ½)ᵀC(x − ½) + gᵀx"}],
        "readouts": readouts,
        "message": ("∇f(x) = 0 here: x is a stationary point, the angle is undefined." if angle is None else None),
        "description": _curvature_description(a, b, c, x, true, approx, angle, eig),
        "state": {"a": a, "b": b, "c": c},
    }


def _curvature_description(a, b, c, x, true, approx, angle, eig):
    text = (f"C = [[{a:.2f}, {b:.2f}], [{b:.2f}, {c:.2f}]] with eigenvalues {eig[1]:.3f} and {eig[0]:.3f}. At "
            f"x = ({x[0]:.2f}, {x[1]:.2f}) the negative gradient −∇f(x) is {fmt_vector(true, 3)}, and its C = 0 "
            f"approximation −g is {fmt_vector(approx, 3)}. ")
    if angle is None:
        return text + "The gradient vanishes here, so there is no angle."
    return text + f"The two arrows are {angle:.1f}° apart."


# ------------------------------------------------------------------------------ MAML against FOMAML, measured
MLP_MODEL = MLP()
FIXED_SEED = 20190225                     # the fixed batch on which both meta-gradients are compared
FIXED_TASKS = 25
CHUNK = 25                                # meta-updates of each model between two frames
EVAL_EVERY = 100
LANCZOS_STEPS = 20
DIVERGED_MSE = 1e3                        # a held-out MSE above this means adaptation blew up (a sine's is ≤ 25)


def fixed_batch():
    """The batch of 25 sine tasks (K = 10 support, 10 query) on which the two meta-gradients are compared."""
    return sine.sample(np.random.default_rng(FIXED_SEED), FIXED_TASKS, 10, 10)


def compare_directions(theta, batch, alpha, k):
    """(cosine between the MAML and FOMAML meta-gradients, ‖MAML − FOMAML‖ / ‖MAML‖) at θ on `batch`.

    The difference MAML − FOMAML is exactly the dropped term: the meta-gradient minus its first-order part.
    Both are NaN when the inner steps diverge at θ (the meta-gradients are then not finite).
    """
    full, info_full = meta.meta_gradient("maml", MLP_MODEL, theta, batch, inner_lr=alpha, inner_steps=k,
                                         query_before=False)
    first, info_first = meta.meta_gradient("fomaml", MLP_MODEL, theta, batch, inner_lr=alpha, inner_steps=k,
                                           query_before=False)
    norm, norm_first = np.linalg.norm(full), np.linalg.norm(first)
    if info_full["nonfinite"] or info_first["nonfinite"] or not (norm > 0 and norm_first > 0):
        return float("nan"), float("nan")
    return float(full @ first / (norm * norm_first)), float(np.linalg.norm(full - first) / norm)


def top_curvature(theta, batch, seed=0):
    """The largest eigenvalue of each task's support-loss Hessian at θ (Lanczos, LANCZOS_STEPS HVPs), shape (T,)."""
    _, _, hvp = MLP_MODEL.linearize(theta, batch.xs, batch.ys)
    v0 = np.random.default_rng(seed).standard_normal((batch.xs.shape[0], MLP_MODEL.size))
    with np.errstate(over="ignore", invalid="ignore"):
        return lanczos(hvp, v0, LANCZOS_STEPS)[:, 0]


def _config(state):
    alpha, k = float(state["alpha"]), int(state["k"])
    return TrainConfig(inner_lr=alpha, inner_steps=k, eval_lr=alpha, eval_steps=k, eval_tasks=50, eval_query=25)


@figure("maml-vs-fomaml", title="MAML and first-order MAML trained side by side", training=True, controls=[
    Slider("alpha", "Inner learning rate α", 0.001, 0.05, step=0.001, default=0.01),
    Slider("k", "Inner steps k", 1, 5, step=1, default=1),
    Slider("budget", "Stop after (meta-updates)", 200, 5000, step=100, default=1000),
    Slider("seed", "Seed", 0, 9, step=1, default=0),
    *training_buttons(),
])
def maml_vs_fomaml_figure(state, action=None):
    config, seed = _config(state), int(state["seed"])
    run = sessions.get("maml-vs-fomaml")
    if action == "reset":
        sessions.pop("maml-vs-fomaml", None)
        run = None
    changed = run is not None and (run["config"] != config or run["seed"] != seed)
    if action == "start":
        message = None
        if changed:
            message, run = "Settings changed: training started again from scratch with the new settings.", None
        if run is None:
            run = sessions["maml-vs-fomaml"] = _new_run(config, seed)
        if run["trainers"]["maml"].iteration >= state["budget"]:
            return _scene(state, run, "finished", "Reached the number of updates set: raise it to train on, or Reset.")
        return _train(state, run, message)
    if run is None or changed:
        preview = _new_run(config, seed, trainers=False)
        return _scene(state, preview, "ready", "Settings changed: press Start to train again from scratch with them."
                      if changed else "Press Start to train MAML and FOMAML from scratch in your browser.")
    return _scene(state, run, "paused")


def _new_run(config, seed, trainers=True):
    """A run: the two trainers (same seed, so the same θ₀ and the same tasks) and the curves measured so far,
    starting with the comparison at θ₀. trainers=False: only θ₀'s point (the first frame, nothing to keep)."""
    run = {"config": config, "seed": seed, "batch": fixed_batch(), "curve": [], "curvature": []}
    if trainers:
        run["trainers"] = {m: MetaTrainer(m, MLP_MODEL, config, seed=seed) for m in ("maml", "fomaml")}
        for t in run["trainers"].values():
            t.run(0)                                   # the held-out evaluation before any update
        theta = run["trainers"]["maml"].theta
    else:
        theta = MLP_MODEL.init(np.random.default_rng(seed))   # = MetaTrainer's θ₀ for this seed
    _record(run, theta, 0)
    return run


def _record(run, theta, iteration, curvature=True):
    c = run["config"]
    cos, dropped = compare_directions(theta, run["batch"], c.inner_lr, c.inner_steps)
    run["curve"].append((iteration, cos, dropped))
    if curvature:
        run["curvature"].append((iteration, float(top_curvature(theta, run["batch"]).max())))


def _train(state, run, message):
    trainers = run["trainers"]
    yield _scene(state, run, "training", message)
    while trainers["maml"].iteration < state["budget"] and not any(t.diverged for t in trainers.values()):
        n = min(CHUNK, state["budget"] - trainers["maml"].iteration)
        done = trainers["maml"].iteration + n
        evaluate = done % EVAL_EVERY == 0 or done >= state["budget"]
        for t in trainers.values():
            t.run(n, evaluate=evaluate)
        if not trainers["maml"].diverged:
            _record(run, trainers["maml"].theta, trainers["maml"].iteration, curvature=evaluate)
        yield _scene(state, run, "training", message)
    yield _scene(state, run, "finished", message)


def _scene(state, run, status, message=None):
    alpha, k = float(state["alpha"]), int(state["k"])
    trainers = run.get("trainers", {})
    curve = np.array(run["curve"])
    it = curve[:, 0]
    right = max(float(state["budget"]), 1.0)
    panels = [
        {"title": "cos(MAML, FOMAML meta-gradient)", "xlim": [0, right], "ylim": [-1, 1],
         "xlabel": "meta-updates", "ylabel": "cosine",
         "layers": [{"kind": "line", "x": it, "y": curve[:, 1], "class": "maml", "label": "cosine"},
                    {"kind": "points", "x": it[:1], "y": curve[:1, 1], "class": "maml"}]},
        {"title": "Dropped term, ‖MAML − FOMAML‖ / ‖MAML‖", "xlim": [0, right],
         "ylim": [0, max([1.0] + [1.05 * v for v in curve[:, 2] if np.isfinite(v)])], "xlabel": "meta-updates",
         "ylabel": "ratio",
         "layers": [{"kind": "line", "x": it, "y": curve[:, 2], "class": "gradient", "label": "relative norm"},
                    {"kind": "points", "x": it[:1], "y": curve[:1, 2], "class": "gradient"}]},
        _eval_panel(trainers, k, right, state),
    ]
    iteration = trainers["maml"].iteration if trainers else 0
    after = {m: t.eval_curve[-1][1][k] for m, t in trainers.items()} if trainers else {}
    after = {m: (v if v < DIVERGED_MSE else None) for m, v in after.items()}
    top_now = run["curvature"][-1][1] if run["curvature"] else None
    top_start = run["curvature"][0][1] if run["curvature"] else None
    readouts = [
        {"label": "meta-updates", "value": iteration, "format": "d"},
        {"label": "cosine at the start", "value": float(curve[0, 1]), "format": ".4f"},
        {"label": "cosine now", "value": float(curve[-1, 1]), "format": ".4f"},
        {"label": "dropped term / meta-gradient now", "value": float(curve[-1, 2]), "format": ".3f"},
        {"label": f"MAML: held-out MSE after {k} step{'s' * (k > 1)}", "value": after.get("maml"), "format": ".3f"},
        {"label": f"FOMAML: held-out MSE after {k} step{'s' * (k > 1)}", "value": after.get("fomaml"),
         "format": ".3f"},
        {"label": "α·λ_max of the support Hessian, start", "value": alpha * top_start if top_start else None,
         "format": ".2f"},
        {"label": "α·λ_max of the support Hessian, now", "value": alpha * top_now if top_now else None,
         "format": ".2f"},
    ]
    diverged = [f"{m.upper() if m == 'maml' else 'FOMAML'}: {t.message}" for m, t in trainers.items() if t.diverged]
    if not np.isfinite(curve[-1, 1]):
        diverged.insert(0, f"At the MAML model's θ the {k} inner step(s) at α = {alpha:g} diverge on the fixed batch: "
                           "the meta-gradients are not finite, so there is nothing to compare. Lower α or k.")
    words = {"training": "Training", "paused": "Paused", "finished": "Finished", "ready": "Ready"}[status]
    recorded = recorded_note("maml-vs-fomaml") if _recorded_applies(state) else None
    return {
        "panels": panels,
        "legend": [{"class": "maml", "label": "MAML (second order)"},
                   {"class": "fomaml", "label": "FOMAML (first order, dashed)"},
                   {"class": "gradient", "label": "dropped term, relative"}]
                  + ([RECORDED_LEGEND] if recorded else []),
        "readouts": readouts,
        "message": " ".join(filter(None, [message] + diverged + [recorded if status == "ready" else None])) or None,
        "description": _training_description(words, iteration, alpha, k, curve, after, top_start, top_now,
                                             trainers["maml"].eval_curve[0][1][k] if trainers else None),
        "state": {"_status": status},
    }


def _recorded_applies(state):
    """The recorded run (bench/recorded_runs.py) is drawn where it measured the same thing: the same α and k."""
    run = recorded_run("maml-vs-fomaml")
    return bool(run) and all(state[key] == run["settings"][key] for key in ("alpha", "k"))


def _eval_panel(trainers, k, right, state=None):
    """Held-out MSE after k steps of both models, over the recorded run in grey (when it applies); the axis follows
    the values after the start (at initialisation one step at the training α can overshoot far above them; the
    description says the value)."""
    applies = state is not None and _recorded_applies(state)
    layers = recorded_layers("maml-vs-fomaml", {"maml": "MAML", "fomaml": "FOMAML"}) if applies else []
    later = [v for layer in layers if layer["kind"] == "line" for v in layer["y"][1:]]
    for m, css in (("maml", "maml"), ("fomaml", "fomaml secondary")):
        if m not in trainers:
            continue
        it = [c[0] for c in trainers[m].eval_curve]
        mse = [min(c[1][k], 1e3) for c in trainers[m].eval_curve]
        layers.append({"kind": "line", "x": it, "y": mse, "class": css, "label": m})
        later += mse[1:]
    top = min(max(later), 10.0) if later else 10.0
    return {"title": f"Held-out MSE after {k} step{'s' * (k > 1)}", "xlim": [0, right],
            "ylim": [0, max(top, 1.0) * 1.05], "xlabel": "meta-updates", "ylabel": "median MSE", "layers": layers}


def _num(value, fmt):
    return "not finite" if value is None or not np.isfinite(value) else format(value, fmt)


def _training_description(words, iteration, alpha, k, curve, after, top_start, top_now, start):
    text = (f"{words} after {iteration} meta-updates (α = {alpha:g}, k = {k}). On the fixed batch, the cosine between "
            f"the MAML and FOMAML meta-gradients at the MAML model's θ was {_num(curve[0, 1], '.4f')} at the start "
            f"and is {_num(curve[-1, 1], '.4f')} now")
    text += (f"; the dropped term is {curve[-1, 2]:.3f} times the meta-gradient's norm. " if np.isfinite(curve[-1, 2])
             else " (the inner steps diverge there). ")
    if after:
        mse = {m: "diverged" if v is None else f"{v:.3f}" for m, v in after.items()}
        text += (f"Median held-out MSE after {k} step(s): MAML {mse['maml']}, FOMAML {mse['fomaml']}"
                 + (f" (both {start:.3g} at the start). " if start is not None and start < DIVERGED_MSE else ". "))
    if top_start is not None:
        text += (f"α times the largest support-Hessian eigenvalue (the largest over the batch's tasks): "
                 f"{_num(alpha * top_start, '.2f')} at the start")
        text += f", {_num(alpha * top_now, '.2f')} at the last evaluation." if iteration else "."
    return text
