"""Part 8's classification race (`mamlviz.glyphrace`): every racer's update on glyph episodes against central finite
differences (k = 1…3; the fused kernel of `mamlviz.fused_xent` and the plain `meta.meta_gradient` both), the
pretrained baseline's joint-training gradient by hand, one round against the methods stepped by hand,
and the held-out evaluation against a trial-by-trial loop."""

from types import SimpleNamespace

import numpy as np
import pytest

from mamlviz import glyphrace, glyphtasks, optim
from mamlviz.glyphrace import CLASSIFICATION_SETTINGS, joint_gradient
from mamlviz.meta import inner_sgd
from mamlviz.nn import MLP
from mamlviz.train import MethodSettings

EPS = 1e-6


@pytest.fixture(scope="module")
def data():
    return glyphrace.load_data(n_trials=40)


def glyph_batch(data, n_tasks=3, seed=1):
    return glyphtasks.episodes(np.random.default_rng(seed), data.train, 5, n_tasks, augment=True)


def small_model():
    """196 inputs (the glyph features), 4 hidden units, 5 classes: 813 parameters, cheap to difference."""
    return MLP((196, 4, 5), loss="xent")


def central(f, theta):
    """∇f(θ) by central differences, coordinate by coordinate."""
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = EPS
        g[i] = (f(theta + e) - f(theta - e)) / (2 * EPS)
    return g


def adapted(model, theta, x, y, lr, steps, grad=None):
    """k SGD steps on each task's support set, one task at a time (grad: the gradient to use, default exact)."""
    grad = grad or (lambda p, xt, yt: model.loss_grad(p, xt, yt)[1])
    out = []
    for xt, yt in zip(x, y):
        phi = theta.copy()
        for _ in range(steps):
            phi = phi - lr * grad(phi, xt, yt)
        out.append(phi)
    return out


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_maml_on_glyphs_is_the_derivative_of_the_meta_objective(data, k, fused):
    model, batch = small_model(), glyph_batch(data)
    theta = model.init(np.random.default_rng(k))
    s = MethodSettings(inner_lr=0.4, inner_steps=k)

    def objective(th):      # (1/T) Σ_t L^te_t(U^(k)_t(θ))
        phis = adapted(model, th, batch.xs, batch.ys, s.inner_lr, k)
        return np.mean([model.loss(p, xq, yq) for p, xq, yq in zip(phis, batch.xq, batch.yq)])

    d, finite = glyphrace.direction("maml", model, theta, batch, s, fused=fused)
    assert finite
    np.testing.assert_allclose(d, central(objective, theta), rtol=0, atol=2e-7 * max(1.0, np.abs(d).max()))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_fomaml_on_glyphs_is_the_query_gradient_at_the_adapted_parameters(data, k, fused):
    model, batch = small_model(), glyph_batch(data)
    theta = model.init(np.random.default_rng(k))
    s = MethodSettings(inner_lr=0.4, inner_steps=k)
    phis = adapted(model, theta, batch.xs, batch.ys, s.inner_lr, k)
    # the same shift ε·e_i of every task's φ: the derivative of (1/T) Σ_t L^te_t at φ_t, with φ_t held fixed
    fd = central(lambda shift: np.mean([model.loss(p + shift, xq, yq) for p, xq, yq in zip(phis, batch.xq, batch.yq)]),
                 np.zeros(model.size))
    d, _ = glyphrace.direction("fomaml", model, theta, batch, s, fused=fused)
    np.testing.assert_allclose(d, fd, rtol=0, atol=2e-7 * max(1.0, np.abs(d).max()))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_reptile_on_glyphs_moves_toward_phi_built_from_finite_difference_gradients(data, k, fused):
    model, batch = small_model(), glyph_batch(data)
    theta = model.init(np.random.default_rng(k))
    s = MethodSettings(inner_lr=0.4, inner_steps=k)
    fd_grad = (lambda p, xt, yt: central(lambda q: model.loss(q, xt, yt), p))
    phis = adapted(model, theta, batch.xs, batch.ys, s.inner_lr, k, grad=fd_grad)
    d, _ = glyphrace.direction("reptile", model, theta, batch, s, fused=fused)
    np.testing.assert_allclose(d, theta - np.mean(phis, axis=0), rtol=0, atol=1e-7 * max(1.0, np.abs(d).max()))


def test_pretrained_on_glyphs_is_the_gradient_of_the_joint_loss(data):
    model, batch = small_model(), glyph_batch(data)
    theta = model.init(np.random.default_rng(0))

    def joint(th):          # (1/T) Σ_t L(θ; support_t ∪ query_t)
        return np.mean([model.loss(th, np.concatenate([xs, xq]), np.concatenate([ys, yq]))
                        for xs, ys, xq, yq in zip(batch.xs, batch.ys, batch.xq, batch.yq)])

    d, finite = glyphrace.direction("pretrained", model, theta, batch, CLASSIFICATION_SETTINGS["pretrained"])
    assert finite
    np.testing.assert_allclose(d, central(joint, theta), rtol=0, atol=2e-7 * max(1.0, np.abs(d).max()))


@pytest.mark.parametrize("fused", [True, False])
def test_joint_gradient_by_hand(fused):
    # Softmax regression 2 → 2 (θ = W row-major, then b) at θ = 0: every p = (½, ½), so each point adds x(p − y)ᵀ.
    # Task 0: support (1, 0) class 0, query (0, 1) class 1; task 1: support (1, 1) class 1, query (2, 0) class 0.
    # p − y: (−½, ½), (½, −½), (½, −½), (−½, ½). Σ x(p − y)ᵀ: row x₁ = (−½, ½) + (½, −½) + 2(−½, ½) = (−1, 1),
    # row x₂ = (½, −½) + (½, −½) = (1, −1); Σ (p − y) = 0. Mean over the 2 points of a task, then over 2 tasks: ÷ 4.
    eye = np.eye(2)
    batch = SimpleNamespace(xs=np.array([[[1.0, 0.0]], [[1.0, 1.0]]]), ys=eye[[[0], [1]]],
                            xq=np.array([[[0.0, 1.0]], [[2.0, 0.0]]]), yq=eye[[[1], [0]]])
    d, loss = joint_gradient(MLP((2, 2), loss="xent"), np.zeros(6), batch, fused=fused)
    np.testing.assert_allclose(d, [-0.25, 0.25, 0.25, -0.25, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(loss, [np.log(2), np.log(2)])


def test_one_round_is_one_adam_step_of_each_method_on_the_same_episodes(data):
    race = glyphrace.Race(seed=3, data=data, evaluate=False)
    theta0 = race.thetas["maml"].copy()
    assert all(np.array_equal(t, theta0) for t in race.thetas.values())      # one initial θ for all
    rng = np.random.default_rng(3)
    race.model.init(rng)                                                      # the same stream as the race's
    batch = glyphtasks.episodes(rng, data.train, 5, race.n_tasks, augment=True)
    race.run_round()
    assert race.iteration == 1
    for m in glyphrace.RACERS:
        d, _ = glyphrace.direction(m, race.model, theta0, batch, CLASSIFICATION_SETTINGS[m])
        np.testing.assert_array_equal(race.thetas[m], optim.Adam(glyphrace.OUTER_LR).step(theta0, d))
        assert race.seconds[m] > 0


def accuracy_by_loop(model, theta, trials, lr, steps):
    right = 0
    for xs, ys, xq, label in zip(trials.xs, trials.ys, trials.xq, trials.query_labels):
        phi = adapted(model, theta, [xs], [ys], lr, steps)[0]
        right += int(np.argmax(model.predict(phi, xq)[0]) == label[0])
    return right / len(trials.xs)


def test_evaluation_equals_a_trial_by_trial_loop(data):
    race = glyphrace.Race(seed=0, data=data, evaluate=False)
    for _ in range(3):
        race.run_round()
    result = race.evaluate()
    for m in glyphrace.RACERS:
        own = CLASSIFICATION_SETTINGS[m]
        theta = race.thetas[m]
        assert result[m][0] == accuracy_by_loop(race.model, theta, data.trials, own.inner_lr, own.inner_steps)
        assert result[m][1] == accuracy_by_loop(race.model, theta, data.trials, 0.4, 5)
    # chunking does not change the count
    s = glyphrace.SHARED
    assert glyphrace.accuracy_after(race.model, race.thetas["maml"], data.trials, s, chunk=7) == result["maml"][1]



@pytest.mark.parametrize("sizes, steps", [((196, 4, 5), 3), ((196, 6, 5, 5), 2), ((196, 5), 2), ((196, 4, 5), 0)])
def test_adapted_logits_equal_inner_sgd_then_predict(data, sizes, steps):
    model = MLP(sizes, loss="xent")
    theta = model.init(np.random.default_rng(5))
    t = data.trials
    logits = glyphrace.adapted_logits(model, theta, t.xs[:9], t.ys[:9], t.xq[:9], lr=0.4, steps=steps)
    phi = inner_sgd(model, theta, t.xs[:9], t.ys[:9], lr=0.4, steps=steps).phi
    np.testing.assert_allclose(logits, model.predict(phi, t.xq[:9]), rtol=1e-10, atol=1e-12)


def test_glyph_trainer_trains_the_pretrained_baseline_by_the_joint_gradient(data):
    """`mamlviz train --family glyphs --method pretrained` (glyphtasks.train): one update = Adam on the joint gradient."""
    config = glyphtasks.GlyphConfig(method="pretrained", inner_steps=0, n_tasks=4, valid_trials=10)
    seen = []
    model, _, curve, _ = glyphtasks.train(config, 1, seed=2, eval_every=1, sets=(data.train, data.train),
                                          progress=lambda r: seen.append(r["theta"]))
    rng = np.random.default_rng(2)
    theta0 = model.init(rng)
    batch = glyphtasks.episodes(rng, data.train, 5, 4, augment=True)
    np.testing.assert_array_equal(seen[0], optim.Adam(config.outer_lr).step(theta0, joint_gradient(model, theta0,
                                                                                                   batch)[0]))

