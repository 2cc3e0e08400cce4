"""Part 2 in a real browser: the map highlights a method's paragraph on focus and hover (and back), and the
Omniglot timeline shows the reader's Part 1 scores, or says how to get one."""

from __future__ import annotations

import json

import pytest

PART1 = "01-introduction.html"
PAGE = "02-where-maml-sits.html"
KEY = "mamlviz.fewshot.scores"
MAP = '.widget[data-widget="approach-map"]'
TIMELINE = '.widget[data-widget="omniglot-timeline"]'
GAME = '.widget[data-widget="fewshot-game"]'
METHODS = ["siamese", "matching", "prototypical", "mann", "metanet", "learned-optimisers", "maml"]


@pytest.fixture
def part2(page, served_site):
    def open_page(**kw):
        pg = page(**kw)
        pg.goto(served_site + PAGE)
        pg.wait_for_selector(f"{MAP} .am-method")
        pg.wait_for_selector(f"{TIMELINE} .ot-chart svg")
        return pg

    return open_page


def highlighted(pg):
    return pg.locator(".am-described.is-highlighted").evaluate_all("ps => ps.map(p => p.dataset.method)")


def test_every_method_has_a_paragraph(part2):
    pg = part2()
    assert pg.locator(".am-described").evaluate_all("ps => ps.map(p => p.dataset.method)") == METHODS
    for m in METHODS:
        link = pg.locator(f'{MAP} .am-method[data-method="{m}"]')
        assert link.get_attribute("href") == f"#method-{m}"
        para = pg.locator(f"#method-{m}")
        assert para.evaluate("p => p.tagName") == "P"
    assert highlighted(pg) == []
    assert pg.console_errors == []


def test_focus_highlights_the_paragraph_and_tab_moves_it(part2):
    pg = part2()
    pg.locator(f'{MAP} .am-method[data-method="siamese"]').focus()
    assert highlighted(pg) == ["siamese"]
    assert "is-active" in pg.locator(f'{MAP} .am-method[data-method="siamese"]').get_attribute("class")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.dataset.method") == "matching"
    assert highlighted(pg) == ["matching"]
    assert "Matching networks" in pg.locator(f"{MAP} .am-description").text_content()
    # Enter follows the link to the paragraph
    pg.keyboard.press("Enter")
    assert pg.evaluate("location.hash") == "#method-matching"
    pg.locator("body").focus()
    pg.evaluate("document.activeElement.blur()")
    assert highlighted(pg) == []


def test_hover_highlights_the_paragraph_and_back(part2):
    pg = part2()
    pg.locator(f'{MAP} .am-method[data-method="maml"]').hover()
    assert highlighted(pg) == ["maml"]
    pg.locator(f'{MAP} .am-method[data-method="metanet"]').hover()
    assert highlighted(pg) == ["metanet"]
    pg.mouse.move(0, 0)
    assert highlighted(pg) == []
    # hovering a paragraph marks its method on the map
    pg.locator("#method-prototypical").hover()
    assert highlighted(pg) == ["prototypical"]
    assert "is-active" in pg.locator(f'{MAP} .am-method[data-method="prototypical"]').get_attribute("class")


def test_timeline_without_a_score(part2):
    pg = part2()
    assert pg.locator(f"{TIMELINE} .ot-note").inner_text() == "Play the game in Part 1 to see your score here."
    assert pg.locator(f"{TIMELINE} .ot-row:not(.is-glyph)").count() == 8     # the machines on our glyphs: test_game_maml.py
    assert pg.locator(f"{TIMELINE} .ot-row.is-you").count() == 0
    rows = pg.locator(f"{TIMELINE} table tbody tr").evaluate_all(
        "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
    rows = [r for r in rows if r[0] != "this site"]      # the published rows (the glyph machines follow them)
    assert ["2017", "MAML", "Optimisation-based", "95.8%"] == rows[-2][:4]
    assert rows[-2][5] == "Finn et al. 2017, Table 1 (± 0.3)" and "split" in rows[-2][4]
    assert ["2013", "Hierarchical Bayesian Program Learning †", "Probabilistic (stroke) models", "95.2%"] == rows[0][:4]
    # in order of first publication: Meta Networks, MAML and Prototypical networks all appeared in March 2017
    names = [r[1].rstrip(" †") for r in rows]
    assert names == ["Hierarchical Bayesian Program Learning", "Siamese nets", "Bayesian Program Learning",
                     "Matching nets", "Siamese nets, re-run by Vinyals et al.", "Meta Networks", "MAML",
                     "Prototypical nets"]
    text = pg.locator(TIMELINE).text_content()
    assert "82.8" not in text and "54.9" not in text and "Memory-augmented" not in text   # 5-way / untraced
    assert "You have no score yet." in pg.locator(f"{TIMELINE} .ot-description").text_content()
    assert "not strictly comparable" in pg.locator(f"{TIMELINE} .ot-caveat").inner_text()
    assert "† Lake et al.'s protocol" in pg.locator(f"{TIMELINE} .ot-caveat").inner_text()


def test_timeline_markers_sit_at_their_accuracy(part2):
    """Each published row's marker is drawn at its accuracy on a linear axis: x is an affine function of the number
    in the row (checked against the two extreme rows), in the order the table gives."""
    pg = part2()
    got = pg.locator(f"{TIMELINE} .ot-row:not(.is-you):not(.is-glyph)").evaluate_all("""gs => gs.map(g => {
        const m = g.querySelector('.ot-point').getBBox();
        const value = parseFloat([...g.querySelectorAll('text')].pop().textContent);
        return [m.x + m.width / 2, value];
    })""")
    accs = [a for _, a in got]
    assert accs == [95.2, 92.0, 96.7, 93.8, 88.1, 97.0, 95.8, 96.0]
    (x0, a0), (x1, a1) = min(got, key=lambda p: p[1]), max(got, key=lambda p: p[1])
    for x, a in got:
        assert x == pytest.approx(x0 + (a - a0) * (x1 - x0) / (a1 - a0), abs=0.6)


def test_score_from_the_game_appears_on_the_timeline(page, served_site):
    pg = page()
    pg.goto(served_site + PART1)
    pg.wait_for_selector(f"{GAME} .fs-exemplar")
    pg.get_by_role("button", name="20-way").click()
    for right in (True, False, True, True):
        cls = pg.locator(f"{GAME} .fs-query").get_attribute("data-class-id")
        ex = pg.locator(f"{GAME} .fs-exemplar")
        target = ex.locator(f'xpath=self::*[@data-class-id="{cls}"]') if right else \
            ex.locator(f'xpath=self::*[not(@data-class-id="{cls}")]').first
        target.click()
        pg.get_by_role("button", name="Next trial").click()
    pg.goto(served_site + PAGE)
    pg.wait_for_selector(f"{TIMELINE} .ot-row.is-you")
    you = pg.locator(f'{TIMELINE} .ot-row[data-you="20"]')
    assert "75.0%" in you.text_content()
    assert "4 trials" in you.text_content()
    assert pg.locator(f'{TIMELINE} .ot-row[data-you="5"]').count() == 0
    note = pg.locator(f"{TIMELINE} .ot-note").inner_text()
    assert "20-way: 3 right of 4 trials (75.0%)" in note
    assert "the starred row" in note
    assert "You, 20-way (4 trials)" in pg.locator(f"{TIMELINE} table").text_content()


def test_five_way_score_is_labelled_as_another_task(part2):
    pg = part2()
    pg.evaluate(f"localStorage.setItem('{KEY}', '{json.dumps({'5': {'right': 4, 'total': 5}})}')")
    pg.reload()
    pg.wait_for_selector(f"{TIMELINE} .ot-row.is-you")
    assert pg.locator(f'{TIMELINE} .ot-row[data-you="5"]').count() == 1
    assert pg.locator(f'{TIMELINE} .ot-row[data-you="20"]').count() == 0
    note = pg.locator(f"{TIMELINE} .ot-note").inner_text()
    assert "5-way: 4 right of 5 (80.0%)" in note and "different, easier task" in note
    assert "Play the 20-way game" in note


def test_timeline_ignores_garbage_in_storage(part2):
    pg = part2()
    pg.evaluate(f"localStorage.setItem('{KEY}', '{{not json')")
    pg.reload()
    pg.wait_for_selector(f"{TIMELINE} .ot-chart svg")
    assert pg.locator(f"{TIMELINE} .ot-row.is-you").count() == 0
    assert pg.console_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(part2, shots, width):
    pg = part2(viewport={"width": width, "height": 900})
    pg.evaluate(f"localStorage.setItem('{KEY}', '{json.dumps({'5': {'right': 9, 'total': 10}, '20': {'right': 7, 'total': 8}})}')")
    pg.reload()
    pg.wait_for_selector(f"{TIMELINE} .ot-row.is-you")
    pg.locator(f'{MAP} .am-method[data-method="maml"]').hover()
    pg.locator(MAP).screenshot(path=str(shots / f"part2-map-{width}.png"))
    pg.locator(TIMELINE).screenshot(path=str(shots / f"part2-timeline-{width}.png"))
    pg.screenshot(path=str(shots / f"part2-{width}.png"), full_page=True)
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    svg_w = pg.locator(f"{TIMELINE} .ot-chart svg").bounding_box()["width"]
    assert svg_w <= width
