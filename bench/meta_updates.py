"""Meta-updates per second of every method, with the default and the tuned allocator, in one run.

    .venv/bin/python bench/meta_updates.py [--runs 7]

Runs `mamlviz bench` twice in fresh processes (the allocator setting is process-wide) and prints both tables.
Medians of interleaved runs; compare the ratio to the reference column rather than absolute rates on a busy machine.
"""

import argparse
import subprocess
import sys

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--runs", default="7")
args = parser.parse_args()
for extra in ([], ["--default-malloc"]):
    cmd = [sys.executable, "-m", "mamlviz.cli", "bench", "--runs", args.runs, *extra]
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
