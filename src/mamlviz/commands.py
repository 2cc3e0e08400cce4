"""Sub-commands of `mamlviz`. Each adder registers one sub-command whose `run(args)` does the work."""

from __future__ import annotations


def add_train(commands):
    p = commands.add_parser("train", help="meta-train a model and save θ and its learning curve")
    p.set_defaults(run=lambda args: _not_yet("train"))


def add_bench(commands):
    p = commands.add_parser("bench", help="meta-updates per second for each method (medians)")
    p.set_defaults(run=lambda args: _not_yet("bench"))


def add_build(commands):
    p = commands.add_parser("build", help="build the static site into site/")
    p.set_defaults(run=lambda args: _not_yet("build"))


def add_serve(commands):
    p = commands.add_parser("serve", help="build if needed and serve site/ on 127.0.0.1")
    p.set_defaults(run=lambda args: _not_yet("serve"))


def _not_yet(name):
    raise SystemExit(f"mamlviz {name}: not implemented yet")


ADDERS = [add_train, add_bench, add_build, add_serve]
