"""Recorded runs of the training figures, drawn in grey before the reader presses Start (issue 26): writes
src/mamlviz/data/recorded_runs.json.

    .venv/bin/python bench/recorded_runs.py [--seeds 0 1 2 3 4] [--only meta-lab]

For each training figure that draws learning curves, the run it makes with its default settings, natively with NumPy
for several seeds (the figure's own seed and the next ones): at every held-out evaluation, the median over the seeds
of the curve the figure draws, and its range (lowest and highest seed). Records the machine, NumPy's version and the
date. A partial run (--only) keeps the figures it did not record. Takes a few minutes. Not a test.
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
from mamlviz.figures import part3, part5, part8

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


RUNS = {"meta-lab": lab_run, "maml-vs-fomaml": maml_vs_fomaml_run, "sine-race": race_run}


def summarise(runs):
    """{model: {updates, median, low, high}} over the seeds' curves (evaluated at the same updates)."""
    out = {}
    for model in runs[0]:
        updates = [u for u, _ in runs[0][model]]
        curves = np.array([[v for _, v in run[model]] for run in runs], dtype=float)
        out[model] = {"updates": updates, "median": np.round(np.median(curves, axis=0), 5).tolist(),
                      "low": np.round(curves.min(axis=0), 5).tolist(), "high": np.round(curves.max(axis=0), 5).tolist()}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--only", nargs="+", choices=sorted(RUNS), default=sorted(RUNS))
    args = p.parse_args()
    figures.load_all()
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    for figure_id in args.only:
        load = os.getloadavg()[0]
        runs = [RUNS[figure_id](seed) for seed in args.seeds]
        data[figure_id] = {
            "seeds": args.seeds, "curves": summarise(runs),
            "settings": figures.FIGURES[figure_id].default_state(),
            "measured": {"where": f"natively, NumPy {np.__version__}, Python {platform.python_version()}, "
                                  f"{os.cpu_count()} cores ({platform.machine()})",
                         "date": datetime.date.today().isoformat(), "load_average": [round(load, 2),
                                                                                     round(os.getloadavg()[0], 2)],
                         "command": "bench/recorded_runs.py"}}
        print(f"{figure_id}: {len(runs)} seeds recorded", flush=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
