"""Figure-owned state keys ("_seed", "_dice", "_trail") pass the registry's validation untouched (only known
controls are validated), so the figures themselves must cope with any JSON value there."""

from __future__ import annotations

import itertools
import json
import types

import pytest

from mamlviz import figures

figures.load_all()

GARBAGE = [None, "x", -1, -1e9, 1e30, 2.5, True, [], {}, [1, 2], [[None, 1]], [["a", "b"]], [[1, 2, 3]],
           [[float("1e300"), -1e300]], [[0.2, 0.3]] * 500]
CASES = [("accumulated-loss", "_seed", [None, "resample"]), ("two-tasks", "_seed", [None, "resample", "step", "walk"]),
         ("two-tasks", "_trail", [None, "step", "walk"]), ("sine-fit", "_dice", [None, "dice", "clear"])]


def _scenes(result):
    if isinstance(result, types.GeneratorType):
        return list(itertools.islice(result, 2))
    return [result]


@pytest.mark.parametrize("figure_id, key, actions", CASES)
@pytest.mark.parametrize("value", GARBAGE, ids=lambda v: repr(v)[:20])
def test_garbage_in_figure_owned_keys_is_ignored(figure_id, key, actions, value):
    for action in actions:
        for scene in _scenes(figures.run(figure_id, {key: value, "noise": True}, action)):
            json.dumps(scene, allow_nan=False)
            assert scene["panels"]
            owned = scene.get("state", {})
            if "_seed" in owned:
                assert isinstance(owned["_seed"], int) and owned["_seed"] >= 0
            if "_trail" in owned:
                assert len(owned["_trail"]) <= 200
                assert all(len(p) == 2 and all(isinstance(v, float) for v in p) for p in owned["_trail"])


def test_valid_figure_owned_keys_still_count():
    assert figures.run("accumulated-loss", {"_seed": 4}, "resample")["state"]["_seed"] == 5
    assert figures.run("sine-fit", {"_dice": 2}, "dice")["state"]["_dice"] == 3
    trail = [[0.15, 0.85], [0.2, 0.8]]
    scene = figures.run("two-tasks", {"theta": [0.2, 0.8], "_trail": trail})
    assert scene["state"]["_trail"] == trail


def test_declarations_are_checked_when_made():
    """A slider's default at either end is fine, outside is an error; integer sliders are recognised or forced;
    a select's default must be an option; a figure id is taken once, its module is the figures module's name."""
    from mamlviz.figures import Select, Slider, figure

    assert Slider("s", "s", 0.0, 1.0, default=0.0).default == 0.0 and Slider("s", "s", 0.0, 1.0, default=1.0)
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match="outside"):
            Slider("s", "s", 0.0, 1.0, default=bad)
    assert Slider("k", "k", 1, 10, step=1, default=3).integer is True
    assert Slider("a", "a", 0.0, 1.0, step=0.5, default=0.5).integer is False
    assert Slider("n", "n", 0, 1, step=0.5, default=0, integer=True).integer is True
    assert Select("m", "m", options={"x": "X", "y": "Y"}, default="y").default == "y"
    with pytest.raises(ValueError, match="not among"):
        Select("m", "m", options={"x": "X"}, default="z")
    with pytest.raises(ValueError, match="registered twice"):
        figure("demo-descent", title="again")(lambda state, action=None: {})
    assert figures.FIGURES["demo-descent"].module == "demo"
    from mamlviz.figures import widget

    try:                                                  # without a module, the widget's id names its script
        widget("test-only-widget")(lambda: {})
        assert figures.WIDGETS["test-only-widget"].module == "test-only-widget.js"
    finally:
        figures.WIDGETS.pop("test-only-widget", None)
