"""Every number the text prints that the project measured: writes src/mamlviz/data/measured.json, which the build
renders into the text (`{{measured:KEY:FORMAT}}` in content/) and the cost figure shows next to the reader's own
timings.

    .venv/bin/python bench/measured.py [--only native|browser] [--what cost race game methods]
        [--seeds 0 1 2 3 4] [--browser-seeds 0 1 2 3 4] [--budget 1000] [--updates 30] [--draws 10]
        [--iterations 1000] [--rows pretrained maml fomaml reptile imaml imaml_k20 imaml_l10] [--derive]

- time per meta-update of every racer (Part 8's race settings, `part9.time_rounds`: the fastest of --updates rounds
  of one update of every method), natively and in the built site's cost figure (Part 9) in Debian Chromium;
- bytes each method keeps per task for its backward pass (`part9.kept_per_task`; the same count in any NumPy);
- the sine race (`part8`, 1,000 updates): final held-out medians and seconds per racer, natively for --seeds and
  in the page (its training worker, as a reader runs it) for --browser-seeds; summaries over seeds (`spread`, and
  `spread_same` over the seeds both ran), and every pair of racers' paired difference with its 95 % interval
  (`paired`, `mamlviz.stats`);
- the Part 1 game (`game`, natively): the shipped glyph models, the blurred and the raw-pixel nearest neighbour on
  --draws independent draws of 1,000 trials (5-way and 20-way), each draw's accuracies and the paired differences;
- Part 5's figure (`part5`, natively): MAML and FOMAML trained side by side for --seeds, as in the page, with
  the cosine, the dropped term and α·λ_max every 200 updates, and the final held-out medians, paired;
- Part 7's method table (`methods`, natively): MAML, FOMAML, Reptile, iMAML (and two other iMAML settings) and the
  pretrained baseline trained --iterations updates with `mamlviz.train.METHOD_SETTINGS` for each of --seeds,
  held-out medians after their own inner procedure and after one shared SGD step, summaries and paired differences.

Each section records the code it ran (`versions`: a hash of the modules it depends on, `site.measured.SOURCES`,
and the git commit); tests/site/test_content.py fails when the text uses a section the code has changed under.

Records the machine (cores, CPU model, load average before and after each section), the browser's version, Pyodide's
version and the date. A partial run (--only, --what) keeps what it did not measure (the file is read again just
before writing, so two partial runs of different sections may run at once). The whole run takes about an hour on
the shared two-core machine (the browser race and Part 7's five seeds of iMAML are most of it); `--what game`
alone takes about a minute. Not a test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from mamlviz import stats
from mamlviz.figures import part8, part9
from mamlviz.site import measured as site_measured
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


def game(args):
    """The Part 1 game's three machines on `args.draws` independent draws of 1,000 trials of each mode."""
    from mamlviz import glyphtasks as gt

    gs, models, before = gt.game_set(), gt.load_models(), load()
    out = {"draws": args.draws, "trials": 1000, "seeds": [], "way": {}}
    for way in (5, 20):
        model, theta, meta = models[str(way)]
        c = meta["config"]
        acc = {"maml": [], "blur": [], "raw": []}
        for d in range(args.draws):
            ep = gt.heldout_trials(gs, way, seed=gt.EVAL_SEED + 1 + d)   # not the tests' fixed draw (EVAL_SEED)
            after = gt.classify(model, theta, ep, lr=c["inner_lr"], steps=c["inner_steps"])[1]
            acc["maml"].append(100 * float((after.argmax(-1) == ep.query_labels).mean()))
            acc["blur"].append(100 * float((gt.nearest_neighbour(gs, ep, gt.BLUR_SIGMA) == ep.query_labels).mean()))
            acc["raw"].append(100 * float((gt.nearest_neighbour(gs, ep) == ep.query_labels).mean()))
        out["way"][str(way)] = {"accuracy": acc, "summary": {m: stats.summary(v) for m, v in acc.items()},
                                "paired": {f"{a}-{b}": stats.paired(acc[a], acc[b])
                                           for a, b in (("maml", "blur"), ("maml", "raw"), ("blur", "raw"))},
                                "inner_lr": c["inner_lr"], "inner_steps": c["inner_steps"]}
        print(f"game {way}-way:", {m: round(v["mean"], 1) for m, v in out["way"][str(way)]["summary"].items()},
              flush=True)
    out["seeds"] = [gt.EVAL_SEED + 1 + d for d in range(args.draws)]
    out["load"], out["date"] = [before, load()], now()
    return out


# Part 5's runs of its MAML-vs-FOMAML figure: (key, α, k, meta-updates)
PART5_RUNS = [("default", 0.01, 1, 3000), ("small_alpha", 0.001, 1, 2000), ("k3", 0.01, 3, 1000)]
PART5_EVERY = 200


def part5(args):
    """Part 5's figure run natively, as the page runs it (`part5._config`, the same trainers and fixed batch), for
    each of --seeds: every PART5_EVERY updates the cosine, the dropped term and α·λ_max on the fixed batch; at the
    end both models' held-out median after the training k steps, and their paired difference over the seeds."""
    import numpy as np

    from mamlviz.figures import part5 as p5
    from mamlviz.train import MetaTrainer

    before, batch, out = load(), p5.fixed_batch(), {"seeds": list(args.seeds), "every": PART5_EVERY, "runs": {}}
    for key, alpha, k, updates in PART5_RUNS:
        config = p5._config({"alpha": alpha, "k": k})
        run = {"alpha": alpha, "k": k, "updates": updates, "curves": {}, "final": {"maml": [], "fomaml": []}}
        for seed in args.seeds:
            trainers = {m: MetaTrainer(m, p5.MLP_MODEL, config, seed=seed) for m in ("maml", "fomaml")}
            curve = []
            for it in range(0, updates + 1, PART5_EVERY):
                if it:
                    for t in trainers.values():
                        t.run(PART5_EVERY, evaluate=False)
                theta = trainers["maml"].theta
                cos, dropped = p5.compare_directions(theta, batch, alpha, k)
                curve.append([it, cos, dropped, alpha * float(p5.top_curvature(theta, batch).max())])
            for m, t in trainers.items():
                run["final"][m].append(float(t.evaluate()["median"][k]))
            c = np.array(curve)
            run["curves"][str(seed)] = {"points": curve, "cos": stats.summary(c[1:, 1]),
                                        "dropped": stats.summary(c[1:, 2]), "alpha_top": stats.summary(c[1:, 3]),
                                        "top": stats.summary(c[1:, 3] / alpha), "end": curve[-1]}
            print(f"part5 {key} seed {seed}: MAML {run['final']['maml'][-1]:.3f} FOMAML "
                  f"{run['final']['fomaml'][-1]:.3f}", flush=True)
        run["summary"] = {m: stats.summary(v) for m, v in run["final"].items()}
        run["paired"] = {"fomaml-maml": stats.paired(run["final"]["fomaml"], run["final"]["maml"])}
        run["ratio"] = {"fomaml-maml": stats.paired_ratio(run["final"]["fomaml"], run["final"]["maml"])}
        out["runs"][key] = run
    out["load"], out["date"] = [before, load()], now()
    return out


# Part 7's rows: (row key, method, overrides of METHOD_SETTINGS)
METHOD_ROWS = [("pretrained", "pretrained", {}), ("maml", "maml", {}), ("fomaml", "fomaml", {}),
               ("reptile", "reptile", {}), ("imaml", "imaml", {}), ("imaml_k20", "imaml", {"inner_steps": 20}),
               ("imaml_l10", "imaml", {"inner_steps": 20, "reg": 10.0, "inner_lr": 0.1})]


def methods(args, save=None):
    """Part 7's table: each row trained `args.iterations` updates (25 tasks, K = 10) for each seed. Rows already
    stored for the same seeds and iterations are kept unless --rows names them; `save(out)` after every row."""
    import dataclasses

    from mamlviz.bench import tune_allocator
    from mamlviz.nn import MLP
    from mamlviz.train import METHOD_SETTINGS, TrainConfig, train

    tune_allocator()
    before, out = load(), {"iterations": args.iterations, "seeds": list(args.seeds), "rows": {}}
    old = json.loads(OUT.read_text()).get("methods", {}) if OUT.exists() else {}
    if (old.get("iterations"), old.get("seeds")) == (out["iterations"], out["seeds"]):
        out["rows"] = {r: v for r, v in old.get("rows", {}).items() if r not in args.rows}
    for row, method, overrides in METHOD_ROWS:
        if row not in args.rows:
            continue
        s = dataclasses.replace(METHOD_SETTINGS[method], **overrides)
        runs = {"own": [], "shared": [], "residual": [], "seconds": [], "diverged": []}
        for seed in args.seeds:
            start = time.perf_counter()
            trainer = train(method, MLP(), TrainConfig(**s.to_dict()), seed, args.iterations,
                            eval_every=args.iterations)
            runs["seconds"].append(time.perf_counter() - start)
            own = trainer.evaluate_own()
            runs["own"].append(own["median"])
            runs["shared"].append(trainer.evaluate()["median"][1])
            runs["residual"].append(own["residual"])
            runs["diverged"].append(bool(trainer.diverged))
            print(f"methods {row} seed {seed}: own {own['median']:.3f} shared {runs['shared'][-1]:.3f} "
                  f"({runs['seconds'][-1]:.0f} s)", flush=True)
        out["rows"][row] = {"settings": s.to_dict(), **runs}
        derive_methods(out)
        out["load"], out["date"] = [before, load()], now()
        if save:
            save(out)
    out["load"], out["date"] = [before, load()], now()
    return out


def derive_methods(out):
    """Part 7's summaries over seeds (median and range), divergences, and paired differences, from the runs."""
    for r in out["rows"].values():
        r["summary"] = {k: stats.summary(r[k]) for k in ("own", "shared", "residual", "seconds") if None not in r[k]}
        r["n_diverged"] = sum(r["diverged"])
        r["shared_own"] = stats.paired(r["shared"], r["own"])   # one plain step against the method's own procedure
        r["shared_own_ratio"] = stats.paired_ratio(r["shared"], r["own"])
    out["paired"] = {which: pairs({row: r[which] for row, r in out["rows"].items()}) for which in ("own", "shared")}
    out["ratio"] = {which: pairs({row: r[which] for row, r in out["rows"].items()}, ratio=True)
                    for which in ("own", "shared")}


def pairs(values, ratio=False):
    """Every ordered pair a-b of {name: [value per seed]}: the paired difference a − b with its 95 % interval (with
    ratio=True, the paired ratio a / b of positive errors, `stats.paired_ratio`)."""
    f = stats.paired_ratio if ratio else stats.paired
    return {f"{a}-{b}": f(values[a], values[b]) for a in values for b in values if a != b}


def browser(args, what):
    from playwright.sync_api import sync_playwright

    from mamlviz.browserbench import ARGS, CHROMIUM, no_eval_wait_for_function
    from mamlviz.site import Project, build, find_root
    from mamlviz.site.serve import serve_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        # the pages as they are: the text may wait for these very numbers (the numbers audit is the build's job)
        build(Project.at(find_root(), Path(tmp)), log=lambda *a: None, check_numbers=False)
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


def spread(runs, seeds=None):
    """Summary over seeds (median, range, mean, SD: `stats.summary`) of each racer's final numbers."""
    seeds = list(runs) if seeds is None else seeds
    return {m: {key: stats.summary([runs[s][m][key] for s in seeds]) for key in ("own", "shared")}
            for m in part8.RACERS}


def race_pairs(runs, ratio=False):
    """Every pair of racers' paired difference (or ratio) over the seeds of `runs`, own procedure and one shared
    step."""
    return {key: pairs({m: [r[m][key] for r in runs.values()] for m in part8.RACERS}, ratio) for key in ("own", "shared")}


def agreement(native_runs, browser_runs):
    """The largest relative difference between the native and the browser final medians, over the seeds both ran."""
    same = [s for s in browser_runs if s in native_runs]
    return {"seeds": same, "max_relative": max(
        (abs(native_runs[s][m][k] - browser_runs[s][m][k]) / abs(native_runs[s][m][k])
         for s in same for m in part8.RACERS for k in ("own", "shared")), default=None)}


def source_files(section):
    """The files under src/mamlviz that a section's SOURCES live in."""
    out = set()
    for name in site_measured.SOURCES[section]:
        module = name.partition(":")[0]
        out.add(name if "/" in name else module.removeprefix("mamlviz.").replace(".", "/") + ".py")
    return sorted(out)


def restamp(data):
    """For each measured section: if every file it depends on has the same code now (syntax tree without comments
    and docstrings; data files byte for byte) as at the commit recorded with it, record today's code version."""
    root = Path(__file__).resolve().parents[1]
    for key, v in data.get("versions", {}).items():
        section, at = key.split(".")[-1], (v.get("commit") or "").split("+")[0]
        same = bool(at)
        for f in source_files(section) if same else []:
            old = subprocess.run(["git", "show", f"{at}:src/mamlviz/{f}"], cwd=root, capture_output=True).stdout
            new = (root / "src" / "mamlviz" / f).read_bytes()
            same = same and (old == new if not f.endswith(".py") else
                             site_measured._code(old.decode()) == site_measured._code(new.decode()))
        if same:
            v.update(code=site_measured.fingerprint(section), restamped=now())
        print(f"{key}: {'restamped' if same else 'code changed since ' + at + ': measure it again'}", flush=True)


def commit():
    try:
        root = Path(__file__).resolve().parents[1]
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def version(section):
    return {"code": site_measured.fingerprint(section), "commit": commit(), "date": now()}


NATIVE_ONLY = ("game", "part5", "methods")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("native", "browser"))
    parser.add_argument("--what", choices=("cost", "race") + NATIVE_ONLY, nargs="+",
                        default=["cost", "race", *NATIVE_ONLY])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--browser-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--draws", type=int, default=10, help="independent draws of 1,000 game trials")
    parser.add_argument("--iterations", type=int, default=1000, help="updates of each Part 7 training")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=30, help="timed rounds (one update of every method a round)")
    parser.add_argument("--rows", nargs="+", default=[r for r, _, _ in METHOD_ROWS],
                        help="Part 7's rows to (re)measure (the others stored are kept)")
    parser.add_argument("--restamp", action="store_true",
                        help="measure nothing: record the code version anew for sections whose code (without comments "
                             "and docstrings) is the same as at the commit they were measured at; refuse otherwise")
    parser.add_argument("--derive", action="store_true",
                        help="measure nothing: recompute the summaries and paired intervals from the stored runs")
    args = parser.parse_args()
    if args.restamp:
        data = json.loads(OUT.read_text())
        restamp(data)
        OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return
    if args.derive:
        data = json.loads(OUT.read_text())
        if "methods" in data:
            derive_methods(data["methods"])
        for run in data.get("part5", {}).get("runs", {}).values():
            run["ratio"] = {"fomaml-maml": stats.paired_ratio(run["final"]["fomaml"], run["final"]["maml"])}
        derive(data)
        OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return
    common = {"machine": machine(), "pyodide": vendor.VERSION, "pyodide_numpy": "2.0.2",
              "budget": args.budget, "cost_rounds": args.updates,
              "race_settings": {m: part8.race_config(m).for_method(m).to_dict() for m in part8.RACERS},
              "kept_kb_per_task": {m: part9.kept_per_task(m) / 1000 for m in part8.RACERS}}
    sections = {"native": native, "browser": browser}
    jobs = [] if args.only == "browser" else [("game", game), ("part5", part5), ("methods", methods)]
    jobs = [(name, f) for name, f in jobs if name in args.what]
    if set(args.what) & {"cost", "race"}:
        jobs += [(name, sections[name]) for name in ([args.only] if args.only else ["browser", "native"])]
    for name, run in jobs:   # the browser first among the two: its timings
        if name == "methods":
            result = run(args, save=lambda partial: write(args, common, "methods", partial))
        else:
            result = run(args) if name in NATIVE_ONLY else run(args, args.what)
        write(args, common, name, result)


def write(args, common, name, result):
    """Merge one section's result into measured.json (read just before: another run may have written)."""
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data.update(common)
    versions = data.setdefault("versions", {})
    if name in NATIVE_ONLY:
        old = data.get(name, {})
        if name == "methods" and (old.get("iterations"), old.get("seeds")) == (result["iterations"], result["seeds"]):
            result["rows"] = {**old.get("rows", {}), **result["rows"]}   # rows another run measured meanwhile
            derive_methods(result)
        data[name] = result
        versions[name] = version(name)
    else:
        data.setdefault(name, {}).update(result)
        for what in set(args.what) & {"cost", "race"}:
            versions[f"{name}.{what}"] = version(what)
    derive(data)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}", flush=True)


def derive(data):
    """The race's summaries and paired intervals (per place, and natively over the browser's seeds), from its runs."""
    for name in ("native", "browser"):
        if "race" in data.get(name, {}):
            data[name]["spread"], data[name]["paired"] = spread(data[name]["race"]), race_pairs(data[name]["race"])
            data[name]["ratio"] = race_pairs(data[name]["race"], ratio=True)
    if "race" in data.get("browser", {}) and "race" in data.get("native", {}):
        data["native"]["spread_same"] = spread(data["native"]["race"], list(data["browser"]["race"]))
        data["agreement"] = agreement(data["native"]["race"], data["browser"]["race"])


if __name__ == "__main__":
    main()
