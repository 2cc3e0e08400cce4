"""Recorded runs of the training figures, drawn in grey before the reader presses Start (issue 26): writes
src/mamlviz/data/recorded_runs.json.

    .venv/bin/python bench/recorded_runs.py [--seeds 0 1 2 3 4] [--draws 5] [--only meta-lab] [--out FILE]

For each training figure that draws learning curves, the run it makes with its default settings, natively with NumPy
for several seeds (the figure's own seed and the next ones): at every held-out evaluation, the median over the seeds
of the curve the figure draws, and its range (lowest and highest seed). For each training figure that measures time
(Part 4's cost, Part 9's time per update), the measurement it makes with its default settings, natively, repeated
--draws times: per method the median and the range of what it draws (the memory counts, the same in any run, once).
Records the machine, NumPy's version, the date and the load. A partial run (--only) keeps the figures it did not
record. Takes a few minutes. Not a test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path

import numpy as np

from mamlviz import figures
from mamlviz.figures import part3, part4, part5, part8, part9

OUT = Path(__file__).resolve().parents[1] / "src" / "mamlviz" / "data" / "recorded_runs.json"


def lab_run(seed):
    """Part 3's lab with its defaults and this seed, as `part3._train` runs it: {model: [[update, MSE after one
    step], …]} (the held-out median the figure's left panel draws)."""
    state = figures.FIGURES["meta-lab"].validate({"seed": seed})
    lab = part3._new_lab(part3._lab_config(state), seed)
    trainers = lab["trainers"]
    while trainers["maml"].iteration < state["budget"] and not any(t.diverged for t in trainers.values()):
        n = min(part3.LAB_CHUNK, state["budget"] - trainers["maml"].iteration)
        done = trainers["maml"].iteration + n
        for t in trainers.values():
            t.run(n, evaluate=done % part3.LAB_EVAL_EVERY == 0 or done >= state["budget"])
    return {name: [[int(c[0]), float(c[1][1])] for c in t.eval_curve] for name, t in trainers.items()}


def maml_vs_fomaml_run(seed):
    """Part 5's MAML against FOMAML with its defaults and this seed, as `part5._train` runs the trainers:
    {model: [[update, held-out MSE after k steps], …]} (its right panel; the other panels are not recorded)."""
    state = figures.FIGURES["maml-vs-fomaml"].validate({"seed": seed})
    config, k = part5._config(state), int(state["k"])
    trainers = {m: part5.MetaTrainer(m, part5.MLP_MODEL, config, seed=seed) for m in ("maml", "fomaml")}
    for t in trainers.values():
        t.run(0)
    while trainers["maml"].iteration < state["budget"] and not any(t.diverged for t in trainers.values()):
        n = min(part5.CHUNK, state["budget"] - trainers["maml"].iteration)
        done = trainers["maml"].iteration + n
        for t in trainers.values():
            t.run(n, evaluate=done % part5.EVAL_EVERY == 0 or done >= state["budget"])
    return {name: [[int(c[0]), float(c[1][k])] for c in t.eval_curve] for name, t in trainers.items()}


def race_run(seed):
    """Part 8's race with its defaults and this seed, as `part8._race_stream` runs it: {racer: [[update, held-out
    MSE after its own inner procedure], …]} (the left panel; the seconds depend on the machine: not recorded)."""
    budget = figures.FIGURES["sine-race"].default_state()["budget"]
    race = part8.new_race(seed)
    while part8.race_iteration(race) < budget and not all(t.diverged for t in race["trainers"].values()):
        it = part8.race_iteration(race) + 1
        part8.race_round(race, evaluate_now=it % part8.RACE_EVAL_EVERY == 0 or it >= budget)
    return {m: [[int(c[0]), float(c[2])] for c in race["curves"][m]] for m in part8.RACERS}


def cost_run():
    """Part 4's cost figure with its defaults, as `part4._measure` runs it (its Measure button): {"ms": {method:
    [ms per meta-gradient at k = 1…10]}, "kb": {method: [kB kept per task]}, "explicit_s": [s at k = 1, 2, 3],
    "product_s": s of one P × P product}."""
    session = {"times": {}, "memory": {}, "explicit": {}, "explicit_check": None, "product": None, "progress": None}
    for _ in part4._measure(session):
        pass
    ks = part4.COST_KS
    return {"ms": {m: [1e3 * session["times"][(m, k)] for k in ks] for m in part4.COST_METHODS},
            "kb": {m: [session["memory"][(m, k)] / 1e3 for k in ks] for m in part4.COST_METHODS},
            "explicit_s": [session["explicit"][k] for k in part4.EXPLICIT_KS], "product_s": session["product"]}


def rounds_run():
    """Part 9's figure with its defaults (its Measure button): {racer: ms of one meta-update, the fastest of its
    rounds}, as `part9.time_rounds` times them."""
    rounds = figures.FIGURES["cost-per-update"].default_state()["updates"]
    *_, best = part9.time_rounds(rounds)
    return {m: 1e3 * s for m, s in best.items()}


RUNS = {"meta-lab": lab_run, "maml-vs-fomaml": maml_vs_fomaml_run, "sine-race": race_run}
MEASUREMENTS = {"meta-cost": cost_run, "cost-per-update": rounds_run}   # timings: repeated, not seeded


def spread(values, digits=4):
    """{median, low, high} of equal-length lists (or of numbers) over the draws."""
    a = np.array(values, dtype=float)
    return {"median": np.round(np.median(a, axis=0), digits).tolist(), "low": np.round(a.min(axis=0), digits).tolist(),
            "high": np.round(a.max(axis=0), digits).tolist()}


def summarise_cost(runs):
    kb = runs[0]["kb"]
    assert all(r["kb"] == kb for r in runs), "the memory counts differ between runs"
    return {"k": list(part4.COST_KS), "ms": {m: spread([r["ms"][m] for r in runs]) for m in runs[0]["ms"]},
            "kb": {m: np.round(v, 4).tolist() for m, v in kb.items()},
            "explicit_k": list(part4.EXPLICIT_KS), "explicit_s": spread([r["explicit_s"] for r in runs]),
            "product_s": spread([r["product_s"] for r in runs])}


def summarise_rounds(runs):
    return {"ms": {m: spread([r[m] for r in runs]) for m in runs[0]}}


def where():
    """The machine, in words: what a recorded timing depends on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU") \
        if Path("/proc/cpuinfo").exists() else platform.processor() or "unknown CPU"
    return (f"natively, NumPy {np.__version__}, Python {platform.python_version()}, on this project's machine: "
            f"{os.cpu_count()} cores, {cpu} ({platform.machine()})")


def summarise(runs):
    """{model: {updates, median, low, high}} over the seeds' curves (evaluated at the same updates)."""
    out = {}
    for model in runs[0]:
        updates = [u for u, _ in runs[0][model]]
        curves = np.array([[v for _, v in run[model]] for run in runs], dtype=float)
        out[model] = {"updates": updates, "median": np.round(np.median(curves, axis=0), 5).tolist(),
                      "low": np.round(curves.min(axis=0), 5).tolist(), "high": np.round(curves.max(axis=0), 5).tolist()}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--draws", type=int, default=5, help="repeats of each timing figure's measurement")
    every = sorted(RUNS) + sorted(MEASUREMENTS)
    p.add_argument("--only", nargs="+", choices=every, default=every)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    figures.load_all()
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    for figure_id in args.only:
        load = os.getloadavg()[0]
        if figure_id in RUNS:
            runs = [RUNS[figure_id](seed) for seed in args.seeds]
            entry = {"seeds": args.seeds, "curves": summarise(runs)}
        else:
            runs = [MEASUREMENTS[figure_id]() for _ in range(args.draws)]
            entry = {"draws": args.draws, **(summarise_cost if figure_id == "meta-cost" else summarise_rounds)(runs)}
        data[figure_id] = {
            **entry, "settings": figures.FIGURES[figure_id].default_state(),
            "measured": {"where": where(), "date": datetime.date.today().isoformat(),
                         "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
                         "command": "bench/recorded_runs.py"}}
        print(f"{figure_id}: {len(runs)} {'seeds' if figure_id in RUNS else 'draws'} recorded", flush=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
