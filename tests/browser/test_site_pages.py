"""The real site in Chromium: every part loads offline with no console errors; the menu works at any width."""

from __future__ import annotations

import re

PARTS = 10


def part_urls(pg, base):
    pg.goto(base + "index.html")
    hrefs = pg.locator(".menu-parts > li > a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) == PARTS
    return hrefs


def test_every_part_loads_with_no_errors_and_no_outside_requests(page, served_site, outside_requests):
    pg = page()
    titles = set()
    for href in ["index.html", *part_urls(pg, served_site)]:
        pg.goto(served_site + href, wait_until="load")
        pg.wait_for_timeout(300)
        titles.add(pg.title())
        assert pg.locator("meta[name=description]").get_attribute("content")
        assert pg.locator("h1").count() == 1
    # figures on real pages boot the worker: give it time to finish its requests before checking
    assert pg.console_errors == []
    assert outside_requests(pg, served_site) == []
    # with the host-resolver rule any outside host would fail here (leaving a page mid-boot aborts its own loads)
    assert [f for f in pg.failed_requests if not f.startswith(served_site)] == []
    assert len(titles) == PARTS + 1  # every page has its own title


def test_menu_reaches_every_part_and_marks_the_current_one(page, served_site):
    pg = page()
    hrefs = part_urls(pg, served_site)
    for n, href in enumerate(hrefs, start=1):
        pg.locator(f'.menu-parts a[href="{href}"]').click()
        pg.wait_for_url(re.compile(re.escape(href) + "$"))
        current = pg.locator('.menu a[aria-current="page"]')
        assert current.count() == 1 and current.get_attribute("href") == href
        assert pg.locator(".kicker").first.inner_text().upper() == f"PART {n} OF {PARTS}"
        assert pg.locator("article h2").count() >= 1  # the part's headings exist
        nav = pg.locator(".prevnext")
        assert (nav.locator("a[rel=prev]").count() == 1) == (n > 1)
        assert (nav.locator("a[rel=next]").count() == 1) == (n < PARTS)
    # previous/next chain walks back from the last part to the first (each hop swaps the page in place: wait for it)
    for n in range(PARTS - 1, 0, -1):
        pg.locator(".prevnext a[rel=prev]").click()
        pg.wait_for_function(f"document.querySelector('.menu a[aria-current=page]')?.getAttribute('href') === '{hrefs[n - 1]}'")
    assert pg.locator('.menu a[aria-current="page"]').get_attribute("href") == hrefs[0]


def test_menu_collapses_on_a_narrow_screen(page, served_site, shots):
    pg = page(viewport={"width": 390, "height": 844})
    href = part_urls(pg, served_site)[2]
    pg.goto(served_site + href)
    toggle = pg.locator(".menu-toggle")
    assert toggle.is_visible() and not pg.locator("#menu").is_visible()
    pg.screenshot(path=str(shots / "narrow-closed.png"))
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and pg.locator("#menu").is_visible()
    assert pg.locator('.menu a[aria-current="page"]').get_attribute("href") == href
    pg.screenshot(path=str(shots / "narrow-open.png"))
    pg.keyboard.press("Escape") if pg.evaluate("document.activeElement.closest('#menu') !== null") else toggle.click()
    assert not pg.locator("#menu").is_visible()


def test_wide_screen_shows_the_menu(page, served_site, shots):
    pg = page(viewport={"width": 1280, "height": 900})
    href = part_urls(pg, served_site)[0]
    pg.goto(served_site + href)
    assert pg.locator("#menu").is_visible() and not pg.locator(".menu-toggle").is_visible()
    pg.screenshot(path=str(shots / "wide.png"))
