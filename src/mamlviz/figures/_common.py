"""Helpers shared by the figure modules of several parts: seeded counters, log-scale heat maps over the unit square,
the unit-square panel, θ's trail from the state. Not a figure module (the leading underscore keeps `load_all` off it).
"""

from __future__ import annotations

import math

import numpy as np

MAX_TRAIL = 200


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


# iMAML on the sine MLP, for the figures that compare methods (Part 4's cost figure; Part 8 may share it).
# λ and the CG steps are the trainer's defaults (TrainConfig.reg, .cg_steps). Plain gradient descent on the
# proximal problem L^tr(φ) + (λ/2)‖φ − θ‖² is stable only while α(λ + largest eigenvalue of ∇²L^tr) < 2; at
# initialisation that eigenvalue reaches about 4,000 on some tasks (Lanczos, `mamlviz.lanczos`), so
# α = 0.0003 keeps α(λ + 4,000) ≈ 1.5.
IMAML_SINE_SETTINGS = {"inner_lr": 0.0003, "reg": 1000.0, "cg_steps": 5}
