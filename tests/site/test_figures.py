"""The figure registry: validation of state (URL garbage is handled once, here), dispatch, streaming."""

from __future__ import annotations

import json

import pytest

from mamlviz import figures
from mamlviz.figures import Call, Handle, Points, Select, Slider, Toggle


@pytest.fixture(autouse=True)
def _load():
    figures.load_all()


def test_validation_clamps_drops_and_defaults():
    fig = figures.FIGURES["demo-descent"]
    state = fig.validate({"a": 9, "lr": "-3", "steps": "3.7", "x0": ["nan", 2], "zzz": 1, "contours": "off",
                          "starts": [[0.2, 0.3], [5, -5]], "_figure_key": [1, 2], "animate": True})
    assert state["a"] == 0.5 and state["lr"] == 0.0 and state["steps"] == 4
    assert state["x0"] == fig.default_state()["x0"]  # NaN: the whole value is invalid
    assert state["contours"] is False
    assert state["starts"] == [[0.2, 0.3], [1.0, 0.0]]
    assert "zzz" not in state and "animate" not in state
    assert state["_figure_key"] == [1, 2]  # keys a figure put there itself start with "_"


def test_controls_validate():
    assert Slider("s", "S", 0, 10, step=1, default=3).validate("11") == 10
    assert Select("m", "M", options={"a": "A", "b": "B"}, default="a").validate("b") == "b"
    with pytest.raises(ValueError):
        Select("m", "M", options={"a": "A"}, default="a").validate("c")
    with pytest.raises(ValueError):
        Toggle("t", "T").validate("maybe")
    assert Handle("h", "H", bounds=((0, 1), (-1, 1))).validate([2, -2]) == [1, -1]
    assert Points("p", "P", max_points=2).validate([[1, 2], [3, 4], [5, 6]]) == [[1, 2], [3, 4]]
    with pytest.raises(ValueError):
        Slider("s", "S", 0, 1, default=2)


def test_run_returns_json_and_unknown_figures_raise():
    scene = figures.run("demo-descent", {"steps": 3})
    json.dumps(scene, allow_nan=False)
    assert scene["readouts"][-1]["value"] == 3
    with pytest.raises(KeyError):
        figures.run("no-such-figure", {})


def test_a_diverging_step_is_a_message_not_nan():
    scene = figures.run("demo-descent", {"lr": 5.0, "a": 0.5, "c": 0.5, "steps": 30})
    assert "diverge" in scene["message"]
    json.dumps(scene, allow_nan=False)


def test_call_streams_a_generator_in_chunks():
    call = Call("demo-descent", json.dumps({"steps": 4}), "animate")
    frames = []
    while text := call.step():
        frames.append(json.loads(text))
    assert [f["scene"]["readouts"][-1]["value"] for f in frames[:-1]] == [0, 1, 2, 3, 4]
    assert frames[-1] == {"scene": None, "done": True} and not any(f["done"] for f in frames[:-1])


def test_call_for_a_plain_figure_is_one_frame():
    call = Call("demo-descent", "{}", "not-a-button")
    first = json.loads(call.step())
    assert first["done"] and first["scene"]["panels"]
    assert call.step() == ""
