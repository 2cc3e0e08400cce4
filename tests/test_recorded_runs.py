"""Training figures say something before Start (issue 26): their first frame draws the run they would make with
their default settings, recorded natively for several seeds by bench/recorded_runs.py (median and range) into
src/mamlviz/data/recorded_runs.json, in grey, with a note of what and where it was measured; the reader's run draws
over it. The timing figures (Part 4's cost, Part 9's times) likewise, from several measurements on this project's
machine. (That every training figure of every built page draws one: tests/browser/test_recorded_runs_pages.py.)"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures, meta
from mamlviz.figures import _common, part4, part9
from mamlviz.figures._common import RACERS

ROOT = Path(__file__).resolve().parents[1]

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


# ------------------------------------------------------------------ the timing figures: Part 4's cost, Part 9's times
TIMED = {"meta-cost": part4.COST_METHODS, "cost-per-update": RACERS}


def spreads_ok(c):
    low, mid, high = (np.atleast_1d(np.array(c[k], dtype=float)) for k in ("low", "median", "high"))
    return len(low) == len(mid) == len(high) and np.all(0 < low) and np.all(low <= mid) and np.all(mid <= high)


@pytest.mark.parametrize("figure_id", TIMED)
def test_the_record_of_a_timing_figure_is_several_measurements_of_its_default(figure_id):
    run = RECORDED[figure_id]
    assert run["draws"] >= 3 and run["settings"] == figures.FIGURES[figure_id].default_state()
    m = run["measured"]
    assert m["command"] == "bench/recorded_runs.py" and m["date"] and len(m["load_average"]) == 2
    assert m["where"].startswith("natively, NumPy ") and "cores" in m["where"]       # what the times depend on
    assert set(run["ms"]) == set(TIMED[figure_id]) and all(spreads_ok(c) for c in run["ms"].values())


def test_the_recorded_cost_is_every_method_and_k_and_the_memory_the_code_keeps():
    run = RECORDED["meta-cost"]
    assert run["k"] == list(part4.COST_KS) and run["explicit_k"] == list(part4.EXPLICIT_KS)
    assert all(len(c["median"]) == len(part4.COST_KS) for c in run["ms"].values())
    assert spreads_ok(run["explicit_s"]) and spreads_ok(run["product_s"])
    theta, batch = part4.cost_batch()
    for method in part4.COST_METHODS:      # the memory counts are the code's, on any machine
        for i in (0, len(part4.COST_KS) - 1):
            _, info = meta.meta_gradient(method, part4.MLP_MODEL, theta, batch, inner_steps=part4.COST_KS[i],
                                         query_before=False, **part4.method_settings(method))
            assert run["kb"][method][i] == pytest.approx(info["kept_bytes"] / batch.xs.shape[0] / 1e3, abs=1e-4)


def test_the_cost_figures_first_frame_draws_the_recorded_measurement_and_the_readers_draws_over_it():
    run = RECORDED["meta-cost"]
    figures.sessions.pop("meta-cost", None)
    scene = figures.first_frame("meta-cost")
    time_panel, memory_panel = scene["panels"]
    medians = [L for L in time_panel["layers"] if L["kind"] == "line" and L["class"] == "recorded"]
    ranges = [L for L in time_panel["layers"] if L["kind"] == "line" and L["class"] == "recorded range"]
    assert len(medians) == 4 and len(ranges) == 8
    for L, c in zip(medians, run["ms"].values()):
        assert L["x"] == run["k"] and L["y"] == pytest.approx(c["median"])
    assert time_panel["ylim"][1] >= max(max(c["high"]) for c in run["ms"].values())
    grey_memory = [L["y"] for L in memory_panel["layers"] if L["kind"] == "line" and L["class"] == "recorded"]
    assert grey_memory == list(run["kb"].values())
    labels = {L["text"] for L in memory_panel["layers"] if L["kind"] == "label"}
    assert "FOMAML, Reptile (recorded)" in labels and "MAML (recorded)" in labels
    note = _common.recorded_note("meta-cost")
    assert "recorded natively" in note and run["measured"]["date"] in note and "load average" in note
    assert note in scene["message"] and scene["message"].startswith("Press Measure")
    assert "explicit A_j route" in scene["message"] and "In grey, recorded natively" in scene["description"]
    assert _common.RECORDED_TIMING_LEGEND in scene["legend"]
    # the reader's measurement: drawn after (over) the grey lines, which stay for comparison
    session = {"times": {("maml", 1): 0.004}, "memory": {("maml", 1): 28_400.0}, "explicit": {},
               "explicit_check": None, "product": None, "progress": None}
    measuring = part4._cost_scene(session, "measuring")
    layers = measuring["panels"][0]["layers"]
    mine = [i for i, L in enumerate(layers) if L["class"] == "maml"]
    assert mine and min(mine) > max(i for i, L in enumerate(layers) if "recorded" in L["class"])
    assert len([L for L in layers if L["kind"] == "line" and L["class"] == "recorded"]) == 4
    assert measuring["message"] is None
    memory_labels = {L["text"] for L in measuring["panels"][1]["layers"] if L["kind"] == "label"}
    assert "MAML (recorded)" not in memory_labels and "MAML" in memory_labels      # the reader's own, not two labels


def test_the_time_figures_first_frame_draws_the_recorded_measurement_beside_the_readers():
    run = RECORDED["cost-per-update"]
    scene = figures.first_frame("cost-per-update")
    (panel,) = scene["panels"]
    bars = [L for L in panel["layers"] if L["kind"] == "line" and L["class"] == "recorded"]
    ranges = [L for L in panel["layers"] if L["kind"] == "line" and L["class"] == "recorded range"]
    assert [L["x"] for L in bars] == [[0, run["ms"][m]["median"]] for m in RACERS]
    assert [L["x"] for L in ranges] == [[run["ms"][m]["low"], run["ms"][m]["high"]] for m in RACERS]
    assert panel["xlim"][1] >= max(c["high"] for c in run["ms"].values())
    note = _common.recorded_note("cost-per-update")
    assert note in scene["message"] and "recorded natively" in scene["description"].lower()
    assert _common.RECORDED_TIMING_LEGEND in scene["legend"]
    measured = part9._cost_scene({m: 0.001 for m in RACERS}, 1, 10, None)     # the reader's bars beside the grey
    lines = measured["panels"][0]["layers"]
    for i, m in enumerate(RACERS):
        (mine,) = [L for L in lines if L["class"] == m and L["kind"] == "line"]
        (grey,) = [L for L in lines if L["class"] == "recorded" and L["label"].startswith(RACERS[m] + ",")]
        assert mine["y"][0] > grey["y"][0] and mine["x"] == [0, 1.0]


# ------------------------------------------------------------------ the record regenerates from its command
def bench_module():
    spec = importlib.util.spec_from_file_location("recorded_runs_bench", ROOT / "bench" / "recorded_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recorded_curves_regenerate_from_their_command(tmp_path):
    """The command the record names, for the lab and MAML vs FOMAML with the recorded seeds, into a new file: the
    same medians and ranges (the race's five seeds are left out for time; it is the same code path)."""
    out = tmp_path / "again.json"
    ids = ["maml-vs-fomaml", "meta-lab"]
    seeds = [str(s) for s in RECORDED["meta-lab"]["seeds"]]
    assert RECORDED["maml-vs-fomaml"]["seeds"] == RECORDED["meta-lab"]["seeds"]
    bench_module().main(["--only", *ids, "--seeds", *seeds, "--out", str(out)])
    again = json.loads(out.read_text())
    for figure_id in ids:
        assert again[figure_id]["settings"] == RECORDED[figure_id]["settings"]
        for model, c in RECORDED[figure_id]["curves"].items():
            assert again[figure_id]["curves"][model]["updates"] == c["updates"]
            for key in ("median", "low", "high"):
                assert again[figure_id]["curves"][model][key] == pytest.approx(c[key], rel=1e-6, abs=2e-5)


def test_the_recorded_timings_regenerate_from_their_command(tmp_path):
    """One measurement of each timing figure by the same command: the same methods, k and memory counts (the times
    are this machine's now, and only positive)."""
    out = tmp_path / "again.json"
    bench_module().main(["--only", "meta-cost", "cost-per-update", "--draws", "1", "--out", str(out)])
    again = json.loads(out.read_text())
    for figure_id in TIMED:
        a, r = again[figure_id], RECORDED[figure_id]
        assert a["draws"] == 1 and a["settings"] == r["settings"] and set(a["ms"]) == set(r["ms"])
        assert all(spreads_ok(c) for c in a["ms"].values())
    assert again["meta-cost"]["kb"] == RECORDED["meta-cost"]["kb"] and again["meta-cost"]["k"] == RECORDED["meta-cost"]["k"]
