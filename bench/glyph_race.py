"""The recorded run of Part 8's classification race: the race (`mamlviz.glyphrace`) run natively for several seeds,
written to src/mamlviz/data/glyph_race.json with its median and range over the seeds at every measurement, the
updates per second of every method, the machine, the date, the command and the code version. The page draws it in
grey before the reader presses Start, and the text prints its numbers (`{{measured:glyph_race....}}`).

    nice -n 10 .venv/bin/python bench/glyph_race.py [--seeds 0 1 2 3 4] [--updates 1000] [--every 20] [--out FILE]
    nice -n 10 .venv/bin/python bench/glyph_race.py --verify

Measured at round 0, then where `glyphrace.measured_at(round, every)` (every 20 rounds up to 200, then less often),
and at the end. A few minutes on a busy two-core machine with the defaults. The file records the code version it
was made by (`versions.glyph_race.code`, `mamlviz.site.measured.fingerprint`): when the code changes, the site's
tests call it stale. --verify reruns the recorded command for seed 0 only and, if it gives the recorded numbers,
records the code as it is now (for changes that do not change the numbers); otherwise rerun the whole command.
Not a test (tests/test_glyphrace_bench.py checks that the file regenerates from its command on a small input).
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

# One BLAS thread: a thousand rounds amplify the last bits of a product's summation order, which OpenBLAS changes
# with its thread count (two threads on this machine when idle); the recorded run and --verify then agree anywhere.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

import mamlviz
from mamlviz import glyphrace, glyphtasks
from mamlviz.site import measured as site_measured

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


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def version():
    """The code version of the run (as measured.json's sections): its fingerprint, the git commit, the date."""
    return {"code": site_measured.fingerprint("glyph_race"), "commit": code_version(), "date": now()}


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
        "date": now(), "machine": machine(), "code": code_version(), "versions": {"glyph_race": version()},
        "settings": {m: glyphrace.CLASSIFICATION_SETTINGS[m].to_dict() for m in glyphrace.RACERS},
        "shared": glyphrace.SHARED.to_dict(), "n_tasks": glyphrace.N_TASKS, "outer_lr": glyphrace.OUTER_LR,
        "eval_trials": glyphrace.EVAL_TRIALS, "seeds": list(seeds),
        # the lines of the figure: chance, the two nearest neighbours and the shipped model, on the same trials
        "baselines": {"chance": 1 / glyphrace.N_WAY, "raw": ways["raw"][5][0] / 100, "blur": ways["blur"][5][0] / 100,
                      "shipped": ways["maml"][5][0] / 100},
        **glyphrace.summarise(runs), "runs": runs,
    }


def verify(path, log=print):
    """Rerun the recorded command for seed 0; if its accuracies are the recorded ones, restamp the code version.
    Returns True when restamped."""
    rec = json.loads(Path(path).read_text(encoding="utf-8"))
    argv = rec["command"].split()[2:]
    updates, every = int(argv[argv.index("--updates") + 1]), int(argv[argv.index("--every") + 1])
    seed = str(rec["seeds"][0])
    got = glyphrace.run_race(int(seed), updates, every)
    same = all(got[m][k] == rec["runs"][seed][m][k] for m in glyphrace.RACERS for k in ("own", "shared"))
    if not same:
        log(f"seed {seed} gives other numbers than recorded: rerun {rec['command']}")
        return False
    rec.setdefault("versions", {})["glyph_race"] = {**version(), "verified": f"{now()} (seed {seed})"}
    Path(path).write_text(json.dumps(rec, indent=1) + "\n")
    log(f"seed {seed} gives the recorded numbers: code version restamped in {path}")
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--updates", type=int, default=1000, help="rounds (one update of every method each)")
    p.add_argument("--every", type=int, default=20, help="rounds between held-out measurements at first "
                   "(glyphrace.measured_at)")
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--verify", action="store_true", help="recompute seed 0 of the recorded run; restamp if equal")
    args = p.parse_args(argv)
    if args.verify:
        sys.exit(0 if verify(args.out, log=lambda m: print(m, file=sys.stderr)) else 1)
    result = record(args.seeds, args.updates, args.every, log=lambda m: print(m, file=sys.stderr, flush=True))
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
