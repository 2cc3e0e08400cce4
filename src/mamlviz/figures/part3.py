"""Part 3 — How MAML works: sine fitting, the accumulated loss, two task landscapes, the meta-training lab.

Every number drawn here comes from the library (`mamlviz.nn`, `mamlviz.toy`, `mamlviz.meta`, `mamlviz.train`),
the same code the text quotes, so the equations and the figures cannot drift apart.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from mamlviz import meta, sine, toy
from mamlviz.models import load_sine_models
from mamlviz.train import MetaTrainer, TrainConfig

from . import Button, Handle, Points, Select, Slider, Toggle, figure, publish, sessions, trained, training_buttons
from ._common import (COARSE_GRID, MAX_TRAIL, MLP_MODEL, RECORDED_LEGEND, SOFTPLUS, X_DENSE,  # noqa: F401
                      accumulated_loss, argmin, counter, fine_tune, log_heatmap, recorded_layers, recorded_note,
                      trail_points, true_mse, unit_panel, verdicts, zero_mse)

# ------------------------------------------------------------------------------------------- the toy problems
TWO_TASKS = toy.SOFTPLUS_TASK_SETS["two"]  # (a*, b*) of task 1 and task 2
N_GRID = 51
N_SAMPLES = 10  # support and query points per softplus task


def softplus_pair(seed):
    """The two softplus tasks of the text, each with its own 10 support and 10 query points (seeded)."""
    return toy.softplus_tasks(np.random.default_rng(seed), TWO_TASKS, n_support=N_SAMPLES, n_query=N_SAMPLES)


@figure("accumulated-loss", title="The loss after m fine-tuning steps", refine=True, controls=[
    Slider("m", "Fine-tuning steps m", 0, 20, step=1, default=0),
    Slider("alpha", "Inner learning rate α", 0.001, 0.05, step=0.001, default=0.01),
    Button("resample", "New samples"),
])
def accumulated_loss_figure(state, action=None, coarse=False):
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    tasks = softplus_pair(seed)
    m, alpha = int(state["m"]), float(state["alpha"])
    J, task_losses = accumulated_loss(tasks, m, alpha, COARSE_GRID if coarse else N_GRID)  # coarse: every other point
    panels = []
    for i, (a_star, b_star) in enumerate(TWO_TASKS):
        layers = log_heatmap(task_losses[:, :, i])
        layers.append({"kind": "points", "x": [a_star], "y": [b_star], "class": f"task{i + 1}",
                       "label": f"task {i + 1} optimum"})
        panels.append(unit_panel(f"Task {i + 1}: L{'₁₂'[i]}(θ; query), log₁₀", layers))
    a_min, b_min, j_min = argmin(J)
    layers = log_heatmap(J)
    layers += [{"kind": "points", "x": [p[0] for p in TWO_TASKS], "y": [p[1] for p in TWO_TASKS],
                "class": "muted", "label": "task optima"},
               {"kind": "points", "x": [a_min], "y": [b_min], "class": "theta", "label": "minimum of J_m"}]
    panels.append(unit_panel(f"Accumulated loss J_{m}(θ), log₁₀", layers))
    diverged = not np.isfinite(J).all()
    return {
        "panels": panels,
        "legend": [{"class": "task1", "label": "task 1 optimum (0.3, 0.05)"},
                   {"class": "task2", "label": "task 2 optimum (0.83, 0.75)"},
                   {"class": "theta", "label": f"minimum of J_{m}"}],
        "readouts": [{"label": f"min J_{m}", "value": j_min, "format": ".4f"},
                     {"label": "at a", "value": a_min, "format": ".2f"},
                     {"label": "at b", "value": b_min, "format": ".2f"}],
        "message": ("Some starting points diverge at this α: they are left blank." if diverged else None),
        "description": (f"Three landscapes over the unit square, a horizontal and b vertical, coloured by log₁₀ of "
                        f"the loss. Left and middle: the query losses of task 1 and task 2, minimal near their "
                        f"optima (0.3, 0.05) and (0.83, 0.75). Right: the accumulated loss after m = {m} "
                        f"fine-tuning steps at α = {alpha:g}, minimal at (a, b) = ({a_min:.2f}, {b_min:.2f}) with "
                        f"value {j_min:.4f}."),
        "state": {"_seed": seed},
    }


# --------------------------------------------------------------------------- two tasks, one θ, the meta-gradient
def maml_objective(tasks, theta, alpha):
    """MAML's objective L₁(φ₁; query) + L₂(φ₂; query), φ_i = θ − α∇L_i(θ; support); θ of shape (..., 2)."""
    theta = np.asarray(theta, dtype=float)[..., None, :]
    phi = meta.inner_sgd(SOFTPLUS, theta, tasks.xs, tasks.ys, lr=alpha, steps=1).phi
    return SOFTPLUS.loss(phi, tasks.xq, tasks.yq).sum(axis=-1)


@figure("two-tasks", title="Two task landscapes, one initialisation", controls=[
    Slider("alpha", "Inner learning rate α", 0.001, 0.05, step=0.001, default=0.03),
    Slider("beta", "Meta learning rate β", 0.001, 0.05, step=0.001, default=0.01),
    Button("step", "Meta-gradient step"),
    Button("walk", "Walk 25 steps"),
    Button("resample", "New samples"),
    Handle("theta", "θ", panel=0, default=(0.15, 0.85), bounds=((0, 1), (0, 1)), step=0.01),
])
def two_tasks_figure(state, action=None):
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    tasks = softplus_pair(seed)
    alpha, beta = float(state["alpha"]), float(state["beta"])
    theta = np.array(state["theta"], dtype=float)
    trail = trail_points(state.get("_trail"))
    if not trail or not np.allclose(trail[-1], theta):  # the reader moved θ: a new walk starts here
        trail = [theta.tolist()]
    if action == "walk":
        return _walk(state, tasks, theta, trail, seed, 25)
    if action == "step":
        return _walk_once(state, tasks, theta, trail, seed)
    return _two_tasks_scene(state, tasks, theta, trail, seed)


def _meta_step(tasks, theta, alpha, beta):
    direction, info = meta.meta_gradient("maml", SOFTPLUS, theta, tasks, inner_lr=alpha, inner_steps=1)
    if info["nonfinite"]:
        return theta, info, "The meta-gradient is not finite here: θ stays put."
    return np.clip(theta - beta * direction, 0.0, 1.0), info, None


def _walk_once(state, tasks, theta, trail, seed):
    theta, _, message = _meta_step(tasks, theta, state["alpha"], state["beta"])
    trail = (trail + [theta.tolist()])[-MAX_TRAIL:]
    return _two_tasks_scene(state, tasks, theta, trail, seed, message)


def _walk(state, tasks, theta, trail, seed, n):
    for _ in range(n):
        theta, _, message = _meta_step(tasks, theta, state["alpha"], state["beta"])
        trail = (trail + [theta.tolist()])[-MAX_TRAIL:]
        yield _two_tasks_scene(state, tasks, theta, trail, seed, message)
        if message:
            return


@lru_cache(maxsize=8)
def _two_tasks_landscapes(seed, alpha):
    """The layers that depend only on the tasks and α (not on θ): computed once while θ is dragged or walks."""
    tasks = softplus_pair(seed)
    g = toy.grid(N_GRID)
    layers = log_heatmap(maml_objective(tasks, g, alpha))[:1]
    task_losses = SOFTPLUS.loss(g[:, :, None, :], tasks.xq, tasks.yq)        # (n, n, 2) query losses
    for i in range(2):
        layers += log_heatmap(task_losses[:, :, i], css=f"task{i + 1}", heatmap=False, n_levels=6)
    return layers


def _two_tasks_scene(state, tasks, theta, trail, seed, message=None):
    alpha = float(state["alpha"])
    direction, info = meta.meta_gradient("maml", SOFTPLUS, theta, tasks, inner_lr=alpha, inner_steps=1)
    phi = info["phi"]
    layers = list(_two_tasks_landscapes(seed, alpha))
    trail_arr = np.array(trail)
    layers += [
        {"kind": "points", "x": [p[0] for p in TWO_TASKS], "y": [p[1] for p in TWO_TASKS], "class": "muted",
         "label": "task optima"},
        {"kind": "line", "x": trail_arr[:, 0], "y": trail_arr[:, 1], "class": "trail", "label": "θ's walk"},
    ]
    for i in range(2):
        layers.append({"kind": "arrow", "from": theta, "to": phi[i], "class": f"task{i + 1}",
                       "label": f"φ{'₁₂'[i]}"})
    step = -float(state["beta"]) * direction
    layers.append({"kind": "arrow", "from": theta, "to": theta + step * 10, "class": "gradient",
                   "label": "−β∇ (×10)"})
    values = info["loss_after"]
    objective_path = maml_objective(tasks, trail_arr, alpha)
    panels = [
        unit_panel("MAML objective (colour), task losses (lines)", layers),
        {"title": "Objective along θ's walk", "xlim": [0, max(len(trail) - 1, 1)],
         "ylim": [0, float(objective_path.max()) * 1.1 or 1.0], "xlabel": "meta-step", "ylabel": "L₁(φ₁) + L₂(φ₂)",
         "layers": [{"kind": "line", "x": np.arange(len(trail)), "y": objective_path, "class": "theta"},
                    {"kind": "points", "x": np.arange(len(trail)), "y": objective_path, "class": "theta"}]},
    ]
    return {
        "panels": panels,
        "legend": [{"class": "task1", "label": "task 1: contours, θ → φ₁"},
                   {"class": "task2", "label": "task 2: contours, θ → φ₂"},
                   {"class": "trail", "label": "θ's walk"},
                   {"class": "gradient", "label": "meta-step −β∇ (drawn ×10)"}],
        "readouts": [
            {"label": "L₁(φ₁; query)", "value": float(values[0]), "format": ".4f"},
            {"label": "L₂(φ₂; query)", "value": float(values[1]), "format": ".4f"},
            {"label": "MAML objective", "value": float(values.sum()), "format": ".4f"},
            {"label": "meta-steps taken", "value": len(trail) - 1, "format": "d"},
        ],
        "message": message,
        "description": (f"θ = ({theta[0]:.2f}, {theta[1]:.2f}). One inner step at α = {alpha:g} on each task's "
                        f"support points takes it to φ₁ = ({phi[0, 0]:.2f}, {phi[0, 1]:.2f}) and φ₂ = "
                        f"({phi[1, 0]:.2f}, {phi[1, 1]:.2f}). The MAML objective L₁(φ₁) + L₂(φ₂) on the query "
                        f"points is {values.sum():.4f}. {len(trail) - 1} meta-gradient steps taken so far."),
        "state": {"theta": theta.tolist(), "_trail": trail, "_seed": seed},
    }


# ------------------------------------------------------------------------------- sine fitting: pretrained vs MAML
NOISE_SD = 0.3
MAX_POINTS = 20
DEFAULT_TASK = (3.0, 1.0)                            # amplitude, phase of the first frame
DEFAULT_XS = (-4.1, -2.2, -0.4, 1.3, 3.6)
MODEL_NAMES = {"pretrained": "pretrained", "maml": "MAML"}


def _labels(xs, amplitude, phase, noise, noise_seed):
    """The task's labels at the reader's x positions: y = A·sin(x − ψ), plus seeded noise when asked."""
    y = sine.curve(np.asarray(xs, dtype=float), amplitude, phase)
    if noise:
        y = y + NOISE_SD * np.random.default_rng(noise_seed).standard_normal(MAX_POINTS)[: len(y)]
    return y


def _models(choice):
    """(θ of the pretrained and MAML models as a (2, P) stack, a message or None)."""
    lab = trained.get("meta-lab")  # published by the lab, possibly from another worker (figures.publish)
    if choice == "lab":
        if lab and lab["iteration"] > 0:
            return np.array([lab[k] for k in MODEL_NAMES], dtype=float), None
        message = "No models trained in the lab yet (train them below): showing the shipped models."
    else:
        message = None
    shipped = shipped_models()
    return np.stack([shipped[k] for k in MODEL_NAMES]), message


@lru_cache(maxsize=1)
def shipped_models():
    """The pretrained and MAML models trained by `mamlviz train` and shipped in the package (read once)."""
    return load_sine_models()


@figure("sine-fit", title="Fitting a new sine: pretrained versus MAML", controls=[
    Slider("amplitude", "Amplitude A", 0.1, 5.0, step=0.1, default=DEFAULT_TASK[0]),
    Slider("phase", "Phase ψ", 0.0, float(np.pi), step=0.01, default=DEFAULT_TASK[1]),
    Slider("k", "Points K (at most)", 1, MAX_POINTS, step=1, default=len(DEFAULT_XS)),
    Slider("steps", "Fine-tuning steps", 1, 10, step=1, default=1),
    Slider("alpha", "Inner learning rate α", 0.001, 0.5, step=0.001, default=0.01),
    Toggle("noise", f"Label noise (σ = {NOISE_SD})", default=False),
    Select("models", "Models", options={"shipped": "shipped with the page", "lab": "trained in the lab"},
           default="shipped"),
    Button("dice", "Roll K random points"),
    Button("clear", "Clear points"),
    Points("points", "Support points", panel=0, max_points=MAX_POINTS, bounds=((-5.0, 5.0), (-6.0, 6.0)),
           default=tuple((x, float(sine.curve(x, *DEFAULT_TASK))) for x in DEFAULT_XS)),
])
def sine_fit_figure(state, action=None):
    amplitude, phase, k = float(state["amplitude"]), float(state["phase"]), int(state["k"])
    alpha, steps = float(state["alpha"]), int(state["steps"])
    dice = counter(state.get("_dice", 0))
    xs = [p[0] for p in state["points"]]
    if action == "dice":
        dice += 1
        xs = np.random.default_rng(dice).uniform(*sine.X_RANGE, k).tolist()
    elif action == "clear":
        xs = []
    messages = []
    if len(xs) > k:
        messages.append(f"At most K = {k} points: raise K to place more (kept the first {k}).")
        xs = xs[:k]
    ys = _labels(xs, amplitude, phase, state["noise"], dice)
    thetas, model_message = _models(state["models"])
    if model_message:
        messages.append(model_message)
    mse_before, pred_before = true_mse(thetas, amplitude, phase)
    flat = zero_mse(amplitude, phase)
    if xs:
        phis, support_before, support_after = fine_tune(thetas, xs, ys, alpha, steps)
        mse_after, pred_after = true_mse(phis, amplitude, phase)
        verdict = verdicts(mse_after, support_before, support_after, flat)
        messages += _verdict_messages(verdict, alpha, mse_after, support_before, support_after, flat)
    else:
        messages.append("No support points yet: click the plot (or focus it and press Enter) to place some, "
                        "or roll the dice. The curves show the models before adaptation.")
        mse_after, pred_after, verdict = np.full(2, np.nan), None, [None, None]
    x = X_DENSE[:, 0]
    layers = [{"kind": "line", "x": x, "y": sine.curve(x, amplitude, phase), "class": "true", "label": "true sine"}]
    for i, (key, name) in enumerate(MODEL_NAMES.items()):
        layers.append({"kind": "line", "x": x, "y": np.round(pred_before[i], 4), "class": f"{key} before",
                       "label": f"{name} before"})
        if verdict[i] in ("ok", "worse than 0"):
            layers.append({"kind": "line", "x": x, "y": np.round(pred_after[i], 4), "class": f"{key} after",
                           "label": f"{name} after {steps} step{'s' * (steps > 1)}"})
    points = [[float(a), float(b)] for a, b in zip(xs, ys)]
    readouts = []
    for i, (key, name) in enumerate(MODEL_NAMES.items()):
        shown = verdict[i] in ("ok", "worse than 0")
        readouts.append({"label": f"{name}: MSE before", "value": float(mse_before[i]), "format": ".3f"})
        readouts.append({"label": f"{name}: MSE after", "value": float(mse_after[i]) if shown else None,
                         "format": ".3f"})
    readouts.append({"label": "flat line y = 0: MSE", "value": flat, "format": ".3f"})
    return {
        "panels": [{"title": f"y = A·sin(x − ψ), A = {amplitude:.1f}, ψ = {phase:.2f}", "xlim": [-5, 5],
                    "ylim": [-6, 6], "xlabel": "x", "ylabel": "y", "layers": layers}],
        "legend": [{"class": "true", "label": "true sine"}, {"class": "support", "label": "support points"},
                   {"class": "pretrained before", "label": "pretrained, before"},
                   {"class": "pretrained after", "label": "pretrained, after"},
                   {"class": "maml before", "label": "MAML, before"}, {"class": "maml after", "label": "MAML, after"}],
        "readouts": readouts,
        "message": " ".join(messages) or None,
        "description": _sine_description(amplitude, phase, points, steps, alpha, mse_before, mse_after, verdict,
                                         flat),
        "state": {"points": points, "_dice": dice},
    }


def _verdict_messages(verdict, alpha, mse_after, support_before, support_after, flat):
    """One sentence per model whose fine-tuning diverged or ended worse than the flat line y = 0."""
    out = []
    for i, name in enumerate(MODEL_NAMES.values()):
        if verdict[i] == "diverged":
            how = ("its numbers overflowed (not finite)" if not np.isfinite(support_after[i]) else
                   f"its loss on the support points rose from {support_before[i]:.3g} to {support_after[i]:.3g} "
                   "instead of falling")
            out.append(f"Fine-tuning diverged for the {name} model at α = {alpha:g}: {how}; the steps overshoot. "
                       "Lower α (or the number of steps).")
        elif verdict[i] == "worse than 0":
            out.append(f"After fine-tuning, the {name} model does worse than predicting y = 0 everywhere (MSE "
                       f"{mse_after[i]:.3g} against {flat:.3g} for the flat line), although its support loss fell.")
    return out


def _sine_description(amplitude, phase, points, steps, alpha, before, after, verdict, flat):
    text = (f"The true task is y = {amplitude:.1f}·sin(x − {phase:.2f}) (amplitude A = {amplitude:.1f}, phase "
            f"ψ = {phase:.2f}), with {len(points)} support points; the flat line y = 0 would score an MSE of "
            f"{flat:.3f}. ")
    for i, name in enumerate(MODEL_NAMES.values()):
        text += f"The {name} model's MSE against the true sine is {before[i]:.3f} before adaptation"
        if not points:
            text += ". "
        elif verdict[i] == "diverged":
            text += f" and fine-tuning diverged at α = {alpha:g}. "
        else:
            text += f" and {after[i]:.3f} after {steps} step(s) at α = {alpha:g}"
            text += ", worse than the flat line. " if verdict[i] == "worse than 0" else ". "
    return text


# ------------------------------------------------------------------------------------------ the meta-training lab
LAB_CHUNK = 25            # outer updates per method between two frames
LAB_EVAL_EVERY = 100      # held-out evaluation every so many updates (it costs about as much as 25 updates)


def _lab_config(state):
    """Training and held-out evaluation share α: each model is judged after adapting at the α MAML trains with."""
    alpha = float(state["alpha"])
    return TrainConfig(n_tasks=int(state["batch"]), n_support=int(state["k"]), n_query=10,
                       inner_lr=alpha, outer_lr=float(state["beta"]), eval_support=int(state["k"]),
                       eval_lr=alpha, eval_tasks=50, eval_query=25)


@figure("meta-lab", title="A meta-training lab: pretrained versus MAML", training=True, controls=[
    Slider("batch", "Meta-batch (tasks per update)", 5, 25, step=1, default=25),
    Slider("k", "Support points K", 2, 20, step=1, default=10),
    Slider("alpha", "Inner learning rate α", 0.001, 0.05, step=0.001, default=0.01),
    Slider("beta", "Outer learning rate β (Adam)", 0.0005, 0.02, step=0.0005, default=0.01),
    Slider("budget", "Stop after (meta-updates)", 500, 10000, step=500, default=2000),
    Slider("seed", "Seed", 0, 9, step=1, default=0),
    *training_buttons(),
])
def meta_lab_figure(state, action=None):
    config, seed = _lab_config(state), int(state["seed"])
    lab = sessions.get("meta-lab")
    if action == "reset":
        sessions.pop("meta-lab", None)
        publish("meta-lab", None)
        lab = None
    message = None
    if action == "start":
        if lab is not None and (lab["config"] != config or lab["seed"] != seed):
            message = "Settings changed: training started again from scratch with the new settings."
            lab = None
        if lab is None:
            lab = sessions["meta-lab"] = _new_lab(config, seed)
        if lab["trainers"]["maml"].iteration >= state["budget"]:
            return _lab_scene(state, lab, "Reached the number of updates set: raise it to train on, or Reset.")
        return _train(state, lab, message)
    if lab is not None and (lab["config"] != config or lab["seed"] != seed):
        message = "Settings changed: press Start to train again from scratch with them."
    return _lab_scene(state, lab, message, status="paused" if lab else "ready")


def _publish_lab(lab):
    """Hand the models trained so far to the figures that use them (the sine fit), wherever they run."""
    publish("meta-lab", {"iteration": lab["trainers"]["maml"].iteration,
                         **{name: t.theta for name, t in lab["trainers"].items()}})


def _new_lab(config, seed):
    trainers = {name: MetaTrainer(name, MLP_MODEL, config, seed=seed) for name in MODEL_NAMES}
    for t in trainers.values():
        t.run(0)  # the held-out evaluation before any update
    return {"config": config, "seed": seed, "trainers": trainers, "seconds": 0.0}


def _train(state, lab, message):
    """A stream of frames: LAB_CHUNK updates of each model, a held-out evaluation, a frame, until the budget."""
    trainers = lab["trainers"]
    yield _lab_scene(state, lab, message, status="training")
    while trainers["maml"].iteration < state["budget"] and not any(t.diverged for t in trainers.values()):
        n = min(LAB_CHUNK, state["budget"] - trainers["maml"].iteration)
        start = time.perf_counter()
        done = trainers["maml"].iteration + n
        for t in trainers.values():
            t.run(n, evaluate=done % LAB_EVAL_EVERY == 0 or done >= state["budget"])
        lab["seconds"] += time.perf_counter() - start
        _publish_lab(lab)
        yield _lab_scene(state, lab, message, status="training")
    yield _lab_scene(state, lab, message, status="finished")


def _lab_scene(state, lab, message=None, status="ready"):
    recorded = recorded_note("meta-lab")
    if lab is None:
        return {"panels": [_lab_curve_panel({}), _lab_steps_panel({})],
                "legend": [RECORDED_LEGEND] if recorded else [],
                "readouts": [{"label": "meta-updates", "value": 0, "format": "d"}],
                "message": " ".join(filter(None, [message or "Press Start to meta-train both models from scratch in "
                                                  "your browser.", recorded])),
                "description": "No training has run yet. Press Start to train the pretrained baseline and MAML. "
                               + (recorded or ""),
                "state": {"_status": status}}
    trainers = lab["trainers"]
    diverged = [t.message for t in trainers.values() if t.diverged]
    iteration = trainers["maml"].iteration
    rate = 2 * iteration / lab["seconds"] if lab["seconds"] > 0 else None
    after_one = {name: t.eval_curve[-1][1][1] for name, t in trainers.items()}
    readouts = [{"label": "meta-updates", "value": iteration, "format": "d"},
                {"label": "updates per second (both models)", "value": rate, "format": ".0f"}]
    readouts += [{"label": f"{MODEL_NAMES[n]}: held-out MSE after 1 step", "value": v if np.isfinite(v) else None,
                  "format": ".3f"} for n, v in after_one.items()]
    words = {"training": "Training", "paused": "Paused", "finished": "Finished", "ready": "Ready"}[status]
    return {
        "panels": [_lab_curve_panel(trainers), _lab_steps_panel(trainers)],
        "legend": [{"class": "pretrained", "label": "pretrained (joint training)"},
                   {"class": "maml", "label": "MAML (second order)"}]
                  + ([RECORDED_LEGEND] if recorded else []),
        "readouts": readouts,
        "message": " ".join(filter(None, [message] + diverged)) or None,
        "description": (f"{words} after {iteration} meta-updates. Median held-out MSE after one adaptation step at "
                        f"α = {lab['config'].eval_lr:g} (the inner learning rate MAML trains with; the pretrained "
                        f"model is fine-tuned at the same α) on K = {lab['config'].eval_support} points: pretrained "
                        f"{after_one['pretrained']:.3f}, MAML {after_one['maml']:.3f}."),
        "state": {"_status": status},
    }


def _lab_curve_panel(trainers):
    """Held-out MSE against meta-updates: the reader's run over the recorded one (grey, bench/recorded_runs.py)."""
    layers, top, right = recorded_layers("meta-lab", MODEL_NAMES), 4.0, 500
    for layer in layers:
        if layer["kind"] == "line":
            top, right = max(top, min(max(layer["y"]), 10.0)), max(right, layer["x"][-1])
    for name, t in trainers.items():
        it = [c[0] for c in t.eval_curve]
        mse = [min(c[1][1], 1e3) for c in t.eval_curve]
        layers.append({"kind": "line", "x": it, "y": mse, "class": name, "label": MODEL_NAMES[name]})
        top, right = max(top, min(max(mse), 10.0)), max(right, it[-1])
    return {"title": "Held-out MSE after one step", "xlim": [0, right], "ylim": [0, top * 1.05],
            "xlabel": "meta-updates", "ylabel": "median MSE", "layers": layers}


def _lab_steps_panel(trainers):
    layers, top = [], 4.0
    for name, t in trainers.items():
        curve = [min(v, 1e3) for v in t.eval_curve[-1][1]]
        m = list(range(len(curve)))
        layers += [{"kind": "line", "x": m, "y": curve, "class": name, "label": MODEL_NAMES[name]},
                   {"kind": "points", "x": m, "y": curve, "class": name}]
        top = max(top, min(max(curve), 10.0))
    return {"title": "Held-out MSE after m steps (now)", "xlim": [0, 10], "ylim": [0, top * 1.05],
            "xlabel": "adaptation steps m", "ylabel": "median MSE", "layers": layers}
