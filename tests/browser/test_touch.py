"""A phone reader's thumb (390 px, touch emulated through DevTools' Input.dispatchTouchEvent, the events a real
touchscreen sends): a vertical swipe that starts on any figure's drawing scrolls the page; a touch drag that starts on
a handle moves the handle and not the page; a tap on a drawing that takes points adds one (issue 26)."""

from __future__ import annotations

import pytest

PAGES = ["01-introduction", "02-where-maml-sits", "03-how-maml-works", "04-meta-gradient-cost",
         "05-first-order-maml", "06-reptile", "07-imaml", "08-comparison", "09-conclusion", "10-further-reading"]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
# every figure's and widget's drawing, but the game's query glyph, which is dragged, and Part 1's drawing pads
# (.fd-pad), on which a finger draws: those take the touch by design
DRAWINGS = ".figure .panel svg, .widget svg:not(.fs-query svg):not(.fd-pad), .widget canvas"
SWIPE = 200  # px the finger travels


@pytest.fixture(scope="module")
def phone(open_page):
    pg = open_page(**PHONE)
    pg.cdp = pg.context.new_cdp_session(pg)
    yield pg
    pg.context.close()


def touch(pg, points):
    """A finger down at points[0], through the rest, then lifted (CSS px of the viewport)."""
    (x, y), *rest = points
    pg.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in rest:
        pg.cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    pg.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def drag_path(x, y, dx, dy, steps=10):
    return [(x + dx * k / steps, y + dy * k / steps) for k in range(steps + 1)]


def centre(pg, selector, i):
    """Scroll the i-th match of `selector` to the middle of the screen: a point on it (near its centre, off any handle
    or point, which take the touch), and its size, in viewport px."""
    return pg.evaluate("""([sel, i]) => { const e = document.querySelectorAll(sel)[i];
        e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
        for (const [fx, fy] of [[.5, .5], [.3, .5], [.7, .5], [.5, .3], [.5, .7], [.3, .3], [.7, .7]]) {
          const [x, y] = [r.x + r.width * fx, r.y + r.height * fy], hit = document.elementFromPoint(x, y);
          if (hit && e.contains(hit) && !hit.closest(".handle, .input-point")) return [x, y, r.width, r.height];
        }
        return [r.x + r.width / 2, r.y + r.height / 2, r.width, r.height]; }""", [selector, i])


def scroll_y(pg):
    return pg.evaluate("scrollY")


def settle(pg):
    """Wait until the page's scroll has not moved for 100 ms (a fling after a swipe goes on for a while)."""
    pg.wait_for_function("""() => new Promise(done => { const y = scrollY;
        setTimeout(() => done(scrollY === y), 100); })""", timeout=5000)


@pytest.mark.parametrize("name", PAGES)
def test_a_swipe_over_every_drawing_scrolls_the_page(phone, served_site, name):
    pg = phone
    pg.goto(f"{served_site}{name}.html")
    pg.wait_for_function("document.readyState === 'complete' && "
                         "[...document.querySelectorAll('.widget')].every(w => w.children.length > 1)")
    count = pg.locator(DRAWINGS).count()
    if name not in ("09-conclusion", "10-further-reading"):
        assert count, f"{name}: no drawing found"
    stuck = []
    for i in range(count):
        def swipe():
            settle(pg)   # the last swipe's fling has ended
            x, y, w, h = centre(pg, DRAWINGS, i)
            if w < 30 or h < 30:  # an icon, not a drawing
                return None
            settle(pg)
            room_below = pg.evaluate("document.documentElement.scrollHeight - innerHeight - scrollY")
            up = room_below > 2 * SWIPE  # the finger moves up and the page down, unless the page ends below
            before = scroll_y(pg)
            touch(pg, drag_path(x, y, 0, -SWIPE if up else SWIPE))
            pg.wait_for_timeout(250)
            return (scroll_y(pg) - before) * (1 if up else -1)
        # a second try where the first one did not scroll: the emulated swipe is sent in a burst, and once in a few
        # runs (the page busy) the browser scrolled it 6 px; a drawing that takes the touch stops both
        moved = swipe()
        if moved is not None and moved < SWIPE / 4:
            moved = swipe()
        if moved is not None and moved < SWIPE / 4:
            stuck.append((i, pg.evaluate("([s, i]) => { const e = document.querySelectorAll(s)[i]; "
                                         "const f = e.closest('[data-figure], .widget'); return f ? (f.dataset.figure || f.className) : e.tagName; }",
                                         [DRAWINGS, i]), moved))
    # pinch-zoom is left to the page too (a two-finger pinch cannot be sent through DevTools: the style is checked)
    no_pinch = pg.evaluate("""s => [...document.querySelectorAll(s)].map(e => getComputedStyle(e).touchAction)
        .filter(t => !["auto", "manipulation"].includes(t) && !t.includes("pinch-zoom"))""", DRAWINGS)
    assert not no_pinch, f"{name}: drawings that block pinch-zoom: {no_pinch}"
    assert not stuck, f"{name}: a swipe over these drawings did not scroll the page (index, figure, px): {stuck}"


def figure_state(pg, figure_id, key):
    return pg.evaluate("([id, k]) => window.mamlvizFigures.find(f => f.id === id).state[k]", [figure_id, key])


HANDLES = {"03-how-maml-works": ["two-tasks"], "04-meta-gradient-cost": ["jacobians"], "05-first-order-maml": ["local-curvature"],
           "06-reptile": ["reptile-step", "reptile-tasks"], "07-imaml": ["imaml-forces", "imaml-gradient"],
           "08-comparison": ["four-methods", "trajectories"]}


@pytest.mark.parametrize("name", HANDLES)
def test_a_touch_drag_on_a_handle_moves_the_handle_not_the_page(phone, served_site, name):
    pg = phone
    pg.goto(f"{served_site}{name}.html")
    pg.wait_for_function("window.mamlvizFigures && window.mamlvizFigures.length > 0")  # the handles are wired
    for fid in HANDLES[name]:
        sel = f'.figure[data-figure="{fid}"] .handle'
        pg.wait_for_selector(sel)
        key = pg.evaluate("s => document.querySelector(s).closest('.figure') && "
                          "window.mamlvizFigures.find(f => f.root === document.querySelector(s).closest('.figure'))"
                          ".controls.find(c => c.kind === 'handle').name", sel)
        # the page at rest first: a figure dragged before may still be refining its answer, and the readouts it
        # redraws above this one move the page's scroll anchor (the page then shifts a few px by itself)
        pg.wait_for_function("window.mamlvizFigures.every(f => !f.inflight)")
        # the handle in the middle of the screen; the drag goes towards its panel's centre (inside the bounds)
        hx, hy, cx, cy = pg.evaluate("""s => { const h = document.querySelector(s); h.scrollIntoView({block: "center"});
            const a = h.querySelector(".dot").getBoundingClientRect(), b = h.closest("svg").getBoundingClientRect();
            return [a.x + a.width / 2, a.y + a.height / 2, b.x + b.width / 2, b.y + b.height / 2]; }""", sel)
        pg.wait_for_timeout(150)
        dx, dy = (40 if cx >= hx else -40), (40 if cy >= hy else -40)
        top = f"document.querySelector('{sel}').closest('svg').getBoundingClientRect().top"
        before, y0, top0 = figure_state(pg, fid, key), scroll_y(pg), pg.evaluate(top)
        touch(pg, drag_path(hx, hy, dx, dy))
        pg.wait_for_timeout(250)
        # what the reader sees: the drawing stayed under the finger (a scroll would carry it 40 px with the finger)
        assert abs(pg.evaluate(top) - top0) < 1, f"{fid}: the drag on its handle moved the drawing on the screen"
        assert abs(scroll_y(pg) - y0) < 20, f"{fid}: the drag on its handle scrolled the page"
        after = figure_state(pg, fid, key)
        assert after[0] != before[0] and after[1] != before[1], f"{fid}: the handle did not follow the finger ({before} → {after})"
        # it follows the finger in both directions: right and down on the screen are +x and −y in the figure
        assert (after[0] - before[0]) * dx > 0 and (after[1] - before[1]) * dy < 0


@pytest.mark.parametrize("name, fid", [("03-how-maml-works", "sine-fit"), ("08-comparison", "race-fit")])
def test_a_tap_on_a_drawing_that_takes_points_adds_one(phone, served_site, name, fid):
    pg = phone
    pg.goto(f"{served_site}{name}.html")
    sel = f'.figure[data-figure="{fid}"] svg.accepts-points'
    pg.wait_for_selector(sel)
    key = pg.evaluate("id => window.mamlvizFigures.find(f => f.id === id).controls.find(c => c.kind === 'points').name", fid)
    x, y = pg.evaluate("""s => { const svg = document.querySelector(s); svg.scrollIntoView({block: "center"});
        const r = svg.querySelector(".frame").getBoundingClientRect();
        for (const [fx, fy] of [[.37, .41], [.6, .35], [.45, .65], [.7, .6]]) {
          const [x, y] = [r.x + r.width * fx, r.y + r.height * fy], hit = document.elementFromPoint(x, y);
          if (hit && svg.contains(hit) && !hit.closest(".input-point, .handle")) return [x, y];
        } }""", sel)
    pg.wait_for_timeout(150)
    before, y0 = len(figure_state(pg, fid, key)), scroll_y(pg)
    touch(pg, [(x, y)])
    pg.wait_for_function(f"window.mamlvizFigures.find(f => f.id === '{fid}').state['{key}'].length === {before + 1}",
                         timeout=5000)
    assert scroll_y(pg) == y0
