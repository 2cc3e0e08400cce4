"""The seeded random reader at length (outside the test suite): N actions on every page with figures or widgets.

    .venv/bin/python bench/random_reader.py [--actions 500] [--seed 12] [--pages 01 03 ...] [--site DIR]

Builds the site (unless --site names a built one), serves it on 127.0.0.1, drives Debian Chromium headless with the
reader of tests/browser/random_reader.py (the one the suite runs 100 actions a page with), and prints per page the
actions done by kind, console errors, bad text (NaN, undefined, tracebacks) and which figures still answer. Exit
status 1 when any page fails. Replay a failure with the same --seed and --pages.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from random_reader import Reader, bad_text, settle, still_answers  # noqa: E402

from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function  # noqa: E402
from mamlviz.site import Project, build  # noqa: E402
from mamlviz.site.serve import serve_in_thread  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--actions", type=int, default=500)
parser.add_argument("--seed", type=int, default=12)
parser.add_argument("--pages", nargs="+", default=[f"{n:02d}" for n in range(1, 10)])
parser.add_argument("--site", type=Path)
args = parser.parse_args()

site = args.site
if site is None:
    site = Path(tempfile.mkdtemp(prefix="mamlviz-reader-"))
    print(f"building the site into {site}", flush=True)
    build(Project.at(REPO, site), log=lambda *a: None)
server, base = serve_in_thread(site)
failed = False
try:
    from playwright.sync_api import sync_playwright

    no_eval_wait_for_function()  # the site's policy refuses eval: string predicates go as functions
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        pg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors, outside = [], []
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        pg.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        pg.on("request", lambda r: r.url.startswith((base, "data:", "blob:")) or outside.append(r.url))
        pg.goto(base + "index.html")
        hrefs = pg.locator(".menu-parts > li > a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        print(f"| page | actions by kind | seconds | console errors | bad text | figures answering |\n"
              f"| --- | --- | --- | --- | --- | --- |", flush=True)
        for name in args.pages:
            href = hrefs[int(name) - 1]
            start, before = time.perf_counter(), len(errors)
            reader = Reader(pg, href, seed=args.seed * 100 + int(name))
            reader.hop(href)
            counts = reader.run(args.actions)
            settle(pg)
            bad, answers = bad_text(pg), still_answers(pg)
            new_errors = errors[before:]
            ok = sum(counts.values()) == args.actions and not new_errors and not bad and all(answers.values())
            failed |= not ok
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"| {href} | {sum(counts.values())}: {kinds} | {time.perf_counter() - start:.0f} | "
                  f"{len(new_errors)} | {len(bad)} | {sum(answers.values())}/{len(answers)} |", flush=True)
            for line in new_errors[:5] + bad[:5] + [k for k, v in answers.items() if not v]:
                print(f"|   | {line[:300]} |", flush=True)
        if outside:
            failed = True
            print("requests outside the site:", outside[:5])
        browser.close()
finally:
    server.shutdown()
sys.exit(1 if failed else 0)
