"""The numbers Parts 8 and 9 print, measured: writes src/mamlviz/data/measured.json, which the build renders into
the text (`{{measured:KEY:FORMAT}}` in content/) and the cost figure shows next to the reader's own timings.

    .venv/bin/python bench/measured.py [--only native|browser] [--seeds 0 1 2 3 4] [--browser-seeds 0 1 2]
        [--budget 1000] [--updates 30]

- time per meta-update of every racer (Part 8's race settings, `part9.time_rounds`: the fastest of --updates rounds
  of one update of every method), natively and in the built site's cost figure (Part 9) in Debian Chromium;
- bytes each method keeps per task for its backward pass (`part9.kept_per_task`; the same count in any NumPy);
- the sine race (`part8`, 1,000 updates): final held-out medians and seconds per racer, natively for --seeds and
  in the page (its training worker, as a reader runs it) for --browser-seeds.

Records the machine (cores, CPU model, load average before and after each section), the browser's version, Pyodide's
version and the date. A partial run (--only, --what) keeps what it did not measure (the file is read again just
before writing, so two partial runs of different sections may run at once). Takes about half an
hour on a busy two-core machine (the browser race is most of it). Not a test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mamlviz.figures import part8, part9
from mamlviz.site import vendor

OUT = Path(__file__).resolve().parents[1] / "src" / "mamlviz" / "data" / "measured.json"
FIGURE = ".figure[data-figure=\"{}\"]"
SCENE = "JSON.stringify(window.mamlvizFigures.find(f => f.id === '{}').scene)"


def load():
    """The load averages over 1, 5 and 15 minutes."""
    return [round(v, 2) for v in os.getloadavg()]


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "cpu": model, "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": np.__version__}


def race_native(seed, budget):
    race = part8.new_race(seed)
    while part8.race_iteration(race) < budget:
        it = part8.race_iteration(race) + 1
        part8.race_round(race, evaluate_now=it % part8.RACE_EVAL_EVERY == 0 or it >= budget)
    return {m: {"own": race["curves"][m][-1][2], "shared": race["curves"][m][-1][3],
                "seconds": race["seconds"][m]} for m in part8.RACERS}


def native(args, what):
    out = {}
    if "cost" in what:
        before = load()
        for seconds in part9.time_rounds(args.updates):
            pass
        out["ms_per_update"] = {m: 1e3 * s for m, s in seconds.items()}
        out["cost_load"], out["cost_date"] = [before, load()], now()
        print("native ms per update:", {m: round(v, 2) for m, v in out["ms_per_update"].items()}, flush=True)
    if "race" in what:
        before, out["race"] = load(), {}
        for seed in args.seeds:
            start = time.perf_counter()
            out["race"][str(seed)] = race_native(seed, args.budget)
            print(f"native race, seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
        out["race_load"], out["race_date"] = [before, load()], now()
    return out


def browser(args, what):
    from playwright.sync_api import sync_playwright

    from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function
    from mamlviz.site import Project, build, find_root
    from mamlviz.site.serve import serve_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        build(Project.at(find_root(), Path(tmp)), log=lambda *a: None)
        server, base = serve_in_thread(Path(tmp))
        try:
            no_eval_wait_for_function()  # the site's policy refuses eval: string predicates go as functions
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                out = {"browser": f"Debian Chromium {b.version} (headless)"}
                if "cost" in what:
                    before = load()
                    out["ms_per_update"] = _browser_cost(b, base, args.updates)
                    out["cost_load"], out["cost_date"] = [before, load()], now()
                    print("browser ms per update:", {m: round(v, 2) for m, v in out["ms_per_update"].items()},
                          flush=True)
                if "race" in what:
                    before, out["race"] = load(), {}
                    for seed in args.browser_seeds:
                        start = time.perf_counter()
                        out["race"][str(seed)] = _browser_race(b, base, seed, args.budget)
                        print(f"browser race, seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
                    out["race_load"], out["race_date"] = [before, load()], now()
                b.close()
        finally:
            server.shutdown()
    return out


def _open(b, url, figure_id):
    pg = b.new_context(viewport={"width": 1280, "height": 900}).new_page()
    pg.goto(url)
    pg.locator(FIGURE.format(figure_id)).scroll_into_view_if_needed()   # its training worker boots near the screen
    pg.wait_for_selector(FIGURE.format(figure_id) + '[data-status="live"]', timeout=300_000)
    return pg


def _readouts(pg, figure_id):
    return {r["label"]: r["value"] for r in json.loads(pg.evaluate(SCENE.format(figure_id)))["readouts"]}


def _browser_cost(b, base, updates):
    pg = _open(b, f"{base}09-conclusion.html#cost-per-update:updates={updates}", "cost-per-update")
    F = FIGURE.format("cost-per-update")
    pg.locator(f'{F} [data-control="measure"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.includes('{updates} of {updates} rounds')",
                         timeout=600_000)
    pg.wait_for_function(f"document.querySelector('{F}').dataset.status === 'live'")
    values = _readouts(pg, "cost-per-update")
    pg.context.close()
    return {m: values[f"{name}: ms per update"] for m, name in part8.RACERS.items()}


def _browser_race(b, base, seed, budget):
    pg = _open(b, f"{base}08-comparison.html#sine-race:seed={seed};budget={budget}", "sine-race")
    F = FIGURE.format("sine-race")
    pg.locator(f'{F} [data-control="start"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Finished after {budget}')",
                         timeout=3_600_000, polling=2000)
    values = _readouts(pg, "sine-race")
    pg.context.close()
    return {m: {"own": values[f"{name}: own procedure"], "shared": values[f"{name}: one shared step"],
                "seconds": values[f"{name}: seconds"]} for m, name in part8.RACERS.items()}


def spread(runs):
    """Mean and standard deviation over seeds of each racer's final numbers."""
    out = {}
    for m in part8.RACERS:
        out[m] = {}
        for key in ("own", "shared"):
            v = [r[m][key] for r in runs.values()]
            out[m][key] = {"mean": statistics.mean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("native", "browser"))
    parser.add_argument("--what", choices=("cost", "race"), nargs="+", default=["cost", "race"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--browser-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=30, help="timed rounds (one update of every method a round)")
    args = parser.parse_args()
    common = {"machine": machine(), "pyodide": vendor.VERSION, "pyodide_numpy": "2.0.2",
              "budget": args.budget, "cost_rounds": args.updates,
              "race_settings": {m: part8.race_config(m).for_method(m).to_dict() for m in part8.RACERS},
              "kept_kb_per_task": {m: part9.kept_per_task(m) / 1000 for m in part8.RACERS}}
    sections = {"native": native, "browser": browser}
    for name in ([args.only] if args.only else ["browser", "native"]):   # the browser first: its timings
        result = sections[name](args, args.what)
        data = json.loads(OUT.read_text()) if OUT.exists() else {}   # read now: another run may have written
        data.update(common)
        data.setdefault(name, {}).update(result)
        if "race" in args.what:
            data[name]["spread"] = spread(data[name]["race"])
        OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
