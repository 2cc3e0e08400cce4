"""Training figures say something before Start (issue 26): their first frame draws the run they would make with
their default settings, recorded natively for several seeds by bench/recorded_runs.py (median and range) into
src/mamlviz/data/recorded_runs.json, in grey, with a note of what and where it was measured; the reader's run draws
over it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mamlviz import figures
from mamlviz.figures import _common

figures.load_all()
RECORDED = json.loads(_common.RECORDED.read_text(encoding="utf-8"))
DRAWN = {"meta-lab": (0, {"pretrained", "maml"}), "maml-vs-fomaml": (2, {"maml", "fomaml"}),   # panel, models
         "sine-race": (0, {"pretrained", "maml", "fomaml", "reptile", "imaml"})}


@pytest.mark.parametrize("figure_id", DRAWN)
def test_the_record_is_several_seeds_of_the_default_run(figure_id):
    run = RECORDED[figure_id]
    assert len(run["seeds"]) >= 3 and run["settings"] == figures.FIGURES[figure_id].default_state()
    assert set(run["curves"]) == DRAWN[figure_id][1]
    assert run["measured"]["command"] == "bench/recorded_runs.py" and run["measured"]["date"]
    for c in run["curves"].values():
        assert c["updates"][0] == 0 and c["updates"][-1] == run["settings"]["budget"]
        low, mid, high = (np.array(c[k]) for k in ("low", "median", "high"))
        assert len(low) == len(mid) == len(high) == len(c["updates"])
        assert np.all(low <= mid) and np.all(mid <= high)
        assert mid[-1] < mid[0]   # the recorded training lowered the held-out error


@pytest.mark.parametrize("figure_id", DRAWN)
def test_the_first_frame_draws_the_recorded_run_in_grey_and_says_what_it_is(figure_id):
    scene = figures.first_frame(figure_id)
    panel, models = DRAWN[figure_id]
    layers = scene["panels"][panel]["layers"]
    medians = [L for L in layers if L["kind"] == "line" and L.get("class") == "recorded"]
    ranges = [L for L in layers if L["kind"] == "line" and L.get("class") == "recorded range"]
    assert len(medians) == len(models) and len(ranges) == 2 * len(models)
    for L, (model, c) in zip(medians, RECORDED[figure_id]["curves"].items()):
        assert L["x"] == c["updates"] and L["y"] == pytest.approx([min(v, 1e3) for v in c["median"]])
    assert scene["panels"][panel]["xlim"][1] >= RECORDED[figure_id]["settings"]["budget"]
    note = _common.recorded_note(figure_id)
    assert "recorded natively" in note and RECORDED[figure_id]["measured"]["date"] in note
    assert note in scene["message"]
    assert any(item["class"] == "recorded" for item in scene["legend"])
