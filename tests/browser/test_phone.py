"""The series on a phone: Chromium with touch emulation (a coarse pointer, device scale 2) at 390 × 844 and held
sideways at 844 × 390, and with the browser's default font size at 32 px.

What a reader with a phone meets: the menu opens where the reader is and closes four ways (Escape, a tap outside,
a link, its own Close button); in-page links land below the sticky top bar; every control is a 44 × 44 px target
for a finger; plot text stays legible; text follows the browser's font size without sideways scrolling; a tap leaves
no keyboard styling; and every figure's drawing stays in view while its sliders move (panels too many to hold in
view are a strip, one panel at a time, with a row of panel buttons). None of this needs the live runtime (controls, handles and points are wired as the page
loads), so the pages are only loaded, not booted.
"""

from __future__ import annotations

import pytest

PAGES = ["index.html", "01-introduction.html", "02-where-maml-sits.html", "03-how-maml-works.html",
         "04-meta-gradient-cost.html", "05-first-order-maml.html", "06-reptile.html", "07-imaml.html",
         "08-comparison.html", "09-conclusion.html", "10-further-reading.html", "about.html"]
PORTRAIT, LANDSCAPE = {"width": 390, "height": 844}, {"width": 844, "height": 390}
SIZES = {"390x844": PORTRAIT, "844x390": LANDSCAPE}

# The page is ready when its widgets have drawn and its figures have built their controls.
READY = ("() => document.readyState === 'complete' && "
         "[...document.querySelectorAll('.widget[data-widget]')].every(w => w.children.length > 1) && "
         "[...document.querySelectorAll('.figure[data-figure]')].every(f => f.querySelector('.figure-bar'))")


def phone_page(browser, viewport, font_px=None):
    """A page in a fresh touch context; font_px sets the browser's default font size (the setting a reader changes
    in the browser's preferences: WebPreferences' default font size, through DevTools' Page.setFontSizes)."""
    context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True, device_scale_factor=2,
                                  service_workers="block")
    pg = context.new_page()
    if font_px:
        context.new_cdp_session(pg).send("Page.setFontSizes", {"fontSizes": {"standard": font_px, "fixed": font_px}})
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return pg


def open_at(pg, url):
    pg.goto(url, timeout=120_000)  # generous: the machine may be shared
    pg.wait_for_function(READY, timeout=120_000)
    pg.wait_for_timeout(100)  # plotscale.js's ResizeObserver


@pytest.fixture(scope="module")
def phone(browser):
    pages = []

    def make(viewport=PORTRAIT, font_px=None):
        pages.append(phone_page(browser, viewport, font_px))
        return pages[-1]

    yield make
    for pg in pages:
        pg.context.close()


# ---------------------------------------------------------------------------------------------------------- the menu
MENU_STATE = """() => { const m = document.getElementById('menu'), r = m.getBoundingClientRect(),
    b = document.querySelector('.menu-toggle'), s = getComputedStyle(m);
    return {open: b.getAttribute('aria-expanded') === 'true', shown: s.display !== 'none' && r.height > 0,
            position: s.position, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
            focusInMenu: m.contains(document.activeElement), focusOnButton: document.activeElement === b,
            scrollY: scrollY, vw: innerWidth, vh: innerHeight}; }"""


def tap_menu_button(pg):
    box = pg.locator(".menu-toggle").bounding_box()
    pg.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def opened(pg):
    tap_menu_button(pg)
    st = pg.evaluate(MENU_STATE)
    # on screen, where the reader is: fixed to the viewport, inside it, focus moved in, the page not moved
    assert st["open"] and st["shown"] and st["position"] == "fixed", st
    assert st["top"] >= 0 and st["bottom"] <= st["vh"] + 0.5 and st["left"] >= 0 and st["right"] <= st["vw"], st
    assert st["focusInMenu"], st
    return st


@pytest.mark.parametrize("size", SIZES)
def test_the_menu_opens_where_the_reader_is_and_closes_three_ways(phone, served_site, size):
    pg = phone(SIZES[size])
    open_at(pg, served_site + "03-how-maml-works.html")
    assert pg.locator(".topbar").is_visible()  # no permanent column at this width, a menu button instead
    assert not pg.locator("#menu").is_visible()
    y = pg.evaluate("() => { scrollTo(0, 6000); return scrollY; }")
    assert y == 6000

    st = opened(pg)
    assert st["scrollY"] == y
    pg.keyboard.press("Escape")
    st = pg.evaluate(MENU_STATE)
    assert not st["open"] and not st["shown"] and st["focusOnButton"] and st["scrollY"] == y, st

    st = opened(pg)
    pg.touchscreen.tap(st["right"] + (st["vw"] - st["right"]) / 2, st["vh"] * 0.6)  # on the dimmed page
    st = pg.evaluate(MENU_STATE)
    assert not st["open"] and not st["shown"] and st["focusOnButton"] and st["scrollY"] == y, st

    opened(pg)
    link = pg.locator("#menu .menu-toc a").nth(1)
    target = link.get_attribute("href")[1:]
    box = link.bounding_box()
    pg.touchscreen.tap(box["x"] + 10, box["y"] + box["height"] / 2)
    pg.wait_for_function(f"location.hash === '#{target}'")
    st = pg.evaluate(MENU_STATE)
    assert not st["open"] and not st["shown"] and not st["focusInMenu"], st
    # focus follows the link: the next Tab goes to something in or after the chosen section
    pg.keyboard.press("Tab")
    assert pg.evaluate(f"document.getElementById('{target}').compareDocumentPosition(document.activeElement) & "
                       "Node.DOCUMENT_POSITION_FOLLOWING") != 0
    bar, top = pg.evaluate(f"[document.querySelector('.topbar').getBoundingClientRect().bottom, "
                           f"document.getElementById('{target}').getBoundingClientRect().top]")
    assert bar <= top <= bar + 40
    assert pg.errors == []


@pytest.mark.parametrize("size", SIZES)
def test_the_drawer_has_its_own_close_button(phone, served_site, size):
    """A labelled 44 px Close button at the drawer's top, in view wherever the drawer is scrolled; by tap or by key it
    does what Escape does (closed, focus back on the Menu button, the page where it was), also after the menu was
    swapped by a client-side visit to another part."""
    pg = phone(SIZES[size])
    open_at(pg, served_site + "03-how-maml-works.html")
    y = pg.evaluate("() => { scrollTo(0, 6000); return scrollY; }")
    close = pg.locator("#menu .menu-close")

    def check_and_tap():
        st = opened(pg)
        pg.evaluate("document.getElementById('menu').scrollTo(0, 1e6)")  # the drawer scrolled to its end
        box = close.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
        assert st["left"] <= box["x"] and box["x"] + box["width"] <= st["right"] and 0 <= box["y"] <= 20, (box, st)
        assert pg.evaluate("(b) => document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2).closest('.menu-close') !== null", box)
        pg.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        return pg.evaluate(MENU_STATE)

    assert close.get_attribute("aria-label").startswith("Close") and "Close" in close.inner_text()
    st = check_and_tap()
    assert not st["open"] and not st["shown"] and st["focusOnButton"] and st["scrollY"] == y, st

    opened(pg)  # by keyboard: Shift+Tab from the current part's link reaches it first, Enter closes
    for _ in range(10):
        if pg.evaluate("document.activeElement.matches('.menu-close')"):
            break
        pg.keyboard.press("Shift+Tab")
    pg.keyboard.press("Enter")
    st = pg.evaluate(MENU_STATE)
    assert not st["open"] and not st["shown"] and st["focusOnButton"] and st["scrollY"] == y, st

    opened(pg)  # to Part 4 by the drawer (the page is swapped in place, the menu's content with it)
    link = pg.locator('#menu .menu-parts a[href="04-meta-gradient-cost.html"]')
    link.scroll_into_view_if_needed()  # within the drawer (sideways it is below the drawer's fold)
    box = link.bounding_box()
    pg.touchscreen.tap(box["x"] + 10, box["y"] + box["height"] / 2)
    pg.wait_for_function("document.querySelector('#menu a[aria-current=page]')?.getAttribute('href') === '04-meta-gradient-cost.html'")
    y = pg.evaluate("() => { scrollTo(0, 3000); return scrollY; }")
    st = check_and_tap()
    assert not st["open"] and not st["shown"] and st["focusOnButton"] and st["scrollY"] == y, st
    assert pg.errors == []


def test_a_wide_screen_keeps_the_permanent_column(browser, served_site):
    """And the desktop look: no Close button in the column, no panel strips or panel buttons in the figures."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        pg = context.new_page()
        pg.goto(served_site + "03-how-maml-works.html")
        assert pg.locator("#menu").is_visible() and not pg.locator(".topbar").is_visible()
        assert pg.evaluate("getComputedStyle(document.getElementById('menu')).position") == "sticky"
        assert not pg.locator(".menu-close").is_visible()
        pg.wait_for_function(READY)
        assert pg.locator(".figure .panel-tabs").count() == pg.locator(".figure .panels").count() > 0
        assert pg.locator(".figure .panel-tabs:visible").count() == 0
        assert pg.evaluate("[...document.querySelectorAll('.figure .panels')].every(p => p.scrollWidth <= p.clientWidth && "
                           "getComputedStyle(p).position === 'static')")
    finally:
        context.close()


# ----------------------------------------------------------------------------------------------- in-page targets
IN_PAGE_LINKS = """() => {
    const bar = document.querySelector('.topbar').getBoundingClientRect().bottom, out = [];
    const links = new Map();
    for (const a of document.querySelectorAll('a[href^="#"]')) {
        const h = a.getAttribute('href');
        if (h.length > 1 && !links.has(h)) links.set(h, a);
    }
    for (const [href, a] of links) {
        const t = document.getElementById(decodeURIComponent(href.slice(1)));
        if (!t) { out.push({href, missing: true}); continue; }
        scrollTo(0, 0);
        a.click();
        const r = t.getBoundingClientRect();
        if (r.top < bar - 0.5 || r.top > innerHeight) out.push({href, top: r.top, bar});
    }
    return {count: links.size, bad: out};
}"""


@pytest.mark.parametrize("name", PAGES)
def test_every_in_page_link_lands_below_the_bar(phone, served_site, name):
    pg = phone(PORTRAIT)
    open_at(pg, served_site + name)
    found = pg.evaluate(IN_PAGE_LINKS)
    assert found["bad"] == []
    if name not in ("index.html",):
        assert found["count"] >= 1  # the skip link at least; parts have their sections, references, the map


# ------------------------------------------------------------------------------------------------- touch targets
# Tappable: links, buttons, form controls, folds, anything focusable by Tab, and the handles' and points' hit areas.
# Left out as WCAG 2.5.8 leaves them out: links inside a sentence (their block holds other text), and what is off
# screen (the skip link until focused). A checkbox's target is the box with its label (a tap on either toggles it).
TARGETS = """() => {
    const bad = [], seen = [];
    const inline = (n) => n.nodeType === Node.TEXT_NODE ? n.textContent.trim() !== ''
        : n.nodeType === Node.ELEMENT_NODE && getComputedStyle(n).display === 'inline' && n.textContent.trim() !== '';
    const inSentence = (a) => {  // text beside the link on its line (through inline wrappers such as <sup>)
        let c = a;
        while (c.parentElement && getComputedStyle(c.parentElement).display === 'inline') c = c.parentElement;
        return [c.previousSibling, c.nextSibling].some(n => n && inline(n));
    };
    const sel = 'a[href], button, input, select, summary, [tabindex]:not([tabindex="-1"]), .handle .hit, .input-point .hit';
    for (const e of document.querySelectorAll(sel)) {
        if (e.matches('.handle, .input-point')) continue;  // measured by their hit circles
        let r = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || r.right <= 0 || r.bottom <= -5000) continue;
        if (e.matches('a') && inSentence(e)) continue;
        if (e.matches('input[type=checkbox], input[type=radio]') && e.labels && e.labels.length) {
            const l = e.labels[0].getBoundingClientRect();
            r = {width: Math.max(r.right, l.right) - Math.min(r.left, l.left), height: Math.max(r.bottom, l.bottom) - Math.min(r.top, l.top)};
        }
        const name = e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '') + ' ' +
            (e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 30);
        seen.push(name);
        if (r.width < 43.99 || r.height < 43.99) bad.push([name, Math.round(r.width * 10) / 10, Math.round(r.height * 10) / 10]);
    }
    return {seen: seen.length, bad};
}"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_every_tappable_control_is_44px_on_a_coarse_pointer(phone, served_site, name, size):
    pg = phone(SIZES[size])
    open_at(pg, served_site + name)
    assert pg.evaluate("matchMedia('(pointer: coarse)').matches")
    pg.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")  # folded controls too
    page = pg.evaluate(TARGETS)
    tap_menu_button(pg)
    menu = pg.evaluate(TARGETS)  # the open menu's links (and, behind the dimmed page, the rest again)
    assert page["bad"] == [] and menu["bad"] == []
    assert page["seen"] >= 3


# ---------------------------------------------------------------------------------------------------- plot text
PLOT_TEXT = """() => [...document.querySelectorAll('.figure svg.plot text, .ot-chart svg text')].filter(t => t.textContent.trim())
    .map(t => { const s = t.ownerSVGElement.getBoundingClientRect(), r = t.getBoundingClientRect();
                return {cls: t.getAttribute('class'), text: t.textContent, out: Math.max(s.left - r.left, r.right - s.right),
                        px: parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a}; })"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", [p for p in PAGES if p[:2] in ("02", "03", "04", "05", "06", "07", "08", "09")])
def test_no_plot_text_under_11px(phone, served_site, name, size):
    """Every text of every plot (Part 2: the timeline of Omniglot results)."""
    pg = phone(SIZES[size])
    open_at(pg, served_site + name)
    texts = pg.evaluate(PLOT_TEXT)
    assert any(t["cls"] in ("tick-label", "ot-label") for t in texts)
    small = [t for t in texts if t["px"] < 11]
    assert small == []
    # and none sticks out of its drawing, where the SVG would cut it (a right-hand "1000" did at 390 px)
    cut = [t for t in texts if t["cls"] in ("tick-label", "ot-label") and t["out"] > 1]
    assert cut == []


# ------------------------------------------------------------------------------------------- the browser's font size
FONT_CHECK = """() => {
    const p = [...document.querySelectorAll('main p')].sort((a, b) => b.textContent.length - a.textContent.length)[0];
    const root = document.documentElement;
    const cut = [...document.querySelectorAll('.figure .control')].filter(c => c.offsetParent).filter(c => {
        const f = c.closest('.figure').getBoundingClientRect(), r = c.getBoundingClientRect();
        return r.right > f.right + 0.5 || c.scrollWidth > c.clientWidth + 1; }).map(c => c.dataset.control);
    return {p: parseFloat(getComputedStyle(p).fontSize), scrollWidth: root.scrollWidth, width: root.clientWidth, cut};
}"""


def test_the_font_size_setting_is_the_browsers_default(phone, served_site):
    """The emulation is the browser's own setting: a plain page without any font size of its own follows it."""
    pg = phone(PORTRAIT, font_px=32)
    pg.goto(served_site + "licenses/")  # any page of ours would do; the check is on a bare element
    pg.set_content("<p>plain</p>")
    assert pg.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)") == 32


@pytest.mark.parametrize("name", PAGES)
def test_text_follows_a_32px_default_font_without_sideways_scrolling(phone, served_site, name):
    pg = phone(PORTRAIT, font_px=32)
    open_at(pg, served_site + name)
    pg.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
    pg.wait_for_timeout(100)
    got = pg.evaluate(FONT_CHECK)
    assert got["p"] >= 32  # the text follows the browser (16 px on the default)
    assert got["scrollWidth"] <= got["width"], got
    assert got["cut"] == []  # every slider row wraps inside the figure
    small = [t for t in pg.evaluate(PLOT_TEXT) if t["cls"] == "tick-label" and t["px"] < 11]
    assert small == []


# ------------------------------------------------------------------------------------------------ a tap is no key
def test_a_tap_on_a_plot_leaves_no_keyboard_styling(phone, served_site):
    pg = phone(PORTRAIT)
    open_at(pg, served_site + "03-how-maml-works.html")
    svg = pg.locator('.figure[data-figure="sine-fit"] svg.accepts-points')
    svg.scroll_into_view_if_needed()
    points = svg.locator(".input-point").count()
    frame = svg.locator("rect.frame").bounding_box()
    pg.touchscreen.tap(frame["x"] + frame["width"] * 0.31, frame["y"] + frame["height"] * 0.27)
    pg.wait_for_function(f"document.querySelectorAll('.figure[data-figure=\"sine-fit\"] .input-point').length === {points + 1}")
    look = """(sel) => { const e = document.querySelector(sel); return {focused: document.activeElement === e,
        outline: getComputedStyle(e).outlineStyle, cross: !!e.querySelector('.crosshair')}; }"""
    sel = '.figure[data-figure="sine-fit"] svg.accepts-points'
    assert pg.evaluate(look, sel) == {"focused": True, "outline": "none", "cross": False}

    handle = pg.locator('.figure[data-figure="two-tasks"] .handle')
    handle.scroll_into_view_if_needed()
    dot = handle.locator(".dot").bounding_box()
    x, y = dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2
    pg.touchscreen.tap(x, y)
    width = "document.activeElement.matches('.handle') ? parseFloat(getComputedStyle(document.activeElement.querySelector('.dot')).strokeWidth) : -1"
    assert 0 < pg.evaluate(width) < 4  # focused by the touch, without the keyboard's ring

    # the keyboard still gets both: Shift+Tab from the figure's first slider onto the plot shows outline and crosshair
    pg.locator('.figure[data-figure="sine-fit"] .controls input[type=range]').first.focus()
    pg.keyboard.press("Shift+Tab")
    got = pg.evaluate(look, sel)
    assert got["focused"] and got["outline"] != "none" and got["cross"], got


# ------------------------------------------------------------------------------------- the drawing beside its sliders
DRAWING_VISIBLE = """(figSel) => {
    const bar = document.querySelector('.topbar').getBoundingClientRect().bottom, out = [];
    const fig = document.querySelector(figSel), panels = fig.querySelector('.panels');
    for (const s of fig.querySelectorAll('.controls input[type=range]')) {
        if (!s.offsetParent) continue;
        const top0 = s.getBoundingClientRect().top + scrollY;
        // put the slider at every height on the screen, 20 px apart; where it is visible and not covered,
        // measure how much of the drawing is on screen below the bar
        for (let y = bar; y < innerHeight - 10; y += 20) {
            scrollTo(0, top0 - y);
            const r = s.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
            if (cy < bar || cy > innerHeight) continue;
            const hit = document.elementFromPoint(cx, cy);
            if (!hit || !(hit === s || s.closest('.control').contains(hit))) continue;
            const p = panels.getBoundingClientRect();
            const shown = Math.max(0, Math.min(p.bottom, innerHeight) - Math.max(p.top, bar)) / p.height;
            if (shown < 0.5) out.push({slider: s.id, at: Math.round(r.top), shown: Math.round(shown * 100) / 100});
        }
    }
    return out;
}"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_a_sliders_drawing_stays_half_visible(phone, served_site, name, size):
    """Every slider of every figure. Upright, one or two panels stick under the bar; sideways, a single panel sticks
    beside the controls. Panels too many to hold (three upright, two or more sideways) are a strip one panel wide,
    held in view with its row of panel buttons (test below). No slider is outside a figure."""
    pg = phone(SIZES[size])
    open_at(pg, served_site + name)
    pg.evaluate("document.querySelectorAll('.figure details').forEach(d => d.open = true)")  # Part 8's method settings
    assert pg.evaluate("[...document.querySelectorAll('main input[type=range]')].every(s => s.closest('.figure[data-figure]'))")
    figures = pg.locator(".figure[data-figure]").evaluate_all(
        "els => els.filter(f => f.querySelector('.controls input[type=range]')).map(f => f.dataset.figure)")
    bad = {f: pg.evaluate(DRAWING_VISIBLE, f'.figure[data-figure="{f}"]') for f in figures}
    assert {f: b for f, b in bad.items() if b} == {}


# Figures whose panels are a strip: {size: {page: [figures]}} (three panels upright; two or three sideways).
STRIPS = {"390x844": {"03-how-maml-works.html": ["accumulated-loss"], "05-first-order-maml.html": ["maml-vs-fomaml"]},
          "844x390": {"03-how-maml-works.html": ["accumulated-loss", "two-tasks", "meta-lab"],
                      "05-first-order-maml.html": ["maml-vs-fomaml"], "08-comparison.html": ["sine-race", "glyph-race"]}}
STRIP_STATE = """(f) => { const F = document.querySelector(`.figure[data-figure="${f}"]`), box = F.querySelector('.panels'),
    row = F.querySelector('.panel-tabs'), b = box.getBoundingClientRect(), t = row.getBoundingClientRect();
    return {count: +box.dataset.count, strip: box.scrollWidth > box.clientWidth + 1, boxTop: b.top, boxBottom: b.bottom,
        rowTop: t.top, rowBottom: t.bottom, vh: innerHeight, rowShown: getComputedStyle(row).display !== 'none' && t.height > 0,
        names: [...row.querySelectorAll('button')].map(x => x.getAttribute('aria-label')),
        texts: [...row.querySelectorAll('button')].map(x => x.textContent),
        titles: [...box.querySelectorAll('.panel svg')].map(s => s.getAttribute('aria-label')),
        current: [...row.querySelectorAll('button')].map(x => x.getAttribute('aria-current') === 'true'),
        inside: [...box.querySelectorAll('.panel')].map(p => { const r = p.getBoundingClientRect();
            return r.left >= b.left - 1 && r.right <= b.right + 1; }),
        bar: document.querySelector('.topbar').getBoundingClientRect().bottom}; }"""


@pytest.mark.parametrize("size", SIZES)
def test_panels_too_many_to_hold_are_a_strip_with_its_panel_buttons(phone, served_site, size):
    """Where the panels are a strip: one panel shows at a time, the row of buttons under it names every panel by its
    title (shown without the words all titles share, "by meta-updates", "by seconds"); a tap on a button brings its panel into the strip and marks the button current, a swipe does too; strip
    and row are held together under the bar while the reader is at the controls."""
    for name, figs in STRIPS[size].items():
        pg = phone(SIZES[size])
        open_at(pg, served_site + name)
        for f in figs:
            fig = pg.locator(f'.figure[data-figure="{f}"]')
            fig.locator(".panels").scroll_into_view_if_needed()
            st = pg.evaluate(STRIP_STATE, f)
            assert st["strip"] and st["rowShown"] and st["count"] >= 2, (f, st)
            assert st["names"] == st["titles"] and len(st["names"]) == st["count"], (f, st)
            # the text shown: the title, less the words every title begins with; never two alike
            assert all(t.endswith(x) and x for t, x in zip(st["titles"], st["texts"])) and len(set(st["texts"])) == st["count"]
            assert st["current"] == [True] + [False] * (st["count"] - 1) and st["inside"][0], (f, st)
            assert abs(st["rowTop"] - st["boxBottom"]) < 2, (f, st)  # the row right under the strip
            buttons = fig.locator(".panel-tabs button")
            for i in [*range(1, st["count"]), 0]:
                box = buttons.nth(i).bounding_box()
                assert box["width"] >= 44 and box["height"] >= 44, (f, i, box)
                pg.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                pg.wait_for_function("([f, i]) => document.querySelector(`.figure[data-figure=\"${f}\"] .panel-tabs`)"
                                     ".children[i].getAttribute('aria-current') === 'true'", arg=[f, i])
                pg.wait_for_timeout(600)  # the smooth scroll's end
                st = pg.evaluate(STRIP_STATE, f)
                assert st["inside"][i] and st["current"].count(True) == 1, (f, i, st)
            # a swipe (the strip scrolled sideways by the finger's distance) moves to the next panel
            pg.evaluate("(f) => { const b = document.querySelector(`.figure[data-figure=\"${f}\"] .panels`);"
                        " b.scrollBy({left: b.clientWidth * .7, behavior: 'instant'}); }", f)
            pg.wait_for_function("(f) => document.querySelector(`.figure[data-figure=\"${f}\"] .panel-tabs`)"
                                 ".children[1].getAttribute('aria-current') === 'true'", arg=f)
            # the reader into the figure (its top 40 px above the bar) and at its first slider (upright just under the
            # held strip and row, sideways at most 60 % down the screen): strip and row held together under the bar,
            # wholly on screen, and a slider uncovered
            pg.evaluate("([f, upright]) => { const F = document.querySelector(`.figure[data-figure=\"${f}\"]`);"
                        " const s = F.querySelector('.controls input[type=range]'), bar = document.querySelector('.topbar');"
                        " const held = F.querySelector('.panels').offsetHeight + F.querySelector('.panel-tabs').offsetHeight;"
                        " scrollTo(0, scrollY + Math.max(F.getBoundingClientRect().top - bar.offsetHeight + 40,"
                        "   s.getBoundingClientRect().top - (upright ? bar.offsetHeight + held + 30 : innerHeight * .6))); }",
                        [f, size == "390x844"])
            st = pg.evaluate(STRIP_STATE, f)
            assert st["bar"] - 1 <= st["boxTop"] <= st["bar"] + 12 and abs(st["rowTop"] - st["boxBottom"]) < 2, (f, st)
            assert st["rowBottom"] <= st["vh"], (f, st)
            sliders = fig.locator(".controls input[type=range]").evaluate_all(
                "(els) => els.map(e => { const r = e.getBoundingClientRect(), h = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
                " return {top: r.top, bottom: r.bottom, uncovered: h === e, hit: h && h.tagName + '.' + h.className, sy: scrollY}; })")
            assert any(x["top"] >= 0 and x["bottom"] <= st["vh"] and x["uncovered"] for x in sliders), (f, sliders, st)
        assert pg.errors == []
        pg.context.close()


# ------------------------------------------------------------------------------------------------ axe on a phone
@pytest.fixture(scope="module")
def axe_source():
    from mamlviz.site import vendor_npm

    return (vendor_npm.ensure(vendor_npm.AXE, log=lambda *a: None) / "axe.min.js").read_text(encoding="utf-8")


# What the phone layout adds: the panel strips with their rows, the drawer, and the tables that scroll sideways
# (Part 8's; they take focus now). Left to the palette: a Part 5 arrow label's contrast sideways. (The recorded
# runs' grey labels, #7a7a7a at 4.2:1, are #707070 now: 4.9:1.)
AXE_SERIOUS = """() => axe.run({include: [...document.querySelectorAll('.figure > .panels:not([data-count="1"]), .panel-tabs, #menu, main table')]},
    {resultTypes: ['violations']}).then(r => r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["03-how-maml-works.html", "05-first-order-maml.html", "08-comparison.html"])
def test_axe_is_clean_on_a_phone_with_the_strips_and_the_open_drawer(phone, served_site, axe_source, name, size):
    """The phone layout's own markup (panel strips and their buttons, the drawer and its Close button) as axe sees
    it; the pages are loaded, not booted (test_a11y.py audits them live on a wide screen)."""
    pg = phone(SIZES[size])
    open_at(pg, served_site + name)
    pg.evaluate(axe_source)
    assert pg.evaluate(AXE_SERIOUS) == []
    tap_menu_button(pg)
    assert pg.evaluate(AXE_SERIOUS) == []


# --------------------------------------------------------------------------------------------------- screenshots
@pytest.mark.parametrize("size", SIZES)
def test_screenshots_of_parts_1_3_5_8(phone, served_site, shots, size):
    """For a look by hand (MAMLVIZ_SHOTS=folder): the top of each page, its first figure with a slider in view
    (the drawing held above it), each panel strip with its last panel chosen and its last slider in view, and the
    menu opened half way down."""
    for name in ("01-introduction.html", "03-how-maml-works.html", "05-first-order-maml.html", "08-comparison.html"):
        pg = phone(SIZES[size])
        open_at(pg, served_site + name)
        stem = f"phone-{size}-{name[:2]}"
        pg.screenshot(path=str(shots / f"{stem}-top.png"))
        slider = pg.locator(".figure .controls input[type=range]")
        if slider.count():
            slider.nth(min(2, slider.count() - 1)).scroll_into_view_if_needed()
            pg.screenshot(path=str(shots / f"{stem}-figure.png"))
        for f in STRIPS[size].get(name, []):
            fig = pg.locator(f'.figure[data-figure="{f}"]')
            fig.locator(".panels").scroll_into_view_if_needed()
            fig.locator(".panel-tabs button").last.click()
            fig.locator(".controls input[type=range]").last.scroll_into_view_if_needed()
            pg.wait_for_timeout(600)
            pg.screenshot(path=str(shots / f"{stem}-strip-{f}.png"))
        pg.evaluate("scrollTo(0, document.documentElement.scrollHeight / 2)")
        tap_menu_button(pg)
        pg.screenshot(path=str(shots / f"{stem}-menu.png"))
        assert pg.errors == []
        pg.context.close()
