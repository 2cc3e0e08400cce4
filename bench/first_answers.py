"""What delays a part's figures after the runtime has booted (issue 26), in headless Chromium: per cold load, the
main worker's boot steps, when each non-training figure went live, and the bare runtime's boot (Pyodide + NumPy) in
the same run; with --steps, in a bare worker, the time to compile the package, import `mamlviz.figures` and the
page's figure module, and compute each figure's first scene (what its probe asks for), twice.

    .venv/bin/python bench/first_answers.py [SITE] [--runs 3] [--page 03-how-maml-works.html] [--steps]

SITE: a built site (default site/). Medians; not a test. `mamlviz bench --browser` reports the same boot → live
figures for Part 3 among its others.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

from mamlviz.browserbench import (ARGS, CHROMIUM, LIVE_AT, RUNTIME, _bare_worker, _live_figures, _wait_live,
                                  no_eval_wait_for_function)
from mamlviz.site.serve import serve_in_thread

STEPS_PY = r'''
import time, json, sys, pathlib
sys.path.insert(0, "/home/pyodide/src")
out = {}
t = time.perf_counter()
files = list(pathlib.Path("/home/pyodide/src/mamlviz").rglob("*.py"))
for f in files:
    compile(f.read_text(), str(f), "exec")
out[f"compile all {len(files)} modules"] = time.perf_counter() - t
t = time.perf_counter(); import mamlviz.figures as F; out["import mamlviz.figures"] = time.perf_counter() - t
t = time.perf_counter(); F.load([MODULE]); out["import " + MODULE] = time.perf_counter() - t
for rep in (1, 2):
    for fid in IDS:
        t = time.perf_counter()
        call = F.Call(fid, json.dumps(F.FIGURES[fid].default_state()), None, MODULE)
        call.step()
        out[f"{fid}, call {rep}"] = time.perf_counter() - t
        call.close()
json.dumps({k: 1e3 * v for k, v in out.items()})
'''

STEPS_WORKER = """
const base = %(base)s;
self.onmessage = async (e) => {
  importScripts(base + "pyodide/pyodide.js");
  const py = await loadPyodide({indexURL: base + "pyodide/", lockFileURL: base + "pyodide/pyodide-lock.json"});
  await py.loadPackage("numpy", {messageCallback: () => {}});
  py.runPython("import numpy");
  const zip = await (await fetch(base + "mamlviz.zip")).arrayBuffer();
  py.unpackArchive(zip, "zip", {extractDir: "/home/pyodide/src"});
  self.postMessage(py.runPython(e.data));
};
"""


def cold_load(browser, base, page):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(LIVE_AT)
    pg = ctx.new_page()
    pg.goto(base + page, wait_until="commit")
    pg.wait_for_selector(".figure svg.plot", state="attached")
    ids = _live_figures(pg)
    _wait_live(pg, ids)
    t = pg.evaluate(f"{RUNTIME}.then(m => m.workers()[0].timings)")
    live = pg.evaluate("window.__liveAt")
    module = pg.evaluate("JSON.parse(document.querySelector('.figure script.figure-data').textContent).module")
    ctx.close()
    ready = t["start"] + t["mamlviz"]
    last = max(live[i] for i in ids)
    return ids, module, {"worker start": t["start"], "runtime": t["runtime"], "NumPy": t["numpy"],
                         "mamlviz ready": t["mamlviz"], "ready → all live": last - ready,
                         "start → all live": last - t["start"],
                         **{f"ready → {i} live": live[i] - ready for i in ids}}


def steps(browser, base, module, ids):
    ctx = browser.new_context(bypass_csp=True)   # a worker from a blob: URL, which the site's policy refuses
    pg = ctx.new_page()
    pg.goto(base + "index.html")
    code = STEPS_PY.replace("MODULE", repr(module)).replace("IDS", repr(ids))
    out = pg.evaluate("""async ([worker, code]) => {
        const w = new Worker(URL.createObjectURL(new Blob([worker], {type: 'text/javascript'})));
        const r = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(code); });
        w.terminate();
        return r;
    }""", [STEPS_WORKER % {"base": json.dumps(base)}, code])
    ctx.close()
    return json.loads(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("site", nargs="?", type=Path, default=Path("site"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--page", default="03-how-maml-works.html")
    p.add_argument("--steps", action="store_true")
    args = p.parse_args(argv)
    no_eval_wait_for_function()
    server, base = serve_in_thread(args.site)
    rows, step_rows, loads = [], [], [os.getloadavg()[0]]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for r in range(args.runs):
                bare = _bare_worker(browser, base)["boot"]
                ids, module, row = cold_load(browser, base, args.page)
                row["bare boot (Pyodide + NumPy)"] = bare
                row["start → all live, minus the bare boot"] = row["start → all live"] - bare
                rows.append(row)
                if args.steps:
                    step_rows.append(steps(browser, base, module, ids))
                loads.append(os.getloadavg()[0])
                print(f"run {r + 1}: ready → all live {row['ready → all live']:.0f} ms", flush=True)
            browser.close()
    finally:
        server.shutdown()
    print(f"\n{args.page}, cold, medians of {args.runs} runs (ms), 1-minute load average "
          f"{min(loads):.1f}–{max(loads):.1f}; boot steps in ms since the worker started")
    for table in (rows, step_rows):
        for k in (table[0] if table else {}):
            print(f"| {k} | {statistics.median(r[k] for r in table):.0f} |")


if __name__ == "__main__":
    main()
