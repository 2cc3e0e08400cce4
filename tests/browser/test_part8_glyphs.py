"""Part 8's classification race in a real browser: the recorded run is drawn before Start; the race runs in its
training worker, its numbers after 20 rounds equal a native race of the same seed; it pauses, resumes and resets;
its state comes from the URL."""

from __future__ import annotations

import json

import pytest

from mamlviz import glyphrace
from mamlviz.figures import part8_glyphs

from live import RUNTIME, pause_and_check_stopped, running

PAGE = "08-comparison.html"
F = '.figure[data-figure="glyph-race"]'


def describe(pg):
    return pg.locator(f"{F} .describe p").text_content()


def rounds(pg):
    return int(pg.locator(f'{F} dd[data-readout="rounds"]').inner_text())


def scene(pg):
    return json.loads(pg.evaluate("JSON.stringify(window.mamlvizFigures.find(f => f.id === 'glyph-race').scene)"))


@pytest.fixture(scope="module")
def page(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + PAGE)
    pg.locator(F).scroll_into_view_if_needed()
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=300_000)
    yield pg
    pg.context.close()


def test_the_recorded_run_is_drawn_before_start(page):
    rec = part8_glyphs.recorded()
    assert describe(page).startswith("Ready") and "recorded native run" in describe(page)
    # median, low and high of four methods, in grey, on the by-updates panel
    assert page.locator(f"{F} .panel").first.locator("path.line.recorded").count() >= 12
    maml = f"MAML {100 * rec['median']['maml']['own'][-1]:.1f} %"
    assert maml in describe(page)


def test_twenty_rounds_equal_a_native_race_of_the_same_seed(page, shots):
    page.locator(f'{F} [data-control="budget"] input').fill("20")
    page.locator(f'{F} [data-control="start"] button').click()
    page.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Finished after 20 ')",
                           timeout=600_000)
    native = glyphrace.Race(seed=0)
    for _ in range(20):
        native.run_round()
    want = native.evaluate()
    got = {r["label"]: r["value"] for r in scene(page)["readouts"]}
    for m, name in part8_glyphs.RACERS.items():
        # accuracies on 1,000 trials (k/1000): equal to 4 decimals as fractions, 1 decimal as per cent
        assert got[f"{name}: own adaptation (%)"] == round(100 * want[m][0], 1), name
        assert got[f"{name}: 5 steps at 0.4 (%)"] == round(100 * want[m][1], 1), name
        assert got[f"{name}: updates/s"] > 0
    text = describe(page)
    for m, name in part8_glyphs.RACERS.items():
        assert f"{name} {100 * want[m][0]:.1f} % / {100 * want[m][1]:.1f} %" in text
    page.locator(F).screenshot(path=str(shots / "glyph-race-20.png"))
    assert page.console_errors == []


def test_the_race_pauses_resumes_and_resets(page):
    page.locator(f'{F} [data-control="budget"] input').fill("2000")
    page.locator(f'{F} [data-control="start"] button').click()
    page.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Racing')",
                           timeout=60_000)
    assert "glyph-race" in running(page)["training-1"]
    # while it races, the other figures of the page answer (keyboard on the comparison figure's θ)
    before = page.locator('.figure[data-figure="four-methods"] .describe p').text_content()
    page.locator('.figure[data-figure="four-methods"] .handle').focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_function("document.querySelector('.figure[data-figure=\"four-methods\"] .describe p').textContent "
                           f"!== {json.dumps(before)}", timeout=30_000)
    assert "glyph-race" in running(page)["training-1"]
    page.wait_for_function(f"Number(document.querySelector('{F} dd[data-readout=\"rounds\"]').textContent) > 21",
                           timeout=300_000)
    paused_at = pause_and_check_stopped(page, F, rounds)
    page.locator(f'{F} [data-control="start"] button').click()          # resume from where it stopped
    page.wait_for_function(f"Number(document.querySelector('{F} dd[data-readout=\"rounds\"]').textContent) > "
                           f"{paused_at}", timeout=300_000)
    assert rounds(page) > paused_at
    page.locator(f'{F} [data-control="reset"] button').click()
    page.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Ready')")
    assert rounds(page) == 0
    assert page.console_errors == []


def test_seed_and_budget_come_from_the_url(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + PAGE + "#glyph-race:seed=3;budget=40")
    pg.locator(F).scroll_into_view_if_needed()
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=300_000)
    state = json.loads(pg.evaluate("JSON.stringify(window.mamlvizFigures.find(f => f.id === 'glyph-race').state)"))
    assert state["seed"] == 3 and state["budget"] == 40
    pg.context.close()


@pytest.mark.parametrize("touch", [False, True])
def test_the_race_fits_a_phone(open_page, served_site, shots, touch):
    pg = open_page(viewport={"width": 390, "height": 844}, has_touch=touch, is_mobile=touch)
    pg.goto(served_site + PAGE)
    pg.locator(F).scroll_into_view_if_needed()
    box = pg.locator(F).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.locator(F).screenshot(path=str(shots / f"glyph-race-390{'-touch' if touch else ''}.png"))
    pg.context.close()
