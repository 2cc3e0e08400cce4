"""Part 8 — the classification race: the pretrained baseline, MAML, FOMAML and Reptile meta-train the game's MLP in
the reader's browser (`mamlviz.glyphrace`), drawn over the recorded native run of bench/glyph_race.py.

A module of its own (not part8.py): the page's main worker never imports the race's library, and its data file is
fetched only by the training worker that runs it.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

from . import Button, Select, Slider, figure, sessions, training_buttons

RACERS = {"pretrained": "pretrained", "maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile"}
RECORDED = Path(__file__).parents[1] / "data" / "glyph_race.json"
EVAL_EVERY = 100           # rounds between held-out measurements, at first (`glyphrace.measured_at`)
FRAME_SECONDS = 0.3        # a frame at least this often while racing
CURVES = {"own": "its own adaptation", "shared": "5 steps at α = 0.4"}


@lru_cache(maxsize=1)
def recorded():
    """The recorded native run (bench/glyph_race.py), or None if it was never recorded."""
    try:
        return json.loads(RECORDED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@figure("glyph-race", title="The classification race: four ways to meta-train the game's classifier", training=True,
        controls=[
            Slider("budget", "Stop after (rounds)", 20, 20000, step=20, default=1000),
            Slider("seed", "Seed", 0, 9, step=1, default=0),
            Select("curve", "Accuracy after", options=CURVES, default="own"),
            *training_buttons(Button("step", "One round")),
        ])
def glyph_race_figure(state, action=None):
    seed, budget = int(state["seed"]), int(state["budget"])
    race = sessions.get("glyph-race")
    if action == "reset":
        sessions.pop("glyph-race", None)
        race = None
    message = None
    if action in ("start", "step"):
        if race is not None and race.seed != seed:
            message = "The seed changed: the race started again from scratch with the new seed."
            race = None
        if race is None:
            from mamlviz import glyphrace      # the library and its data load in the race's worker only

            race = sessions["glyph-race"] = glyphrace.Race(seed)
        if action == "step":
            race.run_round()
            race.record()
            return race_scene(state, race, message, "paused")
        if race.iteration >= budget:
            return race_scene(state, race, "Reached the number of rounds set: raise it to race on, or Reset.",
                              "finished")
        return _stream(state, race, message)
    if race is not None and race.seed != seed:
        message = "The seed changed: press Start to race again from scratch with it."
    return race_scene(state, race, message, "paused" if race else "ready")


def _stream(state, race, message):
    from mamlviz.glyphrace import measured_at

    budget = int(state["budget"])
    yield race_scene(state, race, message, "training")
    while race.iteration < budget and len(race.stopped) < len(RACERS):
        start = time.perf_counter()
        while race.iteration < budget and time.perf_counter() - start < FRAME_SECONDS:
            race.run_round()
            if measured_at(race.iteration, EVAL_EVERY) or race.iteration >= budget:
                race.record()
        yield race_scene(state, race, message, "training")
    yield race_scene(state, race, message, "finished")


def _pct(v):
    return None if v is None else round(100 * v, 1)


def race_scene(state, race, message=None, status="ready"):
    measure = state["curve"]
    rec = recorded()
    words = {"training": "Racing", "paused": "Paused", "finished": "Finished", "ready": "Ready"}[status]
    curves = {} if race is None else {m: race.curves[m] for m in RACERS}
    j = 2 if measure == "own" else 3
    panels = [_panel(curves, 0, "meta-updates", j, rec, measure), _panel(curves, 1, "seconds (this browser)", j)]
    legend = [{"class": m, "label": name} for m, name in RACERS.items()]
    if rec:
        legend.append({"class": "recorded", "label": f"recorded run (median and range of {len(rec['seeds'])} seeds)"})
    readouts = [{"label": "rounds", "value": 0 if race is None else race.iteration, "format": "d"}]
    if race is None:
        text = ("Ready: no training has run yet. " + _recorded_text(rec, measure) +
                " Press Start to race the pretrained baseline, MAML, FOMAML and Reptile on the game's characters.")
        return {"panels": panels, "legend": legend, "readouts": readouts,
                "message": message or "Press Start to meta-train all four classifiers from the same seed.",
                "description": text, "state": {"_status": status}}
    for m, name in RACERS.items():
        last = race.curves[m][-1]
        rate = race.iteration / race.seconds[m] if race.seconds[m] > 0 else None
        readouts += [{"label": f"{name}: own adaptation (%)", "value": _pct(last[2]), "format": ".1f"},
                     {"label": f"{name}: 5 steps at 0.4 (%)", "value": _pct(last[3]), "format": ".1f"},
                     {"label": f"{name}: updates/s", "value": rate, "format": ".2f"}]
    evaluated = race.curves["maml"][-1][0]
    text = (f"{words} after {race.iteration} rounds (one meta-update of each method a round, seed {race.seed}); "
            f"accuracy on {len(race.data.trials.xs)} held-out game trials at round {evaluated}, after each method's "
            "own adaptation / after 5 steps at α = 0.4: " +
            "; ".join(f"{name} {100 * race.curves[m][-1][2]:.1f} % / {100 * race.curves[m][-1][3]:.1f} %"
                      for m, name in RACERS.items()) + ".")
    stopped = [f"{RACERS[m]} stopped: {why}." for m, why in race.stopped.items()]
    return {"panels": panels, "legend": legend, "readouts": readouts,
            "message": " ".join(filter(None, [message] + stopped)) or None,
            "description": text, "state": {"_status": status}}


def _recorded_text(rec, measure):
    if not rec:
        return "No recorded run is available."
    med = rec["median"]
    return (f"In grey, the recorded native run ({len(rec['seeds'])} seeds, median): after {rec['updates'][-1]} rounds, "
            f"accuracy after {CURVES[measure]} " +
            ", ".join(f"{name} {100 * med[m][measure][-1]:.1f} %" for m, name in RACERS.items()) + ".")


def _panel(curves, axis, xlabel, j, rec=None, measure="own"):
    """Accuracy (%) by meta-updates (axis 0) or by each method's own seconds (axis 1): the reader's curves, the
    recorded run in grey (by updates only: its seconds are another machine's), chance, the nearest neighbours and the
    shipped model."""
    layers, right = [], 1.0 if axis else 20.0
    if rec and not axis:
        x = rec["updates"]
        for m in RACERS:
            for key, css in (("low", "recorded secondary"), ("high", "recorded secondary"), ("median", "recorded")):
                layers.append({"kind": "line", "x": x, "y": [_pct(v) for v in rec[key][m][measure]], "class": css})
            layers.append({"kind": "label", "at": [x[-1], _pct(rec["median"][m][measure][-1])], "text": RACERS[m],
                           "class": "recorded", "anchor": "end"})
        right = max(right, x[-1])
    for m, c in curves.items():
        x, y = [p[axis] for p in c], [_pct(p[j]) for p in c]
        layers.append({"kind": "line", "x": x, "y": y, "class": m, "label": RACERS[m]})
        layers.append({"kind": "points", "x": x[-1:], "y": y[-1:], "class": m})
        right = max(right, x[-1])
    base = (rec or {}).get("baselines", {})
    for key, text in (("chance", "chance"), ("raw", "nearest neighbour, pixels"), ("blur", "nearest neighbour, blurred")):
        if key in base:
            layers.append({"kind": "line", "x": [0, right], "y": [_pct(base[key])] * 2, "class": "muted secondary",
                           "label": text})
            layers.append({"kind": "label", "at": [0, _pct(base[key]) + 1.5], "text": text, "class": "muted",
                           "anchor": "start"})
    if "shipped" in base:
        layers.append({"kind": "points", "x": [right], "y": [_pct(base["shipped"])], "class": "maml",
                       "label": "shipped MAML model"})
        # left of the dot, level with it: below it the label met the recorded MAML curve's own (about as high)
        layers.append({"kind": "label", "at": [0.97 * right, _pct(base["shipped"]) - 1], "text": "shipped model",
                       "class": "maml", "anchor": "end"})
    return {"title": f"Held-out accuracy, by {xlabel.split(' ')[0]}", "xlim": [0, right], "ylim": [0, 100],
            "xlabel": xlabel, "ylabel": "accuracy (%)", "layers": layers}
