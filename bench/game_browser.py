"""The Part 1 game's MAML machine in Chromium: how long after a trial is shown its answer is ready (not a test).

    python bench/game_browser.py [--trials 30] [--site DIR] [--json out.json]

Builds the site (or uses --site), serves it on 127.0.0.1, opens Part 1 in headless Debian Chromium, waits for the
runtime, then plays `--trials` trials in each mode (answer with key 1, next trial with N) and reads what the game
records for each trial: trial shown → machine's answer ready (`data-maml-ms`; the clock starts when the trial's
drawings are on the page, before the exemplars are rasterised for the machine), and of that the JavaScript share
(rasterising and pooling the drawings, `data-maml-prep-ms`) and the Python share (adaptation and classification in
the worker, `data-maml-compute-ms`); the rest is the message round trip (JSON in and out, the worker's scheduling).
The first trial of each mode (it loads the model) is reported apart. Prints a Markdown table with medians and 95th
percentiles, and the load average of the machine before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAGE = "01-introduction.html"
GAME = '.widget[data-widget="fewshot-game"]'
BOOT_MS = 300_000


def play(pg, mode, trials):
    """Per trial: (total, prep, compute) in ms, for `trials` + 1 trials of `mode` (the first is the warm-up)."""
    pg.locator(f'{GAME} .fs-mode[data-mode="{mode}"]').click()
    rows = []
    for i in range(trials + 1):
        if i:                                       # answer the trial on screen, then ask for the next one
            pg.locator(f"{GAME} .fs-board").focus()
            pg.keyboard.press("1")
            pg.keyboard.press("n")
        pg.wait_for_selector(f"{GAME}[data-maml-status=answered]", timeout=BOOT_MS)
        game = pg.locator(GAME)
        rows.append(tuple(float(game.get_attribute(a)) for a in ("data-maml-ms", "data-maml-prep-ms",
                                                                  "data-maml-compute-ms")))
    return rows


def summary(rows):
    a = np.array(rows)
    return {"n": len(a), "median": np.median(a, axis=0).round(1).tolist(),
            "p95": np.percentile(a, 95, axis=0).round(1).tolist()}


def measure(trials, site=None, log=print):
    from playwright.sync_api import sync_playwright

    from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function
    from mamlviz.site import Project, build, find_root
    from mamlviz.site.serve import serve_in_thread

    if site is None:
        site = Path(tempfile.mkdtemp(prefix="mamlviz-game-bench-"))
        log(f"building the site into {site}")
        build(Project.at(find_root(), site), log=lambda *a: None)
    server, base = serve_in_thread(Path(site))
    out = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "trials": trials}
    try:
        no_eval_wait_for_function()  # the site's policy refuses eval: string predicates go as functions
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            pg = browser.new_page(viewport={"width": 1280, "height": 900})
            tic = time.perf_counter()
            pg.goto(base + PAGE)
            pg.wait_for_selector(f"{GAME}[data-maml-status=answered]", timeout=BOOT_MS)
            out["boot_s"] = round(time.perf_counter() - tic, 1)
            for mode in (5, 20):
                log(f"{mode}-way: {trials} trials")
                rows = play(pg, mode, trials)
                out[f"way{mode}_first"] = rows[0]
                out[f"way{mode}"] = summary(rows[1:])
            browser.close()
    finally:
        server.shutdown()
    out["load_after"] = os.getloadavg()
    return out


def markdown(r):
    lines = [f"Part 1 game, MAML machine, headless Debian Chromium on 127.0.0.1; {r['trials']} trials per mode after "
             f"one warm-up; load average {r['load_before'][0]:.1f} before, {r['load_after'][0]:.1f} after "
             f"({r['cpus']} cores); page live after {r['boot_s']} s", "",
             "| game | trial shown → answer ready: median / p95 (ms) | rasterise + pool (JS) | adapt + classify "
             "(Python) | rest (messages, JSON, scheduling) | first trial (loads the model) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for mode in (5, 20):
        s = r[f"way{mode}"]
        (tot, prep, comp), (tot95, prep95, comp95) = s["median"], s["p95"]
        lines.append(f"| {mode}-way | {tot:.1f} / {tot95:.1f} | {prep:.1f} / {prep95:.1f} | {comp:.1f} / {comp95:.1f} "
                     f"| {tot - prep - comp:.1f} (of the medians) | {r[f'way{mode}_first'][0]:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--site", default=None, help="a built site (default: build one into a temporary folder)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    r = measure(args.trials, args.site, log=lambda *a: print(*a, file=sys.stderr))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))
    print(markdown(r))


if __name__ == "__main__":
    main()
