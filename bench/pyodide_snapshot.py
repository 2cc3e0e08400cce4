"""Does Pyodide's memory snapshot shorten the bare boot here? (issue 26; not a test)

    .venv/bin/python bench/pyodide_snapshot.py [--site site] [--runs 3]

In headless Debian Chromium, on 127.0.0.1, with the site's vendored Pyodide: one worker boots Pyodide with
`loadPyodide({_makeSnapshot: true})` and takes `pyodide.makeMemorySnapshot()` (before NumPy is loaded: Pyodide
0.27 cannot snapshot loaded packages' shared libraries); then, alternately, fresh workers boot plainly and from the
snapshot (`loadPyodide({_loadSnapshot})`: "snapshot" handed to the worker in memory, "cached" read by the worker
from Cache Storage first, as a page would keep it between visits), each then loading NumPy and importing it. Prints
the snapshot's size and, per variant, the runtime's boot and the runtime + NumPy (ms, every run and the median), with
the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

WORKER = """importScripts("pyodide/pyodide.js");
self.onmessage = async (e) => {
  const {mode} = e.data, t0 = performance.now();
  let {snapshot} = e.data;
  const opts = {indexURL: new URL("pyodide/", self.location.href).href};
  if (mode === "make") opts._makeSnapshot = true;
  if (mode === "cached") {   // as a page would keep it between visits: in Cache Storage, read in the worker
    const hit = await (await caches.open("snapshot")).match("snapshot");
    snapshot = new Uint8Array(await hit.arrayBuffer());
  }
  if (mode === "load" || mode === "cached") opts._loadSnapshot = snapshot;
  const py = await loadPyodide(opts);
  const runtime = performance.now() - t0;
  if (mode === "make") { const bytes = py.makeMemorySnapshot(); return self.postMessage({runtime, snapshot: bytes}, [bytes.buffer]); }
  await py.loadPackage("numpy", {messageCallback: () => {}});
  py.runPython("import numpy");
  self.postMessage({runtime, numpy: performance.now() - t0});
};"""

PAGE = """<!doctype html><meta charset="utf-8"><title>snapshot</title><script src="a.js"></script>"""
SCRIPT = """const run = (mode, snapshot) => new Promise((resolve, reject) => {
  const w = new Worker("w.js");
  w.onmessage = (e) => { w.terminate(); resolve(e.data); };
  w.onerror = (e) => { w.terminate(); reject(e.message); };
  w.postMessage({mode, snapshot});
});
window.experiment = async (n) => {
  const made = await run("make"), out = {bytes: made.snapshot.length, plain: [], snapshot: [], cached: []};
  await (await caches.open("snapshot")).put("snapshot", new Response(made.snapshot.slice()));
  for (let i = 0; i < n; i++) {
    out.plain.push(await run("plain"));
    out.snapshot.push(await run("load", made.snapshot.slice()));
    out.cached.push(await run("cached"));
  }
  return out;
};"""


def main():
    from playwright.sync_api import sync_playwright

    from mamlviz.browserbench import ARGS, CHROMIUM
    from mamlviz.site.serve import serve_in_thread

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--site", type=Path, default=Path(__file__).resolve().parents[1] / "site")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mamlviz-snapshot-"))
    (folder / "pyodide").symlink_to((args.site / "pyodide").resolve())
    (folder / "w.js").write_text(WORKER)
    (folder / "index.html").write_text(PAGE)
    (folder / "a.js").write_text(SCRIPT)   # the server's content-security policy allows no inline script
    server, base = serve_in_thread(folder)
    load = [os.getloadavg()[0]]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page()
            page.goto(base + "index.html")
            r = page.evaluate(f"experiment({args.runs})")
            browser.close()
    finally:
        server.shutdown()
    load.append(os.getloadavg()[0])
    print(f"snapshot {r['bytes'] / 1e6:.1f} MB; 1-minute load average {min(load):.1f}–{max(load):.1f}")
    for variant in ("plain", "snapshot", "cached"):
        for key in ("runtime", "numpy"):
            values = [round(x[key]) for x in r[variant]]
            print(f"{variant:9s} {'runtime' if key == 'runtime' else 'runtime + NumPy':16s} "
                  f"median {statistics.median(values):6.0f} ms  runs {json.dumps(values)}")


if __name__ == "__main__":
    main()
