"""The `mamlviz` command: a few lines that parse arguments and call into the package."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mamlviz", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    # Each sub-module adds its own sub-command; imports stay lazy so `train` needs no site packages.
    from mamlviz import commands as registry

    for add in registry.ADDERS:
        add(commands)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
