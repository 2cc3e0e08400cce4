#!/usr/bin/env python3
"""Build the site into site/ (`python build.py`), or build if needed and serve it (`python build.py serve`).

A thin entry: the pipeline lives in mamlviz.site; see `python build.py --help` / `python build.py serve --help`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from mamlviz.cli import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    command = ["serve", *args[1:]] if args[:1] == ["serve"] else ["build", *args]
    sys.exit(main([command[0], "--root", str(Path(__file__).resolve().parent), *command[1:]]))
