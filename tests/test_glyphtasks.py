"""Glyph episodes and the game's machines: fast rasterising equals the plain one; episodes never mix alphabets and
never give a query its exemplar's drawer; augmentation is a turn/mirror of the whole episode; blurred nearest
neighbour against direct loops; the shipped MAML models' held-out accuracy on 1,000 fixed game trials (recomputed
here) and the headless figure the game calls, against an adaptation written out step by step."""

import base64

import numpy as np
import pytest

from mamlviz import figures, glyphs, glyphtasks as gt
from mamlviz.nn import MLP

figures.load_all()


@pytest.fixture(scope="module")
def data():
    return glyphs.widget_data()


@pytest.fixture(scope="module")
def gs(data):
    return gt.glyph_set(data)


def test_fast_rasterising_equals_the_plain_rasteriser(data):
    rng = np.random.default_rng(0)
    texts = [data["glyphs"][c][d] for c, d in zip(rng.integers(data["n_classes"], size=40), rng.integers(20, size=40))]
    plain = np.array([glyphs.glyph_image(t) for t in texts])
    np.testing.assert_allclose(glyphs.glyph_images(texts, chunk=7), plain, atol=1e-12)


def test_features_are_2x2_block_means():
    img = np.random.default_rng(1).random((3, 784))
    f = gt.features(img)
    i, j = 5, 9
    assert f[1, i * 14 + j] == pytest.approx(img[1].reshape(28, 28)[2 * i:2 * i + 2, 2 * j:2 * j + 2].mean())


@pytest.mark.parametrize("n_way", [5, 20])
def test_episodes_stay_in_one_alphabet_and_the_query_is_by_another_drawer(gs, n_way):
    ep = gt.episodes(np.random.default_rng(n_way), gs, n_way, 200, n_query=2)
    for t in range(200):
        start, count = gs.alphabets[ep.alphabet[t]]
        assert ((ep.classes[t] >= start) & (ep.classes[t] < start + count)).all()       # one alphabet
        assert len(set(ep.classes[t])) == n_way and len(set(ep.drawers[t])) == n_way
        assert sorted(ep.query_labels[t]) == sorted(list(range(n_way)) * 2)
        for q, (label, drawer) in enumerate(zip(ep.query_labels[t], ep.query_drawers[t])):
            assert drawer != ep.drawers[t][label]                                        # not the exemplar's hand
            np.testing.assert_array_equal(ep.xq[t, q], gs.features[ep.classes[t][label], drawer])
            np.testing.assert_array_equal(ep.yq[t, q], np.eye(n_way)[label])
        np.testing.assert_array_equal(ep.xs[t], gs.features[ep.classes[t], ep.drawers[t]])
    np.testing.assert_array_equal(ep.ys[0], np.eye(n_way))


def test_game_trials_have_one_query_and_use_every_alphabet(gs):
    ep = gt.heldout_trials(gs, 5, n=300)
    assert ep.xq.shape == (300, 1, 196) and set(ep.alphabet) == set(range(len(gs.alphabets)))
    again = gt.heldout_trials(gs, 5, n=300)                                              # fixed trials
    np.testing.assert_array_equal(again.classes, ep.classes)


def test_augmentation_turns_or_mirrors_each_episode_as_a_whole(gs):
    plain = gt.episodes(np.random.default_rng(3), gs, 5, 40)
    aug = gt.episodes(np.random.default_rng(3), gs, 5, 40, augment=True)
    np.testing.assert_array_equal(aug.classes, plain.classes)

    def transforms(img):
        img = img.reshape(-1, 14, 14)
        turns = [np.rot90(img, k, axes=(1, 2)) for k in range(4)]
        return [t.reshape(len(img), -1) for t in turns + [t[:, :, ::-1] for t in turns]]

    used = set()
    for t in range(40):
        both = np.concatenate([plain.xs[t], plain.xq[t]])
        target = np.concatenate([aug.xs[t], aug.xq[t]])
        hits = [i for i, cand in enumerate(transforms(both)) if np.array_equal(cand, target)]
        assert hits, f"episode {t} is not one turn/mirror of the plain episode"
        used.add(hits[0])
    assert len(used) >= 5                                    # all kinds of turn occur


def test_blur_matrix_is_a_gaussian_convolution():
    img = np.random.default_rng(4).random((28, 28))
    b = gt.blur_matrix(2.0)
    taps = np.arange(-6, 7)
    k = np.exp(-taps ** 2 / 8.0)
    k /= k.sum()
    direct = np.zeros((28, 28))
    for i in range(28):
        for j in range(28):
            for di in taps:
                for dj in taps:
                    if 0 <= i + di < 28 and 0 <= j + dj < 28:
                        direct[i, j] += k[di + 6] * k[dj + 6] * img[i + di, j + dj]
    np.testing.assert_allclose(b @ img @ b.T, direct, rtol=1e-12)


def test_nearest_neighbour_against_a_loop(gs):
    ep = gt.heldout_trials(gs, 5, n=50)
    for sigma in (None, 2.0):
        got = gt.nearest_neighbour(gs, ep, sigma)[:, 0]
        b = gt.blur_matrix(2.0) if sigma else np.eye(28)
        for t in range(50):
            q = gs.images[ep.classes[t][ep.query_labels[t][0]], ep.query_drawers[t][0]].reshape(28, 28)
            d = [np.sum((b @ q @ b.T - b @ gs.images[c, dr].reshape(28, 28) @ b.T) ** 2)
                 for c, dr in zip(ep.classes[t], ep.drawers[t])]
            assert got[t] == int(np.argmin(d))


@pytest.mark.parametrize("n_way", [5, 20])
def test_printed_nearest_neighbour_accuracies_are_recomputed(gs, n_way):
    ep = gt.heldout_trials(gs, n_way)
    for key, sigma in (("raw", None), ("blur", gt.BLUR_SIGMA)):
        acc, half = gt.accuracy(gt.nearest_neighbour(gs, ep, sigma) == ep.query_labels)
        assert gt.HELDOUT_ACCURACY[key][n_way] == (round(100 * acc, 1), round(100 * half, 1))


# ------------------------------------------------------------------------------------------------ shipped models

@pytest.fixture(scope="module")
def models():
    return gt.load_models()


def adapt_by_hand(model, theta, xs, lr, steps):
    """k SGD steps on the exemplars' cross-entropy, one plain gradient call a step."""
    phi = theta.copy()
    for _ in range(steps):
        phi = phi - lr * model.loss_grad(phi, xs, np.eye(len(xs)))[1]
    return phi


@pytest.mark.parametrize("way, floor", [("5", 0.90), ("20", 0.75)])
def test_shipped_models_held_out_accuracy(gs, models, way, floor):
    """1,000 fixed trials of the game's own alphabets, which training never saw (another generator seed)."""
    model, theta, meta = models[way]
    assert meta["sizes"] == [196, 64, 64, int(way)] and gt.TRAIN_SEED != glyphs.SEED
    c = meta["config"]
    ep = gt.heldout_trials(gs, int(way))
    before, after = gt.classify(model, theta, ep, lr=c["inner_lr"], steps=c["inner_steps"])
    acc, half = gt.accuracy(after.argmax(-1) == ep.query_labels)
    raw = gt.accuracy(gt.nearest_neighbour(gs, ep) == ep.query_labels)[0]
    print(f"{way}-way MAML {acc:.3f} ± {half:.3f}, raw-pixel NN {raw:.3f}")
    assert acc >= floor and acc > raw + 0.1
    assert gt.HELDOUT_ACCURACY["maml"][int(way)] == (round(100 * acc, 1), round(100 * half, 1))   # as printed
    # the batched adaptation equals a step-by-step one on a few trials
    for t in range(3):
        phi = adapt_by_hand(model, theta, ep.xs[t], c["inner_lr"], c["inner_steps"])
        z = model.predict(phi, ep.xq[t])[0]
        np.testing.assert_allclose(after[t, 0], np.exp(z - z.max()) / np.exp(z - z.max()).sum(), rtol=1e-9)


def test_models_are_stored_compactly(models):
    assert gt.GLYPH_MODELS.stat().st_size < 100_000
    for model, theta, meta in models.values():
        assert theta.shape == (model.size,) and "mamlviz train --family glyphs" in meta["command"]


def test_figure_gives_the_adapted_models_move(data, models):
    """The headless figure the game calls: choice and probabilities equal a direct computation."""
    model, theta, meta = models["5"]
    c = meta["config"]
    drawings = [(3, 0), (7, 1), (11, 2), (15, 3), (20, 4), (11, 9)]          # five exemplars, then the query
    imgs = np.array([glyphs.glyph_image(data["glyphs"][k][d]).ravel() for k, d in drawings])
    x = imgs.reshape(6, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(6, 196).astype("<f4")   # the page's float32
    out = figures.run("fewshot-maml", {"way": "5", "_x": pack(x), "_trial": "5:0"})
    x = x.astype(float)
    phi = adapt_by_hand(model, theta, x[:5], c["inner_lr"], c["inner_steps"])
    for key, params in (("before", theta), ("after", phi)):
        z = model.predict(params, x[5:])[0]
        np.testing.assert_allclose(out[key], np.exp(z - z.max()) / np.exp(z - z.max()).sum(), rtol=1e-9)
    assert out["choice"] == int(np.argmax(out["after"])) and out["trial"] == "5:0"


def pack(rows):
    """What the page sends as `_x`: base64 of the little-endian float32 values (packFloat32 in fewshot-game.js)."""
    return base64.b64encode(np.asarray(rows, dtype="<f4").tobytes()).decode()


@pytest.mark.parametrize("bad", [{}, {"_x": "x"}, {"_x": pack([[0.5] * 196] * 5)}, {"_x": pack([[0.5] * 195] * 6)},
                                 {"_x": [[0.5] * 196] * 6}, {"_x": pack([[2.0] * 196] * 6)},
                                 {"_x": pack([[-0.1] * 196] * 6)}, {"_x": pack([[float("nan")] * 196] * 6)},
                                 {"_x": "!" * len(pack([[0.5] * 196] * 6))}, {"_x": 5},
                                 {"way": "7", "_trial": {"x": 1}}])
def test_figure_refuses_garbage_with_a_message(bad):
    out = figures.run("fewshot-maml", bad)
    assert out["choice"] is None and "needs" in out["message"] and out["trial"] is None


def test_xent_model_sizes():
    assert MLP((196, 64, 64, 5), loss="xent").size == 196 * 64 + 64 + 64 * 64 + 64 + 64 * 5 + 5


def test_training_keeps_the_checkpoint_best_on_validation_alphabets():
    """Checkpoints are selected on the validation alphabets (the training generator), never on the game's: the
    returned θ is the one reported at the first evaluation with the highest validation accuracy."""
    config = gt.GlyphConfig(n_tasks=2, inner_steps=1, train_alphabets=2, valid_alphabets=1, valid_trials=40)
    seen = []
    model, theta, curve, best = gt.train(config, 6, eval_every=2, progress=seen.append)
    assert [it for it, _, _ in curve] == [2, 4, 6] and all(0 <= v <= 1 for _, _, v in curve)
    valid = [v for _, _, v in curve]
    assert best == curve[valid.index(max(valid))][0]
    np.testing.assert_array_equal(theta, next(r["theta"] for r in seen if r["iteration"] == best))
    assert seen[-1]["best_iteration"] == best and seen[-1]["best_valid_accuracy"] == max(valid)
