"""The recorded run of Part 8's classification race: the race (`mamlviz.glyphrace`) run natively for several seeds,
written to src/mamlviz/data/glyph_race.json with its median and range over the seeds at every measurement, the
updates per second of every method, the machine, the date, the command and the code version. The page draws it in
grey before the reader presses Start, and the text prints its numbers (`{{measured:glyph_race....}}`).

    nice -n 10 .venv/bin/python bench/glyph_race.py [--seeds 0 1 2 3 4] [--updates 120] [--every 20] [--out FILE]

About four minutes on a busy two-core machine with the defaults. Not a test (tests/test_glyphrace_bench.py checks
that the file regenerates from its command on a small input).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

import mamlviz
from mamlviz import glyphrace, glyphtasks

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "mamlviz" / "data" / "glyph_race.json"


def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "cpu": model, "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": np.__version__, "load": [round(v, 2) for v in os.getloadavg()]}


def code_version():
    """The package version and the git commit the run was made from ("+dirty" with uncommitted changes)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    return f"{mamlviz.__version__} ({commit}{'+dirty' if dirty else ''})"


def record(seeds, updates, every, log=print):
    runs = {}
    for seed in seeds:
        runs[str(seed)] = glyphrace.run_race(seed, updates, every)
        log(f"seed {seed}: " + ", ".join(f"{m} {r['own'][-1]:.3f}/{r['shared'][-1]:.3f} in {r['seconds'][-1]:.0f} s"
                                         for m, r in runs[str(seed)].items()))
    ways = glyphtasks.HELDOUT_ACCURACY
    return {
        "command": f"python bench/glyph_race.py --seeds {' '.join(map(str, seeds))} --updates {updates} "
                   f"--every {every}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "code": code_version(),
        "settings": {m: glyphrace.CLASSIFICATION_SETTINGS[m].to_dict() for m in glyphrace.RACERS},
        "shared": glyphrace.SHARED.to_dict(), "n_tasks": glyphrace.N_TASKS, "outer_lr": glyphrace.OUTER_LR,
        "eval_trials": glyphrace.EVAL_TRIALS, "seeds": list(seeds),
        # the lines of the figure: chance, the two nearest neighbours and the shipped model, on the same trials
        "baselines": {"chance": 1 / glyphrace.N_WAY, "raw": ways["raw"][5][0] / 100, "blur": ways["blur"][5][0] / 100,
                      "shipped": ways["maml"][5][0] / 100},
        **glyphrace.summarise(runs), "runs": runs,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--updates", type=int, default=120, help="rounds (one update of every method each)")
    p.add_argument("--every", type=int, default=20, help="rounds between held-out measurements")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    result = record(args.seeds, args.updates, args.every, log=lambda m: print(m, file=sys.stderr, flush=True))
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
