"""Parts 4 and 5 in a real browser: every control and handle of every figure answers, and what the page shows equals
the same figure function run natively for the page's state; the cost figure times every method and k in the page
and its memory counts are the library's; the curvature arrows and angle; MAML against FOMAML trains, pauses,
resets, and its first point equals an independent computation. One live page per part (module-scoped)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures, meta
from mamlviz.figures import part4

PART4, PART5 = "04-meta-gradient-cost.html", "05-first-order-maml.html"


def _native_tests(name):
    """A native test module of this suite, for its independent reference implementations."""
    spec = importlib.util.spec_from_file_location(f"{name}_native", Path(__file__).resolve().parents[1] / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native4, native5 = _native_tests("test_part4"), _native_tests("test_part5")


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


from live import RUNTIME


def open_part(open_page, served_site, page_name, figure_ids, viewport=None):
    pg = open_page(viewport=viewport)
    pg.goto(served_site + page_name)
    for figure_id in figure_ids:
        pg.locator(fig(figure_id)).scroll_into_view_if_needed()   # a training figure's worker boots near the screen
        pg.wait_for_selector(f'{fig(figure_id)}[data-status="live"]', timeout=90_000)
    return pg


def worker_names(pg):
    return [w["name"] for w in pg.evaluate(f"{RUNTIME}.then(m => m.workers())")]


@pytest.fixture(scope="module")
def part4_page(open_page, served_site):
    pg = open_part(open_page, served_site, PART4, ("jacobians", "meta-cost"))
    yield pg
    pg.context.close()


@pytest.fixture(scope="module")
def part5_page(open_page, served_site):
    pg = open_part(open_page, served_site, PART5, ("local-curvature", "maml-vs-fomaml"))
    yield pg
    pg.context.close()


def page_state(pg, figure_id):
    return json.loads(pg.evaluate(f"JSON.stringify(window.mamlvizFigures.find(f => f.id === '{figure_id}').state)"))


def page_scene(pg, figure_id):
    return json.loads(pg.evaluate(f"JSON.stringify(window.mamlvizFigures.find(f => f.id === '{figure_id}').scene)"))


def shown(r):
    """A readout formatted as the page formats it (render.js formatValue)."""
    if r["value"] is None:
        return "—"
    if isinstance(r["value"], str):
        return r["value"]
    text = format(r["value"], r["format"] or ".3f")
    return "−" + text[1:] if text.startswith("-") else text


def settle(pg, figure_id):
    pg.wait_for_function(f"document.querySelector('{fig(figure_id)}').dataset.status === 'live'")
    pg.wait_for_timeout(60)


ROUNDING = re.compile(r"\d\.\de[-+]\d+")   # relative differences at rounding level: the browser's libm differs


def assert_page_is_native(pg, figure_id, what):
    """Every readout and the description equal the native figure's for the page's own state (relative differences
    of order 1e-11, which depend on the last bits of exp and log, are compared as bounds instead)."""
    settle(pg, figure_id)
    state = page_state(pg, figure_id)
    scene = figures.run(figure_id, state)
    for r in scene["readouts"]:
        got = pg.locator(f'{fig(figure_id)} dd[data-readout="{r["label"]}"]').inner_text()
        if r["label"] == "largest relative difference":
            assert float(got) < 1e-6 and float(r["value"]) < 1e-6, what
            continue
        if r["label"] == "meta-gradient: finite differences":     # its 8th decimal may differ by rounding
            np.testing.assert_allclose(vector(got), vector(r["value"]), atol=2e-8, err_msg=what)
            continue
        assert got == shown(r), (what, r["label"])
    described = pg.locator(f"{fig(figure_id)} .describe p").text_content()
    assert ROUNDING.sub("x", described) == ROUNDING.sub("x", scene["description"]), what
    assert "NaN" not in pg.locator(fig(figure_id)).inner_text(), what
    return state, scene


def vector(text):
    return np.array([float(v) for v in text.replace("−", "-").strip("()").split(",")])


# ------------------------------------------------------------------------------------------------ Part 4
def test_jacobians_every_control_and_the_handle(part4_page):
    pg, F = part4_page, fig("jacobians")
    figures.load_all()
    assert_page_is_native(pg, "jacobians", "first frame")
    handle = pg.locator(f"{F} .handle")
    handle.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowUp", "ArrowDown", "ArrowDown"):
        pg.keyboard.press(key)                                 # θ = (0.17, 0.79)
    state, _ = assert_page_is_native(pg, "jacobians", "handle by keyboard")
    assert state["theta"] == pytest.approx([0.17, 0.79])
    assert "θ = (0.17, 0.79)" in pg.locator(f"{F} .describe p").text_content()
    # a drag with the pointer
    box = pg.locator(f"{F} .panel svg").first.locator(".frame").bounding_box()
    handle_box = handle.locator(".dot").bounding_box()
    pg.mouse.move(handle_box["x"] + handle_box["width"] / 2, handle_box["y"] + handle_box["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.5 * box["height"], steps=5)
    pg.mouse.up()
    state, _ = assert_page_is_native(pg, "jacobians", "handle by pointer")
    assert state["theta"][0] == pytest.approx(0.6, abs=0.03) and state["theta"][1] == pytest.approx(0.5, abs=0.03)
    for name, key in (("k", "End"), ("alpha", "End"), ("k", "Home"), ("alpha", "Home")):
        pg.locator(f'{F} [data-control="{name}"] input').focus()
        pg.keyboard.press(key)
        state, scene = assert_page_is_native(pg, "jacobians", f"{name} {key}")
        k = state["k"]
        # what is drawn: k points on the path, one A_j readout per step
        assert pg.locator(f"{F} .panel").first.locator(".layer-points circle.trail").count() == k
        assert pg.locator(f"{F} dd[data-readout^='A']").count() == k
    pg.locator(f'{F} [data-control="first_order"] input').check()
    assert_page_is_native(pg, "jacobians", "first order on")
    assert pg.locator(f"{F} .arrow.fomaml").count() == 1 and pg.locator(f"{F} .arrow.maml").count() == 1
    pg.locator(f'{F} [data-control="resample"] button').click()
    state, _ = assert_page_is_native(pg, "jacobians", "resample")
    assert state["_seed"] == 1
    assert pg.console_errors == []


def test_handle_maps_pointer_and_data_both_ways(part4_page):
    """The handle on the unit square (aspect equal): state → the dot's centre at the frame's pixel for that θ;
    a pointer dropped at a pixel → θ = that pixel's data coordinates snapped to the 0.01 step, in the state, the
    description and the link; beyond the frame → the bound. The pixel ↔ data maps here are the frame's box,
    written out in the test, not the page's scale."""
    pg, F = part4_page, fig("jacobians")
    handle = pg.locator(f"{F} .handle")
    frame = pg.locator(f"{F} .panel svg").first.locator(".frame")
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    assert box["width"] == pytest.approx(box["height"], abs=0.5)      # the unit square is drawn square

    def centre():
        b = handle.locator(".dot").bounding_box()
        return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2

    def pixel(x, y):                                                  # data → screen, y up
        return box["x"] + x * box["width"], box["y"] + (1 - y) * box["height"]

    for theta in ([0.73, 0.21], [0.0, 1.0], [1.0, 0.0], [0.5, 0.5]):
        pg.evaluate(f"window.mamlvizFigures.find(f => f.id === 'jacobians').change({{theta: {theta}}})")
        assert centre() == pytest.approx(pixel(*theta), abs=1.0), theta
    settle(pg, "jacobians")

    def drag_to(px, py):
        pg.mouse.move(*centre())
        pg.mouse.down()
        pg.mouse.move(px, py, steps=4)
        pg.mouse.up()
        settle(pg, "jacobians")
        return page_state(pg, "jacobians")["theta"]

    # drop the pointer at the middle of a 0.01 step, so rounding cannot go either way
    assert drag_to(*pixel(0.31, 0.56)) == pytest.approx([0.31, 0.56], abs=1e-9)
    assert centre() == pytest.approx(pixel(0.31, 0.56), abs=1.0)
    assert "θ = (0.31, 0.56)" in pg.locator(f"{F} .describe p").text_content()
    assert handle.get_attribute("aria-valuetext") == "θ: (0.31, 0.56)"
    assert drag_to(*pixel(0.87, 0.13)) == pytest.approx([0.87, 0.13], abs=1e-9)
    # beyond the frame's right and bottom edges: the handle stops at the bounds
    assert drag_to(box["x"] + box["width"] + 40, box["y"] + box["height"] + 20) == pytest.approx([1.0, 0.0])
    assert centre() == pytest.approx(pixel(1.0, 0.0), abs=1.0)
    assert drag_to(*pixel(0.31, 0.56)) == pytest.approx([0.31, 0.56], abs=1e-9)
    pg.locator(f"{F} .copy-link").click()
    assert "theta=0.31,0.56" in pg.evaluate("location.hash")
    assert pg.console_errors == []


def test_jacobians_three_routes_agree_in_the_browser_and_with_an_independent_model(part4_page):
    pg, F = part4_page, fig("jacobians")
    for k in (1, 6, 10):
        pg.evaluate(f"window.mamlvizFigures.find(f => f.id === 'jacobians').change({{k: {k}, alpha: 0.05}})")
        settle(pg, "jacobians")
        state = page_state(pg, "jacobians")
        read = lambda label: pg.locator(f'{F} dd[data-readout="{label}"]').inner_text()
        assert float(read("largest relative difference").replace("−", "-")) < 1e-6
        tasks = part4.one_task(state["_seed"])
        _, expected = native4.independent_meta_gradient(tasks, state["theta"], 0.05, k)
        for route in ("Jacobians", "HVP backpropagation", "finite differences"):
            np.testing.assert_allclose(vector(read(f"meta-gradient: {route}")), expected, atol=1e-8)


def test_cost_figure_measures_every_method_and_k_and_the_page_stays_usable(part4_page):
    pg, F = part4_page, fig("meta-cost")
    figures.load_all()
    assert "Press Measure" in pg.locator(f"{F} .figure-message").inner_text()
    pg.locator(f'{F} [data-control="measure"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.includes('timings done')")
    # while it measures, another figure on the page still answers
    pg.locator(f'{fig("jacobians")} [data-control="k"] input').focus()
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_function(f"document.querySelector('{fig('jacobians')}').dataset.status === 'live'", timeout=60_000)
    assert "Measuring" in pg.locator(f"{F} .describe p").text_content()
    assert worker_names(pg) == ["main", "training-1"]           # the measuring runs in a training worker
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Finished')",
                         timeout=900_000)
    scene = page_scene(pg, "meta-cost")
    theta, batch = part4.cost_batch()
    for panel, unit in ((0, "time"), (1, "memory")):
        lines = {layer["class"]: layer for layer in scene["panels"][panel]["layers"]
                 if layer["kind"] == "line" and "recorded" not in layer["class"]}   # the grey recorded run: apart
        assert set(lines) == set(part4.COST_METHODS)
        for method, line in lines.items():
            assert line["x"] == list(part4.COST_KS)
            assert all(v is not None and v > 0 for v in line["y"]), (unit, method)
            if unit == "memory":                        # the bytes the library keeps, natively
                for k, v in zip(line["x"], line["y"]):
                    _, info = meta.meta_gradient(method, part4.MLP_MODEL, theta, batch, inner_steps=k,
                                                 **part4.method_settings(method))
                    assert v == info["kept_bytes"] / 25 / 1000, (method, k)
    readouts = {r["label"]: r["value"] for r in scene["readouts"]}
    for name in part4.COST_METHODS.values():
        assert "…" not in readouts[f"{name}: ms at k = 1 / 5 / 10"]
    assert "…" not in readouts["explicit A_j, one task: s at k = 1 / 2 / 3"]
    assert "matches the Hessian-vector route" in scene["description"]
    assert float(re.search(r"relative difference of ([0-9.e+-]+)\. ", scene["description"]).group(1)) < 1e-9
    print("\nmeasured in Chromium:", scene["description"])
    assert pg.console_errors == []


def test_cost_figure_stop_and_clear(part4_page):
    pg, F = part4_page, fig("meta-cost")
    pg.locator(f'{F} [data-control="clear"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Nothing measured')")
    pg.locator(f'{F} [data-control="measure"] button').click()
    pg.wait_for_function(f"/Measuring: [1-9]/.test(document.querySelector('{F} .describe p').textContent)")
    pg.locator(f'{F} [data-control="stop"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Stopped after')")
    text = pg.locator(f"{F} .describe p").text_content()
    pg.wait_for_timeout(1000)
    assert pg.locator(f"{F} .describe p").text_content() == text        # nothing runs once stopped
    assert pg.console_errors == []


def test_garbage_in_the_url_is_clamped(open_page, served_site):
    pg = open_part(open_page, served_site, PART4 + "#jacobians:theta=zz;k=99;alpha=-4", ("jacobians",))
    state = page_state(pg, "jacobians")
    assert state["k"] == 10 and state["alpha"] == 0.005 and state["theta"] == [0.15, 0.8]
    assert_page_is_native(pg, "jacobians", "from a garbage URL")
    assert pg.console_errors == []
    pg.context.close()


def narrow_screen(pg, shots, prefix, figure_ids):
    """On a phone-sized screen nothing overflows sideways and the figures still answer; screenshots kept for a look."""
    pg.set_viewport_size({"width": 1280, "height": 900})
    pg.screenshot(path=str(shots / f"{prefix}-1280.png"), full_page=True)
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.wait_for_timeout(300)
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    for figure_id in figure_ids:
        assert pg.locator(f"{fig(figure_id)} .panel svg").first.bounding_box()["width"] <= 390
    pg.screenshot(path=str(shots / f"{prefix}-390.png"), full_page=True)
    assert pg.console_errors == []


def test_part4_on_a_narrow_screen(part4_page, shots):
    narrow_screen(part4_page, shots, "04", ("jacobians", "meta-cost"))


# ------------------------------------------------------------------------------------------------ Part 5
def drawn_angle(pg):
    """The angle between the two arrows as drawn in the SVG (equal aspect: screen angles are data angles)."""
    vectors = []
    for css in ("maml", "gradient"):
        line = pg.locator(f'{fig("local-curvature")} .arrow.{css} line')
        x1, y1, x2, y2 = (float(line.get_attribute(a)) for a in ("x1", "y1", "x2", "y2"))
        vectors.append(np.array([x2 - x1, y1 - y2]))
    u, v = vectors
    return math.degrees(math.atan2(abs(u[0] * v[1] - u[1] * v[0]), u @ v))


def test_curvature_every_control_the_handle_and_the_angle(part5_page):
    pg, F = part5_page, fig("local-curvature")
    figures.load_all()
    for name, key in (("a", "End"), ("b", "Home"), ("c", "End"), ("a", "Home")):
        pg.locator(f'{F} [data-control="{name}"] input').focus()
        pg.keyboard.press(key)
        state, scene = assert_page_is_native(pg, "local-curvature", f"{name} {key}")
        angle = next(r["value"] for r in scene["readouts"] if r["label"].startswith("angle"))
        assert drawn_angle(pg) == pytest.approx(angle, abs=0.2)
    handle = pg.locator(f"{F} .handle")
    handle.focus()
    for _ in range(3):
        pg.keyboard.press("ArrowLeft")
    state, _ = assert_page_is_native(pg, "local-curvature", "handle")
    assert state["x"] == pytest.approx([0.72, 0.35])
    # the closed form, independently of the figure: −∇f = −(C(x − ½) + g)
    c = np.array([[state["a"], state["b"]], [state["b"], state["c"]]])
    expected = -(c @ (np.array(state["x"]) - 0.5) + np.array([0.1, -0.1]))
    np.testing.assert_allclose(vector(pg.locator(f'{F} dd[data-readout="−∇f(x)"]').inner_text()), expected, atol=6e-4)
    pg.locator(f'{F} [data-control="zero"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"angle between the arrows (°)\"]')"
                         ".textContent === '0.0'")
    state, _ = assert_page_is_native(pg, "local-curvature", "C = 0")
    assert (state["a"], state["b"], state["c"]) == (0, 0, 0)
    assert pg.locator(f'{F} [data-control="a"] output').inner_text() == "0.00"
    assert drawn_angle(pg) == pytest.approx(0.0, abs=1e-6)
    assert pg.console_errors == []


def test_maml_fomaml_controls_before_training(part5_page):
    pg, F = part5_page, fig("maml-vs-fomaml")
    figures.load_all()
    assert_page_is_native(pg, "maml-vs-fomaml", "first frame")
    for name, key in (("alpha", "End"), ("k", "End"), ("seed", "End"), ("budget", "Home"),
                      ("alpha", "Home"), ("k", "Home"), ("seed", "Home")):
        pg.locator(f'{F} [data-control="{name}"] input').focus()
        pg.keyboard.press(key)
        assert_page_is_native(pg, "maml-vs-fomaml", f"{name} {key}")
    assert pg.console_errors == []


def test_maml_fomaml_trains_and_its_first_point_is_independent(part5_page):
    pg, F = part5_page, fig("maml-vs-fomaml")
    start_training(pg, {"alpha": 0.01, "k": 1, "seed": 0, "budget": 200})
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Finished after 200')",
                         timeout=600_000)
    scene = page_scene(pg, "maml-vs-fomaml")
    cos_line, dropped_line = scene["panels"][0]["layers"][0], scene["panels"][1]["layers"][0]
    assert cos_line["x"] == list(range(0, 201, 25))
    # the first point, computed in the page, against the reference implementation run natively
    cos, dropped = native5.independent_first_point(seed=0, alpha=0.01)
    assert cos_line["y"][0] == pytest.approx(cos, rel=1e-9)
    assert dropped_line["y"][0] == pytest.approx(dropped, rel=1e-9)
    assert all(-1 <= c <= 1 for c in cos_line["y"])
    held = {layer["label"]: layer for layer in scene["panels"][2]["layers"] if "recorded" not in layer["class"]}
    assert held["maml"]["x"] == [0, 100, 200] and held["fomaml"]["x"] == [0, 100, 200]
    assert held["maml"]["y"][-1] < held["maml"]["y"][0]                     # MAML learns
    print("\nMAML vs FOMAML in Chromium:", scene["description"])
    assert pg.console_errors == []


def start_training(pg, patch):
    """Set the training figure's controls (as the reader would, through the page's state) and press Start."""
    pg.evaluate(f"window.mamlvizFigures.find(f => f.id === 'maml-vs-fomaml').change({json.dumps(patch)})")
    settle(pg, "maml-vs-fomaml")
    pg.locator(f'{fig("maml-vs-fomaml")} [data-control="start"] button').click()


def test_maml_fomaml_pause_and_reset(part5_page):
    pg, F = part5_page, fig("maml-vs-fomaml")
    start_training(pg, {"budget": 2000})
    pg.wait_for_function(f"Number(document.querySelector('{F} dd[data-readout=\"meta-updates\"]').textContent) >= 250",
                         timeout=300_000)
    pg.locator(f'{F} [data-control="pause"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Paused')")
    paused_at = pg.locator(f'{F} dd[data-readout="meta-updates"]').inner_text()
    pg.wait_for_timeout(1500)
    assert pg.locator(f'{F} dd[data-readout="meta-updates"]').inner_text() == paused_at
    pg.locator(f'{F} [data-control="reset"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"meta-updates\"]').textContent === '0'")
    assert_page_is_native(pg, "maml-vs-fomaml", "after reset")
    assert pg.console_errors == []


def test_maml_fomaml_divergence_is_said(part5_page):
    pg, F = part5_page, fig("maml-vs-fomaml")
    start_training(pg, {"alpha": 0.05, "k": 5, "budget": 200})
    pg.wait_for_function(f"document.querySelector('{F} .figure-message').textContent.includes('diverge')",
                         timeout=120_000)
    assert "NaN" not in pg.locator(F).inner_text()
    pg.locator(f'{F} [data-control="reset"] button').click()
    settle(pg, "maml-vs-fomaml")
    assert pg.console_errors == []


def test_part5_on_a_narrow_screen(part5_page, shots):
    narrow_screen(part5_page, shots, "05", ("local-curvature", "maml-vs-fomaml"))
