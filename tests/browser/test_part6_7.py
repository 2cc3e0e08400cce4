"""Parts 6 (Reptile) and 7 (iMAML) in a real browser: every control and handle of every figure, moved by keyboard
or pointer, gives the readouts and the description that the same figure function gives natively for the page's
state; the buttons step and run; the special cases (CG's flag, forces in balance) are shown. One live page per part
(module-scoped), in the session's browser."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from mamlviz import figures

PAGES = {"reptile": "06-reptile.html", "imaml": "07-imaml.html"}
FIGURES = {"reptile": ("reptile-step", "reptile-tasks"), "imaml": ("imaml-forces", "imaml-gradient")}


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def js_format(value, fmt):
    """What the page's formatValue (render.js) prints for a readout."""
    if value is None or not np.isfinite(value):
        return "—"
    m = re.fullmatch(r"\.?(\d*)([fedg%])?", fmt)
    digits, kind = (int(m.group(1)) if m.group(1) else 3), m.group(2)
    if kind == "d":
        text = str(round(value))
    elif kind == "e":
        text = re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:.{digits}e}")
    elif kind == "g":
        text = repr(float(f"{value:.{digits}g}"))
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{value:.{digits}f}"
    return re.sub(r"^-", "−", text)


def open_part(browser, base, part, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, service_workers="block")
    pg = context.new_page()
    pg.console_errors, pg.requests = [], []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(f"uncaught: {e}"))
    context.on("request", lambda r: pg.requests.append(r.url))
    pg.goto(base + PAGES[part])
    for figure_id in FIGURES[part]:
        pg.wait_for_selector(f'{fig(figure_id)}[data-status="live"]', timeout=90_000)
    return context, pg


@pytest.fixture(scope="module")
def reptile(browser, served_site):
    context, pg = open_part(browser, served_site, "reptile")
    yield pg
    context.close()


@pytest.fixture(scope="module")
def imaml(browser, served_site):
    context, pg = open_part(browser, served_site, "imaml")
    yield pg
    context.close()


def page_state(pg, figure_id):
    return json.loads(pg.evaluate(f"JSON.stringify(window.mamlvizFigures.find(f => f.id === '{figure_id}').state)"))


def settle(pg, figure_id):
    pg.wait_for_function(f"document.querySelector('{fig(figure_id)}').dataset.status === 'live'", timeout=120_000)
    pg.wait_for_timeout(60)


def shown(pg, figure_id):
    """Readouts (label → text), message and description as the page shows them."""
    F = fig(figure_id)
    readouts = pg.evaluate(f"""Object.fromEntries([...document.querySelectorAll('{F} dd[data-readout]')]
                               .map(d => [d.dataset.readout, d.textContent]))""")
    message = pg.evaluate(f"document.querySelector('{F} .figure-message').hidden ? null : "
                          f"document.querySelector('{F} .figure-message').textContent")
    return readouts, message, pg.locator(f"{F} .describe p").text_content()


# Below 1e-6 (residuals, imbalances, errors against finite differences) the digits are rounding noise, and
# Pyodide's libm differs from the native one: there page and native need only agree that the number is that small.
TINY = re.compile(r"−?\d\.\d+e[-−]0?([7-9]|[1-9]\d)")


def untiny(text):
    return TINY.sub("0", text)


def assert_native(pg, figure_id, what=""):
    """The page shows what the figure function gives natively for the page's own state (numbers below 10⁻⁶
    only as "that small", see TINY)."""
    settle(pg, figure_id)
    scene = figures.run(figure_id, page_state(pg, figure_id))
    readouts, message, description = shown(pg, figure_id)
    for r in scene["readouts"]:
        assert untiny(readouts[r["label"]]) == untiny(js_format(r["value"], r["format"])), (what, r["label"])
    assert message == scene["message"], what
    assert untiny(description) == untiny(scene["description"]), what
    assert "NaN" not in pg.locator(fig(figure_id)).inner_text(), what
    return scene


def move_every_control(pg, figure_id, skip=()):
    """Each slider to its end and back by keyboard, each select to its last option; after each, page == native."""
    figures.load_all()
    for c in figures.FIGURES[figure_id].controls:
        if c.name in skip:
            continue
        box = pg.locator(f'{fig(figure_id)} [data-control="{c.name}"]')
        if c.kind == "slider":
            box.locator("input").focus()
            for key in ("End", "Home", "ArrowRight"):
                pg.keyboard.press(key)
                assert_native(pg, figure_id, f"{c.name} {key}")
        elif c.kind == "select":
            box.locator("select").select_option(list(c.options)[-1])
            assert_native(pg, figure_id, c.name)
            box.locator("select").select_option(list(c.options)[0])


def drag_handle(pg, figure_id, to):
    """Pointer drag of θ to figure coordinates `to` on the unit-square panel 0."""
    F = fig(figure_id)
    frame = pg.locator(f"{F} .panel svg .frame").first.bounding_box()
    handle = pg.locator(f"{F} .handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(frame["x"] + to[0] * frame["width"], frame["y"] + (1 - to[1]) * frame["height"], steps=5)
    pg.mouse.up()


def every_control_and_the_keyboard(pg, figure_id, presses):
    """`move_every_control`, then θ moved by the arrow keys: page == native after each."""
    move_every_control(pg, figure_id)
    pg.locator(f"{fig(figure_id)} .handle").first.focus()
    for key in presses:
        pg.keyboard.press(key)
    assert_native(pg, figure_id, "keyboard θ")


# ----------------------------------------------------------------------------------------------------- Part 6
def test_part6_first_frames_and_no_outside_requests(reptile, served_site):
    for figure_id in FIGURES["reptile"]:
        scene = assert_native(reptile, figure_id)
        assert reptile.locator(f"{fig(figure_id)} .plot image.heatmap").count() == 1
        assert scene["panels"]
    assert [u for u in reptile.requests if not u.startswith(served_site) and not u.startswith(("data:", "blob:"))] == []


def test_reptile_step_controls_handle_and_button(reptile):
    pg, F = reptile, fig("reptile-step")
    every_control_and_the_keyboard(pg, "reptile-step", ["ArrowRight"] * 3 + ["ArrowDown"] * 2)
    drag_handle(pg, "reptile-step", (0.8, 0.7))
    settle(pg, "reptile-step")
    theta = page_state(pg, "reptile-step")["theta"]
    assert abs(theta[0] - 0.8) < 0.03 and abs(theta[1] - 0.7) < 0.03
    scene = assert_native(pg, "reptile-step", "dragged θ")
    # the inner path has k + 1 points and the Reptile arrow ends where the readouts say
    k = page_state(pg, "reptile-step")["k"]
    assert pg.locator(f"{F} path.line.task1").count() == 1 and pg.locator(f"{F} circle.point.task1").count() == k
    new = [next(r["value"] for r in scene["readouts"] if r["label"] == f"new θ: {c}") for c in "ab"]
    pg.locator(f'{F} [data-control="step"] button').click()
    settle(pg, "reptile-step")
    assert page_state(pg, "reptile-step")["theta"] == pytest.approx(np.clip(new, 0, 1).tolist(), abs=1e-9)
    assert_native(pg, "reptile-step", "after the step")
    assert pg.console_errors == []


def test_reptile_tasks_controls_run_and_resample(reptile):
    pg, F = reptile, fig("reptile-tasks")
    every_control_and_the_keyboard(pg, "reptile-tasks", ["ArrowLeft"] * 4)
    start = page_state(pg, "reptile-tasks")
    pg.locator(f'{F} [data-control="run"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"meta-updates\"]').textContent === '50'",
                         timeout=120_000)
    scene = assert_native(pg, "reptile-tasks", "after the run")
    # the trajectory: 51 points from the start, each a batched Reptile update (checked natively step by step)
    trail = page_state(pg, "reptile-tasks")["_trail"]
    assert len(trail) == 51 and trail[0] == pytest.approx(start["theta"])
    native = list(figures.run("reptile-tasks", start, "run"))[-1]
    np.testing.assert_allclose(native["state"]["_trail"], trail, atol=1e-12)
    assert pg.locator(f"{F} path.line.trail").count() == 1
    assert pg.locator(f"{F} path.line.mark-joint").count() == 1           # distance curves in the second panel
    assert "After 50 meta-updates" in scene["description"]
    pg.locator(f'{F} [data-control="resample"] button').click()
    settle(pg, "reptile-tasks")
    assert page_state(pg, "reptile-tasks")["_seed"] == 1
    assert_native(pg, "reptile-tasks", "resampled")
    assert pg.console_errors == []


# ----------------------------------------------------------------------------------------------------- Part 7
def test_part7_first_frames(imaml):
    for figure_id in FIGURES["imaml"]:
        assert_native(imaml, figure_id)


def test_imaml_forces_controls_handle_and_balance(imaml):
    pg, F = imaml, fig("imaml-forces")
    every_control_and_the_keyboard(pg, "imaml-forces", ["ArrowUp"] * 3)
    drag_handle(pg, "imaml-forces", (0.35, 0.6))
    assert_native(pg, "imaml-forces", "dragged θ")
    # drive the imbalance to 0: many inner steps at λ = 1
    pg.locator(f'{F} [data-control="log_lam"] input').fill("0")
    steps = pg.locator(f'{F} [data-control="steps"] input')
    steps.focus()
    pg.keyboard.press("End")
    scene = assert_native(pg, "imaml-forces", "solved")
    imbalance = [r["value"] for r in scene["readouts"] if r["label"].startswith("imbalance")]
    assert max(imbalance) < 1e-6
    assert pg.locator(f"{F} g.arrow.gradient").count() == 2 and pg.locator(f"{F} g.arrow.regulariser").count() == 2
    labels = pg.locator(f"{F} .arrow-label").all_text_contents()
    assert "−λ(φ − θ)" in labels and any(t.startswith("−∇L") for t in labels)
    assert pg.console_errors == []


def test_imaml_gradient_controls_cg_and_the_nonpd_case(imaml):
    pg, F = imaml, fig("imaml-gradient")
    every_control_and_the_keyboard(pg, "imaml-gradient", ["ArrowRight"] * 2)
    # CG in 2-D: exact after two iterations
    pg.locator(f'{F} [data-control="log_lam"] input').fill("0")
    pg.locator(f'{F} [data-control="steps"] input').fill("100")
    for n in range(6):
        pg.locator(f'{F} [data-control="n"] input').fill(str(n))
        scene = assert_native(pg, "imaml-gradient", f"n = {n}")
        value = {r["label"]: r["value"] for r in scene["readouts"]}
        if n >= 2:
            assert value["CG residual after n"] < 1e-12
            assert value["CG g: a"] == pytest.approx(value["exact g: a"], abs=1e-12)
        assert pg.locator(f"{F} .panel").nth(1).locator("circle.point").count() == n + 1
    # bump hills, small λ, no inner steps: I + H/λ is indefinite, and the figure says so
    pg.evaluate("window.mamlvizFigures.find(f => f.id === 'imaml-gradient').change({theta: [0.45, 0.45]})")
    pg.locator(f'{F} [data-control="log_lam"] input').fill("-2")
    pg.locator(f'{F} [data-control="steps"] input').fill("0")
    pg.locator(f'{F} [data-control="n"] input').fill("2")
    scene = assert_native(pg, "imaml-gradient", "indefinite")
    smallest = next(r["value"] for r in scene["readouts"] if r["label"] == "eigenvalues of I + H/λ: smallest")
    assert smallest < 0
    message = pg.locator(f"{F} .figure-message").text_content()
    assert "not positive definite" in message and "flagged" in message
    pg.locator(f'{F} [data-control="n"] input').fill("1")
    assert_native(pg, "imaml-gradient", "indefinite, one CG step")
    assert "no flag is no proof" in pg.locator(f"{F} .figure-message").text_content()
    assert pg.console_errors == []


@pytest.mark.parametrize("part", ["reptile", "imaml"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(browser, served_site, shots, part, width):
    """Both parts at desktop and phone width, for a look by hand (kept under the shots folder)."""
    context, pg = open_part(browser, served_site, part, viewport={"width": width, "height": 900})
    pg.screenshot(path=str(shots / f"{PAGES[part][:-5]}-{width}.png"), full_page=True)
    overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    context.close()
    assert overflow <= 0
