"""Part 4: the Jacobian figure's three routes against each other and against an independent implementation; the
inner loop keeps per-step state only for MAML, and the memory counts equal what tracemalloc sees; the cost figure's
stream; the text's numbers equal the code's."""

from __future__ import annotations

import gc
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures, meta, sine
from mamlviz.figures import part4
from mamlviz.nn import MLP
from mamlviz.site.measured import fill

figures.load_all()
# the text as the build prints it: numbers computed from the code or measured (site.measured)
TEXT = fill((Path(__file__).resolve().parents[1] / "content" / "04-meta-gradient-cost.md").read_text())


# ------------------------------------------------------------------------------ an independent softplus model
def softplus_grad_hess(theta, x, y):
    """Gradient and Hessian of ½Σ(softplus(a·x + b) − y)², written point by point (not vectorised, no library)."""
    a, b = theta
    g, h = np.zeros(2), np.zeros((2, 2))
    for xn, yn in zip(x.ravel(), y.ravel()):
        z = a * xn + b
        s = 1.0 / (1.0 + np.exp(-z))
        r = np.log1p(np.exp(z)) - yn
        u = np.array([xn, 1.0])
        g += r * s * u
        h += (s * s + r * s * (1.0 - s)) * np.outer(u, u)
    return g, h


def independent_meta_gradient(tasks, theta, alpha, k):
    """Reference: forward accumulation of dφ/dθ (no explicit factor list) with the point-by-point model."""
    x, y, xq, yq = tasks.xs[0], tasks.ys[0], tasks.xq[0], tasks.yq[0]
    phi, jac = np.array(theta, dtype=float), np.eye(2)
    for _ in range(k):
        g, h = softplus_grad_hess(phi, x, y)
        jac = jac - alpha * h @ jac              # d/dθ of φ − α∇L(φ): (I − αH(φ)) dφ/dθ
        phi = phi - alpha * g
    gq, _ = softplus_grad_hess(phi, xq, yq)
    return jac, jac.T @ gq


@pytest.mark.parametrize("k", range(1, 11))
@pytest.mark.parametrize("theta,alpha", [((0.15, 0.8), 0.05), ((0.9, 0.3), 0.1), ((0.4, 0.5), 0.01)])
def test_three_routes_agree_for_every_k(k, theta, alpha):
    tasks = part4.one_task(0)
    r = part4.three_routes(tasks, np.array(theta), alpha, k)
    assert part4.relative_difference(r["by_hvp"], r["by_jacobian"]) < 1e-10
    assert part4.relative_difference(r["by_fd"], r["by_jacobian"]) < 1e-6
    jac, grad = independent_meta_gradient(tasks, theta, alpha, k)
    np.testing.assert_allclose(r["jacobian"], jac, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(r["by_jacobian"], grad, rtol=1e-10, atol=1e-13)
    assert len(r["factors"]) == k and len(r["path"]) == k + 1


def test_product_order_matters_and_is_the_right_one():
    """A_{k−1}⋯A_0 (the figure's) differs from A_0⋯A_{k−1}, and only the former is ∂φ^(k)/∂θ (finite differences)."""
    tasks, theta, alpha, k = part4.one_task(0), np.array([0.15, 0.8]), 0.1, 3
    r = part4.three_routes(tasks, theta, alpha, k)
    wrong = np.linalg.multi_dot(r["factors"])                 # A_0 A_1 A_2
    assert not np.allclose(wrong, r["jacobian"], atol=1e-4)
    eps = 1e-6
    path = lambda t: meta.inner_sgd(part4.SOFTPLUS, t, tasks.xs, tasks.ys, lr=alpha, steps=k).phi[0]
    fd = np.stack([(path(theta + eps * e) - path(theta - eps * e)) / (2 * eps) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(r["jacobian"], fd, rtol=1e-6, atol=1e-9)


def test_jacobian_figure_shows_what_it_computed():
    state = {"theta": [0.3, 0.6], "alpha": 0.08, "k": 4, "first_order": True}
    scene = figures.run("jacobians", state)
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    r = part4.three_routes(part4.one_task(0), np.array([0.3, 0.6]), 0.08, 4)
    assert values["A₃"] == part4.fmt_matrix(r["factors"][3])
    assert values["∂φ⁽ᵏ⁾/∂θ = A₃⋯A₀"] == part4.fmt_matrix(r["jacobian"])
    assert values["meta-gradient: finite differences"] == part4.fmt_vector(r["by_fd"], 8)
    assert float(values["largest relative difference"]) < 1e-6
    arrows = [layer for layer in scene["panels"][1]["layers"] if layer["kind"] == "arrow"]
    assert [a["class"] for a in arrows] == ["maml", "fomaml secondary"]
    directions = [np.subtract(a["to"], a["from"]) for a in arrows]
    # the arrows point along −meta-gradient and −∇L^te(φ^(k)) (one common positive scale)
    assert part4.angle_degrees(directions[0], -r["by_hvp"]) < 1e-6
    assert part4.angle_degrees(directions[1], -r["grad_query"]) < 1e-6
    assert values["angle to first-order direction"] == pytest.approx(part4.angle_degrees(r["by_hvp"], r["grad_query"]))
    line = next(layer for layer in scene["panels"][0]["layers"] if layer["kind"] == "line")
    np.testing.assert_allclose(np.c_[line["x"], line["y"]], r["path"])
    assert "4 inner step(s)" in scene["description"]


def test_jacobian_figure_says_the_numbers_of_the_independent_loop():
    """The description's θ, φ⁽ᵏ⁾, factor range, Jacobian, meta-gradients and angle, and the arrows' length, against
    the point-by-point model's loop (not the figure's routes)."""
    theta, alpha, k = (0.31, 0.72), 0.08, 4
    scene = figures.run("jacobians", {"theta": list(theta), "alpha": alpha, "k": k, "first_order": True})
    tasks = part4.one_task(0)
    phi = np.array(theta)
    for _ in range(k):
        phi = phi - alpha * softplus_grad_hess(phi, tasks.xs[0], tasks.ys[0])[0]
    jac, grad = independent_meta_gradient(tasks, theta, alpha, k)
    gq = softplus_grad_hess(phi, tasks.xq[0], tasks.yq[0])[0]
    vec = lambda v, d: "(" + ", ".join(f"{x:.{d}f}" for x in v).replace("-", "−") + ")"
    text = scene["description"]
    assert text.startswith(f"θ = (0.31, 0.72). 4 inner step(s) at α = 0.08 on the support points lead to "
                           f"φ⁽ᵏ⁾ = ({phi[0]:.3f}, {phi[1]:.3f}). ")
    assert "from A_3 down to A_0, is [" + " ".join(f"{x:.4f}" for x in jac[0]).replace("-", "−") in text
    assert f"The meta-gradient is {vec(grad, 6)} from the Jacobians, {vec(grad, 6)} from Hessian-vector products" in text
    cos = grad @ gq / np.linalg.norm(grad) / np.linalg.norm(gq)
    assert text.endswith(f"∇Lᵗᵉ(φ⁽ᵏ⁾) = {vec(gq, 6)} is {np.degrees(np.arccos(cos)):.1f}° away from it.")
    # the longer of the two arrows is 0.25 long (in θ units)
    arrows = [ly for ly in scene["panels"][1]["layers"] if ly["kind"] == "arrow"]
    lengths = [np.hypot(*np.subtract(a["to"], a["from"])) for a in arrows]
    assert max(lengths) == pytest.approx(0.25)


@pytest.mark.parametrize("theta", [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)])
def test_jacobian_figure_at_the_extremes_stays_finite(theta):
    scene = figures.run("jacobians", {"theta": theta, "alpha": 0.2, "k": 10, "first_order": True})
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert scene["message"] is None and "nan" not in str(scene).lower()
    assert float(values["largest relative difference"]) < 1e-5      # finite differences lose digits at the largest α


def test_jacobian_figure_says_so_when_a_route_is_not_finite(monkeypatch):
    """Within the sliders the inner steps never diverge (above), so a non-finite route is forced here: the scene
    keeps the support landscape of the same task, empties the meta-objective panel and names θ, α and k."""
    state = {"theta": [0.3, 0.6], "alpha": 0.12, "k": 7, "_seed": 2}
    normal = figures.run("jacobians", state, "resample")
    real = part4.three_routes
    monkeypatch.setattr(part4, "three_routes", lambda *a: {**real(*a), "by_fd": np.array([np.inf, 0.0])})
    scene = figures.run("jacobians", state, "resample")
    assert scene["state"] == normal["state"] == {"_seed": 3}
    support, objective = scene["panels"]
    assert support["layers"] == normal["panels"][0]["layers"][:2] and objective["layers"] == []
    assert scene["message"].startswith("The inner steps diverge from θ = (0.30, 0.60) at α = 0.12: ")
    assert scene["description"] == "At α = 0.12 and k = 7 the inner steps from θ diverge; nothing to compare."
    assert scene["readouts"] == [{"label": "largest relative difference", "value": None, "format": ""}]


# ------------------------------------------------------------------------------ memory kept by the inner loop
def traced_bytes(make):
    """Bytes that stay allocated while the object returned by make() is alive (tracemalloc sees NumPy's buffers)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        obj = make()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held, obj


@pytest.mark.parametrize("keep_hvps", [True, False])
@pytest.mark.parametrize("steps", [1, 4])
def test_inner_path_bytes_are_what_is_really_allocated(keep_hvps, steps):
    model, rng = MLP(), np.random.default_rng(0)
    theta, batch = model.init(rng), sine.sample(rng, 25, 10, 10)
    # θ and the data are copied inside, so that every buffer the result may keep is allocated while tracing
    held, inner = traced_bytes(lambda: meta.inner_sgd(model, theta.copy(), batch.xs.copy(), batch.ys.copy(), lr=0.01,
                                                      steps=steps, keep_hvps=keep_hvps))
    # tracemalloc also sees a few small Python objects (lists, closures): well under 1 % here
    assert inner.nbytes == pytest.approx(held, rel=0.01)
    assert len(inner.hvps) == (steps if keep_hvps else 0)


def test_kept_memory_per_method_by_formula():
    """MAML keeps, for each step j, φ^(j), the activations and errors of every support point in every layer and the
    ReLU patterns; the first-order methods keep φ^(k) only; iMAML φ^(k) and one linearisation. Counted by hand for
    the 1-40-40-1 MLP and compared with info["kept_bytes"]."""
    model, rng = MLP(), np.random.default_rng(1)
    theta, batch = model.init(rng), sine.sample(rng, 25, 10, 10)
    t, n, p = 25, 10, model.size
    x = t * n * 8                                    # a_0 = x: the support inputs, shared by every step
    acts = t * n * (40 + 40) * 8                     # a_1, a_2
    deltas = t * n * (40 + 40 + 1) * 8               # δ_1, δ_2, δ_3
    masks = t * n * (40 + 40)                        # relu'(z_1), relu'(z_2), one byte each
    step = acts + deltas + masks
    for k in (1, 3, 10):
        expected = {"maml": p * 8 + x + k * step + (k - 1) * t * p * 8 + t * p * 8,  # θ shared, φ^(1…k−1), φ^(k)
                    "fomaml": t * p * 8, "reptile": t * p * 8, "imaml": t * p * 8 + x + step}
        for method, want in expected.items():
            _, info = meta.meta_gradient(method, model, theta, batch, inner_lr=0.0003 if method == "imaml" else 0.01,
                                         inner_steps=k, reg=1000.0, cg_steps=5)
            assert info["kept_bytes"] == want, (method, k)


def test_text_states_the_measured_memory():
    theta, batch = part4.cost_batch()
    for method, k, text in [("maml", 1, "28.4 kB at $k = 1$"), ("maml", 5, "139.5 kB at $k = 5$"),
                            ("maml", 10, "278.3 kB at $k = 10$"), ("fomaml", 7, "14.1 kB for any $k$"),
                            ("imaml", 7, "27.8 kB for any $k$")]:
        _, per_task = part4.measure_method(method, k, theta, batch, repeats=1)
        assert f"{per_task / 1000:.1f} kB" in text and text in TEXT


# ------------------------------------------------------------------------------ the cost figure
def test_explicit_route_equals_the_hessian_vector_route():
    theta, batch = part4.cost_batch()
    one = sine.SineTasks(batch.xs[:1], batch.ys[:1], batch.xq[:1], batch.yq[:1], batch.amplitude[:1], batch.phase[:1])
    steps = part4.explicit_steps(theta, one.xs[0], one.ys[0], 0.01, 2, block=600)
    fractions = []
    while True:
        try:
            fractions.append(next(steps))
        except StopIteration as done:
            path, factors = done.value
            break
    assert fractions[-1] == (1, 1.0) and len(fractions) == 2 * 3
    for a in factors:
        np.testing.assert_allclose(a, a.T, atol=1e-9)                # each A_j is symmetric
    gq = part4.MLP_MODEL.loss_grad(path[2], one.xq[0], one.yq[0])[1]
    direction = part4.explicit_meta_gradient(factors, gq)
    reference, _ = meta.meta_gradient("maml", part4.MLP_MODEL, theta, one, inner_lr=0.01, inner_steps=2)
    assert part4.relative_difference(direction, reference) < 1e-10


def test_cost_figure_stream_measures_every_method_and_k(monkeypatch):
    monkeypatch.setattr(part4, "COST_KS", (1, 2))
    monkeypatch.setattr(part4, "EXPLICIT_KS", (1, 2))
    monkeypatch.setattr(part4, "COST_REPEATS", 1)
    monkeypatch.setattr(part4, "HESSIAN_BLOCK", 1000)
    figures.sessions.pop("meta-cost", None)
    first = figures.run("meta-cost", {})
    assert first["message"].startswith("Press Measure")
    scenes = list(figures.run("meta-cost", {}, "measure"))
    last = scenes[-1]
    assert last["description"].startswith("Finished: all 8 timings done")
    session = figures.sessions["meta-cost"]
    assert set(session["times"]) == {(m, k) for m in part4.COST_METHODS for k in (1, 2)}
    assert all(t > 0 for t in session["times"].values())
    assert session["explicit_check"] < 1e-10 and session["product"] > 0
    for method in part4.COST_METHODS:
        line = next(layer for layer in last["panels"][1]["layers"] if layer["kind"] == "line" and layer["class"] == method)
        assert line["y"] == [session["memory"][(method, k)] / 1000 for k in (1, 2)]
    # the stream can be stopped and cleared; nothing is lost by stopping
    stopped = figures.run("meta-cost", {}, "stop")
    assert stopped["description"].startswith("Stopped after 8")
    figures.run("meta-cost", {}, "clear")
    assert "meta-cost" not in figures.sessions


def test_million_parameter_jacobian_is_labelled_as_computed():
    scene = figures.run("meta-cost", {}, "clear")
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert values["Jacobian, 10⁶ parameters (computed, not run)"] == "8.0 TB"
    assert values["one A_j of the MLP (1,761 × 1,761 floats)"] == "24.8 MB"
    assert re.search(r"8 TB", TEXT) and "24.8 MB" in TEXT


# ------------------------------------------------------------------------------ small helpers and edge cases
def test_angle_and_formatting_helpers():
    assert part4.relative_difference(np.array([0.3, 0.4]), np.array([0.0, 0.5])) == pytest.approx(np.hypot(0.3, 0.1) / 0.5)
    assert part4.relative_difference(np.array([3.0, 4.0]), np.zeros(2)) == 5.0          # ‖b‖ = 0: the plain norm
    assert part4.angle_degrees([1.0, 0.0], [0.0, 0.0]) is None and part4.angle_degrees([0.0, 0.0], [1.0, 2.0]) is None
    assert part4.angle_degrees([2.0, 0.0], [0.0, -3.0]) == pytest.approx(90.0)
    assert part4.angle_degrees([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(180.0)
    assert part4.fmt_vector([1.5, -2.0]) == "(1.5000, −2.0000)"
    assert part4.fmt_matrix([[1.0, -0.5], [0.25, 2.0]]) == "[1.0000 −0.5000; 0.2500 2.0000]"
    cases = [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (24_500, "24.5 kB"), (999_999, "1000.0 kB"),
             (1e6, "1.0 MB"), (1e9, "1.0 GB"), (2.5e9, "2.5 GB"), (1e12, "1.0 TB"), (8e12, "8.0 TB")]
    assert [part4.format_bytes(n) for n in (n for n, _ in cases)] == [text for _, text in cases]


def test_arrows_of_a_vanishing_meta_gradient_have_no_length():
    theta = np.array([0.4, 0.6])
    (arrow,) = part4._direction_arrows(theta, {"by_hvp": np.zeros(2), "grad_query": np.ones(2)}, False)
    assert arrow["to"].tolist() == [0.4, 0.6]
    first = part4._direction_arrows(theta, {"by_hvp": np.zeros(2), "grad_query": np.array([0.0, 2.0])}, True)
    np.testing.assert_allclose(first[1]["to"], [0.4, 0.35])            # the first-order arrow is the longer: 0.25


def test_jacobian_description_of_a_vanishing_first_order_direction():
    r = {"path": np.array([[0.2, 0.3], [0.25, 0.35]]), "jacobian": np.eye(2), "by_jacobian": np.ones(2),
         "by_hvp": np.ones(2), "by_fd": np.array([1.0, 1.00000012]), "grad_query": np.zeros(2)}
    text = part4._jacobian_description(np.array([0.2, 0.3]), 0.1, 1, r, 1e-12, 1e-7, True)
    assert "and (1.000000, 1.000000) from finite differences" in text
    assert text.endswith("The first-order direction ∇Lᵗᵉ(φ⁽ᵏ⁾) = (0.000000, 0.000000) is zero.")


# ------------------------------------------------------------------------------ the cost figure's scene, by hand
def cost_session():
    """Timings and memory set by hand: MAML at k = 1, 5, 10, FOMAML at k = 1, 5 (its memory equal to iMAML's at
    k = 5), iMAML at k = 5 only; Reptile (between them in the legend's order) not yet."""
    times = {("maml", 1): 0.002, ("maml", 5): 0.0125, ("maml", 10): 0.1, ("fomaml", 1): 0.0004,
             ("fomaml", 5): 0.0009, ("imaml", 5): 0.0008}
    memory = {("maml", 1): 28_400.0, ("maml", 5): 139_500.0, ("maml", 10): 280_000.0, ("fomaml", 1): 900.0,
              ("fomaml", 5): 900.0, ("imaml", 5): 900.0}
    return {"times": times, "memory": memory, "explicit": {1: 2.5, 2: 4.75}, "explicit_check": 3e-12,
            "product": 41.6, "progress": "forming A₂ as a matrix: 57%"}


def test_cost_scene_draws_and_reads_out_the_sessions_numbers(monkeypatch):
    monkeypatch.setattr(part4, "recorded_run", lambda figure_id: None)    # the recorded run: tests/test_recorded_runs
    session = cost_session()
    scene = part4._cost_scene(session, "measuring")
    time_panel, memory_panel = scene["panels"]
    assert time_panel["xlim"] == memory_panel["xlim"] == [0.5, 13.5]
    assert time_panel["ylim"] == pytest.approx([0, 100 * 1.1]) and memory_panel["ylim"] == pytest.approx([0, 280 * 1.1])
    lines = {ly["class"]: ly for ly in time_panel["layers"] if ly["kind"] == "line"}
    assert set(lines) == {"maml", "fomaml", "imaml"}
    assert lines["maml"]["x"] == [1, 5, 10] and lines["maml"]["y"] == pytest.approx([2.0, 12.5, 100.0])
    assert lines["imaml"]["x"] == [5] and lines["imaml"]["y"] == pytest.approx([0.8])
    points = {ly["class"]: ly for ly in time_panel["layers"] if ly["kind"] == "points"}
    assert points["fomaml"]["y"] == pytest.approx([0.4, 0.9])
    labels = {ly["text"]: ly["at"] for ly in time_panel["layers"] if ly["kind"] == "label"}
    assert labels == {"MAML": pytest.approx([10.2, 100.0]), "FOMAML": pytest.approx([5.2, 0.9]),
                      "iMAML": pytest.approx([5.2, 0.8])}
    mem_lines = {ly["class"]: ly["y"] for ly in memory_panel["layers"] if ly["kind"] == "line"}
    assert mem_lines["maml"] == pytest.approx([28.4, 139.5, 280.0]) and mem_lines["imaml"] == pytest.approx([0.9])
    mem_labels = {ly["text"]: (ly["at"], ly["class"]) for ly in memory_panel["layers"] if ly["kind"] == "label"}
    assert mem_labels == {"MAML": (pytest.approx([10.2, 280.0]), "maml"),
                          "FOMAML, iMAML": (pytest.approx([5.2, 0.9]), "fomaml")}    # one label, the first's colour
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert values["MAML: ms at k = 1 / 5 / 10"] == "2.0 / 12.5 / 100.0"
    assert values["iMAML: ms at k = 1 / 5 / 10"] == "… / 0.8 / …"
    assert values["Reptile: ms at k = 1 / 5 / 10"] == "… / … / …"
    assert values["explicit A_j, one task: s at k = 1 / 2 / 3"] == "2.5 / 4.8 / …"
    assert values["one P × P product A₁A₀: s (estimated from a timed slice)"] == 41.6
    text = scene["description"]
    assert text.startswith("Measuring: 6 of 40 timings done, forming A₂ as a matrix: 57%. MAML: 2.0 ms and 28.4 kB "
                           "per task at k = 1, 12.5 ms and 139.5 kB per task at k = 5, 100.0 ms and 280.0 kB per "
                           "task at k = 10. FOMAML: 0.4 ms and 0.9 kB")
    assert ("With the matrices A_j formed explicitly, one task took 2.5 s at k = 1. With the matrices A_j formed "
            "explicitly, one task took 4.8 s at k = 2. That route's meta-gradient matches the Hessian-vector route "
            "to a relative difference of 3.0e-12. Multiplying two of these matrices, as ∂φ⁽ᵏ⁾/∂θ needs, would take "
            "about 42 s (estimated from a timed slice of 16 rows). ") in text
    assert scene["message"] is None and scene["state"] == {"_status": "measuring"}


def test_cost_scene_words_for_each_status_and_the_empty_scale(monkeypatch):
    monkeypatch.setattr(part4, "recorded_run", lambda figure_id: None)    # the recorded run: tests/test_recorded_runs
    session = cost_session()
    session["progress"] = None
    words = {status: part4._cost_scene(session, status)["description"].split(". ")[0]
             for status in ("measuring", "stopped", "paused", "finished")}
    assert words == {"measuring": "Measuring: 6 of 40 timings done", "stopped": "Stopped after 6 of 40 timings",
                     "paused": "6 of 40 timings done", "finished": "Finished: all 40 timings done"}
    empty = part4._cost_scene(None, "ready")
    assert [p["ylim"] for p in empty["panels"]] == [[0, 1.1], [0, 1.1]]          # nothing measured: 0 to 1.1
    assert all(p["layers"] == [] for p in empty["panels"]) and empty["message"].startswith("Press Measure")
    small = {"times": {("imaml", 10): 0.0002}, "memory": {("imaml", 10): 100.0}, "explicit": {},
             "explicit_check": None, "product": None, "progress": None}
    scene = part4._cost_scene(small, "paused")
    assert [p["ylim"] for p in scene["panels"]] == [[0, 1.1], [0, 1.1]]          # below 1 ms and 1 kB: the floor
    assert {r["label"]: r["value"] for r in scene["readouts"]}["iMAML: ms at k = 1 / 5 / 10"] == "… / … / 0.2"
    assert "That route" not in scene["description"] and "Multiplying" not in scene["description"]
    assert "iMAML: 0.2 ms and 0.1 kB per task at k = 10. One such matrix" in scene["description"]
    assert scene["description"].endswith("One such matrix for the sine MLP has 1,761² floats, 24.8 MB per task; for "
                                         "a network of a million parameters it would be 8.0 TB (computed, not run).")


def test_explicit_route_is_timed_block_by_block_with_a_fake_clock(monkeypatch):
    """A clock that advances 1 s per reading: every block of A_j costs 1 s, so A_0 is formed at 7 s and A_1 at 14 s
    (1,761 rows in blocks of 256: 7 blocks each); k steps cost the forming of A_0 … A_{k−1} plus the product (1 s);
    the P × P product is one timed slice (1 s) of 16 rows, scaled to 1,761 rows."""
    import itertools
    ticks = itertools.count()
    monkeypatch.setattr(part4.clock, "now", lambda: float(next(ticks)))
    monkeypatch.setattr(part4, "EXPLICIT_KS", (1, 2))
    theta, batch = part4.cost_batch()
    session = {"times": {}, "memory": {}, "explicit": {}, "explicit_check": None, "product": None, "progress": None}
    progress = [session["progress"] for _ in part4._measure_explicit(session, theta, batch)]
    assert part4.MLP_MODEL.size == 1761 and part4.HESSIAN_BLOCK == 256
    percents = [f"{min(lo + 256, 1761) / 1761:.0%}" for lo in range(0, 1761, 256)]
    assert progress == [f"forming A{j} as a matrix: {p}" for j in "₀₁" for p in percents] + [None]
    assert session["explicit"] == {1: 8.0, 2: 15.0}
    assert session["product"] == pytest.approx(1761 / 16)
    assert 0 <= session["explicit_check"] < 1e-10
    assert list(part4._measure_explicit(session, theta, batch)) == []      # measured once: nothing to do again


def test_measure_method_keeps_the_fastest_time_and_the_memory_per_task(monkeypatch):
    """With a clock whose readings are 100, 103, 200, 201, 300, 302: runs of 3, 1 and 2 s; the fastest is 1 s."""
    ticks = iter([100.0, 103.0, 200.0, 201.0, 300.0, 302.0])
    monkeypatch.setattr(part4.clock, "now", lambda: next(ticks))
    theta, batch = part4.cost_batch()
    seconds, kept = part4.measure_method("fomaml", 2, theta, batch)
    assert seconds == 1.0 and kept == 8 * part4.MLP_MODEL.size            # FOMAML keeps φ^(k) of each task


# ------------------------------------------------------------------------------ what the text says of its figure and code
def test_the_listing_is_the_function_whose_tangent_lines_the_text_describes():
    """The text says the listing shows the backward pass and, in `hvp`, its tangent lines marked with dots: the
    included object's source holds both (not a wrapper that calls it)."""
    import inspect

    from mamlviz.site.codeinclude import resolve

    names = re.findall(r"^\[\[code (\S+)\]\]$", TEXT, flags=re.M)
    described = TEXT.index("tangent lines")
    shown = next(n for n in names if TEXT.index(f"[[code {n}]]") > described)
    source = inspect.getsource(resolve(shown))
    assert "def hvp(" in source                                     # the Hessian-vector product function
    assert "δ_{l-1} = δ_l W_lᵀ ⊙ relu'(z_{l-1})" in source          # the backward pass
    assert "ȧ_l = ż_l ⊙ relu'(z_l)" in source and "δ̇_{l-1} = (δ̇_l W_lᵀ" in source   # its dotted tangent lines


def test_the_text_names_the_timing_statistic_the_code_computes(monkeypatch):
    """A clock whose rounds last 3, 1 and 2 s (one call each): the fastest is 1 s, the median 2 s; the text names the
    one returned."""
    from mamlviz import clock

    ticks = iter([100.0, 103.0, 200.0, 201.0, 300.0, 302.0])
    monkeypatch.setattr(clock, "now", lambda: next(ticks))
    theta, batch = part4.cost_batch()
    seconds, _ = part4.measure_method("fomaml", 2, theta, batch)
    statistic = {1.0: "fastest", 2.0: "median", 3.0: "slowest"}[seconds]
    count = {3: "three"}[part4.COST_REPEATS]
    text = " ".join(TEXT.split())
    assert f"as the {statistic} of {count} runs" in text
    assert "median of" not in text


def test_the_description_lists_every_measured_number_as_the_text_says():
    """Every method timed at every k from 1 to 10: the description gives each time and each memory count."""
    assert "the description under the figure lists every measured number" in " ".join(TEXT.split())
    ks = range(1, 11)
    times = {(m, k): (i + 1) * 0.001 + k * 0.0001 for i, m in enumerate(part4.COST_METHODS) for k in ks}
    memory = {(m, k): 1000.0 * (i + 1) * k for i, m in enumerate(part4.COST_METHODS) for k in ks}
    session = {"times": times, "memory": memory, "explicit": {}, "explicit_check": None, "product": None,
               "progress": None}
    text = part4._cost_scene(session, "finished")["description"]
    for (method, k), t in times.items():
        said = f"{1000 * t:.1f} ms and {memory[(method, k)] / 1000:.1f} kB per task at k = {k}"
        part = text.split(f"{part4.COST_METHODS[method]}: ", 1)[1].split(". ", 1)[0]
        assert said in part, (method, k)
