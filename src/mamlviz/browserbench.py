"""`mamlviz bench --browser`: the site in Debian Chromium, measured as a reader meets it (not part of the tests).

Builds the site, serves it on 127.0.0.1, drives headless Chromium with Playwright and reports medians over `runs`:
first frame and live (cold, warm), the bare runtime boot (Pyodide + NumPy alone) in the same run, a menu hop to
live, meta-updates/s per method in the page next to the plain reference in the same page and native NumPy in this
process, the lab's throughput, input-to-frame latency per live figure (idle and while the lab trains), long
main-thread tasks, and the bytes a first and a repeat visit transfer. Output: JSON and a Markdown table.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

PAGE = "03-how-maml-works.html"      # the heaviest page
HOP_VIA = "02-where-maml-sits.html"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
_FUNCTION = re.compile(r"^\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)")


def no_eval_wait_for_function():
    """The site's content-security policy forbids eval (tests and benchmarks share this), and Playwright evaluates a string *expression* predicate
    with eval (a function it calls directly): every `wait_for_function("expr")` is sent as `() => (expr)`."""
    from playwright.sync_api import Frame, Page

    for cls in (Page, Frame):
        original = cls.wait_for_function
        if getattr(original, "no_eval", False):
            continue

        def wait_for_function(self, expression, *args, _original=original, **kwargs):
            if not _FUNCTION.match(expression):
                expression = f"() => ({expression})"
            return _original(self, expression, *args, **kwargs)

        wait_for_function.no_eval = True
        cls.wait_for_function = wait_for_function


# The main worker's boot (runtime.js's `workers()[0].timings`): when it started (ms after navigation; boot.js starts
# it from <head>), then its steps in ms since it started.
BOOT_STEPS = ("start", "runtime", "numpy", "mamlviz")

RUNTIME = "import(new URL('assets/js/runtime.js', location.href).href)"

# A bare worker: Pyodide and NumPy only (the floor any page pays), and optionally the package's benchmark.
BARE_WORKER = """
const base = %(base)s;
self.onmessage = async (e) => {
  const t0 = performance.now();
  importScripts(base + "pyodide/pyodide.js");
  const py = await loadPyodide({indexURL: base + "pyodide/", lockFileURL: base + "pyodide/pyodide-lock.json"});
  await py.loadPackage("numpy", {messageCallback: () => {}});
  py.runPython("import numpy");
  const boot = performance.now() - t0;
  let rates = null;
  if (e.data.bench) {
    const zip = await (await fetch(base + "mamlviz.zip")).arrayBuffer();
    py.unpackArchive(zip, "zip", {extractDir: "/home/pyodide/src"});
    rates = py.runPython(`
import sys, json
sys.path.insert(0, "/home/pyodide/src")
from mamlviz import bench
json.dumps(bench.measure(methods=${JSON.stringify(e.data.methods)}, runs=${e.data.runs}, updates=${e.data.updates}))`);
  }
  self.postMessage({boot, rates});
};
"""

# Input → frame: time from a key press on a figure's slider to the next painted frame after its drawing changed.
LATENCY = """async ([figureId, n]) => {
  const fig = document.querySelector(`.figure[data-figure="${figureId}"]`);
  const input = fig.querySelector('.control-slider input');
  const out = [];
  for (let k = 0; k < n; k++) {
    const changed = new Promise((resolve) => {
      const mo = new MutationObserver(() => { mo.disconnect(); resolve(); });
      mo.observe(fig.querySelector('.panels'), {subtree: true, childList: true, attributes: true});
    });
    const t0 = performance.now();
    input.focus();
    input.value = Number(input.value) + (k % 2 ? -1 : 1) * Number(input.step);
    input.dispatchEvent(new Event('input', {bubbles: true}));
    await changed;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 30));
  }
  return out;
}"""

# Where a menu hop's time goes, from navigate.js's marks: fetching the page, swapping the article, the figures'
# initialisation (they are live at once: the worker stays).
HOP_STEPS = """(() => {
  const m = Object.fromEntries(performance.getEntriesByType('mark').filter((e) => e.name.startsWith('mamlviz:nav-'))
    .map((e) => [e.name.slice(12), e.startTime]));
  return {fetch: m.fetched - m.start, swap: m.swapped - m.fetched, init: m.entered - m.swapped};
})()"""

# When each figure first said "live" (page ms), to time the boot → live step against the bare runtime's boot.
LIVE_AT = """window.__liveAt = {};
new MutationObserver((records) => {
  for (const r of records) {
    const f = r.target;
    if (f.dataset && f.dataset.status === 'live' && !(f.dataset.figure in window.__liveAt))
      window.__liveAt[f.dataset.figure] = performance.now();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-status']});"""

LONG_TASKS = """window.__long = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
  .observe({type: 'longtask', buffered: true});"""


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def _p95(values):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))], 1) if values else None


class _Bytes:
    """Bytes on the wire (encoded bodies + headers) of every request of a context, workers included."""

    def __init__(self, context):
        self.total = 0
        self.count = 0
        context.on("requestfinished", self._add)

    def _add(self, request):
        try:
            s = request.sizes()
        except Exception:  # the page went away mid-request
            return
        self.total += s["responseBodySize"] + s["responseHeadersSize"]
        self.count += 1


def _live_figures(pg):
    return pg.locator(".figure[data-figure]").evaluate_all(
        "fs => fs.filter(f => !JSON.parse(f.querySelector('script.figure-data').textContent).training)"
        ".map(f => f.dataset.figure)")


def _wait_live(pg, ids, timeout=180_000):
    pg.wait_for_function("ids => ids.every(id => document.querySelector(`.figure[data-figure=\"${id}\"]`)"
                         "?.dataset.status === 'live')", arg=ids, timeout=timeout)


def _load(pg, url):
    """(first frame s, live s) of a navigation: first contentful paint (the HTML's SVG) and all figures live."""
    t0 = time.monotonic()
    pg.goto(url, wait_until="commit")
    pg.wait_for_selector(".figure svg.plot", state="attached")
    ids = _live_figures(pg)
    _wait_live(pg, ids)
    live = time.monotonic() - t0
    fcp = pg.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    return (fcp / 1000 if fcp is not None else None), live


def _cold_and_warm(browser, base, out):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(LONG_TASKS)
    context.add_init_script(LIVE_AT)
    counter = _Bytes(context)
    pg = context.new_page()
    first, live = _load(pg, base + PAGE)
    pg.wait_for_timeout(300)
    out["first_frame_cold_s"].append(first)
    out["live_cold_s"].append(live)
    out["bytes_cold"].append(counter.total)
    out["long_tasks_cold"].append(pg.evaluate("window.__long.length"))
    out["long_task_ms_cold"].append(pg.evaluate("window.__long.reduce((a, b) => a + b, 0)"))
    workers = pg.evaluate(f"{RUNTIME}.then(m => m.workers())")
    out["boot_steps_ms"].append(workers[0]["timings"])
    # the worker's start → every non-training figure live, and its part after the worker was ready (mamlviz imported)
    t, live_at = workers[0]["timings"], pg.evaluate("window.__liveAt")
    last = max(live_at[i] for i in _live_figures(pg))
    out["boot_to_live_s"].append((last - t["start"]) / 1000)
    out["ready_to_live_ms"].append(last - t["start"] - t["mamlviz"])
    # a menu hop away and back: the worker stays, the figures answer again
    pg.locator(f'.menu-parts a[href="{HOP_VIA}"]').click()
    pg.wait_for_function(f"location.pathname.endsWith('{HOP_VIA}') && document.title.startsWith('Part 2')")
    t0 = time.monotonic()
    pg.locator(f'.menu-parts a[href="{PAGE}"]').click()
    pg.wait_for_function(f"location.pathname.endsWith('{PAGE}')")
    _wait_live(pg, _live_figures(pg))
    out["menu_hop_to_live_s"].append(time.monotonic() - t0)
    out["menu_hop_steps_ms"].append(pg.evaluate(HOP_STEPS))
    # a repeat visit in the same browser: revalidated files, the wasm compiled before
    before = counter.total
    pg2 = context.new_page()
    first, live = _load(pg2, base + PAGE)
    out["first_frame_warm_s"].append(first)
    out["live_warm_s"].append(live)
    pg2.wait_for_timeout(300)
    out["bytes_repeat"].append(counter.total - before)
    context.close()


def _bare_worker(browser, base, bench=None):
    context = browser.new_context(bypass_csp=True)  # a worker from a blob: URL, which the site's policy refuses
    pg = context.new_page()
    pg.goto(base + "index.html")
    code = BARE_WORKER % {"base": json.dumps(base)}
    result = pg.evaluate("""async ([code, msg]) => {
        const w = new Worker(URL.createObjectURL(new Blob([code], {type: 'text/javascript'})));
        const r = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(msg); });
        w.terminate();
        return r;
    }""", [code, bench or {}])
    context.close()
    return result


def _latency_and_lab(browser, base, runs, out):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(LONG_TASKS)
    pg = context.new_page()
    pg.goto(base + PAGE)
    ids = _live_figures(pg)
    _wait_live(pg, ids)
    lab = '.figure[data-figure="meta-lab"]'
    pg.locator(lab).scroll_into_view_if_needed()
    pg.wait_for_selector(f'{lab}[data-status="live"]', timeout=180_000)
    sliders = [i for i in ids if pg.locator(f'.figure[data-figure="{i}"] .control-slider input').count()]
    for figure_id in sliders:
        out["latency_idle_ms"][figure_id] = pg.evaluate(LATENCY, [figure_id, 4 * runs])
    pg.locator(f'{lab} [data-control="budget"] input').fill("10000")
    pg.locator(f'{lab} [data-control="start"] button').click()
    pg.wait_for_function(f"Number(document.querySelector('{lab} dd[data-readout=\"meta-updates\"]').textContent) >= 100",
                         timeout=180_000)
    pg.evaluate("window.__long = []")
    for figure_id in sliders:
        out["latency_training_ms"][figure_id] = pg.evaluate(LATENCY, [figure_id, 4 * runs])
    out["long_tasks_while_training"] = pg.evaluate("window.__long.length")
    t0, n0 = time.monotonic(), int(pg.locator(f'{lab} dd[data-readout="meta-updates"]').inner_text())
    pg.wait_for_timeout(5000)
    n1 = int(pg.locator(f'{lab} dd[data-readout="meta-updates"]').inner_text())
    out["lab_updates_per_s_both_models"] = round(2 * (n1 - n0) / (time.monotonic() - t0), 1)
    stats = pg.evaluate(f"{RUNTIME}.then(m => m.stats())")
    out["worker_memory_mb"] = {k: round(v["bytes"] / 2**20, 1) for k, v in stats.items()}
    pg.locator(f'{lab} [data-control="pause"] button').click()
    context.close()


GLYPH_PAGE = "08-comparison.html"


def glyph_race(browser, base, minutes=(1, 2, 5), log=print) -> dict:
    """Part 8's classification race in its training worker, as a reader runs it (seed 0): rounds and held-out
    accuracies (the last measurement) after each of `minutes`, and each method's updates/s at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.goto(base + GLYPH_PAGE)
    fig = '.figure[data-figure="glyph-race"]'
    pg.locator(fig).scroll_into_view_if_needed()
    pg.wait_for_selector(f'{fig}[data-status="live"]', timeout=180_000)
    pg.locator(f'{fig} [data-control="budget"] input').fill("20000")        # the slider's top: five minutes
    pg.locator(f'{fig} [data-control="start"] button').click()
    start, out = time.monotonic(), {"after_minutes": {}}
    scene = "JSON.stringify(window.mamlvizFigures.find(f => f.id === 'glyph-race').scene.readouts)"
    for m in minutes:
        pg.wait_for_timeout(max(0.0, start + 60 * m - time.monotonic()) * 1000)
        readouts = {r["label"]: r["value"] for r in json.loads(pg.evaluate(scene))}
        # the accuracies are those of the last measurement: its round is in the description
        text = pg.locator(f"{fig} .describe p").text_content()
        out["after_minutes"][str(m)] = {**readouts, "description": text, "load": os.getloadavg()[0]}
        log(f"glyph race after {m} min: {readouts.get('rounds')} rounds")
    out["updates_per_s"] = {k.split(":")[0]: v for k, v in readouts.items() if k.endswith("updates/s")}
    pg.locator(f'{fig} [data-control="pause"] button').click()
    context.close()
    return out


def _built(site, log):
    from mamlviz.site import Project, build, find_root

    if site is None:
        site = Path(tempfile.mkdtemp(prefix="mamlviz-bench-"))
        log(f"building the site into {site}")
        build(Project.at(find_root(), site), log=lambda *a: None)
    return site


def measure_controls(presses: int = 20, site: Path | None = None, log=print, before: str | None = None) -> dict:
    """Only every control of every live figure (mamlviz.controlbench): `mamlviz bench --browser --controls`.
    before: a git revision of this repository (or a built site's folder), measured page by page alternately with
    this one in the same run (`--before REV`)."""
    from playwright.sync_api import sync_playwright

    from mamlviz import controlbench
    from mamlviz.site.serve import serve_in_thread

    server, base = serve_in_thread(_built(site, log))
    old = serve_in_thread(_built_revision(before, log)) if before else None
    loads = [os.getloadavg()[0]]
    no_eval_wait_for_function()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            controls = controlbench.measure(browser, base, presses, log=log, before_base=old and old[1],
                                            loads=loads)
            browser.close()
    finally:
        server.shutdown()
        if old:
            old[0].shutdown()
    loads.append(os.getloadavg()[0])
    out = {"presses": presses, "load_average": {"min": round(min(loads), 2), "max": round(max(loads), 2)}}
    if before:
        controls, out["before_ms"] = controls
        out["before"] = before
    return {**out, "controls_ms": controls}


def _built_revision(rev: str, log) -> Path:
    """The site as built from git revision `rev` of this repository (its own package makes the first frames and the
    worker's bundle), in a temporary folder; or `rev` itself if it is a built site's folder."""
    import subprocess
    import sys

    from mamlviz.site import find_root

    if (Path(rev) / "index.html").is_file():
        return Path(rev)
    tmp = Path(tempfile.mkdtemp(prefix="mamlviz-bench-before-"))
    log(f"building the site of {rev} into {tmp / 'site'}")
    archive = subprocess.run(["git", "-C", str(find_root()), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    code = ("from pathlib import Path; from mamlviz.site import Project, build; "
            f"build(Project.at(Path({str(tmp)!r}), Path({str(tmp / 'site')!r})), log=lambda *a: None)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp,
                   env={**os.environ, "PYTHONPATH": str(tmp / "src")})
    return tmp / "site"


def controls_markdown(result) -> str:
    from mamlviz import controlbench

    load = result.get("load_average")
    during = (f"; 1-minute load average {load['min']:.1f}–{load['max']:.1f}, sampled at its start and after every "
              f"page" if load else "")
    before = (f"; *before*: the site built from {result['before']}, page by page alternately in the same run"
              if result.get("before") else "")
    return (f"Every control of every live figure that is not a training figure, moved {result['presses']} times one "
            f"step from the figure's usual state and set back (toggles and selects: a quarter as often, in whole "
            f"rounds), headless Debian Chromium at 1280 px on 127.0.0.1 "
            f"({os.cpu_count()} cores{during}); ms from the input event to the frame after the figure's first and "
            f"final redraw, and the ms the worker spent computing the full answers that followed a coarse one "
            f"(median; for how many of the inputs){before}:\n\n"
            + controlbench.markdown(result["controls_ms"], result.get("before_ms")))


def measure(runs: int = 3, methods=("maml", "fomaml", "reptile", "imaml", "reference"), updates: int = 50,
            site: Path | None = None, log=print, presses: int = 20) -> dict:
    from playwright.sync_api import sync_playwright

    from mamlviz import bench, controlbench
    from mamlviz.site.serve import serve_in_thread

    server, base = serve_in_thread(_built(site, log))
    rate_runs = max(runs, 5)  # the rates are cheap to repeat, and a ratio from two runs is at the mercy of the load
    keys = ["first_frame_cold_s", "live_cold_s", "first_frame_warm_s", "live_warm_s", "menu_hop_to_live_s",
            "bytes_cold", "bytes_repeat", "long_tasks_cold", "long_task_ms_cold", "boot_steps_ms", "bare_boot_s",
            "menu_hop_steps_ms", "boot_to_live_s", "ready_to_live_ms"]
    out = {k: [] for k in keys} | {"latency_idle_ms": {}, "latency_training_ms": {}}
    out["load_average"] = [os.getloadavg()[0]]  # the machine's 1-minute load, sampled through the run
    no_eval_wait_for_function()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for r in range(runs):
                log(f"run {r + 1}/{runs}: bare runtime boot, cold and warm loads, menu hop")
                out["bare_boot_s"].append(_bare_worker(browser, base)["boot"] / 1000)
                _cold_and_warm(browser, base, out)
                out["load_average"].append(os.getloadavg()[0])
            log("input-to-frame latency (idle, then while the lab trains), lab throughput")
            _latency_and_lab(browser, base, runs, out)
            log("every control of every live figure")
            out["controls_ms"] = controlbench.measure(browser, base, presses, log=log)
            if "glyph-race" in methods:
                log("Part 8's classification race in the page (5 minutes)")
                out["glyph_race"] = glyph_race(browser, base, log=log)
                methods = [m for m in methods if m != "glyph-race"]
            log("meta-updates/s in the page (a bare worker with the package)")
            page_rates = _bare_worker(browser, base, {"bench": True, "methods": list(methods), "runs": rate_runs,
                                                      "updates": updates})["rates"]
            browser.close()
    finally:
        server.shutdown()
    out["load_average"].append(os.getloadavg()[0])
    log("meta-updates/s natively")
    native = bench.measure(methods=list(methods), runs=rate_runs, updates=updates)
    out["load_average"].append(os.getloadavg()[0])
    return summarise(out, json.loads(page_rates), native, runs, presses)


def summarise(out, page_rates, native, runs, presses=20):
    result = {"runs": runs, "page": PAGE}
    for k in ["first_frame_cold_s", "live_cold_s", "first_frame_warm_s", "live_warm_s", "menu_hop_to_live_s",
              "bare_boot_s", "bytes_cold", "bytes_repeat", "long_tasks_cold", "long_task_ms_cold"]:
        result[k] = _median(out[k])
    for k in ("boot_to_live_s", "ready_to_live_ms"):
        result[k] = _median(out.get(k, []))
    # boot → live against the bare runtime's boot, run by run (both in the same run, one after the other)
    result["live_over_bare_s"] = _median([a - b for a, b in zip(out.get("boot_to_live_s", []), out["bare_boot_s"])])
    result["boot_steps_ms"] = {k: _median([t.get(k) for t in out["boot_steps_ms"] if t])
                               for k in BOOT_STEPS}
    result["menu_hop_steps_ms"] = {k: _median([t.get(k) for t in out.get("menu_hop_steps_ms", []) if t])
                                   for k in ("fetch", "swap", "init")}
    loads = out.get("load_average") or []
    result["load_average"] = {"min": round(min(loads), 2), "max": round(max(loads), 2)} if loads else None
    result["latency_ms"] = {f: {"idle_median": _median(out["latency_idle_ms"][f]),
                                "idle_p95": _p95(out["latency_idle_ms"][f]),
                                "training_median": _median(out["latency_training_ms"].get(f, [])),
                                "training_p95": _p95(out["latency_training_ms"].get(f, []))}
                            for f in out["latency_idle_ms"]}
    for k in ("long_tasks_while_training", "lab_updates_per_s_both_models", "worker_memory_mb", "controls_ms"):
        result[k] = out.get(k)
    result["presses"] = presses   # the controls table says how often each control was moved
    result["race_updates_per_s"] = None  # Part 8's race is not built yet
    result["glyph_race"] = out.get("glyph_race")   # with --methods …,glyph-race: Part 8's classification race
    ref_page = page_rates["rates"].get("reference", {}).get("median")
    ref_native = native["rates"].get("reference", {}).get("median")
    result["meta_updates_per_s"] = {
        m: {"page": round(page_rates["rates"][m]["median"], 1),
            "page_vs_reference": round(page_rates["rates"][m]["median"] / ref_page, 2) if ref_page else None,
            "native": round(native["rates"][m]["median"], 1),
            "native_vs_reference": round(native["rates"][m]["median"] / ref_native, 2) if ref_native else None}
        for m in page_rates["rates"]}
    return result


def markdown(result) -> str:
    """The result as the Markdown table the README shows."""
    r = result
    mb = lambda b: f"{b / 1e6:.2f} MB" if b is not None else "—"  # noqa: E731
    s = lambda v: f"{v:.2f} s" if v is not None else "—"  # noqa: E731
    ms = lambda v: f"{v:.0f}" if v is not None else "—"  # noqa: E731
    steps = r["boot_steps_ms"]
    hop = r.get("menu_hop_steps_ms") or {}
    rows = [
        ("First frame, cold (first contentful paint; the SVG is in the HTML)", s(r["first_frame_cold_s"])),
        ("All figures live, cold", s(r["live_cold_s"])),
        ("Bare runtime boot, same run (Pyodide + NumPy alone)", s(r["bare_boot_s"])),
        ("Main worker started → every figure live (not training); minus the bare boot, run by run",
         f"{s(r.get('boot_to_live_s'))}; {s(r.get('live_over_bare_s'))}"),
        ("Main worker ready (mamlviz imported) → every figure live: the page's modules and first answers (ms)",
         ms(r.get("ready_to_live_ms"))),
        ("Main worker: started (ms after navigation); its boot: runtime / NumPy / mamlviz ready (ms since it started)",
         f"{ms(steps.get('start'))}; " + " / ".join(ms(steps.get(k)) for k in BOOT_STEPS[1:])),
        ("First frame, repeat visit", s(r["first_frame_warm_s"])),
        ("All figures live, repeat visit", s(r["live_warm_s"])),
        ("Menu hop (Part 2 → Part 3) to all figures live", s(r["menu_hop_to_live_s"])),
        ("Menu hop: fetch / swap the article / figures initialised (ms)",
         " / ".join(f"{hop[k]:.0f}" if hop.get(k) is not None else "—" for k in ("fetch", "swap", "init"))),
        ("Bytes, first visit / repeat visit", f"{mb(r['bytes_cold'])} / {mb(r['bytes_repeat'])}"),
        ("Long main-thread tasks during a cold load (count, total)",
         f"{r['long_tasks_cold']}, {r['long_task_ms_cold']:.0f} ms" if r["long_task_ms_cold"] is not None else "—"),
        ("Lab: meta-updates/s (both models) in its training worker", str(r["lab_updates_per_s_both_models"])),
        ("Memory per worker (WebAssembly heap, MB)", ", ".join(f"{k} {v}" for k, v in (r["worker_memory_mb"] or {}).items())),
    ]
    for f, v in r["latency_ms"].items():
        rows.append((f"Input → frame, {f}: median / p95, idle → while the lab trains (ms)",
                     f"{v['idle_median']:.0f} / {v['idle_p95']:.0f} → {v['training_median']:.0f} / {v['training_p95']:.0f}"))
    for m, v in r["meta_updates_per_s"].items():
        rows.append((f"Meta-updates/s, {m}: page (× reference in the page) · native (× reference natively)",
                     f"{v['page']:.0f} ({v['page_vs_reference']:.2f}×) · {v['native']:.0f} ({v['native_vs_reference']:.2f}×)"))
    load = r.get("load_average")
    during = f"; 1-minute load average {load['min']:.1f}–{load['max']:.1f} during the run" if load else ""
    lines = [f"Part 3 ({r['page']}), medians of {r['runs']} runs, headless Debian Chromium on 127.0.0.1"
             f" ({os.cpu_count()} cores{during})", "",
             "| measure | value |", "| --- | --- |"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


README_MARKERS = ("<!-- bench:browser -->", "<!-- /bench:browser -->")
CONTROLS_MARKERS = ("<!-- bench:controls -->", "<!-- /bench:controls -->")


def update_readme(path, table: str, markers=README_MARKERS) -> None:
    """Put `table` between the README's bench markers (what `mamlviz bench --browser --readme` does)."""
    text = Path(path).read_text()
    start, end = markers
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {start} … {end} block for the table")
    Path(path).write_text(pattern.sub(lambda _: f"{start}\n{table}\n{end}", text))
