"""The fused cross-entropy updates of the classification race (`mamlviz.fused_xent`) against the plain per-task
implementation (`meta.meta_gradient`, through `glyphrace.direction(..., fused=False)`), for the race's MLP and for
thin, one-layer and three-layer ones, k = 0…5. Against finite differences: tests/test_glyphrace.py (both paths)."""

import numpy as np
import pytest

from mamlviz import fused_xent, glyphrace, glyphtasks
from mamlviz.meta import meta_gradient
from mamlviz.nn import MLP


@pytest.fixture(scope="module")
def data():
    return glyphrace.load_data(n_trials=40)


def start(model, seed):
    """θ away from the initialisation's symmetries: He-normal weights, biases and a few larger logits."""
    rng = np.random.default_rng(seed)
    theta = model.init(rng)
    return theta + 0.1 * rng.standard_normal(theta.shape)


@pytest.mark.parametrize("sizes", [glyphrace.SIZES, (196, 4, 5), (196, 5), (196, 6, 5, 5)])
@pytest.mark.parametrize("method", ["maml", "fomaml", "reptile"])
@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_fused_equals_the_plain_meta_gradient(data, sizes, method, k):
    model = MLP(sizes, loss="xent")
    theta = start(model, k)
    batch = glyphtasks.episodes(np.random.default_rng(7), data.train, 5, glyphrace.N_TASKS, augment=True)
    want, info = meta_gradient(method, model, theta, batch, inner_lr=0.4, inner_steps=k, query_before=False,
                               kept_bytes=False)
    got, loss = fused_xent.direction(method, model, theta, batch, inner_lr=0.4, inner_steps=k)
    assert np.abs(want).max() > 1e-3 or (method, k) == ("reptile", 0)     # a direction worth comparing (Reptile
    # without inner steps does not move)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(loss, info["loss_after"], rtol=0, atol=1e-12)


def test_the_race_takes_the_fused_path_and_it_agrees_with_the_reference(data):
    race = glyphrace.Race(seed=1, data=data, evaluate=False)
    assert fused_xent.applies(race.model) and not fused_xent.applies(MLP())
    batch = glyphtasks.episodes(np.random.default_rng(1), data.train, 5, race.n_tasks, augment=True)
    for m in glyphrace.RACERS:
        s = glyphrace.CLASSIFICATION_SETTINGS[m]
        fused, ok = glyphrace.direction(m, race.model, race.thetas[m], batch, s)
        plain, ok_plain = glyphrace.direction(m, race.model, race.thetas[m], batch, s, fused=False)
        assert ok and ok_plain
        np.testing.assert_allclose(fused, plain, rtol=0, atol=1e-12)


def test_a_non_finite_update_is_reported(data):
    model = MLP(glyphrace.SIZES, loss="xent")
    theta = model.init(np.random.default_rng(0)) * 1e200     # logits overflow
    batch = glyphtasks.episodes(np.random.default_rng(0), data.train, 5, 2)
    _, finite = glyphrace.direction("maml", model, theta, batch, glyphrace.CLASSIFICATION_SETTINGS["maml"])
    assert not finite
