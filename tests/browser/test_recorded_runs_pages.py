"""Every training figure of every part says something before Start (issue 26): the first frame the build wrote into
the page draws a recorded run in grey (bench/recorded_runs.py; Part 8's classification race: bench/glyph_race.py)
and says what it is. The training figures are listed from the built pages, not typed here."""

from __future__ import annotations

import json
import re

import pytest

FIGURE = re.compile(r'<figure class="figure"[^>]*data-figure="([^"]+)".*?</figure>', re.S)


def training_figures(site):
    """{figure id: (page, its markup)} for every figure a built page declares as training."""
    found = {}
    for page in sorted(site.glob("*.html")):
        for m in FIGURE.finditer(page.read_text(encoding="utf-8")):
            data = json.loads(re.search(r'<script type="application/json" class="figure-data">(.*?)</script>',
                                        m.group(0), re.S).group(1))
            if data.get("training"):
                found[m.group(1)] = (page.name, m.group(0))
    return found


def test_every_training_figure_of_every_page_draws_its_recorded_run_in_its_first_frame(built_site):
    found = training_figures(built_site)
    # the pages hold them all: every part's training figures (a figure left off a page would not be listed)
    assert {page for page, _ in found.values()} >= {"03-how-maml-works.html", "04-meta-gradient-cost.html",
                                                    "05-first-order-maml.html", "08-comparison.html",
                                                    "09-conclusion.html"}
    for figure_id, (page, markup) in found.items():
        svg = markup[markup.index('<div class="panels"'):]
        grey = re.findall(r'<path [^>]*class="line recorded"', svg)
        assert grey, f"{figure_id} ({page}): no recorded run in its first frame"
        legend = re.search(r'<ul class="legend">(.*?)</ul>', markup, re.S).group(1)
        assert re.search(r'<li class="recorded">.*?recorded', legend, re.S), f"{figure_id}: no legend of the grey run"
        said = re.sub(r"<[^>]+>", "", markup)
        assert re.search(r"recorded (natively|native run)|recorded native", said), f"{figure_id}: nothing says where"


@pytest.mark.parametrize("page_name,figure_id", [("04-meta-gradient-cost.html", "meta-cost"),
                                                 ("09-conclusion.html", "cost-per-update")])
def test_the_timing_figures_show_their_recorded_measurement_before_measure(page, served_site, page_name, figure_id):
    """In Chromium, before the reader presses Measure: the grey lines are on screen and the message says where and
    when they were measured, and under what load."""
    pg = page()
    pg.goto(served_site + page_name)
    fig = pg.locator(f'.figure[data-figure="{figure_id}"]')
    fig.scroll_into_view_if_needed()
    grey = fig.locator("path.line.recorded")
    assert grey.count() >= 4
    widths = [grey.nth(i).bounding_box()["width"] for i in range(grey.count())]   # drawn on screen (bars are flat)
    assert max(widths) > 20 and grey.first.evaluate("e => getComputedStyle(e).stroke") != "none"
    message = fig.locator(".figure-message").inner_text()
    assert "Press Measure" in message and "recorded natively" in message and "load average" in message
