"""Accessibility of the built site in Chromium: an axe-core audit of every page with its figures live (light and dark),
touch targets at 390 px, visible focus, reduced motion, figure descriptions that follow the state.

axe-core is vendored for the tests only (npm, sha256-pinned: mamlviz.site.vendor_npm.AXE) and injected through
page.evaluate, which runs through DevTools and is not subject to the page's content-security policy.
One page walks the whole site by the menu (client-side navigation keeps the worker: one boot for all parts).
"""

from __future__ import annotations

import json
import time

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
    if RESULTS:
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


def _no_sideways_scroll(pg):
    return pg.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("name", PAGES)
def test_every_control_is_a_touch_target_at_390px(tour, name, axe_source, shots):
    """axe's target-size rule (WCAG 2.2: at least 24 × 24 CSS px, or spaced as far) on a phone-wide page."""
    pg = tour
    visit(pg, pg.hrefs[name])
    pg.set_viewport_size({"width": 390, "height": 844})
    try:
        pg.wait_for_timeout(200)  # the figures' layout follows the width (ResizeObserver)
        found = run_axe(pg, axe_source, runOnly=["target-size"])
        sideways = _no_sideways_scroll(pg)
        if name in ("03", "about"):
            pg.screenshot(path=str(shots / f"a11y-390-{name}.png"), full_page=False)
    finally:
        pg.set_viewport_size({"width": 1280, "height": 900})
    assert found == [], json.dumps(found, indent=1)
    assert sideways


def test_focus_is_always_visible(tour):
    """Tab through Part 3: every element that takes focus shows a ring (an outline of at least 2 px, or, for a
    draggable point, its thicker accent stroke)."""
    pg = tour
    visit(pg, pg.hrefs["03"])
    pg.evaluate("document.querySelector('main h1').focus()")
    seen, unseen = set(), []
    for _ in range(60):
        pg.keyboard.press("Tab")
        info = pg.evaluate("""() => { const e = document.activeElement; if (!e || e === document.body) return null;
            const s = getComputedStyle(e), dot = e.querySelector && e.querySelector(':scope > .dot');
            return {tag: e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || ''), style: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), dot: dot ? parseFloat(getComputedStyle(dot).strokeWidth) : 0}; }""")
        if info is None:
            continue
        seen.add(info["tag"])
        if not ((info["style"] != "none" and info["width"] >= 2) or info["dot"] >= 4):
            unseen.append(info)
    assert unseen == []
    # the walk went through links, code and maths that scroll, sliders, buttons and a draggable point
    kinds = " ".join(seen)
    for kind in ("a.", "input.", "button.", "codehilite", "math-display", "handle"):
        assert kind in kinds, (kind, sorted(seen))


def _walk_and_count_draws(pg):
    """Press Part 3's "Walk 25 steps" and count the two-tasks figure's draws until it is idle again."""
    pg.evaluate("""() => { const f = window.mamlvizFigures.find(f => f.id === 'two-tasks');
        window.__draws = 0; if (!f.__counted) { const draw = f.draw.bind(f); f.draw = (s) => { window.__draws++; draw(s); };
        f.__counted = true; } }""")
    fig = pg.locator('.figure[data-figure="two-tasks"]')
    start = time.monotonic()
    fig.locator(".controls button", has_text="Walk 25 steps").click()
    pg.wait_for_function("window.__draws > 0 && document.querySelector('.figure[data-figure=\"two-tasks\"]').dataset.status === 'live'",
                         timeout=120_000, polling=100)
    return pg.evaluate("window.__draws"), fig.locator(".describe p").text_content(), time.monotonic() - start


def test_reduced_motion_stops_transitions_and_walks_jump_to_their_end(tour, wait_live):
    pg = tour
    visit(pg, pg.hrefs["03"])
    wait_live(pg, "two-tasks", timeout=180_000)
    pg.locator('.figure[data-figure="two-tasks"] .handle').focus()
    pg.keyboard.press("ArrowRight")  # θ moved by the reader: the walk starts afresh from here
    pg.wait_for_function("document.querySelector('.figure[data-figure=\"two-tasks\"] .describe p').textContent.includes(' 0 meta-gradient steps')",
                         timeout=60_000)
    moving, described, _ = _walk_and_count_draws(pg)
    assert moving > 1  # without the preference the walk is drawn step by step
    assert "25 meta-gradient steps taken so far" in described  # the text description follows the state
    pg.emulate_media(reduced_motion="reduce")
    try:
        still, described, seconds = _walk_and_count_draws(pg)
        # the same walk drawn at its end, plus at most one progress frame a second (a slow machine's walk is long)
        assert 1 <= still <= 1 + int(seconds), (still, seconds)
        assert "50 meta-gradient steps taken so far" in described
        visit(pg, pg.hrefs["02"])  # CSS: transitions (the approach map's) take no time
        pg.evaluate("() => { const p = document.createElement('p'); p.className = 'am-described'; p.id = 'probe';"
                    " document.querySelector('main').append(p); }")  # the map's highlight, which fades
        durations = set(pg.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e => {
            const s = getComputedStyle(e); return (s.transitionDuration + ',' + s.animationDuration).split(','); })
            .map(d => d.trim())"""))
        assert durations == {"0s"}
    finally:
        pg.emulate_media(reduced_motion="no-preference")
    # without the preference the approach map does fade (so the check above could fail)
    assert pg.evaluate("getComputedStyle(document.getElementById('probe')).transitionDuration") == "0.15s"


def test_descriptions_follow_the_state(tour, wait_live):
    """A slider moved: the figure's text alternative (its description) says something new, and names the value."""
    pg = tour
    visit(pg, pg.hrefs["03"])
    figs = pg.locator(".figure[data-figure]").evaluate_all(  # a training figure's text follows its training
        "els => els.filter(e => !JSON.parse(e.querySelector('script.figure-data').textContent).training)"
        ".map(e => e.dataset.figure)")
    changed = 0
    for fid in figs:
        fig = pg.locator(f'.figure[data-figure="{fid}"]')
        slider = fig.locator(".controls input[type=range]")
        if not slider.count():
            continue
        wait_live(pg, fid, timeout=180_000)
        before = fig.locator(".describe p").text_content()
        slider.first.focus()
        pg.keyboard.press("End")
        pg.wait_for_function("([sel, before]) => document.querySelector(sel + ' .describe p').textContent !== before",
                             arg=[f'.figure[data-figure="{fid}"]', before], timeout=120_000)
        changed += 1
    assert changed == 3  # accumulated-loss, two-tasks, sine-fit


def test_the_maths_font_is_served_and_used(tour, served_site, outside_requests):
    pg = tour
    visit(pg, pg.hrefs["03"])
    pg.wait_for_function("document.fonts.status === 'loaded' && document.fonts.check('16px \"STIX Two Math\"', '∇θφ')")
    faces = pg.evaluate("[...document.fonts].filter(f => f.family.includes('STIX Two Math')).map(f => f.status)")
    assert faces == ["loaded"]
    assert pg.evaluate("getComputedStyle(document.querySelector('math')).fontFamily").startswith('"STIX Two Math"')
    font_url = served_site + "assets/fonts/STIXTwoMath-Regular.woff2"
    assert {u for u in pg.requests if u.endswith(".woff2")} == {font_url}
    status = pg.evaluate(f"fetch('{font_url}').then(r => [r.status, r.headers.get('content-type')])")
    assert status[0] == 200
    assert outside_requests(pg, served_site) == []


def test_print_shows_prose_and_each_figures_frame_without_controls(tour, shots, tmp_path):
    pg = tour
    visit(pg, pg.hrefs["03"])
    pg.emulate_media(media="print")
    try:
        shown = pg.evaluate("""() => {
            const vis = (sel) => [...document.querySelectorAll(sel)].map(e => getComputedStyle(e).display !== 'none'
                && e.getBoundingClientRect().height > 0);
            return {controls: vis('.figure .controls, .figure button, .figure-bar, #menu, .loader, .prevnext'),
                    frames: vis('.figure .panel svg'), prose: vis('article p')}; }""")
        pg.screenshot(path=str(shots / "print-03.png"), full_page=False)
        pdf = pg.pdf(path=str(tmp_path / "part3.pdf"), format="A4")
    finally:
        pg.emulate_media(media="screen")
    assert shown["controls"] and not any(shown["controls"])
    assert shown["frames"] and all(shown["frames"])
    assert sum(shown["prose"]) > 10
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") >= 3
