"""What every engine showed up (tests/browser/test_engines.py walks the series in Firefox ESR and WebKitGTK), checked
here in Chromium on purpose-made cases:
- resizing a page with widgets between 1280 and 390 px raises no window `error` event (Chromium raises the
  ResizeObserver loop error as an event without logging it, so the listener is what sees it);
- an offline-copy message that reaches the page before `register()` has resolved (Firefox delivers the service
  worker's progress that early after a hop from Part 1) raises nothing and shows the saving notice;
- a figure is live only on its own first answer: one with an unknown id, or whose function raises, says "failed"
  with the reason while the page's other figures go live.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from engines import RECORD_ERRORS

P1, P2, P3 = "01-introduction.html", "02-where-maml-sits.html", "03-how-maml-works.html"
RECORD = f"({RECORD_ERRORS})();"


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def errors(pg):
    return pg.evaluate("window.__mamlvizErrors") + pg.console_errors


def widget_pages(built_site):
    return sorted(p.name for p in built_site.glob("*.html") if 'data-widget="' in p.read_text(encoding="utf-8"))


def test_resizing_every_page_with_a_widget_raises_no_error_event(page, served_site, built_site):
    pages = widget_pages(built_site)
    assert P1 in pages and P2 in pages
    for name in pages:
        pg = page(init_script=RECORD)
        pg.goto(served_site + name)
        pg.wait_for_selector(".widget[data-widget] svg, .widget[data-widget] .fs-exemplar")
        for width in (390, 1280, 390, 1280):
            pg.set_viewport_size({"width": width, "height": 900})
            pg.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            pg.wait_for_timeout(200)
        assert errors(pg) == [], name
        pg.context.close()


# The register() of the page is held until the test lets it go, after a message of the worker came.
HOLD_REGISTER = RECORD + """
(() => {
  const real = ServiceWorkerContainer.prototype.register;
  let release;
  const held = new Promise((r) => { release = r; });
  window.__releaseRegister = () => release();
  ServiceWorkerContainer.prototype.register = function (...args) {
    window.__registerCalled = true;
    return held.then(() => real.apply(this, args));
  };
})();"""


def test_a_worker_message_before_registration_resolves_shows_the_saving_notice(open_page, served_site):
    pg = open_page(init_script=HOLD_REGISTER, service_workers="allow")
    try:
        pg.goto(served_site + P1)
        pg.wait_for_function("window.__registerCalled === true")
        pg.evaluate("""navigator.serviceWorker.dispatchEvent(new MessageEvent('message',
            {data: {type: 'offline', state: 'saving', percent: 37, version: 'another page started it'}}))""")
        line = pg.locator(".offline-status")
        assert line.inner_text() == "Saving for offline reading… 37 %" and line.get_attribute("data-state") == "saving"
        assert errors(pg) == []
        pg.evaluate("window.__releaseRegister()")  # the registration resolves: the line follows the real worker
        pg.locator(".offline-status", has_text="Available offline.").wait_for(timeout=180_000)
        assert errors(pg) == []
    finally:
        pg.context.close()


def other_figures_live_and_this_one_failed(pg, failed, reason):
    others = [f for f in pg.locator(".figure[data-figure]").evaluate_all("fs => fs.map(f => f.dataset.figure)")
              if f != failed]
    for f in others:
        if f == "meta-lab":  # a training figure: its worker boots when it nears the screen
            pg.locator(fig(f)).scroll_into_view_if_needed()
        pg.wait_for_selector(f'{fig(f)}[data-status="live"]', timeout=120_000)
    pg.wait_for_selector(f'{fig(failed)}[data-status="failed"]', timeout=60_000)
    status = pg.locator(f"{fig(failed)} .figure-status").inner_text()
    assert status.startswith("Not live: ") and re.search(reason, status), status
    assert re.search(reason, pg.locator(f"{fig(failed)} .figure-message").inner_text())
    assert pg.evaluate("import(new URL('assets/js/runtime.js', location.href).href).then(m => m.getStatus())") == "live"
    assert errors(pg) == []


def test_a_figure_with_an_unknown_id_says_failed_and_the_others_go_live(page, served_site):
    pg = page(init_script=RECORD)

    def rename(route):
        html = route.fetch().text()
        out, n = re.subn(r'(class="figure-data">\{"id": ?)"two-tasks"', r'\1"no-such-figure"', html)
        assert n == 1
        route.fulfill(body=out, headers={"content-type": "text/html; charset=utf-8"})

    pg.route(served_site + P3, rename)
    pg.goto(served_site + P3)
    other_figures_live_and_this_one_failed(pg, "two-tasks", r"unknown figure 'no-such-figure'")


def test_a_figure_whose_function_raises_says_failed_and_the_others_go_live(page, served_site, built_site):
    """mamlviz.zip as served with Part 3's sine fit made to raise: its first answer is the error."""
    source = io.BytesIO((built_site / "mamlviz.zip").read_bytes())
    patched = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.endswith("mamlviz/figures/part3.py"):
                text, n = re.subn(r"(\ndef sine_fit\w*\(state, action=None\):\n)",
                                  r'\1    raise RuntimeError("made to raise by a test")\n', data.decode())
                assert n == 1
                data = text.encode()
            zout.writestr(item, data)
    pg = page(init_script=RECORD)
    pg.route(served_site + "mamlviz.zip", lambda route: route.fulfill(body=patched.getvalue(),
                                                                      headers={"content-type": "application/zip"}))
    pg.goto(served_site + P3)
    other_figures_live_and_this_one_failed(pg, "sine-fit", r"RuntimeError: made to raise by a test")


LIVE_ORDER = """window.__liveOrder = [];
new MutationObserver((records) => {
  for (const r of records) {
    const f = r.target;
    if (f.dataset && f.dataset.status === 'live' && !window.__liveOrder.includes(f.dataset.figure))
      window.__liveOrder.push(f.dataset.figure);
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-status']});"""


def test_the_figure_on_screen_answers_first(page, served_site):
    """Opened at Part 3's two-task figure (the third of its live figures), that figure is asked first once the worker
    is up, and goes live before the two above it, which are off screen (issue 26: the first minute)."""
    pg = page(init_script=LIVE_ORDER)
    pg.goto(served_site + P3 + "#fig-two-tasks")
    pg.wait_for_function("window.__liveOrder && window.__liveOrder.length >= 3", timeout=180_000)
    order = pg.evaluate("window.__liveOrder")
    assert order[0] == "two-tasks" and {"sine-fit", "accumulated-loss"} <= set(order), order
