"""A demonstration figure for the site machinery: gradient descent on the curvature quadratic.

f(x) = ½ (x − ½)ᵀ C (x − ½) + gᵀx,  C = [[a, b], [b, c]],  g = (0.1, −0.1),  so ∇f(x) = C (x − ½) + g.
The maths is inline on purpose: this figure exercises the site (handles, points, sliders, heat map, contours,
arrows, readouts, streaming) and must not depend on the core library.
"""

from __future__ import annotations

import numpy as np

from . import Button, Handle, Points, Slider, Toggle, figure

G = np.array([0.1, -0.1])
N_GRID = 41


def quadratic(C, x):
    """f(x) = ½ (x − ½)ᵀ C (x − ½) + gᵀx for x of shape (..., 2)."""
    d = x - 0.5
    return 0.5 * np.einsum("...i,ij,...j->...", d, C, d) + x @ G


def gradient(C, x):
    """∇f(x) = C (x − ½) + g."""
    return (x - 0.5) @ C.T + G


def descend(C, x0, lr, steps):
    """Plain gradient descent x ← x − lr ∇f(x); returns the path, shape (steps + 1, 2)."""
    path = [np.asarray(x0, float)]
    for _ in range(steps):
        path.append(path[-1] - lr * gradient(C, path[-1]))
    return np.array(path)


@figure(
    "demo-descent",
    title="Gradient descent on a quadratic",
    controls=[
        Slider("a", "Curvature a", -0.5, 0.5, step=0.05, default=0.4),
        Slider("b", "Coupling b", -0.5, 0.5, step=0.05, default=0.1),
        Slider("c", "Curvature c", -0.5, 0.5, step=0.05, default=0.2),
        Slider("lr", "Step size", 0.0, 5.0, step=0.1, default=1.5),
        Slider("steps", "Steps", 0, 30, step=1, default=10),
        Toggle("contours", "Contour lines", default=True),
        Button("animate", "Animate"),
        Handle("x0", "Start point", panel=0, default=(0.15, 0.8), bounds=((0, 1), (0, 1)), step=0.01),
        Points("starts", "Extra start points", panel=0, max_points=5, default=(), bounds=((0, 1), (0, 1))),
    ],
)
def demo_descent(state, action=None):
    C = np.array([[state["a"], state["b"]], [state["b"], state["c"]]])
    if action == "animate":
        return (_scene(state, C, k) for k in range(state["steps"] + 1))
    return _scene(state, C, state["steps"])


def _scene(state, C, steps):
    grid = np.linspace(0.0, 1.0, N_GRID)
    X, Y = np.meshgrid(grid, grid)  # row i is y = grid[i]: the contract's orientation
    Z = quadratic(C, np.stack([X, Y], axis=-1))
    x0 = np.array(state["x0"])
    path = descend(C, x0, state["lr"], steps)
    grad = gradient(C, x0)
    f_path = quadratic(C, path)
    diverged = not np.all(np.isfinite(path)) or np.abs(path).max() > 1e3

    layers = [{"kind": "heatmap", "z": Z, "extent": [0, 1, 0, 1], "zmin": float(Z.min()), "zmax": float(Z.max()),
               "cmap": "viridis"}]
    if state["contours"]:
        layers.append({"kind": "contour", "z": Z, "extent": [0, 1, 0, 1],
                       "levels": np.linspace(Z.min(), Z.max(), 9)[1:-1]})
    for p in state["starts"]:
        other = descend(C, p, state["lr"], steps)
        layers.append({"kind": "line", "x": other[:, 0], "y": other[:, 1], "class": "trail secondary"})
    layers += [
        {"kind": "line", "x": path[:, 0], "y": path[:, 1], "class": "trail", "label": "descent path"},
        {"kind": "points", "x": path[1:, 0], "y": path[1:, 1], "class": "phi", "label": "iterates"},
        {"kind": "arrow", "from": x0, "to": x0 - 0.5 * grad / max(np.linalg.norm(grad), 1e-9) * 0.2,
         "class": "gradient", "label": "−∇f"},
        {"kind": "label", "at": [0.5, 0.5], "text": "½", "class": "muted"},
    ]
    iters = np.arange(len(f_path))
    f_finite = np.where(np.isfinite(f_path), f_path, np.nan)
    lo, hi = float(np.nanmin(f_finite)), float(np.nanmax(f_finite))
    pad = max(hi - lo, 1e-3) * 0.1
    panels = [
        {"title": "f over the unit square", "xlim": [0, 1], "ylim": [0, 1], "aspect": "equal",
         "xlabel": "x₁", "ylabel": "x₂", "layers": layers},
        {"title": "f along the path", "xlim": [0, max(state["steps"], 1)], "ylim": [lo - pad, hi + pad],
         "xlabel": "step j", "ylabel": "f(xⱼ)",
         "layers": [{"kind": "line", "x": iters, "y": f_finite, "class": "theta", "label": "f(xⱼ)"},
                    {"kind": "points", "x": iters, "y": f_finite, "class": "theta"}]},
    ]
    eig = np.linalg.eigvalsh(C)
    message = None
    if diverged:
        message = "The steps diverge: the step size is too large for this curvature."
    elif eig.min() < 0:
        message = "C has a negative eigenvalue: f has no minimum, descent runs off along that direction."
    return {
        "panels": panels,
        "legend": [{"class": "trail", "label": "descent path"}, {"class": "gradient", "label": "−∇f at the start"},
                   {"class": "theta", "label": "f(xⱼ)"}],
        "readouts": [
            {"label": "f(x₀)", "value": float(f_path[0]), "format": ".4f"},
            {"label": f"f(x_{steps})", "value": float(f_path[-1]) if np.isfinite(f_path[-1]) else None,
             "format": ".4f"},
            {"label": "‖∇f(x₀)‖", "value": float(np.linalg.norm(grad)), "format": ".4f"},
            {"label": "steps shown", "value": steps, "format": "d"},
        ],
        "message": message,
        "description": (f"Heat map of f with C = [[{state['a']:.2f}, {state['b']:.2f}], [{state['b']:.2f}, "
                        f"{state['c']:.2f}]]. Descent from ({x0[0]:.2f}, {x0[1]:.2f}) with step size "
                        f"{state['lr']:.2f} for {steps} steps ends at ({path[-1, 0]:.2f}, {path[-1, 1]:.2f}), "
                        f"where f = {f_path[-1]:.4f}."),
    }
