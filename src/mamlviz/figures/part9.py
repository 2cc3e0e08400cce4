"""Part 9 — Conclusion: the time per meta-update of every method, measured in the reader's browser.

The same trainers and settings as Part 8's race (`part8.race_config`), timed one update at a time; medians, so a
busy moment of the machine does not decide the result.
"""

from __future__ import annotations

import time

import numpy as np

from mamlviz.train import MetaTrainer

from . import Button, Slider, figure
from .part8 import MLP_MODEL, RACERS, race_config


def time_updates(method, n, seed=0):
    """Median seconds of one meta-update of `method` (after one untimed warm-up update), over n updates."""
    trainer = MetaTrainer(method, MLP_MODEL, race_config(method), seed=seed)
    trainer.step()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


@figure("cost-per-update", title="Time per meta-update, measured in your browser", training=True, controls=[
    Slider("updates", "Timed updates per method", 3, 30, step=1, default=5),
    Button("measure", "Measure"),
])
def cost_figure(state, action=None):
    if action != "measure":
        return _cost_scene({}, "Press Measure to time every method on the sine network in this browser "
                               "(a few seconds).")
    return _measure(int(state["updates"]))


def _measure(n):
    seconds = {}
    yield _cost_scene(seconds, "Measuring…")
    for m in RACERS:
        seconds[m] = time_updates(m, n)
        yield _cost_scene(seconds, None if len(seconds) == len(RACERS) else "Measuring…")


def _cost_scene(seconds, message):
    base = seconds.get("pretrained")
    readouts = []
    for m, name in RACERS.items():
        s = seconds.get(m)
        readouts += [{"label": f"{name}: ms per update", "value": None if s is None else 1e3 * s, "format": ".1f"},
                     {"label": f"{name}: × pretrained", "value": s / base if s and base else None, "format": ".1f"}]
    done = [f"{RACERS[m]} {1e3 * s:.1f} ms" for m, s in seconds.items()]
    layers = [{"kind": "line", "x": [0, 1e3 * s], "y": [i, i], "class": m, "label": RACERS[m]}
              for i, (m, s) in enumerate(seconds.items())]
    layers += [{"kind": "label", "at": [0, i + 0.3], "text": RACERS[m], "class": m, "anchor": "start"}
               for i, m in enumerate(seconds)]
    right = max([1e3 * s for s in seconds.values()] + [1.0]) * 1.1
    return {
        "panels": [{"title": "Median time of one meta-update", "xlim": [0, right], "ylim": [-0.5, len(RACERS) - 0.2],
                    "xlabel": "milliseconds", "ylabel": "", "layers": layers}],
        "readouts": readouts,
        "message": message,
        "description": ("Median time of one meta-update on the sine network (10 tasks, K = 10, each method's race "
                        "settings), measured in this browser: " + (", ".join(done) if done else "not measured yet")
                        + "."),
    }
