"""The demonstration figure (gradient descent on the curvature quadratic) against known answers written out here:
f and ∇f as scalar formulas, descent as a plain loop, the minimiser in closed form x* = ½ − C⁻¹g."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mamlviz import figures

figures.load_all()
G1, G2 = 0.1, -0.1


def f(x, y, a, b, c):
    """½ (d₁, d₂) C (d₁, d₂)ᵀ + g·(x, y), d = (x − ½, y − ½), C = [[a, b], [b, c]]."""
    d1, d2 = x - 0.5, y - 0.5
    return 0.5 * (a * d1 * d1 + 2 * b * d1 * d2 + c * d2 * d2) + G1 * x + G2 * y


def grad(x, y, a, b, c):
    d1, d2 = x - 0.5, y - 0.5
    return a * d1 + b * d2 + G1, b * d1 + c * d2 + G2


def descent(x, y, a, b, c, lr, steps):
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = grad(x, y, a, b, c)
        x, y = x - lr * gx, y - lr * gy
        path.append((x, y))
    return path


def readouts(scene):
    return {r["label"]: r["value"] for r in scene["readouts"]}


def layers(scene, panel, kind, cls=None):
    return [ly for ly in scene["panels"][panel]["layers"] if ly["kind"] == kind
            and (cls is None or ly.get("class") == cls)]


STATES = [
    {},
    {"a": 0.3, "b": -0.2, "c": 0.45, "lr": 0.8, "steps": 17, "x0": [0.9, 0.1]},
    {"a": 0.05, "b": 0.0, "c": 0.5, "lr": 2.0, "steps": 3, "x0": [0.0, 1.0]},
]


@pytest.mark.parametrize("state", STATES)
def test_readouts_path_and_arrow_are_the_loop(state):
    full = figures.FIGURES["demo-descent"].validate(state)
    a, b, c, lr, steps = full["a"], full["b"], full["c"], full["lr"], full["steps"]
    x0, y0 = full["x0"]
    scene = figures.run("demo-descent", state)
    path = descent(x0, y0, a, b, c, lr, steps)
    r = readouts(scene)
    assert r["f(x₀)"] == pytest.approx(f(x0, y0, a, b, c), rel=1e-12, abs=1e-15)
    assert r[f"f(x_{steps})"] == pytest.approx(f(*path[-1], a, b, c), rel=1e-10, abs=1e-14)
    gx, gy = grad(x0, y0, a, b, c)
    assert r["‖∇f(x₀)‖"] == pytest.approx(math.hypot(gx, gy), rel=1e-12)
    assert r["steps shown"] == steps
    (trail,) = layers(scene, 0, "line", "trail")
    assert list(zip(trail["x"], trail["y"])) == [pytest.approx(p) for p in path]
    (iterates,) = layers(scene, 0, "points", "phi")
    assert list(zip(iterates["x"], iterates["y"])) == [pytest.approx(p) for p in path[1:]]
    # the arrow leaves x₀ downhill: along −∇f, 0.1 long
    (arrow,) = layers(scene, 0, "arrow", "gradient")
    assert arrow["from"] == pytest.approx([x0, y0])
    dx, dy = arrow["to"][0] - x0, arrow["to"][1] - y0
    assert math.hypot(dx, dy) == pytest.approx(0.1)
    assert (dx, dy) == pytest.approx((-0.1 * gx / math.hypot(gx, gy), -0.1 * gy / math.hypot(gx, gy)))
    # f along the path, step by step
    (curve,) = layers(scene, 1, "line", "theta")
    assert curve["x"] == list(range(steps + 1))
    assert curve["y"] == pytest.approx([f(*p, a, b, c) for p in path], rel=1e-10, abs=1e-14)


def test_heat_map_rows_are_y_and_contours_span_the_range():
    a, b, c = 0.3, -0.2, 0.45
    scene = figures.run("demo-descent", {"a": a, "b": b, "c": c})
    (heat,) = layers(scene, 0, "heatmap")
    z = np.array(heat["z"])
    assert z.shape == (41, 41) and heat["extent"] == [0, 1, 0, 1]
    for i, j in [(0, 0), (0, 40), (40, 0), (7, 31), (20, 20)]:     # row i at y = i/40, column j at x = j/40
        assert z[i, j] == pytest.approx(f(j / 40, i / 40, a, b, c), abs=1e-12)
    assert heat["zmin"] == pytest.approx(z.min()) and heat["zmax"] == pytest.approx(z.max())
    (contour,) = layers(scene, 0, "contour")
    assert contour["levels"] == pytest.approx(list(np.linspace(z.min(), z.max(), 9)[1:-1]))
    assert layers(figures.run("demo-descent", {"contours": False}), 0, "contour") == []


def test_descent_reaches_the_closed_form_minimiser():
    """x* = ½ − C⁻¹g for positive-definite C: thirty steps of the default settings end there."""
    a, b, c = 0.4, 0.1, 0.2
    det = a * c - b * b
    xs = 0.5 - (c * G1 - b * G2) / det
    ys = 0.5 - (-b * G1 + a * G2) / det
    scene = figures.run("demo-descent", {"steps": 30})
    (trail,) = layers(scene, 0, "line", "trail")
    assert (trail["x"][-1], trail["y"][-1]) == pytest.approx((xs, ys), abs=0.01)
    assert readouts(scene)["f(x_30)"] == pytest.approx(f(xs, ys, a, b, c), abs=2e-5)
    assert grad(xs, ys, a, b, c) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert scene["message"] is None


def test_extra_start_points_get_their_own_paths():
    starts = [[0.9, 0.9], [0.1, 0.2]]
    scene = figures.run("demo-descent", {"starts": starts, "steps": 5})
    others = layers(scene, 0, "line", "trail secondary")
    assert len(others) == 2
    for start, line in zip(starts, others):
        want = descent(*start, 0.4, 0.1, 0.2, 1.5, 5)
        assert list(zip(line["x"], line["y"])) == [pytest.approx(p) for p in want]


def test_negative_curvature_and_divergence_are_said():
    saddle = figures.run("demo-descent", {"a": -0.5})
    assert "negative eigenvalue" in saddle["message"]
    blow = figures.run("demo-descent", {"a": 0.5, "c": 0.5, "b": 0.0, "lr": 5.0, "steps": 30})
    assert "diverge" in blow["message"]
    # |1 − 5·0.5| = 1.5 per step: after 30 steps the distance to x* has grown 1.5³⁰ times
    (trail,) = layers(blow, 0, "line", "trail")
    assert math.isfinite(trail["x"][-1]) and abs(trail["x"][-1]) > 1e3


def test_animate_streams_one_scene_per_step():
    scenes = list(figures.run("demo-descent", {"steps": 4}, "animate"))
    assert [readouts(s)["steps shown"] for s in scenes] == [0, 1, 2, 3, 4]
    path = descent(0.15, 0.8, 0.4, 0.1, 0.2, 1.5, 4)
    for k, s in enumerate(scenes):
        (trail,) = layers(s, 0, "line", "trail")
        assert len(trail["x"]) == k + 1 and (trail["x"][-1], trail["y"][-1]) == pytest.approx(path[k])


def test_panels_frame_the_square_and_the_loss_curve():
    """The map's panel, its heat map and contours cover the unit square; the label sits at (½, ½); the curve's
    panel spans steps 0..k and the loop's f values with a tenth of their range as margin; the description gives
    x₀ and the loop's end point."""
    state = {"a": 0.3, "b": -0.2, "c": 0.45, "lr": 0.8, "steps": 7, "x0": [0.9, 0.1]}
    scene = figures.run("demo-descent", state)
    square, curve = scene["panels"]
    assert (square["xlim"], square["ylim"], square["aspect"]) == ([0, 1], [0, 1], "equal")
    for kind in ("heatmap", "contour"):
        (layer,) = layers(scene, 0, kind)
        assert layer["extent"] == [0, 1, 0, 1]
    (label,) = layers(scene, 0, "label")
    assert label["at"] == [0.5, 0.5]
    fs = [f(*p, 0.3, -0.2, 0.45) for p in descent(0.9, 0.1, 0.3, -0.2, 0.45, 0.8, 7)]
    lo, hi = min(fs), max(fs)
    assert curve["xlim"] == [0, 7]
    assert curve["ylim"] == pytest.approx([lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)])
    end = descent(0.9, 0.1, 0.3, -0.2, 0.45, 0.8, 7)[-1]
    assert "Descent from (0.90, 0.10)" in scene["description"]
    assert f"ends at ({end[0]:.2f}, {end[1]:.2f})" in scene["description"] and f"{end[0]:.2f}" != f"{end[1]:.2f}"
    # no steps: the curve's panel still spans one step, and a flat range gets a margin of 10⁻⁴
    flat = figures.run("demo-descent", {"steps": 0})["panels"][1]
    f0 = f(0.15, 0.8, 0.4, 0.1, 0.2)
    assert flat["xlim"] == [0, 1] and flat["ylim"] == pytest.approx([f0 - 1e-4, f0 + 1e-4])


def test_a_zero_eigenvalue_is_not_a_negative_one():
    assert figures.run("demo-descent", {"a": 0.0, "b": 0.0, "c": 0.5})["message"] is None   # eigenvalues 0, ½
