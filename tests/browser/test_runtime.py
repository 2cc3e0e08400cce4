"""The live runtime in Chromium: moving between parts keeps the worker (no second boot) and the new part's
figures answer; back/forward restore a part and its figures' state; a reload works; the menu, previous/next and
in-text links all go through the same client-side navigation."""

from __future__ import annotations

import pytest

from mamlviz import figures

P2, P3, P4 = "02-where-maml-sits.html", "03-how-maml-works.html", "04-meta-gradient-cost.html"


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def native(figure_id, state, label):
    """A readout of the figure function run natively in this process, formatted like the page."""
    figures.load_all()
    r = next(r for r in figures.run(figure_id, state)["readouts"] if r["label"] == label)
    return format(r["value"], r["format"]).replace("-", "−")


def boots(pg):
    """How many times this page loaded the runtime's loader script (once per worker boot)."""
    return sum(1 for u in pg.requests if u.endswith("pyodide/pyodide.js"))


@pytest.fixture(scope="module")
def nav_page(browser, served_site):
    """One page for the whole module: Part 3, live, with a marker that a full load would wipe."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors, pg.requests = [], []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(f"uncaught: {e}"))
    context.on("request", lambda r: pg.requests.append(r.url))
    pg.goto(served_site + P3)
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=60_000)
    mark(pg)
    yield pg
    context.close()


def mark(pg):
    """A marker that a full load wipes, and a count of finished client-side navigations."""
    pg.evaluate("""window.__sameDocument = true; window.__navs = 0;
                   document.addEventListener('mamlviz:navigated', () => window.__navs++)""")


def navigated(pg, before):
    pg.wait_for_function(f"window.__navs > {before}")


def same_document(pg):
    return pg.evaluate("window.__sameDocument === true")


def hop(pg, selector, href):
    before = pg.evaluate("window.__navs")
    pg.locator(selector).first.click()
    navigated(pg, before)
    assert pg.url.endswith(href)
    assert pg.locator(".menu a[aria-current=page]").get_attribute("href") == href


def test_menu_hop_keeps_the_worker_and_the_new_part_answers(nav_page):
    pg = nav_page
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    assert same_document(pg) and pg.title().startswith("Part 2:")
    assert pg.evaluate("document.activeElement.tagName") == "H1"  # focus moved to the new heading
    assert pg.locator('.widget[data-widget="approach-map"]').count() == 1
    pg.wait_for_selector('.widget[data-widget="approach-map"][data-mounted="true"]')
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    assert same_document(pg) and pg.title().startswith("Part 3:")
    # live at once: the worker is already up (no wait for a boot)
    pg.wait_for_selector(f'{fig("accumulated-loss")}[data-status="live"]', timeout=3_000)
    slider = pg.locator(f'{fig("accumulated-loss")} [data-control="m"] input')
    slider.focus()
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    expected = native("accumulated-loss", {"m": 3}, "min J_3")
    pg.wait_for_function(f"""document.querySelector('{fig("accumulated-loss")} dd[data-readout="min J_3"]')
                             ?.textContent === '{expected}'""")
    assert boots(pg) == 1
    assert pg.console_errors == []


def test_previous_next_and_in_text_links_keep_the_worker(nav_page):
    pg = nav_page
    hop(pg, ".prevnext a[rel=next]", P4)
    hop(pg, ".prevnext a[rel=prev]", P3)
    # an in-text link (the same delegated handler serves every link of the article)
    pg.evaluate(f"""(() => {{ const a = document.createElement('a'); a.href = '{P2}#method-maml'; a.id = 'in-text';
                    a.textContent = 'Part 2'; document.querySelector('article p').append(a); }})()""")
    before = pg.evaluate("window.__navs")
    pg.locator("#in-text").click()
    navigated(pg, before)
    assert pg.url.endswith(P2 + "#method-maml")
    assert pg.evaluate("document.getElementById('method-maml').getBoundingClientRect().top") < 200  # scrolled there
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=3_000)
    assert same_document(pg) and boots(pg) == 1
    assert pg.console_errors == []


def test_back_and_forward_restore_the_part_and_its_figures(nav_page):
    pg = nav_page
    F = fig("accumulated-loss")
    slider = pg.locator(f'{F} [data-control="m"] input')
    slider.focus()
    pg.keyboard.press("End")  # m = 20
    expected = native("accumulated-loss", {"m": 20}, "min J_20")
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_20\"]')?.textContent === '{expected}'")
    pg.evaluate(f"document.querySelector('{F}').scrollIntoView()")
    scroll = pg.evaluate("window.scrollY")
    hop(pg, f'.menu-parts a[href="{P4}"]', P4)  # the sticky menu: clicking it does not scroll the page
    before = pg.evaluate("window.__navs")
    pg.go_back()
    navigated(pg, before)
    assert pg.url.endswith(P3)
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=3_000)
    assert pg.locator(f'{F} [data-control="m"] output').inner_text() == "20"
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_20\"]')?.textContent === '{expected}'")
    assert abs(pg.evaluate("window.scrollY") - scroll) < 5
    assert pg.title().startswith("Part 3:")
    before = pg.evaluate("window.__navs")
    pg.go_forward()
    navigated(pg, before)
    assert pg.url.endswith(P4) and pg.title().startswith("Part 4:")
    assert same_document(pg) and boots(pg) == 1
    assert pg.console_errors == []


def test_a_reload_after_client_side_hops_loads_the_page_itself(nav_page):
    pg = nav_page
    pg.goto(pg.url.split("#")[0].rsplit("/", 1)[0] + "/" + P3)
    mark(pg)
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    pg.reload()
    assert not same_document(pg)
    assert pg.title().startswith("Part 2:")
    pg.wait_for_selector('.widget[data-widget="approach-map"][data-mounted="true"]')
    assert pg.console_errors == []
