"""Coarse answers and the full ones agree where they overlap (issue 26).

A figure declared with refine=True answers at once with a coarse scene (`run(..., coarse=True)`: heat maps on every
other point of the full grid (Part 8's new maps: every 5th), the first meta-updates of the same trajectories, slow checks left out) and with the
full scene when the reader pauses (`Call`: the coarse frame flagged "rest", then the full one). Here, for each such
figure and a few states: every heat map of the coarse scene equals the full one's at every other grid point, every
line of the coarse scene is the start of the full one's, and every readout the coarse scene has is the full one's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mamlviz import figures

figures.load_all()
REFINED = sorted(f.id for f in figures.FIGURES.values() if f.refine)
STATES = {
    "accumulated-loss": [{}, {"m": 4, "alpha": 0.03}, {"m": 20, "alpha": 0.05, "_seed": 2}],
    "four-methods": [{"background": "imaml", "imaml_k": 7}, {"background": "maml", "maml_alpha": 0.037, "theta": [0.6, 0.2]}],
    "imaml-forces": [{}, {"log_lam": -1.5, "steps": 40, "theta": [0.2, 0.7]}],
    "imaml-gradient": [{}, {"log_lam": 1.0, "steps": 7, "n": 3, "task": "1", "theta": [0.6, 0.3]}],
    "reptile-tasks": [{}, {"alpha": 0.03, "k": 3, "theta": [0.7, 0.2]}],
    "trajectories": [{}, {"updates": 120, "alpha": 0.03, "k": 2, "background": "joint", "theta": [0.8, 0.3]}],
}
# Readouts a coarse answer shows before the full one knows better: the trajectories' ends (after fewer updates) and
# the meta-update count; a grid search's minimum and where it lies (the coarse grid's minimum is no lower: below).
PARTIAL = {"trajectories": ("at the end", "meta-updates"), "accumulated-loss": ("min J", "at a", "at b")}


def full(figure_id, state):
    result = figures.run(figure_id, state)
    return list(result)[-1] if not isinstance(result, dict) else result


def test_the_slow_figures_refine():
    assert {"accumulated-loss", "four-methods", "imaml-forces", "imaml-gradient", "reptile-tasks",
            "trajectories"} <= set(REFINED)
    assert set(REFINED) <= set(STATES)


@pytest.mark.parametrize("figure_id, state", [(f, s) for f in STATES for s in STATES[f]])
def test_coarse_and_full_agree_where_they_overlap(figure_id, state):
    coarse, fine = figures.run(figure_id, state, coarse=True), full(figure_id, state)
    assert isinstance(coarse, dict) and len(coarse["panels"]) == len(fine["panels"])
    compared = 0
    for cp, fp in zip(coarse["panels"], fine["panels"]):
        assert (cp["xlim"], cp["ylim"]) == (fp["xlim"], fp["ylim"])
        c_heat = [L for L in cp["layers"] if L["kind"] == "heatmap"]
        f_heat = [L for L in fp["layers"] if L["kind"] == "heatmap"]
        assert len(c_heat) == len(f_heat)
        for c, f in zip(c_heat, f_heat):
            zc, zf = np.array(c["z"], dtype=float), np.array(f["z"], dtype=float)
            assert c["extent"] == f["extent"]
            if zc.shape != zf.shape:   # coarse: every s-th point (a layer it had at hand may be full already)
                stride = (zf.shape[0] - 1) // (zc.shape[0] - 1)
                assert stride in (2, 5) and zc.shape == tuple((n - 1) // stride + 1 for n in zf.shape)
                zf = zf[::stride, ::stride]
            np.testing.assert_allclose(zc, zf, rtol=1e-9, atol=1e-9)   # NaN (diverged) at the same points
            compared += 1
        c_lines = [L for L in cp["layers"] if L["kind"] == "line"]
        f_lines = {L.get("label", "") + L.get("class", ""): L for L in fp["layers"] if L["kind"] == "line"}
        for c in c_lines:
            f = f_lines[c.get("label", "") + c.get("class", "")]
            n = len(c["x"])
            assert n <= len(f["x"])
            np.testing.assert_allclose(np.array(c["x"], float), np.array(f["x"][:n], float), rtol=1e-12)
            np.testing.assert_allclose(np.array(c["y"], float), np.array(f["y"][:n], float), rtol=1e-12)
            compared += 1
    fine_readouts = {r["label"]: r["value"] for r in fine["readouts"]}
    for r in coarse["readouts"]:
        if r["value"] is None or any(p in r["label"] for p in PARTIAL.get(figure_id, ())):
            continue
        assert r["label"] in fine_readouts
        assert r["value"] == pytest.approx(fine_readouts[r["label"]], rel=1e-9, abs=1e-12), r["label"]
        compared += 1
    if figure_id == "accumulated-loss":   # the coarse grid is part of the full one: its minimum is no lower
        c_min = next(r["value"] for r in coarse["readouts"] if r["label"].startswith("min J"))
        f_min = next(r["value"] for r in fine["readouts"] if r["label"].startswith("min J"))
        assert f_min <= c_min <= f_min * 1.1
    assert compared >= 3


def test_a_coarse_answer_is_cheaper_and_leaves_out_only_what_it_says():
    """imaml-gradient: the checks (solved φ*, finite differences) are missing from a coarse answer for a new θ and
    present once computed; reptile-tasks: the MAML minimum likewise."""
    state = {"theta": [0.33, 0.61], "log_lam": 0.35}
    coarse = {r["label"]: r["value"] for r in figures.run("imaml-gradient", state, coarse=True)["readouts"]}
    assert coarse["finite differences: a"] is None and coarse["exact g: a"] is not None
    full("imaml-gradient", state)
    again = {r["label"]: r["value"] for r in figures.run("imaml-gradient", state, coarse=True)["readouts"]}
    assert again["finite differences: a"] is not None
    state = {"alpha": 0.037, "k": 4}
    coarse = {r["label"]: r["value"] for r in figures.run("reptile-tasks", state, coarse=True)["readouts"]}
    assert coarse["distance to MAML minimum"] is None and coarse["distance to joint minimum"] is not None


def test_the_worker_call_answers_coarse_then_full():
    call = figures.Call("accumulated-loss", json.dumps({"m": 3}), None, "part3")
    first = json.loads(call.step())
    second = json.loads(call.step())
    assert first["rest"] is True and first["done"] is False and len(first["scene"]["panels"][2]["layers"][0]["z"]) == 26
    assert second["done"] is True and len(second["scene"]["panels"][2]["layers"][0]["z"]) == 51
    assert call.step() == ""
    plain = figures.Call("sine-fit", "{}", None, "part3")
    assert json.loads(plain.step())["done"] is True


def test_a_coarse_answer_that_left_nothing_out_is_the_answer():
    """reptile-tasks after θ moved (its marks known for this α and k): the coarse scene is complete, the worker's
    Call answers once and is done; where the MAML minimum is still unknown it answers coarse, then full."""
    figures.run("reptile-tasks", {"alpha": 0.041, "k": 2})
    call = figures.Call("reptile-tasks", json.dumps({"alpha": 0.041, "k": 2, "theta": [0.6, 0.6]}), None, "part6")
    first = json.loads(call.step())
    assert first["done"] is True and "complete" not in first["scene"] and call.step() == ""
    call = figures.Call("reptile-tasks", json.dumps({"alpha": 0.043, "k": 2}), None, "part6")
    assert json.loads(call.step())["rest"] is True and json.loads(call.step())["done"] is True
