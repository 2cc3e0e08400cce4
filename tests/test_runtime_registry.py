"""The registry's runtime contracts, natively: training declarations, lazy module loading, and the hand-off of
trained models from a training figure to the figures that use them (publish → take_published → receive)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mamlviz import figures
from mamlviz.figures import part3


@pytest.fixture(autouse=True)
def clean():
    figures.trained.clear()
    figures.take_published()
    yield
    figures.trained.clear()
    figures.take_published()
    figures.sessions.pop("meta-lab", None)


def test_training_flag_and_module_are_in_the_spec():
    figures.load_all()
    lab, fit = figures.FIGURES["meta-lab"].spec(), figures.FIGURES["sine-fit"].spec()
    assert lab["training"] is True and fit["training"] is False
    assert lab["module"] == fit["module"] == "part3"


def test_load_imports_only_figure_modules_of_the_package():
    figures.load(["part3", "os", "../cli", "_common", "nope"])  # anything else is ignored, not imported
    assert "sine-fit" in figures.FIGURES
    assert set(figures.figure_modules()) >= {"demo", "part1", "part2", "part3"}
    assert "_common" not in figures.figure_modules()


def test_publish_take_receive_round_trip():
    figures.publish("m", {"theta": np.arange(3.0), "iteration": 7})
    assert figures.trained["m"] == {"theta": [0.0, 1.0, 2.0], "iteration": 7}
    text = figures.take_published()
    assert json.loads(text) == {"m": {"theta": [0.0, 1.0, 2.0], "iteration": 7}}
    assert figures.take_published() == ""  # taken once
    figures.trained.clear()
    figures.receive("m", json.dumps(json.loads(text)["m"]))  # as the other worker gets it
    assert figures.trained["m"]["iteration"] == 7


def _lab_state(**kw):
    return figures.FIGURES["meta-lab"].validate({"budget": 500, "batch": 5, **kw})


def test_the_lab_publishes_its_models_and_the_sine_fit_uses_them():
    """Train a few chunks; the published θs are the trainers' own, and the sine fit in 'lab' mode computes its
    readouts from exactly those θs (checked by fine-tuning them here, by the library, independently of the figure)."""
    stream = figures.run("meta-lab", _lab_state(), "start")
    for _ in range(3):  # the first frame, then two chunks of LAB_CHUNK updates
        next(stream)
    stream.close()
    lab = figures.sessions["meta-lab"]
    published = json.loads(figures.take_published())["meta-lab"]
    assert published["iteration"] == lab["trainers"]["maml"].iteration == 2 * part3.LAB_CHUNK
    np.testing.assert_array_equal(published["maml"], lab["trainers"]["maml"].theta)
    # hand it over as a worker would, with the lab's session gone (another process)
    figures.sessions.pop("meta-lab")
    figures.trained.clear()
    figures.receive("meta-lab", json.dumps(published))
    scene = figures.run("sine-fit", {"models": "lab"})
    assert not scene["message"] or "No models trained" not in scene["message"]
    state = figures.FIGURES["sine-fit"].default_state()
    thetas = np.array([published["pretrained"], published["maml"]])
    # before adaptation: the published models themselves, measured against the true sine by a direct mean
    x = np.linspace(-5, 5, 201)[:, None]
    want = [np.mean((part3.MLP_MODEL.predict(t, x)[:, 0] - state["amplitude"] * np.sin(x[:, 0] - state["phase"])) ** 2)
            for t in thetas]
    got = {r["label"]: r["value"] for r in scene["readouts"]}
    assert got["pretrained: MSE before"] == pytest.approx(want[0], rel=1e-12)
    assert got["MAML: MSE before"] == pytest.approx(want[1], rel=1e-12)


def test_reset_withdraws_the_models():
    figures.publish("meta-lab", {"iteration": 5, "pretrained": [0.0], "maml": [0.0]})
    figures.run("meta-lab", _lab_state(), "reset")
    assert figures.trained["meta-lab"] is None
    scene = figures.run("sine-fit", {"models": "lab"})
    assert "No models trained" in scene["message"]
