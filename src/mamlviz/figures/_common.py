"""Helpers shared by the figure modules of several parts: seeded counters, log-scale heat maps over the unit square,
the unit-square panel, θ's trail from the state. Not a figure module (the leading underscore keeps `load_all` off it).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from mamlviz import meta, sine, toy
from mamlviz.nn import MLP

MAX_TRAIL = 200
# Coarse answers (figures declared with refine=True) use every other point of the 51-point grids, so that they agree
# with the full answer wherever the two grids meet.
COARSE_GRID = 26


RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded_runs.json"


@lru_cache(maxsize=1)
def _recorded_runs():
    try:
        return json.loads(RECORDED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def recorded_run(figure_id):
    """A training figure's run with its default settings, recorded natively by bench/recorded_runs.py (several seeds:
    median and range of its held-out curve per model), or None if not recorded."""
    return _recorded_runs().get(figure_id)


def recorded_layers(figure_id, names, cap=1e3, gap=0.45):
    """Grey layers of the recorded run for the panel of held-out MSE against meta-updates: per model its median over
    the seeds (labelled at its end, the labels at least `gap` apart in y) and, dotted, the lowest and highest seed's
    curve. The reader's run draws over it."""
    run = recorded_run(figure_id)
    curves = run["curves"] if run else {}
    return grey_curves({m: c["updates"] for m, c in curves.items()}, curves, names, cap, gap)


def grey_curves(xs, spreads, names, cap=1e3, gap=0.45):
    """Per model: its recorded median over xs[model] in grey, labelled at its end (labels at least `gap` apart in y),
    and dotted its low and high ({median, low, high}: bench/recorded_runs.py)."""
    layers, ends = [], []
    for model, c in spreads.items():
        x, y = xs[model], [min(v, cap) for v in c["median"]]
        layers += [{"kind": "line", "x": x, "y": [min(v, cap) for v in c[key]], "class": "recorded range"}
                   for key in ("low", "high")]
        layers.append({"kind": "line", "x": x, "y": y, "class": "recorded", "label": f"{names[model]}, recorded"})
        ends.append([x[-1], y[-1], f"{names[model]} (recorded)"])
    ends.sort(key=lambda e: e[1])
    for below, above in zip(ends, ends[1:]):   # labels of curves that end close together, spread upwards
        above[1] = max(above[1], below[1] + gap)
    return layers + [{"kind": "label", "at": [x, y], "text": text, "class": "recorded", "anchor": "end"}
                     for x, y, text in ends]


RECORDED_LEGEND = {"class": "recorded", "label": "recorded run (median of seeds; dotted: range)"}
RECORDED_TIMING_LEGEND = {"class": "recorded", "label": "recorded natively on this project's machine (median of "
                                                        "repeated measurements; dotted: range)"}


def recorded_note(figure_id):
    """What the grey curves are, and where and when they were measured (the figure's message and legend say it).
    A timing (recorded "draws" times, not seeded) also says the load it was measured under."""
    run = recorded_run(figure_id)
    if not run:
        return None
    m = run["measured"]
    if "draws" in run:
        return (f"In grey: this measurement with the default settings, recorded {m['where']} on {m['date']} "
                f"({m['command']}; 1-minute load average {m['load_average'][0]:g}): the median of {run['draws']} "
                "measurements, dotted the fastest and slowest. Your browser's times are not expected to match: "
                "NumPy in a browser (Pyodide) runs this code several times slower.")
    return (f"In grey: this run with the default settings, recorded {m['where']} on {m['date']} "
            f"({m['command']}): the median of {len(run['seeds'])} seeds, dotted the best and worst seed.")


def memo(store, key, compute, only_cached=False, limit=32):
    """store[key], computed by compute() when missing (the newest `limit` entries kept). only_cached: None when
    missing (a coarse answer leaves out what it would have to compute)."""
    if key not in store:
        if only_cached:
            return None
        store[key] = compute()
        if len(store) > limit:
            del store[next(iter(store))]
    return store[key]


def counter(value):
    """A figure-owned counter from the state (`_seed`, `_dice`): a non-negative int; anything else counts as 0.

    Keys starting with "_" pass the registry's validation as they are, so garbage must not reach the RNG here.
    """
    try:
        return max(int(value), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def log10(z):
    """log₁₀ of a loss, floored at 10⁻⁶ and rounded to 3 decimals (what the eye can tell; keeps scenes small)."""
    return np.round(np.log10(np.maximum(z, 1e-6)), 3)


def log_heatmap(z, css=None, heatmap=True, n_levels=8):
    """Heat map and contour layers of log₁₀ of a loss over the unit square (losses span orders of magnitude)."""
    lz = log10(z)
    finite = lz[np.isfinite(lz)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    contour = {"kind": "contour", "z": lz, "extent": [0, 1, 0, 1], "levels": np.linspace(lo, hi, n_levels + 2)[1:-1]}
    if css:
        contour["class"] = css
    if not heatmap:
        return [contour]
    return [{"kind": "heatmap", "z": lz, "extent": [0, 1, 0, 1], "zmin": lo, "zmax": hi, "cmap": "viridis"}, contour]


def argmin(z):
    i, j = np.unravel_index(np.nanargmin(z), z.shape)
    g = np.linspace(0.0, 1.0, z.shape[0])
    return float(g[j]), float(g[i]), float(z[i, j])


def unit_panel(title, layers):
    return {"title": title, "xlim": [0, 1], "ylim": [0, 1], "aspect": "equal", "xlabel": "a", "ylabel": "b",
            "layers": layers}


def trail_points(value):
    """θ's walk from the state: the [a, b] pairs of finite numbers in `value` (anything else is dropped)."""
    if not isinstance(value, list):
        return []
    ok = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
    return [[float(a), float(b)] for a, b in (p for p in value if isinstance(p, list) and len(p) == 2)
            if ok(a) and ok(b)][-MAX_TRAIL:]


# ---- formatting (Parts 4 and 5)
def fmt_vector(v, digits=4):
    return "(" + ", ".join(f"{x:.{digits}f}" for x in v).replace("-", "−") + ")"


def fmt_matrix(m, digits=4):
    return "[" + "; ".join(" ".join(f"{x:.{digits}f}" for x in row) for row in m).replace("-", "−") + "]"


def angle_degrees(u, v):
    """The angle between two plane vectors in degrees (atan2 of cross and dot: exact 0 for parallel vectors), or
    None when either vanishes."""
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if not (np.linalg.norm(u) > 0 and np.linalg.norm(v) > 0):
        return None
    return float(np.degrees(np.arctan2(abs(u[0] * v[1] - u[1] * v[0]), u @ v)))


# ---- the softplus toy (Parts 3 and 6)
SOFTPLUS = toy.SoftplusLine()


def accumulated_loss(tasks, m, alpha, n=51):
    """J_m(θ) = Σ_i L_i(U_i^(m)(θ); D^te_i) on an n×n grid of θ = (a, b) over the unit square.

    Returns (J, per-task query losses at θ), each (n, n) / (n, n, T): one vectorised call, every grid point and
    task adapted at once by the same inner-SGD routine that MAML uses.
    """
    theta = np.broadcast_to(toy.grid(n)[:, :, None, :], (n, n, tasks.n_tasks, 2))
    # the steps made so far are remembered per (support data, α, grid): one more step for m + 1, none for m − 1
    key = (tasks.xs.tobytes(), tasks.ys.tobytes(), float(alpha), n)
    path = memo(_GRID_PATHS, key, lambda: [theta], limit=4)
    with np.errstate(over="ignore", invalid="ignore"):
        while len(path) <= m:   # U^(j+1)(θ) = one step from U^(j)(θ): the same numbers as m steps in one call
            path.append(meta.inner_sgd(SOFTPLUS, path[-1], tasks.xs, tasks.ys, lr=alpha, steps=1).phi)
        before = memo(_GRID_QUERY, (tasks.xq.tobytes(), tasks.yq.tobytes(), n),
                      lambda: SOFTPLUS.loss(theta, tasks.xq, tasks.yq), limit=4)
        return SOFTPLUS.loss(path[m], tasks.xq, tasks.yq).sum(axis=-1), before


_GRID_PATHS = {}   # (support data, α, n) → [U^(0)(θ), U^(1)(θ), …] over the grid
_GRID_QUERY = {}   # (query data, n) → the query losses at θ over the grid


# ---- the sine MLP: fine-tuning and its measures (Parts 3 and 8), the methods' names (Parts 8 and 9)
MLP_MODEL = MLP()
X_DENSE = np.linspace(*sine.X_RANGE, 201)[:, None]   # where curves are drawn and the true-sine MSE is measured
METHOD_NAMES = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "imaml": "iMAML"}
RACERS = {"pretrained": "pretrained", **METHOD_NAMES}   # the race's models (Part 8) and their times (Part 9)


def fine_tune(thetas, xs, ys, alpha, steps):
    """Adapt each model in `thetas` (M, P) on the same K points with `steps` SGD steps at α: U^(steps)(θ).

    Returns (φ (M, P), support loss of each model before and after the steps, (M,) each; inf where not finite).
    """
    m = thetas.shape[0]
    x = np.broadcast_to(np.asarray(xs, float).reshape(1, -1, 1), (m, len(xs), 1))
    y = np.broadcast_to(np.asarray(ys, float).reshape(1, -1, 1), (m, len(ys), 1))
    with np.errstate(over="ignore", invalid="ignore"):
        inner = meta.inner_sgd(MLP_MODEL, thetas, x, y, lr=alpha, steps=steps)
        after = MLP_MODEL.loss(inner.phi, x, y)
    finite = (lambda v: np.where(np.isfinite(v), v, np.inf))
    return inner.phi, finite(inner.losses[0]), finite(after)


def zero_mse(amplitude, phase):
    """MSE of the flat line y = 0 against the true sine on the same grid: the mean of A²·sin²(x − ψ).

    Over [−5, 5] it is A²(½ − sin 10·cos 2ψ / 20), at most about 13.2 for A = 5: a fine-tuned model above it does
    worse than predicting nothing at all.
    """
    return float((sine.curve(X_DENSE[:, 0], amplitude, phase) ** 2).mean())


def verdicts(mse_after, support_before, support_after, flat):
    """What became of each model's fine-tuning: "diverged", "worse than 0" or "ok" (one word per model).

    Diverged: the MSE is not finite, or the steps made the support loss (the very thing they minimise) larger
    instead of smaller, which is what gradient descent does when α overshoots and what, continued, explodes.
    Worse than 0: the steps did lower the support loss, but the curve is further from the sine than y = 0 is.
    """
    return ["diverged" if not (np.isfinite(m) and after <= before) else "worse than 0" if m > flat else "ok"
            for m, before, after in zip(mse_after, support_before, support_after)]


def true_mse(thetas, amplitude, phase):
    """MSE of each model against the true sine over x ∈ [−5, 5] (dense grid), and the predictions there."""
    with np.errstate(over="ignore", invalid="ignore"):
        pred = MLP_MODEL.predict(thetas, np.broadcast_to(X_DENSE, (len(thetas),) + X_DENSE.shape))[..., 0]
        mse = ((pred - sine.curve(X_DENSE[:, 0], amplitude, phase)) ** 2).mean(axis=-1)
    return np.where(np.isfinite(mse), mse, np.inf), pred


# ------------------------------------------------------------------------------------------- measured numbers
MEASURED = Path(__file__).resolve().parents[1] / "data" / "measured.json"


@lru_cache(maxsize=1)
def measured():
    """The numbers bench/measured.py wrote (the machine, the browser, times, the race), or {} if there are none."""
    try:
        return json.loads(MEASURED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
