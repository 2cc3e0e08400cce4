"""First paint of a part in headless Chromium, per variant of its page (issue 26): first contentful paint, the main
thread's Layout and style (UpdateLayoutTree) time before it (a CDP trace, devtools.timeline) and when the style
sheet was requested and arrived; the variants loaded one after the other, round after round, fresh contexts.

    .venv/bin/python bench/first_paint.py [SITE] [--runs 10] [--page 03-how-maml-works.html]
                                          [--variants built,syncboot,cv,nomath,nosvg,nomath_nosvg,nofont,fontpreload]

SITE: a built site (default site/). Each variant is written beside the page as v-NAME.html with its own style sheet
(assets/css/style-NAME.css) and removed afterwards. `built` is the page as built; `syncboot` makes boot.js
parser-blocking again (as before issue 26); `cv` adds `content-visibility: auto` to every block of the article; the
others leave out the MathML, the figures' SVG or the maths font, or preload the font. Medians; not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function
from mamlviz.site.serve import serve_in_thread

BOOT = '<script async src="assets/js/boot.js">'
FONT = re.compile(r"@font-face\s*\{.*?\}", re.S)


def _nomath(h):
    return re.sub(r"<math\b.*?</math>", "x", h, flags=re.S)


def _nosvg(h):
    return re.sub(r'<div class="panels".*?</svg></div></div>', "", h, flags=re.S)


def _same(x):
    return x


VARIANTS = {   # name: (page HTML → variant, style sheet → variant)
    "built": (_same, _same),
    "syncboot": (lambda h: h.replace(BOOT, BOOT.replace("async ", "")), _same),
    "cv": (_same, lambda c: c + "\n.part > * { content-visibility: auto; contain-intrinsic-size: auto 60px; }\n"),
    "nomath": (_nomath, _same),
    "nosvg": (_nosvg, _same),
    "nomath_nosvg": (lambda h: _nosvg(_nomath(h)), _same),
    "nofont": (_same, lambda c: FONT.sub("", c, count=1)),
    "fontpreload": (lambda h: h.replace('<link rel="stylesheet"', '<link rel="preload" href="assets/fonts/'
                                        'STIXTwoMath-Regular.woff2" as="font" type="font/woff2" crossorigin>\n'
                                        '<link rel="stylesheet"'), _same),
}


def load_once(browser, url):
    """(FCP ms, Layout ms and style ms on the main thread before it, style sheet requested / arrived ms)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    cdp = ctx.new_cdp_session(pg)
    events, done = [], []
    cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
    cdp.on("Tracing.tracingComplete", lambda e: done.append(1))
    cdp.send("Tracing.start", {"categories": "devtools.timeline,loading", "transferMode": "ReportEvents"})
    pg.goto(url, wait_until="commit")
    pg.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0", timeout=60_000)
    pg.wait_for_timeout(300)
    fcp = pg.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    css = pg.evaluate("(() => { const e = performance.getEntriesByType('resource').find(e => e.name.includes('/css/'));"
                      " return [e.startTime, e.responseEnd]; })()")
    cdp.send("Tracing.end")
    while not done:
        pg.wait_for_timeout(50)
    ctx.close()
    main = next(e for e in events if e.get("name") == "ParseHTML")
    first = [e["ts"] for e in events if e.get("name") == "firstContentfulPaint" and e["pid"] == main["pid"]]

    def before(name):
        return sum(e.get("dur", 0) for e in events if e.get("name") == name and e["pid"] == main["pid"]
                   and e["tid"] == main["tid"] and first and e["ts"] < first[0]) / 1000

    return fcp, before("Layout"), before("UpdateLayoutTree"), css[0], css[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("site", nargs="?", type=Path, default=Path("site"))
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--page", default="03-how-maml-works.html")
    p.add_argument("--variants", default="built,syncboot,cv")
    args = p.parse_args(argv)
    names = args.variants.split(",")
    html, css = (args.site / args.page).read_text(), (args.site / "assets/css/style.css").read_text()
    written = []
    for n in names:
        to_html, to_css = VARIANTS[n]
        (args.site / f"assets/css/style-{n}.css").write_text(to_css(css))
        (args.site / f"v-{n}.html").write_text(to_html(html).replace('href="assets/css/style.css"',
                                                                     f'href="assets/css/style-{n}.css"'))
        written += [args.site / f"assets/css/style-{n}.css", args.site / f"v-{n}.html"]
    no_eval_wait_for_function()
    server, base = serve_in_thread(args.site)
    res, loads = {n: [] for n in names}, [os.getloadavg()[0]]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for r in range(args.runs):
                for n in names:
                    res[n].append(load_once(browser, base + f"v-{n}.html"))
                loads.append(os.getloadavg()[0])
                print(f"round {r + 1}: " + ", ".join(f"{n} {res[n][-1][0]:.0f} ms" for n in names), flush=True)
            browser.close()
    finally:
        server.shutdown()
        for f in written:
            f.unlink()
    print(f"\n{args.page}, medians of {args.runs} loads, 1-minute load average {min(loads):.1f}–{max(loads):.1f}")
    print("| variant | first contentful paint | layout before it | style before it | style sheet requested / arrived |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for n in names:
        m = [statistics.median(x[i] for x in res[n]) for i in range(5)]
        print(f"| {n} | {m[0]:.0f} ms | {m[1]:.0f} ms | {m[2]:.0f} ms | {m[3]:.0f} / {m[4]:.0f} ms |")


if __name__ == "__main__":
    main()
