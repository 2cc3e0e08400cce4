"""Part 8 — Comparison: one meta-update of each method, their trajectories, and the sine race.

Every direction drawn here comes from `mamlviz.meta.meta_gradient` (the trajectories: `meta_gradients`, the
methods in lock-step) and every training from `mamlviz.train`: this module only chooses settings, runs them side by
side and draws what they give. No method is implemented twice.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mamlviz import clock, meta, sine, toy
from mamlviz.train import MetaTrainer, adapt, evaluate, race_config

from . import Button, Handle, Points, Select, Slider, Toggle, figure, publish, sessions, trained, training_buttons
from ._common import (METHOD_NAMES, MLP_MODEL, RACERS, RECORDED_LEGEND, X_DENSE, accumulated_loss, argmin,
                      counter, fine_tune, log_heatmap, memo, recorded_layers, recorded_note, true_mse, unit_panel, verdicts,
                      zero_mse)

# ------------------------------------------------------------------------------------------- the toy problem
SOFTPLUS = toy.SoftplusLine()
FOUR_TASKS = toy.SOFTPLUS_TASK_SETS["four"]      # (a*, b*) of the four tasks of the spec
N_SAMPLES = 10                                   # support and query points per task
N_GRID = 51
# A map met for the first time, in a coarse answer: every 5th point of the 51 (the iMAML objective's 51 × 51 take
# 57 ms in Pyodide, the MAML objective's 20 ms; 11 × 11 a few ms), drawn smoothed until the full map replaces it.
COARSE_MAP = 11
METHODS = METHOD_NAMES
UNIT = 0.15                                      # arrow length in the "directions only" view
THETA0 = (0.15, 0.85)                            # where the trajectories start
FOUR_THETA0 = (0.1, 0.4)                         # where the four directions differ clearly
SUBSCRIPT = "₁₂₃₄"


def four_tasks(seed):
    """The four softplus tasks, each with its own 10 support and 10 query points (seeded)."""
    return toy.softplus_tasks(np.random.default_rng(seed), FOUR_TASKS, n_support=N_SAMPLES, n_query=N_SAMPLES)


def meta_objective(tasks, theta, alpha, steps, reg=None):
    """Σ_i L_i(φ_i; D^te_i) with φ_i = k steps of gradient descent from θ on D^tr_i (with reg = λ: iMAML's
    `proximal_descent` on L^tr_i(φ) + (λ/2)‖φ − θ‖², steps of at most α). θ of shape (..., 2): one call for a whole grid of θ.

    steps = 0 gives the joint-training loss Σ_i L_i(θ; D^te_i).
    """
    theta = np.asarray(theta, dtype=float)[..., None, :]
    theta = np.broadcast_to(theta, theta.shape[:-2] + (tasks.n_tasks, 2))
    with np.errstate(over="ignore", invalid="ignore"):
        if reg is None:
            phi = meta.inner_sgd(SOFTPLUS, theta, tasks.xs, tasks.ys, lr=alpha, steps=steps).phi
        else:   # iMAML's own inner procedure, as meta_gradient runs it
            phi = meta.proximal_descent(SOFTPLUS, theta, tasks.xs, tasks.ys, reg=reg, steps=steps, max_lr=alpha).phi
        return SOFTPLUS.loss(phi, tasks.xq, tasks.yq).sum(axis=-1)


def direction(method, tasks, theta, alpha, steps, reg=None, cg_steps=None):
    """The library's meta-update direction d (the outer step is θ ← θ − rate·d) and its info."""
    return meta.meta_gradient(method, SOFTPLUS, theta, tasks, inner_lr=alpha, inner_steps=steps,
                              reg=reg if method == "imaml" else None, cg_steps=cg_steps, query_before=False,
                              kept_bytes=False)   # the memory kept is Part 4's and 9's question, not this figure's


def angle(u, v):
    """The angle between two directions in degrees (None if either is zero or not finite)."""
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if not (nu > 0 and nv > 0 and np.isfinite(nu) and np.isfinite(nv)):
        return None
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))))


def _markers(layers):
    layers.append({"kind": "points", "x": [p[0] for p in FOUR_TASKS], "y": [p[1] for p in FOUR_TASKS],
                   "class": "muted", "label": "task optima"})
    for i, (a, b) in enumerate(FOUR_TASKS):
        layers.append({"kind": "label", "at": [min(a + 0.01, 0.93), b + 0.04], "text": f"τ{SUBSCRIPT[i]}",
                       "class": "muted", "anchor": "start"})
    return layers


# ------------------------------------------------------------------------------- one meta-update, four methods
def _method_controls(m, outer, outer_label, alpha, k):
    """A method's switch and sliders, one collapsible group on the page (the state keeps every key flat)."""
    name = METHODS[m]
    return [Toggle(f"{m}_on", name, default=True, group=m),
            Slider(f"{m}_outer", f"{name} {outer_label}", 0.0, 1.0, step=0.01, default=outer, group=m),
            Slider(f"{m}_alpha", f"{name} α", 0.0, 0.1, step=0.001, default=alpha, group=m),
            Slider(f"{m}_k", f"{name} k", 1, 10, step=1, default=k, group=m)]


BACKGROUNDS = {"maml": "MAML objective", "imaml": "iMAML objective", "joint": "joint-training loss",
               **{f"task{i + 1}": f"task {i + 1} loss" for i in range(4)}}
BACKGROUND_TITLES = {"maml": "MAML objective at MAML's α, k", "imaml": "iMAML objective at iMAML's α, k, λ",
                     "joint": "joint-training loss Σ L_i(θ)",
                     **{f"task{i + 1}": f"task {i + 1}: L{SUBSCRIPT[i]}(θ; query)" for i in range(4)}}


# CG solves the 2 × 2 implicit system exactly in two steps, so neither figure has a CG slider: from 2 to 10 it
# changed nothing (issue 26: no control that changes nothing), and more steps only cost time.
CG_STEPS = 2


def settings(state, m):
    """(outer rate, α, k, λ, CG steps) of method m from the figure's state: each method reads only its own keys."""
    reg = float(state["imaml_lambda"]) if m == "imaml" else None
    cg_steps = CG_STEPS if m == "imaml" else None
    return float(state[f"{m}_outer"]), float(state[f"{m}_alpha"]), int(state[f"{m}_k"]), reg, cg_steps


@figure("four-methods", title="One meta-update, four methods", refine=True, controls=[
    *_method_controls("maml", 0.5, "β", 0.06, 5),
    *_method_controls("fomaml", 0.5, "β", 0.06, 5),
    *_method_controls("reptile", 0.8, "ε", 0.06, 5),
    *_method_controls("imaml", 0.5, "β", 0.06, 10),
    Slider("imaml_lambda", "iMAML λ", 0.5, 20.0, step=0.5, default=5.0, group="imaml"),
    Select("background", "Background", options=BACKGROUNDS, default="maml"),
    Toggle("unit", "Directions only (unit arrows)", default=False),
    Button("resample", "New samples"),
    Handle("theta", "θ", panel=0, default=FOUR_THETA0, bounds=((0, 1), (0, 1)), step=0.01),
])
def four_methods_figure(state, action=None, coarse=False):
    """coarse=True: a background met for the first time on every 5th grid point (COARSE_MAP; the iMAML map takes
    its k proximal steps with a Hessian each over the whole grid); the rest, and a background already made, as
    in full (then flagged complete)."""
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    tasks = four_tasks(seed)
    theta = np.array(state["theta"], dtype=float)
    on = [m for m in METHODS if state[f"{m}_on"]]
    key = (seed, state["background"], *_background_key(state))
    heat = _background(*key, only_cached=coarse)
    layers = _markers(list(heat or _background(*key, n=COARSE_MAP)))
    steps, messages, readouts = {}, [], []
    for m in on:
        outer, alpha, k, reg, cg_steps = settings(state, m)
        d, info = direction(m, tasks, theta, alpha, k, reg, cg_steps)
        if info["nonfinite"]:
            messages.append(f"{METHODS[m]}'s meta-gradient is not finite here: no arrow.")
            continue
        steps[m] = (d, -outer * d)
        if m == "imaml":
            _, g = SOFTPLUS.loss_grad(info["phi"], tasks.xs, tasks.ys)
            residual = np.linalg.norm(g + reg * (info["phi"] - theta), axis=-1).max()
            readouts.append({"label": "iMAML inner residual", "value": float(residual),
                             "format": ".2e"})
            if info["nonpd"].any():
                messages.append("iMAML: I + ∇²Lᵗʳ(φ)/λ is not positive definite for task(s) "
                                f"{', '.join(str(i + 1) for i in np.flatnonzero(info['nonpd']))}; CG stopped "
                                "at its last iterate (see Part 7).")
    for m, (d, step) in steps.items():
        tip = theta + (-UNIT * d / np.linalg.norm(d) if state["unit"] and np.linalg.norm(d) > 0 else step)
        layers.append({"kind": "arrow", "from": theta, "to": tip, "class": m, "label": METHODS[m]})
    names = list(METHODS)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            value = angle(steps[a][0], steps[b][0]) if a in steps and b in steps else None
            readouts.append({"label": f"angle {METHODS[a]}–{METHODS[b]}", "value": value, "format": ".1f"})
    if not on:
        messages.append("All methods are switched off: switch one on to see its meta-update.")
    j = float(meta_objective(tasks, theta, float(state["maml_alpha"]), int(state["maml_k"])))
    readouts.insert(0, {"label": "MAML objective at θ", "value": j, "format": ".4f"})
    scene = {
        "panels": [unit_panel(f"{BACKGROUND_TITLES[state['background']]}, log₁₀", layers)],
        "legend": [{"class": m, "label": METHODS[m]} for m in on] + [{"class": "muted", "label": "task optima"}],
        "readouts": readouts,
        "message": " ".join(messages) or None,
        "description": _four_description(state, theta, steps, readouts),
        "state": {"_seed": seed},
    }
    if coarse and heat:
        scene["complete"] = True
    return scene


def _background_key(state):
    """Only the settings the selected background depends on (so the cache is not refreshed needlessly)."""
    bg = state["background"]
    if bg == "maml":
        return float(state["maml_alpha"]), int(state["maml_k"]), None
    if bg == "imaml":
        return float(state["imaml_alpha"]), int(state["imaml_k"]), float(state["imaml_lambda"])
    return 0.0, 0, None


_BACKGROUNDS = {}   # (seed, background, α, k, λ, n) → its heat map (θ moves far more often)


def _background(seed, which, alpha, steps, reg, n=N_GRID, only_cached=False):
    """The heat map of the chosen background over the unit square, remembered (only_cached: None if it is not)."""
    return memo(_BACKGROUNDS, (seed, which, alpha, steps, reg, n), lambda: _make_background(seed, which, alpha, steps,
                reg, n), only_cached=only_cached, limit=16)


def _make_background(seed, which, alpha, steps, reg, n):
    tasks = four_tasks(seed)
    g = toy.grid(n)
    if which.startswith("task"):
        i = int(which[4:]) - 1
        z = SOFTPLUS.loss(g, tasks.xq[i], tasks.yq[i])
    elif reg is None:   # the MAML objective or, at k = 0, the joint loss: the map the minima are found on
        z = _grid_objective(seed, alpha, steps, n)
    else:
        z = meta_objective(tasks, g, alpha, steps, reg)
    return tuple(log_heatmap(np.where(np.isfinite(z), z, np.nan)))


def _four_description(state, theta, steps, readouts):
    text = (f"θ = ({theta[0]:.2f}, {theta[1]:.2f}) on a map of the {BACKGROUND_TITLES[state['background']]} over the unit "
            f"square (a horizontal, b vertical), with the optima of the four tasks marked. ")
    if not steps:
        return text + "No method is switched on."
    view = "unit-length directions" if state["unit"] else "the meta-updates θ → θ − rate·d"
    parts = [f"{METHODS[m]} ({step[0]:+.3f}, {step[1]:+.3f})" for m, (_, step) in steps.items()]
    text += f"Arrows show {view}; the steps are " + ", ".join(parts) + ". "
    angles = [f"{r['label'][6:]} {r['value']:.1f}°" for r in readouts
              if r["label"].startswith("angle") and r["value"] is not None]
    if angles:
        text += "Angles between the directions: " + ", ".join(angles) + "."
    return text


# ------------------------------------------------------------------------------------------------ trajectories
TRAJ_CHUNK = 40           # meta-updates of every method between two frames (the default is one frame)
TRAJ_COARSE = 4           # meta-updates of the coarse answer (drawn at once; the full answer when the reader pauses)


@figure("trajectories", title="Trajectories of θ under each method", refine=True, controls=[
    *(Toggle(f"{m}_on", name, default=True) for m, name in METHODS.items()),
    Slider("alpha", "Inner rate α (all methods)", 0.0, 0.1, step=0.001, default=0.06),
    Slider("k", "Inner steps k (all methods)", 1, 10, step=1, default=5),
    Slider("beta", "Outer rate β (MAML, FOMAML, iMAML)", 0.01, 1.0, step=0.01, default=0.5),
    Slider("epsilon", "Reptile step ε", 0.01, 1.0, step=0.01, default=1.0),
    Slider("lam", "iMAML λ", 0.5, 20.0, step=0.5, default=5.0),
    Slider("updates", "Meta-updates", 20, 400, step=20, default=40),
    Select("background", "Background", options={"maml": "MAML objective", "joint": "joint-training loss"},
           default="maml"),
    Button("resample", "New samples"),
    Handle("theta", "θ₀", panel=0, default=THETA0, bounds=((0, 1), (0, 1)), step=0.01),
])
def trajectories_figure(state, action=None, coarse=False):
    """A stream of frames: every enabled method advances TRAJ_CHUNK meta-updates from the same θ₀, then a frame.
    coarse=True: one frame after the first TRAJ_COARSE updates (the start of the same paths, or as much of them as
    is remembered) on every other grid point of the background; when every path and the background are remembered
    (a method switched, the background chosen, fewer updates), the final frame itself, flagged complete."""
    if not coarse:
        return _trajectories(state, action)
    seed, tasks, keys = _trajectory_setup(state, action)
    total = int(state["updates"])
    known = min((_known_updates(key) for key in keys.values()), default=total)
    n = N_GRID if _background_known(seed, state) else COARSE_MAP
    done = total if known >= total else max(known, min(TRAJ_COARSE, total))
    scene = _trajectories_frame(state, tasks, seed, keys, done, n)
    if done >= total and n == N_GRID:
        scene["complete"] = True
    return scene


def _trajectory_setup(state, action):
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    keys = {m: _path_key(m, state, seed) for m in METHODS if state[f"{m}_on"]}
    return seed, four_tasks(seed), keys


def _trajectories(state, action, n=N_GRID):
    seed, tasks, keys = _trajectory_setup(state, action)
    total = int(state["updates"])
    done = int(min(min((_known_updates(key) for key in keys.values()), default=total), total))
    while True:   # frames for the updates still to compute only: what every path remembers is drawn in the first
        done = min(done + TRAJ_CHUNK, total)
        yield _trajectories_frame(state, tasks, seed, keys, done, n)
        if done >= total:
            return


def _trajectories_frame(state, tasks, seed, keys, done, n):
    entries = {m: _remembered(key, state) for m, key in keys.items()}
    _advance(entries, tasks, state, done)
    paths = {m: e["path"][:done + 1] for m, e in entries.items()}
    stopped = {m: e["why"] for m, e in entries.items() if e["why"] and len(e["path"]) - 1 < done}
    scene = _trajectories_scene(state, tasks, seed, paths, stopped, done, n)
    if n == N_GRID:
        if len(_GRIDS_KNOWN) > 64:   # the maps' own cache keeps 16
            _GRIDS_KNOWN.clear()
        _GRIDS_KNOWN.update(_grid_ids(seed, state))
    return scene


# Each method's path, remembered per (method, samples, α, k, its outer rate, λ for iMAML, θ₀): a method switched on
# again, more updates or another background extend or reuse it; a slider of one method recomputes only that one.
_PATHS = {}
_PATHS_KEPT = 32
_GRIDS_KNOWN = set()   # (seed, α, k) of the full-grid objectives made (both backgrounds and both minima use them)


def _path_key(m, state, seed):
    lam = float(state["lam"]) if m == "imaml" else None
    return m, seed, float(state["alpha"]), int(state["k"]), outer_rate(state, m), lam, tuple(state["theta"])


def _known_updates(key):
    """Updates of the path remembered for `key` (all it will ever have, if it stopped: then counted as endless)."""
    entry = _PATHS.get(key)
    if entry is None:
        return 0
    return np.inf if entry["why"] else len(entry["path"]) - 1


def _remembered(key, state):
    """The path remembered for `key` ({"path": [θ₀, θ₁, …], "why": why it stopped, or None}), a new one if none."""
    entry = _PATHS.pop(key, None) or {"path": [np.array(state["theta"], dtype=float)], "why": None}
    _PATHS[key] = entry                         # the newest last; the oldest forgotten
    if len(_PATHS) > _PATHS_KEPT:
        del _PATHS[next(iter(_PATHS))]
    return entry


def _grid_ids(seed, state):
    """The two objectives a frame maps: the joint loss and the MAML objective at (α, k)."""
    return {(seed, 0.0, 0), (seed, float(state["alpha"]), int(state["k"]))}


def _background_known(seed, state):
    return _grid_ids(seed, state) <= _GRIDS_KNOWN


def outer_rate(state, m):
    return float(state["epsilon"] if m == "reptile" else state["beta"])


def _advance(entries, tasks, state, updates):
    """Extend every method's path ({method: entry}) to `updates` meta-updates θ ← θ − rate·d, the methods in
    lock-step: one `meta.meta_gradients` call an update gives every direction (MAML, FOMAML and Reptile share their
    inner pass). A method that diverges stops there, with the reason in its entry."""
    alpha, k, lam = float(state["alpha"]), int(state["k"]), float(state["lam"])
    while True:
        behind = {m: e for m, e in entries.items() if not e["why"] and len(e["path"]) - 1 < updates}
        if not behind:
            return
        got = meta.meta_gradients({m: e["path"][-1] for m, e in behind.items()}, SOFTPLUS, tasks, inner_lr=alpha,
                                  inner_steps=k, reg=lam, cg_steps=CG_STEPS)
        for m, e in behind.items():
            d, info = got[m]
            nxt = e["path"][-1] - outer_rate(state, m) * d
            if info["nonfinite"] or not np.isfinite(nxt).all() or np.abs(nxt).max() > 1e3:
                e["why"] = f"{METHODS[m]} diverged after {len(e['path']) - 1} updates (lower the rates)"
            else:
                e["path"].append(nxt)


def _trajectories_scene(state, tasks, seed, paths, stopped, done, n=N_GRID):
    alpha, k = float(state["alpha"]), int(state["k"])
    bg = state["background"]
    layers = _markers(list(_background(seed, bg, *((alpha, k, None) if bg == "maml" else (0.0, 0, None)), n)))
    joint_min = argmin(_grid_objective(seed, 0.0, 0, n))
    maml_min = argmin(_grid_objective(seed, alpha, k, n))
    mean_opt = np.mean(FOUR_TASKS, axis=0)
    layers += [
        {"kind": "points", "x": [maml_min[0]], "y": [maml_min[1]], "class": "maml", "label": "MAML objective minimum"},
        {"kind": "points", "x": [joint_min[0]], "y": [joint_min[1]], "class": "pretrained", "label": "joint minimum"},
        {"kind": "points", "x": [mean_opt[0]], "y": [mean_opt[1]], "class": "reptile", "label": "mean of task optima"},
    ]
    readouts, ends = [], {}
    for m, path in paths.items():
        p = np.array(path)
        layers.append({"kind": "line", "x": p[:, 0], "y": p[:, 1], "class": m, "label": METHODS[m]})
        layers.append({"kind": "points", "x": [p[-1, 0]], "y": [p[-1, 1]], "class": m, "label": f"{METHODS[m]} end"})
        ends[m] = p[-1]
    at_ends = np.array(list(ends.values())).reshape(-1, 2)       # both objectives at every end: one call each
    maml_j = dict(zip(ends, meta_objective(tasks, at_ends, alpha, k).tolist()))
    joint = dict(zip(ends, meta_objective(tasks, at_ends, 0.0, 0).tolist()))
    for m in METHODS:
        readouts += [{"label": f"{METHODS[m]}: MAML objective at the end", "value": maml_j.get(m), "format": ".4f"},
                     {"label": f"{METHODS[m]}: joint loss at the end", "value": joint.get(m), "format": ".4f"}]
    total = int(state["updates"])
    messages = list(stopped.values())
    if not paths:
        messages.append("All methods are switched off: switch one on to draw its trajectory.")
    status = "" if done >= total else f" (computing: {done} of {total} updates so far)"
    return {
        "panels": [unit_panel(f"{'MAML objective' if bg == 'maml' else 'joint-training loss'}, log₁₀{status}", layers)],
        "legend": [{"class": m, "label": METHODS[m]} for m in paths] + [
            {"class": "maml", "label": "● lowest point of the MAML objective on the map"},
            {"class": "pretrained", "label": "● minimum of the joint loss"},
            {"class": "reptile", "label": "● mean of the task optima"}],
        "readouts": readouts + [{"label": "meta-updates", "value": done, "format": "d"}],
        "message": " ".join(messages) or None,
        "description": _trajectories_description(state, ends, readouts, done, maml_min, joint_min),
        "state": {"_seed": seed},
    }


@lru_cache(maxsize=16)
def _grid_objective(seed, alpha, steps, n=N_GRID):
    """meta_objective over the grid: `accumulated_loss`, the same sum, which remembers its inner steps (k ± 1 is one
    step or none)."""
    return accumulated_loss(four_tasks(seed), steps, alpha, n)[0]


def _trajectories_description(state, ends, readouts, done, maml_min, joint_min):
    theta0 = state["theta"]
    text = (f"Each enabled method runs {done} meta-updates from θ₀ = ({theta0[0]:.2f}, {theta0[1]:.2f}) with "
            f"α = {float(state['alpha']):g}, k = {int(state['k'])}. ")
    values = {r["label"]: r["value"] for r in readouts}
    for m, end in ends.items():
        text += (f"{METHODS[m]} ends at ({end[0]:.2f}, {end[1]:.2f}), MAML objective "
                 f"{values[f'{METHODS[m]}: MAML objective at the end']:.4f}, joint loss "
                 f"{values[f'{METHODS[m]}: joint loss at the end']:.4f}. ")
    return text + (f"On the grid, the MAML objective is lowest at ({maml_min[0]:.2f}, {maml_min[1]:.2f}) and the "
                   f"joint loss at ({joint_min[0]:.2f}, {joint_min[1]:.2f}).")


# ------------------------------------------------------------------------------------------------- the sine race
SHARED_LR = 0.01          # the one shared SGD step every model is also judged after
RACE_EVAL_EVERY = 50      # held-out evaluation every so many meta-updates


def held_out(trainer, theta=None):
    """(MSE after the method's own inner procedure, MSE after one shared SGD step at SHARED_LR): medians over the
    held-out tasks (the same tasks for every method), from the trainer's θ or the given one."""
    c, b = trainer.config, trainer.eval_batch
    theta = trainer.theta if theta is None else theta
    with np.errstate(over="ignore", invalid="ignore"):
        phi = adapt(trainer.model, theta, b.xs, b.ys, c)      # the method's own inner procedure
        own = trainer.model.loss(np.broadcast_to(phi, (b.n_tasks, trainer.model.size)), b.xq, b.yq)
    shared = evaluate(trainer.model, theta, b, steps=1, lr=SHARED_LR)["median"][1]
    own = float(np.median(np.where(np.isfinite(own), own, np.inf)))
    return own, float(shared)


def new_race(seed):
    trainers = {m: MetaTrainer(m, MLP_MODEL, race_config(m), seed=seed) for m in RACERS}
    race = {"seed": seed, "trainers": trainers, "seconds": dict.fromkeys(RACERS, 0.0),
            "curves": {m: [(0, 0.0, *held_out(t))] for m, t in trainers.items()}}
    return race


def race_round(race, evaluate_now):
    """One meta-update of every racer (timed per racer), then a held-out evaluation if asked. (The reader's "One
    meta-update" and the native benchmarks; the stream times blocks of updates, `race_block`.)"""
    for m, t in race["trainers"].items():
        if not t.diverged:
            start = clock.now()
            t.step()
            race["seconds"][m] += clock.now() - start
    if evaluate_now:
        for m, t in race["trainers"].items():
            race["curves"][m].append((t.iteration, race["seconds"][m], *held_out(t)))


def race_iteration(race):
    return max(t.iteration for t in race["trainers"].values())


def race_block(race, m, goal, budget):
    """Meta-updates of racer `m` towards iteration `goal`, timed as one block: on until the block lasts
    clock.ROUND_SECONDS (a coarse clock's step is then under 1 % of it), and on to the goal when what is left would
    make a shorter block of its own. θ is kept at every evaluation iteration on the way (multiples of
    RACE_EVAL_EVERY, and the budget) and evaluated after the block, its seconds interpolated within the block (the
    updates of one racer cost alike). Returns the iteration reached."""
    t = race["trainers"][m]
    begin, kept, elapsed = t.iteration, [], 0.0
    start = clock.now()
    while t.iteration < goal and not t.diverged:
        if t.step() is not None and (t.iteration % RACE_EVAL_EVERY == 0 or t.iteration >= budget):
            kept.append((t.iteration, t.theta.copy()))
        elapsed = clock.now() - start
        done = t.iteration - begin
        if elapsed >= clock.ROUND_SECONDS and (goal - t.iteration) * elapsed / max(done, 1) >= clock.ROUND_SECONDS:
            break
    before = race["seconds"][m]
    race["seconds"][m] += elapsed
    for it, theta in kept:
        seconds = before + elapsed * (it - begin) / (t.iteration - begin)
        race["curves"][m].append((it, seconds, *held_out(t, theta)))
    return t.iteration


@figure("sine-race", title="The sine race: five ways to meta-train, side by side", training=True, controls=[
    Slider("budget", "Stop after (meta-updates)", 100, 5000, step=100, default=1000),
    Slider("seed", "Seed", 0, 9, step=1, default=0),
    Select("curve", "Curves: MSE after", options={"own": "own procedure", "shared": "one shared step"},
           default="own"),
    *training_buttons(Button("step", "One meta-update")),
])
def sine_race_figure(state, action=None):
    # Runs in a training worker of its own; the raced models reach `race-fit` (in the main worker) by `publish`.
    seed, budget = int(state["seed"]), int(state["budget"])
    race = sessions.get("sine-race")
    if action == "reset":
        sessions.pop("sine-race", None)
        publish("sine-race", None)
        race = None
    message = None
    if action in ("start", "step"):
        if race is not None and race["seed"] != seed:
            message = "The seed changed: the race started again from scratch with the new seed."
            race = None
        if race is None:
            race = sessions["sine-race"] = new_race(seed)
        if action == "step":
            race_round(race, evaluate_now=True)
            publish_race(race)
            return race_scene(state, race, message, "paused")
        if race_iteration(race) >= budget:
            return race_scene(state, race, "Reached the number of updates set: raise it to race on, or Reset.",
                              "finished")
        return _race_stream(state, race, message)
    if race is not None and race["seed"] != seed:
        message = "The seed changed: press Start to race again from scratch with it."
    return race_scene(state, race, message, "paused" if race else "ready")


RACE_PUBLISH_SECONDS = 1.0   # hand the models over at most this often while racing (and whenever the race stops)


def publish_race(race):
    """Offer the raced models (θ of every racer, its seed and iteration) to the figures that fit them (`race-fit`),
    wherever they run. θ of a diverged racer is its last good value."""
    publish("sine-race", {"seed": race["seed"], "iteration": race_iteration(race),
                          "thetas": {m: t.theta for m, t in race["trainers"].items()}})
    race["published"] = clock.now()


def _race_stream(state, race, message):
    budget = int(state["budget"])
    try:
        yield race_scene(state, race, message, "training")
        while race_iteration(race) < budget and not all(t.diverged for t in race["trainers"].values()):
            # a round: the first racer (the pretrained model, the fastest) runs a timed block of its own length,
            # the others the same number of updates in blocks of theirs, a frame after each block
            goal = None  # the round's end: where the first racer's block ends
            for m, t in race["trainers"].items():
                while t.iteration < (budget if goal is None else goal) and not t.diverged:
                    reached = race_block(race, m, budget if goal is None else goal, budget)
                    goal = reached if goal is None else goal
                    if clock.now() - race.get("published", 0.0) >= RACE_PUBLISH_SECONDS:
                        publish_race(race)
                    yield race_scene(state, race, message, "training")
        yield race_scene(state, race, message, "finished")
    finally:   # finished, paused or superseded: the models as they are now
        publish_race(race)


def race_scene(state, race, message=None, status="ready"):
    which = 2 if state["curve"] == "own" else 3
    words = {"training": "Racing", "paused": "Paused", "finished": "Finished", "ready": "Ready"}[status]
    recorded = recorded_note("sine-race") if state["curve"] == "own" else None
    legend = [RECORDED_LEGEND] if recorded else []
    if race is None:
        return {"panels": [_race_panel({}, 0, "meta-updates", state["curve"]),
                           _race_panel({}, 1, "seconds (this browser)")],
                "legend": legend,
                "readouts": [{"label": "meta-updates", "value": 0, "format": "d"}],
                "message": " ".join(filter(None, [message or "Press Start to meta-train all five models from the same "
                                                  "seed.", recorded])),
                "description": "Ready: no training has run yet. Press Start to race the pretrained baseline, MAML, "
                               "FOMAML, Reptile and iMAML on the sine family.",
                "state": {"_status": status}}
    curves = {m: [(c[0], c[1], c[which]) for c in race["curves"][m]] for m in RACERS}
    readouts = [{"label": "meta-updates", "value": race_iteration(race), "format": "d"}]
    for m, name in RACERS.items():
        last = race["curves"][m][-1]
        readouts += [{"label": f"{name}: own procedure", "value": last[2], "format": ".3f"},
                     {"label": f"{name}: one shared step", "value": last[3], "format": ".3f"},
                     {"label": f"{name}: seconds", "value": race["seconds"][m], "format": ".1f"}]
    diverged = [f"{RACERS[m]}: {t.message}" for m, t in race["trainers"].items() if t.diverged]
    evaluated = race["curves"]["maml"][-1][0]
    text = (f"{words} after {race_iteration(race)} meta-updates of each method (seed {race['seed']}); held-out "
            f"median MSE at update {evaluated}, after each method's own inner procedure / after one shared SGD "
            f"step at α = {SHARED_LR}: ")
    text += "; ".join(f"{name} {race['curves'][m][-1][2]:.3f} / {race['curves'][m][-1][3]:.3f}"
                      for m, name in RACERS.items()) + "."
    return {
        "panels": [_race_panel(curves, 0, "meta-updates", state["curve"]),
                   _race_panel(curves, 1, "seconds (this browser)", state["curve"])],
        "legend": [{"class": m, "label": name} for m, name in RACERS.items()] + legend,
        "readouts": readouts,
        "message": " ".join(filter(None, [message] + diverged)) or None,
        "description": text,
        "state": {"_status": status},
    }


def _race_panel(curves, axis, xlabel, measure="own"):
    """One panel of the race; by meta-updates and after each method's own procedure, over the recorded race (grey,
    bench/recorded_runs.py; the seconds depend on the machine and are not recorded)."""
    layers, top, right = [], 4.0, 1.0 if axis else 100
    if axis == 0 and measure == "own":
        layers = recorded_layers("sine-race", RACERS)
        for layer in layers:
            if layer["kind"] == "line":
                top, right = max(top, min(max(layer["y"]), 10.0)), max(right, layer["x"][-1])
    for m, c in curves.items():
        x = [p[axis] for p in c]
        y = [min(p[2], 1e3) for p in c]
        layers.append({"kind": "line", "x": x, "y": y, "class": m, "label": RACERS[m]})
        if len(c) == 1:
            layers.append({"kind": "points", "x": x, "y": y, "class": m})
        top, right = max(top, min(max(y), 10.0)), max(right, x[-1])
    after = "own procedure" if measure == "own" else "one shared step"
    return {"title": f"MSE after {after}, by {xlabel.split(' ')[0]}", "xlim": [0, right], "ylim": [0, top * 1.05],
            "xlabel": xlabel, "ylabel": "median MSE", "layers": layers}


# ------------------------------------------------------------------------------------- fitting the raced models
FIT_XS = (-4.1, -2.2, -0.4, 1.3, 3.6)
FIT_TASK = (3.0, 1.0)


@figure("race-fit", title="Fitting your points with every raced model", controls=[
    Slider("amplitude", "Amplitude A", 0.1, 5.0, step=0.1, default=FIT_TASK[0]),
    Slider("phase", "Phase ψ", 0.0, float(np.pi), step=0.01, default=FIT_TASK[1]),
    Select("adapt", "Adaptation", options={"shared": "shared SGD steps", "own": "each method's own"},
           default="shared"),
    Slider("steps", "Shared SGD steps", 1, 10, step=1, default=1),
    Slider("alpha", "Shared inner rate α", 0.001, 0.1, step=0.001, default=0.01),
    Button("dice", "Roll 5 random points"),
    Button("clear", "Clear points"),
    Points("points", "Support points", panel=0, max_points=20, bounds=((-5.0, 5.0), (-6.0, 6.0)),
           default=tuple((x, float(sine.curve(x, *FIT_TASK))) for x in FIT_XS)),
])
def race_fit_figure(state, action=None):
    amplitude, phase = float(state["amplitude"]), float(state["phase"])
    dice = counter(state.get("_dice", 0))
    xs = [p[0] for p in state["points"]]
    if action == "dice":
        dice += 1
        xs = np.random.default_rng(dice).uniform(*sine.X_RANGE, len(FIT_XS)).tolist()
    elif action == "clear":
        xs = []
    ys = sine.curve(np.asarray(xs, dtype=float), amplitude, phase)
    raced = trained.get("sine-race")   # published by the race, which runs in a training worker (figures.publish)
    messages = []
    if raced is None:
        messages.append("No race has run yet: these are the five models at their common random initialisation, "
                        "where an SGD step easily overshoots. Start the race above, then come back.")
        thetas, iteration = initial_thetas(0), 0
    else:
        thetas, iteration = np.array([raced["thetas"][m] for m in RACERS], dtype=float), int(raced["iteration"])
    flat = zero_mse(amplitude, phase)
    if not xs:
        messages.append("No support points: click the plot (or focus it and press Enter) to place some, or roll "
                        "the dice. The curves show the models before adaptation.")
        phis, verdict = thetas, ["ok"] * len(RACERS)
    else:
        phis, support_before, support_after = _adapt(state, thetas, xs, ys)
        verdict = verdicts(true_mse(phis, amplitude, phase)[0], support_before, support_after, flat)
    mse, pred = true_mse(phis, amplitude, phase)
    x = X_DENSE[:, 0]
    layers = [{"kind": "line", "x": x, "y": sine.curve(x, amplitude, phase), "class": "true", "label": "true sine"}]
    readouts = []
    for i, (m, name) in enumerate(RACERS.items()):
        ok = verdict[i] != "diverged"
        if ok:
            layers.append({"kind": "line", "x": x, "y": np.round(pred[i], 4), "class": m, "label": name})
        readouts.append({"label": f"{name}: MSE", "value": float(mse[i]) if ok else None, "format": ".3f"})
    readouts.append({"label": "flat line y = 0: MSE", "value": flat, "format": ".3f"})
    for word, advice in (("diverged", "the support loss rose or overflowed: lower α or the number of steps"),
                         ("worse than 0", "further from the sine than the flat line y = 0")):
        names = [name for v, name in zip(verdict, RACERS.values()) if v == word]
        if names:
            messages.append(f"{', '.join(names)}: {advice}.")
    points = [[float(a), float(b)] for a, b in zip(xs, ys)]
    how = ("each method's own inner procedure" if state["adapt"] == "own"
           else f"{int(state['steps'])} SGD step(s) at α = {float(state['alpha']):g}")
    return {
        "panels": [{"title": f"y = {amplitude:.1f}·sin(x − {phase:.2f})", "xlim": [-5, 5], "ylim": [-6, 6],
                    "xlabel": "x", "ylabel": "y", "layers": layers}],
        "legend": [{"class": "true", "label": "true sine"}, {"class": "support", "label": "your points"}] +
                  [{"class": m, "label": name} for m, name in RACERS.items()],
        "readouts": readouts,
        "message": " ".join(messages) or None,
        "description": (f"The task is y = {amplitude:.1f}·sin(x − {phase:.2f}) with {len(points)} support points; "
                        f"after {iteration} race updates, each model adapted by {how} has MSE against "
                        f"the true sine: " + ", ".join(
                            f"{name} {mse[i]:.3f}" if verdict[i] != "diverged" else f"{name} diverged"
                            for i, name in enumerate(RACERS.values())) + "."),
        "state": {"points": points, "_dice": dice},
    }


@lru_cache(maxsize=2)
def initial_thetas(seed):
    """θ of every racer before any update: the common random initialisation of this seed, (racers, P)."""
    return np.stack([MetaTrainer(m, MLP_MODEL, race_config(m), seed=seed).theta for m in RACERS])


def _adapt(state, thetas, xs, ys):
    """(φ of every model, support loss before and after): shared SGD steps, or each method's own inner procedure."""
    if state["adapt"] == "shared":
        return fine_tune(thetas, xs, ys, float(state["alpha"]), int(state["steps"]))
    x = np.asarray(xs, dtype=float).reshape(1, -1, 1)
    y = np.asarray(ys, dtype=float).reshape(1, -1, 1)
    phis = []
    for theta, m in zip(thetas, RACERS):
        c = race_config(m).for_method(m)
        with np.errstate(over="ignore", invalid="ignore"):
            phis.append(adapt(MLP_MODEL, theta[None], x, y, c)[0])     # the method's own inner procedure
    phis = np.stack(phis)
    with np.errstate(over="ignore", invalid="ignore"):
        before, after = (MLP_MODEL.loss(p, np.broadcast_to(x, (len(p),) + x.shape[1:]),
                                        np.broadcast_to(y, (len(p),) + y.shape[1:])) for p in (thetas, phis))
    finite = (lambda v: np.where(np.isfinite(v), v, np.inf))
    return phis, finite(before), finite(after)
