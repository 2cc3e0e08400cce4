"""Part 1's panel "Teach the machines your own characters", in real Chromium with real Pyodide: Playwright's mouse
draws five characters and a query and the three machines answer; the probabilities shown after every inner step
equal a native computation for the same drawings (Python's plain rasteriser on the glyph text the panel made, 2 × 2
pooling, the 5-way model's last layer cut to N outputs, SGD written out); the pixel machines pick what NumPy's
nearest neighbour picks; keyboard-only use through "a character from the game"; the drawings survive a link;
bad input is answered in words. One live page per module (one Pyodide boot)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mamlviz import glyphs, glyphtasks as gt

PAGE = "01-introduction.html"
PANEL = '.widget[data-widget="fewshot-draw"]'
BOOT = 180_000

# five characters a reader might draw (points in the unit box of a pad) and a query like the third
SHAPES = [
    [[(0.2, 0.2), (0.8, 0.8)], [(0.8, 0.2), (0.2, 0.8)]],                     # an X
    [[(0.5, 0.1), (0.5, 0.9)]],                                                # a bar
    [[(0.2, 0.3), (0.8, 0.3), (0.35, 0.85)]],                                  # a 7
    [[(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.3)]],           # a box
    [[(0.2, 0.8), (0.5, 0.2), (0.8, 0.8)], [(0.35, 0.55), (0.65, 0.55)]],     # an A
]
QUERY = [[(0.25, 0.32), (0.75, 0.27), (0.4, 0.88)]]                            # another 7


@pytest.fixture(scope="module")
def models():
    return gt.load_models()


@pytest.fixture(scope="module")
def live(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + PAGE)
    pg.wait_for_selector(f"{PANEL}[data-mounted=true]")
    # the runtime is live once the game's machine has answered its first trial
    pg.wait_for_selector('.widget[data-widget="fewshot-game"][data-maml-status=answered]', timeout=BOOT)
    pg.locator(PANEL).scroll_into_view_if_needed()
    yield pg
    pg.context.close()


def draw(pg, cell, strokes, steps=8):
    """Draw `strokes` with Playwright's mouse on the pad of visible cell `cell` (examples first, then queries)."""
    pad = pg.locator(f"{PANEL} .fd-cell:not([hidden]) .fd-pad").nth(cell)
    pad.evaluate("e => e.scrollIntoView({block: 'center'})")           # clear of the sticky header
    box = pad.bounding_box()
    at = lambda x, y: (box["x"] + x * box["width"], box["y"] + y * box["height"])   # noqa: E731
    for pts in strokes:
        pg.mouse.move(*at(*pts[0]))
        pg.mouse.down()
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            for t in range(1, steps + 1):
                pg.mouse.move(*at(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps))
        pg.mouse.up()


def visible_glyphs(pg):
    """The glyph text of every visible cell, examples then queries (what the panel made of the drawings)."""
    return pg.locator(f"{PANEL} .fd-cell:not([hidden])").evaluate_all("cs => cs.map(c => c.dataset.glyph)")


def native_steps(models, texts, n):
    """The queries' probabilities after each of 5 SGD steps (α = 0.4) of the 5-way model with only its first n
    outputs, computed here without the panel or figure code."""
    model, theta, meta = models["5"]
    lr, steps = meta["config"]["inner_lr"], meta["config"]["inner_steps"]
    imgs = np.array([glyphs.glyph_image(t).ravel() for t in texts])
    x = imgs.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196)
    w0 = model.layers[-1][2]
    last = theta[w0:w0 + 64 * 5].reshape(64, 5)[:, :n]
    small = type(model)((196, 64, 64, n), loss="xent")
    phi = np.concatenate([theta[:w0], last.ravel(), theta[w0 + 320:w0 + 320 + n]])
    out = []
    for k in range(steps + 1):
        z = small.predict(phi, x[n:])
        out.append(np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
        phi = phi - lr * small.loss_grad(phi, x[:n], np.eye(n))[1]
    return np.array(out), imgs


def nearest(imgs, n, sigma=None):
    b = gt.blur_matrix(sigma) if sigma else np.eye(28)
    im = [b @ i.reshape(28, 28) @ b.T for i in imgs]
    return [int(np.argmin([np.sum((q - e) ** 2) for e in im[:n]])) for q in im[n:]]


def check_answers(pg, models, n):
    """The page's answers for the drawings on screen against the native computation; returns its steps."""
    texts = visible_glyphs(pg)
    assert all(texts) and len(texts) > n
    shown = np.array(json.loads(pg.locator(PANEL).get_attribute("data-steps")))
    want, imgs = native_steps(models, texts, n)
    assert shown.shape == want.shape == (6, len(texts) - n, n)
    np.testing.assert_allclose(shown, want, rtol=1e-4, atol=1e-7)      # the page's pixels are float32
    answers = pg.locator(f"{PANEL} .fd-answer")
    raw, soft = nearest(imgs, n), nearest(imgs, n, gt.BLUR_SIGMA)
    for q in range(len(texts) - n):
        text = answers.nth(q).inner_text()
        assert f"raw pixels: example {raw[q] + 1}" in text and f"blurred pixels: example {soft[q] + 1}" in text
        assert f"MAML (5 steps at α = 0.4): example {int(np.argmax(want[-1, q])) + 1}" in text
        rows = answers.nth(q).locator("tbody tr")
        assert rows.count() == 6                                        # steps 0 to 5
        for k in (0, 5):
            assert rows.nth(k).locator("td").all_inner_texts() == [f"{100 * p:.1f}%" for p in want[k, q]]
    return shown


def test_mouse_drawings_get_answers_equal_to_native(live, models, shots):
    pg = live
    pg.select_option(f"{PANEL} select[id$=-n]", "5")
    for k, shape in enumerate(SHAPES):
        draw(pg, k, shape)
    assert pg.locator(PANEL).get_attribute("data-answer") == "waiting"
    # the answer's clock: from the query's last pointerup (the test's own listener) to the answer on the page
    pg.evaluate("window.addEventListener('pointerup', () => { window.__lastUp = performance.now(); }, true)")
    draw(pg, 5, QUERY)
    pg.wait_for_selector(f"{PANEL}[data-answer=answered]", timeout=30_000)
    ms = pg.evaluate(f"+document.querySelector('{PANEL}').dataset.answeredAt - window.__lastUp")
    print(f"answer {ms:.1f} ms after the last stroke (figure {pg.locator(PANEL).get_attribute('data-compute-ms')} ms)")
    steps = check_answers(pg, models, 5)
    assert int(np.argmax(steps[-1, 0])) == 2                          # the query is another 7
    assert "masked" not in pg.locator(f"{PANEL} .fd-answers").inner_text()
    # the 14 × 14 image the MLP reads is shown beside each drawing
    assert pg.locator(f"{PANEL} .fd-cell:not([hidden]) .fd-seen rect").count() > 6 * 10
    pg.locator(PANEL).screenshot(path=str(shots / "part1-draw-1280.png"))
    assert pg.console_errors == []


def test_undo_clear_fewer_characters_masked_and_the_link_reproduces(live, models, open_page, served_site):
    pg = live
    pg.select_option(f"{PANEL} select[id$=-n]", "3")
    pg.select_option(f"{PANEL} select[id$=-q]", "2")
    assert pg.locator(PANEL).get_attribute("data-answer") == "waiting"
    assert "Query 2" in pg.locator(f"{PANEL} .fd-status").inner_text()
    draw(pg, 4, SHAPES[1] + SHAPES[0][:1])                                  # query 2: a bar and a stray stroke
    pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(4).locator(".fd-undo").click()    # the stray stroke goes
    pg.wait_for_selector(f"{PANEL}[data-answer=answered]", timeout=30_000)
    steps = check_answers(pg, models, 3)
    assert steps.shape == (6, 2, 3)
    assert "2 unused outputs are masked" in pg.locator(f"{PANEL} .fd-masked").inner_text()
    # the link holds the drawings: a fresh page gives the same answers
    pg.locator(PANEL).get_by_role("button", name="Copy link to these drawings").click()
    url = pg.url
    assert "#fewshot-draw:n=3;q=2;c=" in url
    other = open_page()
    other.goto(url)
    other.wait_for_selector(f"{PANEL}[data-answer=answered]", timeout=BOOT)
    assert visible_glyphs(other) == visible_glyphs(pg)
    np.testing.assert_array_equal(json.loads(other.locator(PANEL).get_attribute("data-steps")), steps)
    other.context.close()
    # clear a cell: the machines wait for it again and say so
    pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(1).locator(".fd-clear").click()
    assert pg.locator(PANEL).get_attribute("data-answer") == "waiting"
    assert "Example 2" in pg.locator(f"{PANEL} .fd-status").inner_text()
    assert pg.locator(f"{PANEL} .fd-answer").count() == 0


def test_bad_input_gets_a_clear_answer(open_page, served_site):
    pg = open_page()
    # N = 1 and a cell that cannot be read, from a link
    pg.goto(served_site + PAGE + "#fewshot-draw:n=1;q=1;c=~3.0,%%%,")
    pg.wait_for_selector(f"{PANEL}[data-mounted=true]")
    notice = pg.locator(f"{PANEL} .fd-notice")
    notice.wait_for()
    assert "at least 2 characters" in notice.inner_text() and "could not be read" in notice.inner_text()
    assert pg.locator(f"{PANEL} select[id$=-n]").input_value() == "2"
    pg.locator(PANEL).scroll_into_view_if_needed()
    # a query before the examples
    draw(pg, 2, QUERY)
    assert "need one example of every character first" in pg.locator(f"{PANEL} .fd-status").inner_text()
    # a single dot; a drawing off the edge
    draw(pg, 1, [[(0.5, 0.5), (0.505, 0.5)]], steps=1)
    assert "single dot" in pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(1).inner_text()
    pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(1).locator(".fd-clear").click()
    draw(pg, 1, [[(0.5, 0.5), (1.4, 0.5)]])
    assert "past the edge" in pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(1).inner_text()
    # and then it answers
    pg.wait_for_selector(f"{PANEL}[data-answer=answered], {PANEL}[data-answer=partial]", timeout=BOOT)
    # saved drawings: a file that is not one is refused in words; the panel's own file brings its drawings back
    with pg.expect_download() as download:
        pg.locator(PANEL).get_by_role("button", name="Save drawings to a file").click()
    saved = open(download.value.path(), "rb").read()
    assert len(saved) < 2000 and json.loads(saved)["mamlviz"] == "fewshot-draw"
    before = visible_glyphs(pg)
    files = pg.locator(f"{PANEL} .fd-file")
    files.set_input_files(files=[{"name": "x.json", "mimeType": "application/json", "buffer": b"not drawings"}])
    pg.wait_for_function("e => e.textContent.includes('does not hold drawings')", arg=notice.element_handle())
    pg.locator(f"{PANEL} .fd-cell:not([hidden])").nth(2).locator(".fd-clear").click()
    assert visible_glyphs(pg)[2] == ""
    files.set_input_files(files=[{"name": "mine.json", "mimeType": "application/json", "buffer": saved}])
    pg.wait_for_function("n => n.dataset.answer !== 'waiting'", arg=pg.locator(PANEL).element_handle())
    assert visible_glyphs(pg) == before
    assert pg.console_errors == []
    pg.context.close()


def test_keyboard_only(open_page, served_site, models):
    """No pointer: Tab to the controls, choose N, then a game character for every box with the arrow keys; the
    machines answer and the answers are in text."""
    pg = open_page()
    pg.goto(served_site + PAGE)
    pg.wait_for_selector(f"{PANEL}[data-mounted=true]")
    pg.wait_for_selector('.widget[data-widget="fewshot-game"][data-maml-status=answered]', timeout=BOOT)
    pg.locator(f"{PANEL} select[id$=-n]").focus()
    pg.keyboard.press("ArrowUp")                                          # 3 → 2 characters
    assert pg.locator(f"{PANEL} select[id$=-n]").input_value() == "2"
    pickers = pg.locator(f"{PANEL} .fd-cell:not([hidden]) .fd-pick")
    assert pickers.count() == 3
    for k, presses in enumerate([1, 2, 2]):                              # characters 1 and 2; the query is a 2
        pg.keyboard.press("Tab")
        while not pickers.nth(k).evaluate("e => e === document.activeElement"):
            pg.keyboard.press("Tab")
        pg.wait_for_function("e => e.options.length > 1", arg=pickers.nth(k).element_handle())
        for _ in range(presses):
            pg.keyboard.press("ArrowDown")
    pg.wait_for_selector(f"{PANEL}[data-answer=answered]", timeout=30_000)
    steps = check_answers(pg, models, 2)
    texts = visible_glyphs(pg)
    data = glyphs.widget_data()
    assert texts == [data["glyphs"][0][0], data["glyphs"][1][1], data["glyphs"][1][10]]
    assert int(np.argmax(steps[-1, 0])) in (0, 1)
    assert pg.locator(f"{PANEL} .fd-answers").inner_text().count("example") >= 3
    assert pg.console_errors == []
    pg.context.close()
