"""The sine race of Part 8, natively: every racer's final held-out numbers for several seeds, and their spread.

    .venv/bin/python bench/race.py [--budget 1000] [--seeds 0 1 2 3 4]

Runs exactly what the page runs (`mamlviz.figures.part8`: the same settings, the same seeds and task stream), so
the browser's table for a seed can be set against the native one and against the spread over seeds.
"""

import argparse
import time

import numpy as np

from mamlviz.figures import part8

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--budget", type=int, default=1000)
parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
args = parser.parse_args()

finals = {}
for seed in args.seeds:
    race, start = part8.new_race(seed), time.perf_counter()
    while part8.race_iteration(race) < args.budget:
        it = part8.race_iteration(race) + 1
        part8.race_round(race, evaluate_now=it % part8.RACE_EVAL_EVERY == 0 or it >= args.budget)
    finals[seed] = {m: race["curves"][m][-1][2:] for m in part8.RACERS}
    row = "  ".join(f"{n} {finals[seed][m][0]:.3f}/{finals[seed][m][1]:.3f} ({race['seconds'][m]:.1f} s)"
                    for m, n in part8.RACERS.items())
    print(f"seed {seed}, {args.budget} updates, {time.perf_counter() - start:.0f} s: {row}", flush=True)
print("held-out median MSE, own procedure / one shared step: mean ± sd over seeds")
for m, n in part8.RACERS.items():
    v = np.array([finals[s][m] for s in args.seeds])
    print(f"  {n:10s} {v[:, 0].mean():.3f} ± {v[:, 0].std(ddof=1):.3f}   {v[:, 1].mean():.3f} ± {v[:, 1].std(ddof=1):.3f}")
