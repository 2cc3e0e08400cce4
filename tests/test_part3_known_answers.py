"""Part 3's sine figure and meta-training lab against answers computed here, independently of the figure code: a
small MLP written out layer by layer (forward pass and backpropagation by hand), plain SGD, the sine by `math.sin`.

- The sine figure says "worse than predicting 0" when fine-tuning lowered the support loss but left the curve
  further from the sine than the flat line y = 0, and "diverged" when the numbers overflowed or the steps raised
  the support loss they minimise; both cases have a known answer below.
- The lab's held-out "MSE after 1 step" is an evaluation at the α the models are trained with (issue 7, item 10).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from mamlviz import figures, sine
from mamlviz.models import load_sine_models
from mamlviz.train import TrainConfig

figures.load_all()
PART3 = sys.modules["mamlviz.figures.part3"]
GRID = [-5.0 + 10.0 * i / 200 for i in range(201)]          # where the figure measures MSE against the sine
DEFAULT_XS = [-4.1, -2.2, -0.4, 1.3, 3.6]


# ------------------------------------------------------------------ an independent 1-40-40-1 ReLU MLP, by hand
def unpack(theta, sizes=(1, 40, 40, 1)):
    """[(W, b)] per layer from the flat θ: W (d_in × d_out, row-major) then b, layer after layer."""
    layers, i = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers.append((theta[i:i + a * b].reshape(a, b), theta[i + a * b:i + a * b + b]))
        i += a * b + b
    assert i == len(theta)
    return layers


def forward(theta, x):
    """Activations of every layer for inputs x (N,); the last is the prediction (N,)."""
    acts = [np.asarray(x, float)[:, None]]
    layers = unpack(theta)
    for j, (w, b) in enumerate(layers):
        z = acts[-1] @ w + b
        acts.append(np.maximum(z, 0.0) if j < len(layers) - 1 else z)
    return acts


def loss_and_grad(theta, x, y):
    """Mean squared error over the points and its gradient, by backpropagation written out."""
    acts = forward(theta, x)
    err = acts[-1][:, 0] - np.asarray(y, float)
    delta = (2.0 / len(err)) * err[:, None]
    grads = []
    layers = unpack(theta)
    for j in range(len(layers) - 1, -1, -1):
        w, _ = layers[j]
        grads.append((acts[j].T @ delta, delta.sum(axis=0)))
        if j:
            delta = (delta @ w.T) * (acts[j] > 0)
    flat = np.concatenate([np.concatenate([gw.ravel(), gb]) for gw, gb in reversed(grads)])
    return float(np.mean(err ** 2)), flat


def sgd(theta, x, y, alpha, steps):
    for _ in range(steps):
        theta = theta - alpha * loss_and_grad(theta, x, y)[1]
    return theta


def mse_on_grid(theta, amplitude, phase):
    pred = forward(theta, GRID)[-1][:, 0]
    return float(np.mean([(p - amplitude * math.sin(x - phase)) ** 2 for p, x in zip(pred, GRID)]))


def flat_line_mse(amplitude, phase):
    return sum((amplitude * math.sin(x - phase)) ** 2 for x in GRID) / len(GRID)


def test_the_hand_written_mlp_matches_finite_differences():
    theta = np.random.default_rng(0).normal(0, 0.3, 1761)
    x, y = np.array([-1.0, 0.5, 2.0]), np.array([0.3, -0.2, 1.0])
    _, g = loss_and_grad(theta, x, y)
    for i in np.random.default_rng(1).choice(1761, 25, replace=False):
        e = np.zeros(1761)
        e[i] = 1e-6
        fd = (loss_and_grad(theta + e, x, y)[0] - loss_and_grad(theta - e, x, y)[0]) / 2e-6
        assert abs(fd - g[i]) < 1e-6 * max(1.0, abs(g[i]))


# ------------------------------------------------------------------------------------------ the sine figure
def readouts(scene):
    return {r["label"]: r["value"] for r in scene["readouts"]}


def expected(amplitude, phase, alpha, steps, xs=DEFAULT_XS):
    """For each shipped model: (support loss before, after, MSE after) by the independent MLP."""
    ys = [amplitude * math.sin(x - phase) for x in xs]
    out = {}
    for name, theta in load_sine_models().items():
        phi = sgd(theta, np.array(xs), np.array(ys), alpha, steps)
        out[name] = (loss_and_grad(theta, xs, ys)[0], loss_and_grad(phi, xs, ys)[0], mse_on_grid(phi, amplitude, phase))
    return out


@pytest.mark.parametrize("amplitude, phase", [(5.0, 0.0), (3.0, 1.0), (0.1, 2.0)])
def test_flat_line_readout_is_the_mean_of_the_squared_sine(amplitude, phase):
    scene = figures.run("sine-fit", {"amplitude": amplitude, "phase": phase})
    assert readouts(scene)["flat line y = 0: MSE"] == pytest.approx(flat_line_mse(amplitude, phase), rel=1e-12)
    # and the grid mean is close to the integral A²(½ − sin 10·cos 2ψ / 20): 13.2 at most for A = 5
    closed = amplitude ** 2 * (0.5 - math.sin(10) * math.cos(2 * phase) / 20)
    assert flat_line_mse(amplitude, phase) == pytest.approx(closed, rel=0.01)


def test_worse_than_predicting_zero_is_said_and_still_drawn():
    """A = 2, ψ = 0, one step at α = 0.05 on the five default points: the MAML model's support loss falls, but its
    MSE (4.91) ends above the flat line's (2.12); the pretrained model improves (1.19)."""
    state = {"amplitude": 2.0, "phase": 0.0, "alpha": 0.05, "steps": 1}
    want = expected(2.0, 0.0, 0.05, 1)
    flat = flat_line_mse(2.0, 0.0)
    before, after, mse = want["maml"]
    assert after < before and mse > flat                                   # the known answer: worse than 0
    assert want["pretrained"][1] < want["pretrained"][0] and want["pretrained"][2] < flat
    scene = figures.run("sine-fit", state)
    r = readouts(scene)
    assert r["MAML: MSE after"] == pytest.approx(mse, rel=1e-6)
    assert r["pretrained: MSE after"] == pytest.approx(want["pretrained"][2], rel=1e-6)
    assert "the MAML model does worse than predicting y = 0" in scene["message"]
    assert "diverged" not in scene["message"] and "pretrained" not in scene["message"]
    assert f"MSE {mse:.3g} against {flat:.3g}" in scene["message"]
    drawn = [layer["class"] for layer in scene["panels"][0]["layers"]]
    assert "maml after" in drawn and "pretrained after" in drawn
    assert "worse than the flat line" in scene["description"]


def test_exploding_fine_tuning_is_called_diverged():
    """The default task (A = 3, ψ = 1), one step at α = 0.2: the MAML model's support loss jumps from about 2 to
    about 82 (finite, but the step overshoots); the pretrained model's falls. Before, this drew an MSE of 82 and
    said nothing."""
    want = expected(3.0, 1.0, 0.2, 1)
    before, after, _ = want["maml"]
    assert after > 10 * before and math.isfinite(after)
    assert want["pretrained"][1] < want["pretrained"][0]
    scene = figures.run("sine-fit", {"alpha": 0.2})
    r = readouts(scene)
    assert r["MAML: MSE after"] is None
    assert r["pretrained: MSE after"] == pytest.approx(want["pretrained"][2], rel=1e-6)
    assert scene["message"].startswith("Fine-tuning diverged for the MAML model at α = 0.2")
    assert f"rose from {before:.3g} to {after:.3g}" in scene["message"]
    assert "pretrained" not in scene["message"]
    drawn = [layer["class"] for layer in scene["panels"][0]["layers"]]
    assert "maml after" not in drawn and "pretrained after" in drawn


def test_non_finite_fine_tuning_is_called_diverged():
    """Ten steps at α = 0.5: the MAML model's numbers overflow (NaN here too); the pretrained model's support loss
    passes 10⁴⁴ on the way (here its ReLUs then all die and it ends at a constant, worse than it started)."""
    with np.errstate(over="ignore", invalid="ignore"):
        want = expected(3.0, 1.0, 0.5, 10)
        assert expected(3.0, 1.0, 0.5, 3)["pretrained"][1] > 1e40
    assert math.isnan(want["maml"][1])
    assert not want["pretrained"][1] <= want["pretrained"][0]
    scene = figures.run("sine-fit", {"alpha": 0.5, "steps": 10})
    r = readouts(scene)
    assert r["MAML: MSE after"] is None and r["pretrained: MSE after"] is None
    assert scene["message"].count("Fine-tuning diverged") == 2
    assert "diverged for the MAML model at α = 0.5: its numbers overflowed (not finite)" in scene["message"]
    assert not any(layer["class"].endswith("after") for layer in scene["panels"][0]["layers"])


def test_ordinary_fine_tuning_has_no_message_and_matches():
    want = expected(3.0, 1.0, 0.01, 1)
    scene = figures.run("sine-fit", {})
    assert scene["message"] is None
    for name, label in (("maml", "MAML"), ("pretrained", "pretrained")):
        assert readouts(scene)[f"{label}: MSE after"] == pytest.approx(want[name][2], rel=1e-9)


# ------------------------------------------------------------------------------------------------- the lab
def test_lab_evaluates_at_the_alpha_it_trains_with():
    """Train both models for 100 updates at α = 0.04, then recompute the reported held-out MSE after one step
    from the trained θ with the hand-written MLP: it equals the one-step evaluation at α = 0.04, not at 0.01."""
    state = {"alpha": 0.04, "batch": 5, "k": 10, "budget": 500}
    figures.sessions.pop("meta-lab", None)
    try:
        for scene in figures.run("meta-lab", state, "start"):
            if readouts(scene)["meta-updates"] >= 100:
                break
        lab = figures.sessions["meta-lab"]
        assert lab["trainers"]["maml"].iteration == 100
        cfg = TrainConfig()
        held_out = sine.sample(np.random.default_rng(cfg.eval_seed), 50, 10, 25)
        for name, label in (("maml", "MAML"), ("pretrained", "pretrained")):
            theta = lab["trainers"][name].theta

            def after_one_step(alpha):
                mses = []
                for t in range(50):
                    phi = sgd(theta, held_out.xs[t, :, 0], held_out.ys[t, :, 0], alpha, 1)
                    pred = forward(phi, held_out.xq[t, :, 0])[-1][:, 0]
                    mses.append(np.mean((pred - held_out.yq[t, :, 0]) ** 2))
                return float(np.median(mses))

            shown = readouts(scene)[f"{label}: held-out MSE after 1 step"]
            at_trained, at_default = after_one_step(0.04), after_one_step(0.01)
            assert shown == pytest.approx(at_trained, rel=1e-9)
            assert abs(at_trained - at_default) > 0.01 * at_trained        # the two evaluations really differ
        assert "one adaptation step at α = 0.04" in scene["description"]
    finally:
        figures.sessions.pop("meta-lab", None)
