"""Accessibility of the built site in Chromium: an axe-core audit of every page with its figures live (light and dark),
touch targets at 390 px, visible focus, reduced motion, figure descriptions that follow the state.

axe-core is vendored for the tests only (npm, sha256-pinned: mamlviz.site.vendor_npm.AXE) and injected through
page.evaluate, which runs through DevTools and is not subject to the page's content-security policy.
One page walks the whole site by the menu (client-side navigation keeps the worker: one boot for all parts).
"""

from __future__ import annotations

import json
import re

import pytest

PAGES = [f"{n:02d}" for n in range(1, 11)] + ["about"]
BLOCKING = ("serious", "critical")
AXE_RUN = """(options) => axe.run(document, options).then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n')[1])})))"""
RESULTS = {}  # page → {scheme: [violations]}, printed and written for the note


@pytest.fixture(scope="module")
def axe_source():
    from mamlviz.site import vendor_npm

    return (vendor_npm.ensure(vendor_npm.AXE, log=lambda *a: None) / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tour(open_page, served_site, shots):
    pg = open_page()
    pg.goto(served_site + "index.html")
    pg.hrefs = dict(zip(PAGES, pg.locator(".menu-parts > li > a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))") + ["about.html"]))
    yield pg
    (shots / "axe.json").write_text(json.dumps(RESULTS, indent=1))
    pg.context.close()


def visit(pg, href):
    """Open `href` by its menu link (the page is swapped in place; the worker stays)."""
    pg.locator(f'#menu a[href="{href}"]').first.click()
    pg.wait_for_function(f"document.querySelector('#menu a[aria-current=page]')?.getAttribute('href') === '{href}'")


def run_axe(pg, axe_source, **options):
    if not pg.evaluate("typeof window.axe === 'object'"):
        pg.evaluate(axe_source)
    return pg.evaluate(AXE_RUN, options or {"resultTypes": ["violations"]})


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation_with_figures_live(tour, name, axe_source, wait_live):
    pg = tour
    visit(pg, pg.hrefs[name])
    for fig in pg.locator(".figure[data-figure]").evaluate_all("els => els.map(e => e.dataset.figure)"):
        wait_live(pg, fig, timeout=180_000)
    found = {}
    for scheme in ("light", "dark"):
        pg.emulate_media(color_scheme=scheme)
        found[scheme] = run_axe(pg, axe_source)
    pg.emulate_media(color_scheme="light")
    RESULTS[name] = found
    print(f"\naxe {name}: " + "; ".join(f"{s}: " + (", ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in vs)
                                                    or "no violations") for s, vs in found.items()))
    blocking = {s: [v for v in vs if v["impact"] in BLOCKING] for s, vs in found.items()}
    assert blocking == {"light": [], "dark": []}, json.dumps(blocking, indent=1)
