"""Boot time by engine: Part 3's figures live (each one's own first answer) in Chromium, Firefox ESR and WebKitGTK,
each on a fresh profile (cold cache), with where the time goes, measured by each engine's own clock.

    .venv/bin/python bench/engines_boot.py [--runs 3] [--engines chromium firefox webkit]

Per run: the time from navigation to every non-training figure of Part 3 live; the worker's own marks (runtime =
Pyodide loaded and Python started, numpy, mamlviz, modules: ms since the worker started; start: when it started, ms
since navigation); then, in the same page, the parts of the runtime's start measured alone: downloading
pyodide.asm.wasm (no cache), compiling it (WebAssembly.compile on the bytes) and compiling it while it downloads
(WebAssembly.compileStreaming, which needs the `application/wasm` type the server sends). Prints medians (and the
runs) as a Markdown table. Not a test: timings depend on the machine and its load (the 1-minute load average is
printed with the table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from engines import ENGINES  # noqa: E402

P3 = "03-how-maml-works.html"

LIVE = """await new Promise((resolve) => {
  const check = () => {
    const figures = [...document.querySelectorAll('.figure[data-figure]')]
      .filter((f) => JSON.parse(f.querySelector('script.figure-data').textContent).training !== true);
    if (figures.length && figures.every((f) => f.dataset.status === 'live')) resolve(); else setTimeout(check, 10);
  };
  check();
});
const live = performance.now();
const rt = await import(new URL('assets/js/runtime.js', location.href).href);
return {live, worker: rt.workers()[0].timings};"""

PROBE = """const url = new URL('pyodide/pyodide.asm.wasm', location.href).href;
let t = performance.now();
const bytes = await (await fetch(url, {cache: 'no-store'})).arrayBuffer();
const download = performance.now() - t;
t = performance.now();
await WebAssembly.compile(bytes);
const compile = performance.now() - t;
t = performance.now();
const response = await fetch(url, {cache: 'no-store'});
const type = response.headers.get('content-type');
await WebAssembly.compileStreaming(response);
const streaming = performance.now() - t;
return {download, compile, streaming, type, mb: bytes.byteLength / 1e6};"""


class Chromium:
    def __init__(self):
        from playwright.sync_api import sync_playwright

        from mamlviz.browserbench import ARGS, CHROMIUM

        self.p = sync_playwright().start()
        self.browser = self.p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        self.version = f"Chromium {self.browser.version}"
        self.page = self.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    def goto(self, url):
        self.page.goto(url)

    def run(self, body):
        return self.page.evaluate(f"async () => {{ {body} }}")

    def close(self):
        self.browser.close()
        self.p.stop()


def one_run(kind, url):
    e = Chromium() if kind == "chromium" else ENGINES[kind][0]()
    try:
        e.goto(url + P3)
        out = e.run(LIVE)
        out.update(e.run(PROBE))
        out["version"] = e.version
        return out
    finally:
        e.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", nargs="+", default=["chromium", "firefox", "webkit"])
    ap.add_argument("--site", type=Path, default=REPO / "site", help="a built site (./dev serve or build.py)")
    args = ap.parse_args(argv)
    from mamlviz.site.serve import serve_in_thread

    server, url = serve_in_thread(args.site)
    start_load = os.getloadavg()[0]
    rows, results = [], {kind: [] for kind in args.engines}
    for i in range(args.runs):  # engine after engine in each round: a busy moment hits them alike
        for kind in args.engines:
            results[kind].append(one_run(kind, url))
            print(kind, i, json.dumps(results[kind][-1]), flush=True)
    for kind, runs in results.items():
        med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
        w = lambda k: (lambda r: r["worker"][k])  # noqa: E731
        rows.append([runs[0]["version"], med(lambda r: r["live"]) / 1e3, med(w("start")) / 1e3,
                     med(w("runtime")) / 1e3, med(lambda r: r["worker"]["numpy"] - r["worker"]["runtime"]) / 1e3,
                     med(lambda r: r["worker"]["mamlviz"] - r["worker"]["numpy"]) / 1e3,
                     med(lambda r: r["live"] - r["worker"]["start"] - r["worker"]["mamlviz"]) / 1e3,
                     med(lambda r: r["download"]) / 1e3, med(lambda r: r["compile"]) / 1e3,
                     med(lambda r: r["streaming"]) / 1e3, runs[0]["type"],
                     ", ".join(f"{r['live'] / 1e3:.1f}" for r in runs)])
    server.shutdown()
    print(f"\nPart 3 live, medians of {args.runs} rounds (each engine once a round), fresh profile each run "
          f"(1-minute load average {start_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); seconds\n")
    print("| engine | Part 3 live | worker start | Pyodide + Python | NumPy | mamlviz | first answers | "
          "wasm download | wasm compile | compileStreaming | wasm type | runs |")
    print("| --- | " + " | ".join(["---:"] * 9) + " | --- | --- |")
    for r in rows:
        print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in r) + " |")


if __name__ == "__main__":
    main()
