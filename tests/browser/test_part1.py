"""Part 1 in a real browser: the few-shot game played by keyboard and by pointer (click and drag), with what the
reader sees checked: feedback text and marks, scores per mode, persistence across a reload, reset, and play when
the browser refuses storage."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from mamlviz import glyphs, glyphtasks

PAGE = "01-introduction.html"
KEY = "mamlviz.fewshot.scores"
GAME = '.widget[data-widget="fewshot-game"]'


@pytest.fixture
def game(page, served_site):
    def open_game(**kw):
        pg = page(**kw)
        pg.goto(served_site + PAGE)
        pg.wait_for_selector(f"{GAME} .fs-exemplar")
        return pg

    return open_game


def answer_key(pg):
    """The key of the exemplar that shows the query's class."""
    cls = pg.locator(f"{GAME} .fs-query").get_attribute("data-class-id")
    return pg.locator(f'{GAME} .fs-exemplar[data-class-id="{cls}"]').get_attribute("data-key")


def wrong_key(pg):
    right = answer_key(pg)
    keys = pg.locator(f"{GAME} .fs-exemplar").evaluate_all("bs => bs.map(b => b.dataset.key)")
    return next(k for k in keys if k != right)


def feedback(pg):
    return pg.locator(f"{GAME} .fs-feedback").inner_text()


def score(pg):
    return pg.locator(f"{GAME} .fs-score").inner_text()


def stored(pg):
    return json.loads(pg.evaluate(f"localStorage.getItem('{KEY}')") or "null")


def exemplar(pg, key):
    return pg.locator(f'{GAME} .fs-exemplar[data-key="{key}"]')


def test_keyboard_play_right_and_wrong(game):
    pg = game()
    assert pg.locator(f"{GAME} .fs-exemplar").count() == 5
    assert "0 right of 0" in score(pg)
    pg.locator(f"{GAME} .fs-board").focus()
    right = answer_key(pg)
    pg.keyboard.press(right)
    assert feedback(pg) == "Right!"
    assert exemplar(pg, right).locator(".fs-mark").inner_text() == "✓"
    assert "is-answer" in exemplar(pg, right).get_attribute("class")
    assert "5-way: 1 right of 1 (100%)" in score(pg)
    # answering again does nothing until the next trial
    pg.keyboard.press(wrong_key(pg))
    assert "5-way: 1 right of 1" in score(pg)

    pg.keyboard.press("n")                               # next trial, from the keyboard
    assert pg.locator(f"{GAME} .fs-board.is-answered").count() == 0
    right, wrong = answer_key(pg), wrong_key(pg)
    pg.keyboard.press(wrong)
    assert feedback(pg) == f"Not quite — the answer was {right}."
    assert exemplar(pg, wrong).locator(".fs-mark").inner_text() == "✗"
    assert exemplar(pg, right).locator(".fs-mark").inner_text() == "✓"
    assert "5-way: 1 right of 2 (50%)" in score(pg)
    assert stored(pg) == {"5": {"right": 1, "total": 2}, "20": {"right": 0, "total": 0}}
    assert "the answer was" in pg.locator(f"{GAME} .fs-description").text_content()
    assert pg.console_errors == []


def test_tab_to_an_exemplar_and_enter_and_20_way_letter_keys(game):
    pg = game()
    mode20 = pg.locator(f'{GAME} .fs-mode[data-mode="20"]')
    mode20.focus()
    pg.keyboard.press("Enter")
    assert mode20.get_attribute("aria-pressed") == "true"
    keys = pg.locator(f"{GAME} .fs-exemplar").evaluate_all("bs => bs.map(b => b.dataset.key)")
    assert keys == list("1234567890abcdefghij")
    # reach the right exemplar with Tab from the one before it, then press Enter
    right = answer_key(pg)
    i = keys.index(right)
    if i > 0:
        exemplar(pg, keys[i - 1]).focus()
        pg.keyboard.press("Tab")
    else:
        exemplar(pg, right).focus()
    assert pg.evaluate("document.activeElement.dataset.key") == right
    pg.keyboard.press("Enter")
    assert feedback(pg) == "Right!"
    assert "20-way: 1 right of 1 (100%)" in score(pg)
    # a letter key in the next 20-way trial
    pg.keyboard.press("Enter")                          # focus moved to "Next trial"
    assert pg.locator(f"{GAME} .fs-board.is-answered").count() == 0
    letters = [k for k in keys if k.isalpha() and k != answer_key(pg)]
    pg.keyboard.press(letters[0])
    assert feedback(pg).startswith("Not quite — the answer was ")
    assert stored(pg)["20"] == {"right": 1, "total": 2}


def test_pointer_click_and_drag(game):
    pg = game()
    exemplar(pg, answer_key(pg)).click()
    assert feedback(pg) == "Right!"
    assert "5-way: 1 right of 1" in score(pg)
    pg.get_by_role("button", name="Next trial").click()

    # drag the query onto the right exemplar
    target = exemplar(pg, answer_key(pg))
    q = pg.locator(f"{GAME} .fs-query").bounding_box()
    t = target.bounding_box()
    pg.mouse.move(q["x"] + q["width"] / 2, q["y"] + q["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(t["x"] + t["width"] / 2, t["y"] + t["height"] / 2, steps=8)
    assert "is-drop-target" in target.get_attribute("class")
    pg.mouse.up()
    assert feedback(pg) == "Right!"
    assert "5-way: 2 right of 2" in score(pg)
    assert pg.locator(".fs-ghost").count() == 0

    # drag onto a wrong one, in 20-way mode, with Playwright's drag_to
    pg.get_by_role("button", name="20-way").click()
    right, wrong = answer_key(pg), wrong_key(pg)
    pg.locator(f"{GAME} .fs-query").drag_to(exemplar(pg, wrong))
    assert feedback(pg) == f"Not quite — the answer was {right}."
    assert "20-way: 0 right of 1 (0%)" in score(pg)
    # a drag that ends outside every exemplar answers nothing
    pg.get_by_role("button", name="Next trial").click()
    q = pg.locator(f"{GAME} .fs-query").bounding_box()
    pg.mouse.move(q["x"] + 20, q["y"] + 20)
    pg.mouse.down()
    pg.mouse.move(5, 5, steps=5)
    pg.mouse.up()
    assert pg.locator(f"{GAME} .fs-board.is-answered").count() == 0
    assert pg.console_errors == []


def test_scores_persist_across_reload_and_reset(game):
    pg = game()
    pg.locator(f"{GAME} .fs-board").focus()
    pg.keyboard.press(answer_key(pg))
    pg.keyboard.press("n")
    pg.keyboard.press(wrong_key(pg))
    assert "5-way: 1 right of 2" in score(pg)
    first_round = pg.locator(f"{GAME} .fs-round").inner_text()

    pg.reload()
    pg.wait_for_selector(f"{GAME} .fs-exemplar")
    assert "5-way: 1 right of 2 (50%)" in score(pg)
    assert pg.locator(f"{GAME} .fs-round").inner_text() != first_round       # a new trial, not a repeat
    assert re.search(r"5-way: [012] of 2\b", pg.locator(f"{GAME} .fs-machine-score").inner_text())

    pg.get_by_role("button", name="Reset scores").click()
    assert "5-way: 0 right of 0 · 20-way: 0 right of 0" in score(pg)
    assert feedback(pg) == "Scores reset to zero for both modes."
    assert stored(pg) == {"5": {"right": 0, "total": 0}, "20": {"right": 0, "total": 0}}
    pg.reload()
    pg.wait_for_selector(f"{GAME} .fs-exemplar")
    assert "5-way: 0 right of 0" in score(pg)


def test_plays_without_storage(game):
    deny = """Object.defineProperty(window, 'localStorage', {configurable: true,
        get() { throw new DOMException('storage disabled', 'SecurityError'); }});"""
    pg = game(init_script=deny)
    note = pg.locator(f"{GAME} .fs-storage-note")
    assert note.is_visible()
    exemplar(pg, answer_key(pg)).click()
    assert feedback(pg) == "Right!"
    assert "5-way: 1 right of 1" in score(pg)
    assert pg.console_errors == []


def nearest_keys(pg, built_site):
    """The naive and the blurred machine's picks for the trial on screen, computed here: Python's rasters
    (glyphs.glyph_image, glyphtasks.blur_matrix) of the drawings the page shows, and numpy's argmin."""
    data = json.loads((built_site / "data" / "fewshot-game.json").read_text())
    query = pg.locator(f"{GAME} .fs-query")
    img = lambda c, d: glyphs.glyph_image(data["glyphs"][int(c)][int(d)])
    q = img(query.get_attribute("data-class-id"), query.get_attribute("data-drawer"))
    cards = pg.locator(f"{GAME} .fs-exemplar").evaluate_all(
        "bs => bs.map(b => [b.dataset.key, b.dataset.classId, b.dataset.drawer])")
    ex = [img(c, d) for _, c, d in cards]
    B = glyphtasks.blur_matrix()
    raw = int(np.argmin([((q - e) ** 2).sum() for e in ex]))
    blurred = int(np.argmin([((B @ (q - e) @ B.T) ** 2).sum() for e in ex]))
    return cards[raw][0], cards[blurred][0]


def test_naive_machines_pick_the_nearest_exemplar(game, built_site):
    pg = game()
    answers = []
    for _ in range(3):                                     # three trials: their answers and the machines' picks
        raw, blurred = nearest_keys(pg, built_site)
        right = answer_key(pg)
        exemplar(pg, right).click()
        line = pg.locator(f"{GAME} .fs-machine").inner_text()
        assert line.startswith(f"The naive machine (nearest neighbour on raw pixels) picked {raw} — ")
        assert pg.locator(f"{GAME} .fs-blur").inner_text().endswith(f"picked {blurred}" + (" — right." if blurred == right else " — wrong."))
        answers.append((raw == right, blurred == right))
        pg.locator(f"{GAME} .fs-next").click()
    raw_right, blur_right = (sum(a[i] for a in answers) for i in (0, 1))
    assert f"5-way: {raw_right} of 3" in pg.locator(f"{GAME} .fs-machine-score").inner_text()
    assert f"5-way: {blur_right} of 3" in pg.locator(f"{GAME} .fs-blur-score").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(game, shots, width):
    pg = game(viewport={"width": width, "height": 900})
    pg.locator(f"{GAME} .fs-board").focus()
    pg.keyboard.press(wrong_key(pg))
    pg.locator(GAME).screenshot(path=str(shots / f"part1-game-{width}.png"))
    pg.screenshot(path=str(shots / f"part1-{width}.png"), full_page=True)
    box = pg.locator(GAME).bounding_box()
    assert box["width"] <= width
    assert pg.evaluate("document.documentElement.scrollWidth") <= width


def test_garbage_in_storage_is_replaced_not_taken_for_blocked_storage(game):
    # a corrupt entry (another version, a hand edit) is not a reason to stop saving: start from zero and save
    corrupt = f"""if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', '1');
        localStorage.setItem('{KEY}', '{{not json'); }}"""
    pg = game(init_script=corrupt)
    assert pg.locator(f"{GAME} .fs-storage-note").is_hidden()
    assert "5-way: 0 right of 0" in score(pg)
    exemplar(pg, answer_key(pg)).click()
    assert stored(pg) == {"5": {"right": 1, "total": 1}, "20": {"right": 0, "total": 0}}
    pg.reload()
    pg.wait_for_selector(f"{GAME} .fs-exemplar")
    assert "5-way: 1 right of 1" in score(pg)
    assert pg.console_errors == []
