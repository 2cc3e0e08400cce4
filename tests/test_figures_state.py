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
