"""The seeded random reader (tests/browser/random_reader.py) on every page with figures or widgets: 100 actions a page
(clicks, drags, keys, slider extremes and rapid repeats, selects, garbage URL fragments), then no console error, no
NaN / undefined / traceback in sight, and every figure still answers. `bench/random_reader.py` runs 500 a page.

One live page walks the parts by the menu (the worker stays up), as a reader would.
"""

from __future__ import annotations

import pytest

from random_reader import Reader, bad_text, garbage_hash, settle, still_answers

PAGES = [f"{n:02d}" for n in range(1, 10)]  # Part 10 has neither figures nor widgets
ACTIONS = 100
SEED = 12


@pytest.fixture(scope="module")
def reader_page(open_page, served_site):
    pg = open_page(viewport={"width": 1280, "height": 900})
    pg.goto(served_site + "index.html")
    pg.hrefs = dict(zip(PAGES, pg.locator(".menu-parts > li > a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")))
    yield pg
    pg.context.close()


@pytest.mark.parametrize("name", PAGES)
def test_random_reader_leaves_every_page_working(reader_page, name, outside_requests, served_site):
    pg = reader_page
    href = pg.hrefs[name]
    reader = Reader(pg, href, seed=SEED * 100 + int(name))
    reader.hop(href)  # arrive by the menu's way (client-side), then act
    errors_before = len(pg.console_errors)
    counts = reader.run(ACTIONS)
    settle(pg)
    print(f"\nrandom reader {name}: {ACTIONS} actions {counts}")
    assert sum(counts.values()) == ACTIONS, counts
    assert pg.console_errors[errors_before:] == []
    assert bad_text(pg) == []
    answers = still_answers(pg)
    assert all(answers.values()), answers
    assert outside_requests(pg, served_site) == []


def test_a_link_with_a_malformed_escape_in_its_fragment_opens_the_page(reader_page):
    """Found by the reader: a same-site link whose fragment is not valid percent-encoding ("#%E0%A4%A") threw
    "URI malformed" in the page's navigation, which then never focused the new page's heading."""
    pg = reader_page
    errors_before = len(pg.console_errors)
    reader = Reader(pg, pg.hrefs["03"], seed=0)
    reader.hop(pg.hrefs["03"] + "#%E0%A4%A")
    pg.wait_for_function("document.activeElement === document.querySelector('main h1')")
    assert pg.console_errors[errors_before:] == []


def test_garbage_hash_is_seeded_and_varied():
    import random

    a = [garbage_hash(random.Random(3), {"f": ["x", "y"]}) for _ in range(2)]
    assert a[0] == a[1]  # the same seed, the same garbage: a failure can be replayed
    many = {garbage_hash(random.Random(s), {"f": ["x", "y"]}) for s in range(50)}
    assert len(many) > 40 and any(h.startswith("f:") for h in many)
