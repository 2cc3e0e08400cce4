"""Held-out MSE of MAML, FOMAML, Reptile and iMAML on the sine MLP under one budget (what Part 7 reports).

    .venv/bin/python bench/compare_methods.py [--iterations 4000] [--seeds 0] [--methods maml,fomaml,reptile,imaml]
        [--set imaml.reg=100 --set imaml.inner_steps=20 ...]

Each method trains with its settings from `mamlviz.train.METHOD_SETTINGS` (overridden by --set METHOD.FIELD=VALUE),
25 tasks a meta-batch, K = 10 support + 10 query points, outer Adam at 0.01. Then, on the trainer's 100 held-out
tasks (50 query points each over the whole x range), the median query MSE after the method's own inner procedure
and after one shared SGD step at α = 0.01, and for iMAML the median relative inner-solve residual
‖∇L^tr(φ) + λ(φ − θ)‖ / ‖∇L^tr(θ)‖ (0 = solved, 1 = φ still at θ). Takes a few minutes (iMAML is the slow one).
"""

import argparse
import dataclasses
import sys
import time

import numpy as np

from mamlviz.bench import tune_allocator
from mamlviz.nn import MLP
from mamlviz.train import METHOD_SETTINGS, TrainConfig, train

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--iterations", type=int, default=4000)
parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
parser.add_argument("--methods", default="maml,fomaml,reptile,imaml")
parser.add_argument("--set", action="append", default=[], metavar="METHOD.FIELD=VALUE")
args = parser.parse_args()

settings = dict(METHOD_SETTINGS)
for item in args.set:
    key, value = item.split("=")
    method, name = key.split(".")
    kind = type(getattr(METHOD_SETTINGS["imaml"], name))
    settings[method] = dataclasses.replace(settings[method], **{name: kind(value)})

tune_allocator()
print(f"{'method':<9}{'seed':>5}{'α':>9}{'k':>4}{'λ':>7}{'CG':>4}{'own inner':>11}{'1 step α=0.01':>15}"
      f"{'residual':>10}{'s':>7}")
for method in args.methods.split(","):
    s = settings[method]
    for seed in map(int, args.seeds.split(",")):
        config = TrainConfig(**s.to_dict())
        start = time.perf_counter()
        trainer = train(method, MLP(), config, seed, args.iterations, eval_every=args.iterations)
        seconds = time.perf_counter() - start
        own, shared = trainer.evaluate_own(), trainer.evaluate()["median"][1]
        residual = "" if own["residual"] is None else f"{own['residual']:.2e}"
        flag = " (diverged)" if trainer.diverged else ""
        print(f"{method:<9}{seed:>5}{s.inner_lr:>9g}{s.inner_steps:>4}{s.reg or '':>7}{s.cg_steps or '':>4}"
              f"{own['median']:>11.3f}{shared:>15.3f}{residual:>10}{seconds:>7.0f}{flag}", flush=True)
