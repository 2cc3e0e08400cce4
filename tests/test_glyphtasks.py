"""Glyph episodes and the game's machines: fast rasterising equals the plain one; episodes never mix alphabets and
never give a query its exemplar's drawer; augmentation is a turn/mirror of the whole episode; blurred nearest
neighbour against direct loops; the shipped MAML models' held-out accuracy on 1,000 fixed game trials (recomputed
here) and the headless figure the game calls, against an adaptation written out step by step."""

import base64
import json

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


def _min_distance_under_turns(a, b):
    """Smallest 1 − IoU between any image of `a` and any image of `b` turned by k·90° and/or mirrored, written
    out plainly (the 8 transforms one by one, counts of ink as integers)."""
    a = a.reshape(len(a), -1).astype(np.int64)
    best = 1.0
    for k in range(4):
        for mirror in (False, True):
            t = np.rot90(b, k, axes=(1, 2))
            t = t[:, :, ::-1] if mirror else t
            t = t.reshape(len(t), -1).astype(np.int64)
            inter = a @ t.T
            union = a.sum(1)[:, None] + t.sum(1)[None, :] - inter
            best = min(best, float((1 - inter / union).min()))
    return best


def test_training_and_validation_characters_are_held_apart_from_the_games():
    """No training or validation character lies within the generator's distinctness threshold (1 − IoU of template
    ink < 0.5) of any game character under any of the 8 turns and mirrors training applies; nor any validation
    character of a training one. (Before: 7 game characters were pixel-identical to a training one.)"""
    with np.load(gt.GLYPH_MODELS) as f:
        sizes = {json.loads(str(f[k]))["config"]["train_alphabets"] for k in f.files if k.endswith("_meta")}
        valid_sizes = {json.loads(str(f[k]))["config"]["valid_alphabets"] for k in f.files if k.endswith("_meta")}
    assert len(sizes) == len(valid_sizes) == 1                 # both shipped models saw the same alphabets
    config = gt.GlyphConfig(train_alphabets=sizes.pop(), valid_alphabets=valid_sizes.pop())
    train, valid = gt.training_sets(config, sets=True)
    game, tr, va = (glyphs.template_inks(g) for g in (glyphs.generate(glyphs.SEED), train, valid))
    assert len(game) == 220 and len(tr) == 22 * config.train_alphabets and len(va) == 22 * config.valid_alphabets
    distances = [_min_distance_under_turns(tr, game), _min_distance_under_turns(va, game),
                 _min_distance_under_turns(va, tr)]
    print("smallest distances: training–game, validation–game, validation–training", distances)
    assert min(distances) >= 0.5
    # the distance is the generator's own: a set is not held apart from itself
    assert _min_distance_under_turns(game[:5], game[:5]) == 0.0


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


# ------------------------------------------------------------------------------------ the reader's own characters

def _masked_adaptation_by_hand(theta, xs, xq, n, lr, steps):
    """A 6-4-3 ReLU network whose outputs n.. are masked (logits −∞): the queries' probabilities after each SGD
    step on the exemplars' mean cross-entropy, with the backward pass written out, and the final θ."""
    def unpack(t):
        return t[:24].reshape(6, 4), t[24:28], t[28:40].reshape(4, 3), t[40:43]

    def forward(t, x):
        w1, b1, w2, b2 = unpack(t)
        z1 = x @ w1 + b1
        a = np.maximum(z1, 0)
        z = a @ w2 + b2
        z[:, n:] = -np.inf                                     # the mask
        p = np.exp(z - z.max(1, keepdims=True))
        return z1, a, p / p.sum(1, keepdims=True)

    out, t = [], theta.copy()
    for step in range(steps + 1):
        out.append(forward(t, xq)[2])
        if step == steps:
            break
        w1, b1, w2, b2 = unpack(t)
        z1, a, p = forward(t, xs)
        dz = (p - np.eye(len(xs), 3)) / len(xs)                # zero in the masked columns: p and y are 0 there
        da = dz @ w2.T
        dz1 = da * (z1 > 0)
        grad = np.concatenate([(xs.T @ dz1).ravel(), dz1.sum(0), (a.T @ dz).ravel(), dz.sum(0)])
        t = t - lr * grad
    return np.array(out), t


@pytest.mark.parametrize("n", [2, 3])
def test_masked_adaptation_equals_the_smaller_problem_written_directly(n):
    rng = np.random.default_rng(n)
    model = MLP((6, 4, 3), loss="xent")
    theta = model.init(rng) + rng.normal(0, 0.1, model.size)
    xs, xq = rng.random((n, 6)), rng.random((4, 6))
    by_hand, theta_after = _masked_adaptation_by_hand(theta, xs, xq, n, 0.4, 5)
    small, theta_n = gt.first_outputs(model, theta, n)
    assert small.sizes == (6, 4, n) and theta_n.size == small.size
    path = gt.adaptation_path(small, theta_n, xs, xq, lr=0.4, steps=5)
    assert path.shape == (6, 4, n)
    np.testing.assert_allclose(path, by_hand[:, :, :n], rtol=1e-12, atol=1e-15)
    assert np.all(by_hand[:, :, n:] == 0)
    # the masked outputs' weights never move: they get no gradient
    np.testing.assert_array_equal(theta_after.reshape(-1)[28:40].reshape(4, 3)[:, n:],
                                  theta[28:40].reshape(4, 3)[:, n:])
    # with nothing masked it is the ordinary adaptation
    np.testing.assert_array_equal(gt.first_outputs(model, theta, 3)[1], theta)


@pytest.mark.parametrize("n, queries", [(2, 1), (3, 3), (5, 2)])
def test_draw_figure_gives_the_probabilities_after_each_step(data, models, n, queries):
    """The headless figure the panel calls: the game's 5-way machine, masked to n outputs, 5 steps at α = 0.4;
    its probabilities after every step equal an adaptation written out on the sliced network."""
    model, theta, meta = models["5"]
    drawings = [(3, 0), (7, 1), (11, 2), (15, 3), (20, 4)][:n] + [(7, 9), (3, 12), (11, 15)][:queries]
    imgs = np.array([glyphs.glyph_image(data["glyphs"][k][d]).ravel() for k, d in drawings])
    x = imgs.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196).astype("<f4")
    out = figures.run("fewshot-draw", {"n": str(n), "_x": pack(x), "_tag": "t1"})
    assert out["tag"] == "t1" and out["masked"] == 5 - n
    x = x.astype(float)
    w0 = model.layers[-1][2]
    w = theta[w0:w0 + 64 * 5].reshape(64, 5)[:, :n]
    theta_n = np.concatenate([theta[:w0], w.ravel(), theta[w0 + 320:w0 + 320 + n]])
    small = MLP((196, 64, 64, n), loss="xent")
    steps = np.array(out["steps"])
    assert steps.shape == (6, queries, n)
    for k in range(6):
        phi = adapt_by_hand(small, theta_n, x[:n], c := meta["config"]["inner_lr"], k)
        z = small.predict(phi, x[n:])
        np.testing.assert_allclose(steps[k], np.exp(z - z.max(1, keepdims=True)) /
                                   np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True), rtol=1e-9)
    assert c == 0.4 and out["choice"] == [int(i) for i in steps[-1].argmax(-1)]


@pytest.mark.parametrize("state", [{"n": "3"}, {"n": "3", "_x": pack([[0.5] * 196] * 3)},
                                   {"n": "2", "_x": pack([[0.5] * 196] * 6)}, {"n": "3", "_x": pack([[0.5] * 195] * 4)},
                                   {"n": "3", "_x": pack([[1.5] * 196] * 4)}, {"n": "3", "_x": "@@@@"},
                                   {"n": "1", "_x": pack([[0.5] * 196] * 2)}, {"n": "3", "_x": 7}])
def test_draw_figure_refuses_garbage_with_a_message(state):
    out = figures.run("fewshot-draw", state)
    assert out["choice"] == [] and out["steps"] == [] and "needs" in out["message"]
