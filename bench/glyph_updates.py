"""Updates per second of every racer of Part 8's classification race, the fused kernel (`mamlviz.fused_xent`, what
the race runs) against the plain per-task implementation (`meta.meta_gradient`, the reference it is tested
against), on the same batches and θ, interleaved in the same run; and the cost of one held-out measurement. Prints
JSON: per method the median ms per update of each path over `--runs` × `--updates` updates, updates/s, and the
ratio plain / fused.
Not a test.

    nice -n 10 .venv/bin/python bench/glyph_updates.py [--runs 7] [--updates 20]

It imports only `mamlviz`, so the same file also runs in Pyodide (the page's NumPy, without BLAS).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from mamlviz import glyphrace, glyphtasks


def measure(runs=7, updates=20, seed=0):
    data = glyphrace.load_data()
    race = glyphrace.Race(seed, data, evaluate=False)
    for _ in range(20):                          # θ after a few rounds, not the initialisation
        race.run_round()
    rng = np.random.default_rng(seed)
    batches = [glyphtasks.episodes(rng, data.train, glyphrace.N_WAY, race.n_tasks, augment=True)
               for _ in range(updates)]
    # every update timed alone, the two paths alternating on the same batch: a burst of load on a shared machine
    # then hits both alike, and the medians over runs × updates compare them
    times = {m: {"fused": [], "plain": []} for m in glyphrace.RACERS}
    for _ in range(runs):
        for b in batches:
            for m in glyphrace.RACERS:
                for path in ("fused", "plain"):
                    start = time.perf_counter()
                    glyphrace.direction(m, race.model, race.thetas[m], b, race.settings[m], fused=path == "fused")
                    times[m][path].append(time.perf_counter() - start)
    out = {"platform": sys.platform, "runs": runs, "updates": updates, "n_tasks": race.n_tasks, "methods": {}}
    for m, t in times.items():
        row = {f"{p}_ms": round(1e3 * float(np.median(v)), 3) for p, v in t.items() if v}
        row["updates_per_s"] = round(1e3 / row["fused_ms"], 1)
        if "plain_ms" in row:
            row["ratio"] = round(row["plain_ms"] / row["fused_ms"], 2)
        out["methods"][m] = row
    evals = []
    for _ in range(3):
        start = time.perf_counter()
        race.record()
        evals.append(time.perf_counter() - start)
    out["measurement_ms"] = round(1e3 * float(np.median(evals)), 1)     # 4 models on the 1,000 trials
    round_ms = sum(r["fused_ms"] for r in out["methods"].values())
    out["measurement_in_rounds"] = round(out["measurement_ms"] / round_ms, 1)
    if sys.platform != "emscripten":                                   # Pyodide's load average is made up
        out["load"] = [round(v, 2) for v in os.getloadavg()]
    return out


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--updates", type=int, default=20)
    args = p.parse_args()
    print(json.dumps(measure(args.runs, args.updates), indent=1))
