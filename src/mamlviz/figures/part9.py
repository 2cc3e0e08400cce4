"""Part 9 — Conclusion: the time per meta-update of every method, measured in the reader's browser, set beside the
times measured on this project's machine (src/mamlviz/data/measured.json, written by bench/measured.py).

The same trainers and settings as Part 8's race (`mamlviz.train.race_config`), timed one round of each method after
the other, round after round, so that a busy moment of the machine hits every method alike; each method's time is the
fastest of its rounds (load only ever adds time), as in Part 4. A round is as many updates as fill
`clock.ROUND_SECONDS`, so that a coarse clock (1 ms steps in WebKit) is under 1 % of it.
"""

from __future__ import annotations

import numpy as np

from mamlviz import clock, sine
from mamlviz.meta import meta_gradient
from mamlviz.train import MetaTrainer, race_config

from . import Button, Slider, figure
from ._common import MLP_MODEL, RACERS, RECORDED_TIMING_LEGEND, measured, recorded_note, recorded_run


def kept_per_task(method, seed=0):
    """Bytes that one meta-update of `method` keeps per task for its backward pass (`meta_gradient`'s kept_bytes,
    the measure of Part 4), with the race's settings on one batch of the race's size."""
    trainer = MetaTrainer(method, MLP_MODEL, race_config(method), seed=seed)
    c = trainer.config
    batch = sine.sample(np.random.default_rng(seed), c.n_tasks, c.n_support, c.n_query)
    _, info = meta_gradient(trainer.method, MLP_MODEL, trainer.theta, batch, inner_lr=c.inner_lr,
                            inner_steps=c.inner_steps, reg=c.reg, cg_steps=c.cg_steps, query_before=False)
    return info["kept_bytes"] / c.n_tasks


def time_rounds(n, seed=0):
    """A generator: after each of n rounds (every racer timed over a round of updates, after one untimed warm-up
    update each), {racer: fastest seconds of one meta-update so far}."""
    trainers = {m: MetaTrainer(m, MLP_MODEL, race_config(m), seed=seed) for m in RACERS}
    for t in trainers.values():
        t.step()
    best = dict.fromkeys(RACERS, float("inf"))
    for _ in range(n):
        for m, t in trainers.items():
            best[m] = min(best[m], clock.per_call(t.step)[0])
        yield dict(best)


@figure("cost-per-update", title="Time per meta-update, measured in your browser", training=True, controls=[
    Slider("updates", "Timed rounds (one update of each method a round)", 3, 30, step=1, default=10),
    Button("measure", "Measure"),
])
def cost_figure(state, action=None):
    if action != "measure":
        return _cost_scene({}, 0, int(state["updates"]), " ".join(filter(None, [
            "Press Measure to time every method on the sine network in this browser (a few seconds).",
            recorded_note("cost-per-update")])))
    return _measure(int(state["updates"]))


def _measure(n):
    yield _cost_scene({}, 0, n, "Measuring…")
    for i, seconds in enumerate(time_rounds(n), 1):
        yield _cost_scene(seconds, i, n, None if i == n else "Measuring…")


def _cost_scene(seconds, rounds, n, message):
    ours = measured().get("browser", {}).get("ms_per_update", {})
    mine = {m: 1e3 * s for m, s in seconds.items()}
    base = mine.get("pretrained")
    readouts = []
    for m, name in RACERS.items():
        readouts += [{"label": f"{name}: ms per update", "value": mine.get(m), "format": ".3g"},
                     {"label": f"{name}: × pretrained", "value": mine[m] / base if m in mine and base else None,
                      "format": ".1f"}]
    rec = (recorded_run("cost-per-update") or {}).get("ms", {})
    layers = []
    for i, (m, name) in enumerate(RACERS.items()):
        if m in rec:   # recorded natively (bench/recorded_runs.py): the median bar, dotted the fastest to slowest
            layers += [{"kind": "line", "x": [0, rec[m]["median"]], "y": [i - 0.2, i - 0.2], "class": "recorded",
                        "label": f"{name}, recorded natively"},
                       {"kind": "line", "x": [rec[m]["low"], rec[m]["high"]], "y": [i - 0.28, i - 0.28],
                        "class": "recorded range"}]
        if m in mine:
            layers.append({"kind": "line", "x": [0, mine[m]], "y": [i + 0.2, i + 0.2], "class": m,
                           "label": f"{name}, your browser"})
        if m in ours:
            layers.append({"kind": "line", "x": [0, ours[m]], "y": [i, i], "class": "muted",
                           "label": f"{name}, measured here"})
        layers.append({"kind": "label", "at": [0, i + 0.4], "text": name, "class": m, "anchor": "start"})
    right = max(list(mine.values()) + list(ours.values()) + [c["high"] for c in rec.values()] + [1.0]) * 1.1
    done = ", ".join(f"{RACERS[m]} {v:#.3g} ms" for m, v in mine.items())
    here = ", ".join(f"{RACERS[m]} {v:.1f} ms" for m, v in ours.items())
    where = measured().get("browser", {}).get("browser", "Chromium")
    return {
        "panels": [{"title": "Time of one meta-update" + (f" (fastest of {rounds} rounds)" if rounds else ""),
                    "xlim": [0, right], "ylim": [-0.5, len(RACERS) - 0.2], "yticks": False,
                    "xlabel": "milliseconds", "ylabel": "", "layers": layers}],
        "legend": ([{"class": "maml", "label": "your browser (each method's colour)"}]
                   + ([{"class": "muted", "label": f"{where} on this project's machine (grey)"}] if ours else [])
                   + ([RECORDED_TIMING_LEGEND] if rec else [])) if ours or rec else [],
        "readouts": readouts,
        "message": message,
        "description": ("Time of one meta-update on the sine network (10 tasks, K = 10, each method's race settings), "
                        f"the fastest of {rounds} of {n} rounds in this browser: "
                        + (done if done else "not measured yet") + "."
                        + (f" Measured on this project's machine ({where}): {here}." if here else "")
                        + (" Recorded natively there (bench/recorded_runs.py, median of "
                           f"{recorded_run('cost-per-update')['draws']} measurements): "
                           + ", ".join(f"{RACERS[m]} {c['median']:#.3g} ms" for m, c in rec.items()) + "."
                           if rec else "")),
    }
