"""The content-security policy: every built page carries it (and nothing it would block), `mamlviz serve` sends it
for the pages and the workers' scripts, every part goes live under it without a single violation (Pyodide included:
'wasm-unsafe-eval' and nothing more), an injected inline script does not run, and a script-y URL fragment is never
inserted as HTML."""

from __future__ import annotations

import urllib.request
from html.parser import HTMLParser

import pytest

from mamlviz import figures
from mamlviz.site import csp

P1, P3 = "01-introduction.html", "03-how-maml-works.html"
from live import RUNTIME
# Every violation the page sees (workers report theirs to the page, which logs them as console errors).
WATCH = """window.__violations = []; window.__navs = 0;
document.addEventListener('mamlviz:navigated', () => window.__navs++);
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"""


class Audit(HTMLParser):
    """What a page holds that the policy cares about."""

    def __init__(self):
        super().__init__()
        self.metas, self.inline_scripts, self.style_attrs, self.handlers, self.js_urls = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.metas.append(a.get("content"))
        if tag == "script" and "src" not in a and a.get("type") != "application/json":
            self.inline_scripts.append(a)
        if "style" in a:
            self.style_attrs.append(tag)
        self.handlers += [f"{tag} {k}" for k in a if k.startswith("on")]
        self.js_urls += [f"{tag} {k}" for k, v in a.items() if (v or "").strip().lower().startswith("javascript:")]


def pages(site):
    return sorted(site.glob("*.html"))


def test_every_built_page_carries_the_policy_and_nothing_it_blocks(built_site):
    assert len(pages(built_site)) == 12  # index, ten parts, about
    for path in pages(built_site):
        text = path.read_text()
        audit = Audit()
        audit.feed(text)
        assert audit.metas == [csp.POLICY], path.name
        # the policy tag comes before anything it governs
        assert text.index("Content-Security-Policy") < min(text.index("<link"), text.index("<script")), path.name
        assert (audit.inline_scripts, audit.style_attrs, audit.handlers, audit.js_urls) == ([], [], [], []), path.name
    assert "'unsafe-inline'" not in csp.POLICY and "'unsafe-eval'" not in csp.POLICY
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp.POLICY


def test_serve_sends_the_policy_for_pages_and_worker_scripts(served_site):
    for name in [P3, "assets/js/worker.js", "pyodide/pyodide.js", "pyodide/pyodide.asm.js"]:
        with urllib.request.urlopen(served_site + name) as r:
            assert r.headers["Content-Security-Policy"] == csp.HEADER, name
    assert csp.HEADER.startswith(csp.POLICY + ";")


@pytest.fixture(scope="module")
def watched(open_page, served_site):
    pg = open_page(init_script=WATCH)
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    pg.context.close()


def answers(pg, figure_id):
    """The figure's worker answers a request for its current state: the number of scenes it sent."""
    return pg.evaluate(f"""{RUNTIME}.then((rt) => new Promise((resolve, reject) => {{
        const f = window.mamlvizFigures.find((f) => f.id === '{figure_id}');
        let drawn = 0;  // a stream may end with an empty reply: count the scenes it drew
        rt.request(f.id, f.state, null, (scene, done) => {{ drawn += scene ? 1 : 0; if (done) resolve(drawn); }}, reject);
    }}))""")


def test_every_part_goes_live_under_the_policy_with_no_violation(watched, served_site, wait_live):
    figures.load_all()
    pg = watched
    pg.goto(served_site + "index.html")
    hrefs = pg.locator(".menu-parts > li > a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) == 10
    answered = []
    for href in hrefs:  # client-side hops (one main worker for the whole tour, as a reader's)
        before = pg.evaluate("window.__navs || 0")
        pg.locator(f'.menu-parts a[href="{href}"]').first.click()
        pg.wait_for_function(f"(window.__navs || 0) > {before}")
        for figure_id in pg.locator(".figure[data-figure]").evaluate_all("els => els.map(e => e.dataset.figure)"):
            wait_live(pg, figure_id, timeout=120_000)
            if not figures.FIGURES[figure_id].training:
                assert answers(pg, figure_id) >= 1, (href, figure_id)
                answered.append(figure_id)
        assert pg.evaluate("window.__violations") == [], href
    assert {"sine-fit", "accumulated-loss", "jacobians", "imaml-gradient", "four-methods"} <= set(answered)
    # the headers reached the workers too: they ran under the policy (a refused eval would be a console error)
    assert pg.console_errors == []
    assert pg.dialogs == []


def test_an_injected_inline_script_does_not_run(watched, served_site):
    """The policy in the page's <meta> tag alone (the route drops the header) stops an inline script, an inline
    event handler and a style attribute that someone slipped into the HTML."""
    pg = watched
    pattern = served_site + "injected-" + P3

    def inject(route):
        original = route.fetch(url=served_site + P3)
        body = original.text().replace(
            "</main>", '<script>window.__injected = "script"</script>'
            '<img id="injected-img" src="data:," onload="window.__injected = \'handler\'">'
            '<p id="injected-style" style="color: rgb(255, 0, 0)">x</p></main>')
        headers = {k: v for k, v in original.headers.items()
                   if k.lower() not in ("content-security-policy", "content-encoding", "content-length", "etag")}
        route.fulfill(status=200, headers=headers, body=body)

    pg.context.route(pattern, inject)
    try:
        pg.goto(pattern)
        pg.wait_for_selector("#injected-img", state="attached")
        pg.wait_for_function("window.__violations.length >= 2")
        assert pg.evaluate("window.__injected") is None
        assert pg.evaluate("getComputedStyle(document.getElementById('injected-style')).color") != "rgb(255, 0, 0)"
        seen = " ".join(pg.evaluate("window.__violations"))
        assert "script-src-elem" in seen and "script-src-attr" in seen and "style-src-attr" in seen
        # the page's own scripts still ran: the figures are there and go live
        pg.wait_for_selector('.figure[data-figure="sine-fit"][data-status="live"]', timeout=120_000)
    finally:
        pg.context.unroute(pattern)
        pg.console_errors.clear()  # the refused script is logged by the browser: expected here


def test_a_script_y_url_fragment_is_never_inserted_as_html(watched, served_site):
    pg = watched
    evil = ('#sine-fit:<img src=x onerror=alert(1)>=1;amplitude=<script>alert(2)</script>'
            '&<svg onload=alert(3)>:x=1')
    pg.goto(served_site + P3 + evil)
    fig = '.figure[data-figure="sine-fit"]'
    notice = pg.locator(f"{fig} .figure-notice")
    notice.wait_for(state="visible")
    text = notice.text_content()
    assert "<img src" in text and "amplitude" in text  # shown as text, literally
    assert notice.locator("*").count() == 0
    assert pg.locator("main img[src='x'], main svg[onload], main script:not([type]):not([src])").count() == 0
    pg.wait_for_selector(f'{fig}[data-status="live"]', timeout=120_000)
    assert answers(pg, "sine-fit") >= 1  # the figure works, with the garbage ignored
    assert pg.evaluate("window.__violations") == []  # nothing was even attempted
    assert pg.dialogs == [] and pg.console_errors == []
