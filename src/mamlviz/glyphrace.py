"""The classification race of Part 8: the pretrained baseline, MAML, first-order MAML and Reptile meta-train the same
196-64-64-5 MLP from the same seed on the same stream of 5-way 1-shot episodes of the training alphabets, one
update of each per round, and are measured on the game's held-out trials.

    data = load_data()                       # training characters and the game's (held-out) characters
    race = Race(seed=0, data=data)
    race.run_round()                         # one update of every method, on one shared batch of episodes
    race.evaluate()                          # {method: (accuracy after its own adaptation, after 5 steps at 0.4)}

The training worker of the page and `bench/glyph_race.py` run this same code on the same data file, so a seed gives
the same numbers in both. The data file holds the MLP's 14 × 14 inputs quantised to bytes (`make_data`): generating
the alphabets takes a minute natively, far too long for a page.
"""

from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from mamlviz import fused_xent, glyphtasks, optim, stats
from mamlviz.meta import meta_gradient, task_mean
from mamlviz.nn import MLP
from mamlviz.train import MethodSettings

# The per-method settings of 5-way 1-shot classification on the glyphs (the race, `mamlviz train --family glyphs`,
# bench/glyph_race.py), the classification counterpart of `mamlviz.train.METHOD_SETTINGS` (kept here so that the
# sine modules, and the measured numbers that depend on them, stay as they are): chosen by the native runs of
# bench/glyph_settings.py on the validation alphabets, the game's 5 steps at α = 0.4 for all three (numbers in
# src/mamlviz/data/README.md). The pretrained baseline has no inner procedure of its own (k = 0): its update is
# the joint-training gradient (`joint_gradient`).
CLASSIFICATION_SETTINGS = {
    "pretrained": MethodSettings(inner_lr=0.4, inner_steps=0),
    "maml": MethodSettings(inner_lr=0.4, inner_steps=5),
    "fomaml": MethodSettings(inner_lr=0.4, inner_steps=5),
    "reptile": MethodSettings(inner_lr=0.4, inner_steps=5),
}

RACERS = {"pretrained": "pretrained", "maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile"}
N_WAY = 5
SIZES = (glyphtasks.SIDE * glyphtasks.SIDE, 64, 64, N_WAY)
SHARED = MethodSettings(inner_lr=0.4, inner_steps=5)   # the game's adaptation: every model is also judged after it
N_TASKS = 8                    # episodes per update (half the shipped model's 16: a round costs half as much)
OUTER_LR = 1e-3                # Adam's β, as for the shipped models
# The game's 1,000 held-out trials (Part 1's test). Their 95 % interval is ±1.96·√(p(1 − p)/n) = ±1.8 points at the
# shipped model's 91 %, ±2.5 at 80 %, ±3.1 at worst (50 %); ±2 points at 90 % needs n ≥ 1.96²·0.09/0.02² ≈ 860, so
# a smaller subset would blur the end of the race, where the methods are close: the measurements are made cheaper
# by being rarer as the race goes on (`measured_at`), not smaller.
EVAL_TRIALS = 1000
EVAL_CHUNK = 250               # trials adapted at once (each holds its later layers: 250 × 4,485 floats)
DATA = Path(__file__).parent / "data" / "glyph_race_data.npz"
SCALE = 255                    # features are stored as round(255·x) in bytes


@dataclass
class FeatureSet:
    """What `glyphtasks.episodes` needs of a GlyphSet: features (C, D, 196) and alphabets [(start, count)]."""

    features: np.ndarray
    alphabets: list

    @property
    def n_drawers(self):
        return self.features.shape[1]


def quantise(features):
    return np.round(np.asarray(features) * SCALE).astype(np.uint8)


def make_data(path=DATA, sets=None):
    """Write the race's data file: the training alphabets' and the game's characters as bytes (`quantise`).
    `sets`: (training GlyphSet, game GlyphSet); by default `glyphtasks.training_sets(GlyphConfig())[0]` and
    `glyphtasks.game_set()` (a minute or two)."""
    train_gs, game_gs = sets or (glyphtasks.training_sets(glyphtasks.GlyphConfig())[0], glyphtasks.game_set())
    np.savez_compressed(path, train=quantise(train_gs.features), train_alphabets=np.array(train_gs.alphabets),
                        game=quantise(game_gs.features), game_alphabets=np.array(game_gs.alphabets))


@dataclass
class RaceData:
    train: FeatureSet               # the training alphabets (glyphtasks.TRAIN_SEED)
    trials: glyphtasks.Episodes     # the game's held-out trials (glyphtasks.heldout_trials, seed EVAL_SEED)


_LOADED = {}


def _fetch(name):
    """The bytes of the site's mamlviz-data/NAME, fetched from a Pyodide worker (synchronous requests are allowed in
    workers): the build leaves this file out of the package zip that every worker loads (`site.bundle.LAZY`)."""
    import js  # Pyodide only

    url = js.URL.new(f"../../mamlviz-data/{name}", js.location.href).href     # the worker is assets/js/worker.js
    req = js.XMLHttpRequest.new()
    req.open("GET", url, False)
    req.responseType = "arraybuffer"
    req.send()
    if req.status != 200:
        raise OSError(f"cannot load the race's data {url} (HTTP {req.status})")
    return io.BytesIO(req.response.to_bytes())


def load_data(path=DATA, n_trials=EVAL_TRIALS):
    """The race's data (cached per path and trial count)."""
    key = (str(path), n_trials)
    if key not in _LOADED:
        path = Path(path)
        with np.load(path if path.exists() or sys.platform != "emscripten" else _fetch(path.name)) as f:
            train = FeatureSet(f["train"] / SCALE, f["train_alphabets"].tolist())
            game = FeatureSet(f["game"] / SCALE, f["game_alphabets"].tolist())
        _LOADED[key] = RaceData(train, glyphtasks.heldout_trials(game, N_WAY, n_trials))
    return _LOADED[key]


def joint_gradient(model, theta, batch, fused=False):
    """The pretrained baseline's update (joint training): the gradient at θ of the mean loss over every labelled
    point of the batch's tasks, support and query alike,

        ∇_θ (1/T) Σ_i L(θ; D^tr_i ∪ D^te_i)          (tasks of equal size: the mean over all their points).

    No adaptation: the model learns to answer every task at once from θ. Returns (direction (P,), loss per task (T,)).
    fused=True computes it as `fused_xent`'s first-order direction with no inner step on the joined points (the same
    gradient, its first-layer block one product over all points).
    """
    x = np.concatenate([batch.xs, batch.xq], axis=1)
    y = np.concatenate([batch.ys, batch.yq], axis=1)
    if fused and fused_xent.applies(model):
        joined = SimpleNamespace(xs=x[:, :0], ys=y[:, :0], xq=x, yq=y)
        return fused_xent.direction("fomaml", model, theta, joined, inner_lr=0.0, inner_steps=0)
    loss, grad = model.loss_grad(theta, x, y)
    return task_mean(grad), loss


def direction(method, model, theta, batch, settings, fused=True):
    """The update direction of `method` on a batch of episodes: the joint-training gradient for "pretrained"
    (`joint_gradient`), else the meta-gradient with the method's α and k: `fused_xent.direction` for a cross-entropy
    MLP (the race's hot path), or with fused=False `meta.meta_gradient`, the plain implementation it is tested
    against. Returns (direction, finite)."""
    if method == "pretrained":
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d, loss = joint_gradient(model, theta, batch, fused=fused)
        return d, bool(np.isfinite(d).all() and np.isfinite(loss).all())
    if fused and fused_xent.applies(model):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d, loss = fused_xent.direction(method, model, theta, batch, inner_lr=settings.inner_lr,
                                           inner_steps=settings.inner_steps)
        return d, bool(np.isfinite(d).all() and np.isfinite(loss).all())
    d, info = meta_gradient(method, model, theta, batch, inner_lr=settings.inner_lr,
                            inner_steps=settings.inner_steps, query_before=False, kept_bytes=False)
    return d, not info["nonfinite"]


def adapted_logits(model, theta, xs, ys, xq, *, lr, steps):
    """Query logits of every task after k SGD steps at rate α on its support set from the shared θ (xent `nn.MLP`):
    the same as `meta.inner_sgd` then `predict`, without forming any task's weights but the last layer's.

    The support inputs X_s are the same at every step, so the first layer's gradients add up to
    W₁′ = W₁ − α X_sᵀD, b₁′ = b₁ − α 1ᵀD with D = Σ_j δ₁^(j) (N × h₁ per task), and any input x meets them as
    x W₁′ + b₁′ = x W₁ + b₁ − α (x X_sᵀ + 1) D: one shared product and an N-column Gram matrix. A hidden layer l > 1
    meets other inputs at every step, so it keeps them: after j steps W_l′ = W_l − α A_lᵀ Δ_l with A_l, Δ_l the
    j·N inputs and backward signals of its steps stacked, and x W_l′ + b_l′ = x W_l + b_l − α (x A_lᵀ + 1) Δ_l,
    δ W_l′ᵀ = δ W_lᵀ − α (δ Δ_lᵀ) A_l (shared products and thin ones: no h_l × h_{l+1} product per task). The small
    last layer is stepped per task. δ_L = (softmax(z) − y)/N, δ_{l−1} = δ_l W_lᵀ ⊙ relu′(z_{l−1}) (see `nn.MLP`)."""
    ws, bs = model._unpack(np.asarray(theta, dtype=float))
    t, n = xs.shape[:2]
    last = len(ws) - 1
    z1_s, z1_q = (fused_xent.shared_product(x, ws[0]) + bs[0] for x in (xs, xq))   # shared first-layer products
    g_s, g_q = xs @ np.swapaxes(xs, 1, 2) + 1.0, xq @ np.swapaxes(xs, 1, 2) + 1.0   # Gram matrices (+1: the bias)
    d = np.zeros((t, n, ws[0].shape[1]))
    seen = {l: (np.zeros((t, 0, ws[l].shape[0])), np.zeros((t, 0, ws[l].shape[1]))) for l in range(1, last)}
    w_last = np.broadcast_to(ws[last], (t,) + ws[last].shape).copy() if last else None    # the last layer, per task
    b_last = np.broadcast_to(bs[last], (t,) + bs[last].shape).copy() if last else None

    def layer(l, a):
        if l == last:
            return a @ w_last + b_last
        h, dl = seen[l]
        return fused_xent.shared_product(a, ws[l]) + bs[l] - lr * ((a @ np.swapaxes(h, 1, 2) + 1.0) @ dl)

    def back(l, delta):
        if l == last:
            return delta @ np.swapaxes(w_last, 1, 2)
        h, dl = seen[l]
        return fused_xent.shared_product(delta, ws[l].T) - lr * ((delta @ np.swapaxes(dl, 1, 2)) @ h)

    def forward(z):
        acts, masks = [], []
        for l in range(1, last + 1):
            masks.append(z > 0)
            acts.append(z * masks[-1])
            z = layer(l, acts[-1])
        return z, acts, masks

    for _ in range(int(steps)):
        out, acts, masks = forward(z1_s - lr * (g_s @ d))
        delta = (np.exp(out - out.max(-1, keepdims=True)) /
                 np.exp(out - out.max(-1, keepdims=True)).sum(-1, keepdims=True) - ys) / n
        met = {}
        for l in range(last, 0, -1):
            if l == last:
                # aᵀδ with aᵀ made contiguous: without BLAS a strided operand makes the product twice as slow
                g_w, g_b = np.ascontiguousarray(np.swapaxes(acts[l - 1], 1, 2)) @ delta, delta.sum(1, keepdims=True)
            else:
                met[l] = (acts[l - 1], delta)
            delta = back(l, delta) * masks[l - 1]
        if last:                                                             # step: φ^(j) → φ^(j+1)
            w_last -= lr * g_w
            b_last -= lr * g_b
        for l, (a, dl) in met.items():
            seen[l] = (np.concatenate([seen[l][0], a], axis=1), np.concatenate([seen[l][1], dl], axis=1))
        d += delta                                                           # δ₁ of this step
    return forward(z1_q - lr * (g_q @ d))[0]


def accuracy_after(model, theta, trials, settings, chunk=EVAL_CHUNK):
    """Share of `trials` whose query is classified right after k SGD steps at α (settings) on the trial's support
    set, from θ (`adapted_logits`, the trials of a chunk at once)."""
    correct = 0
    for s in range(0, len(trials.xs), chunk):
        logits = adapted_logits(model, theta, trials.xs[s:s + chunk], trials.ys[s:s + chunk],
                                trials.xq[s:s + chunk], lr=settings.inner_lr, steps=settings.inner_steps)
        correct += int((logits.argmax(-1) == trials.query_labels[s:s + chunk]).sum())
    return correct / len(trials.xs)


class Race:
    """The four racers from one seed: the same initial θ, the same episodes every round, each its own Adam.

    curves[m]: (meta-updates, seconds of m's own updates, accuracy after m's own adaptation, after SHARED)."""

    def __init__(self, seed=0, data=None, settings=None, n_tasks=N_TASKS, outer_lr=OUTER_LR, evaluate=True):
        self.seed, self.data = seed, data or load_data()
        self.settings = {m: (settings or CLASSIFICATION_SETTINGS)[m] for m in RACERS}
        self.n_tasks, self.outer_lr = n_tasks, outer_lr
        self.model = MLP(SIZES, loss="xent")
        self.rng = np.random.default_rng(seed)
        theta = self.model.init(self.rng)
        self.thetas = {m: theta.copy() for m in RACERS}
        self.optimizers = {m: optim.make("adam", outer_lr) for m in RACERS}
        self.seconds = dict.fromkeys(RACERS, 0.0)
        self.stopped = {}               # method: why it stopped (a non-finite update)
        self.iteration = 0
        self.curves = {m: [] for m in RACERS}
        if evaluate:
            self.record()

    def run_round(self):
        """One update of every racer on one batch of episodes (the methods' time measured apart)."""
        batch = glyphtasks.episodes(self.rng, self.data.train, N_WAY, self.n_tasks, augment=True)
        for m in RACERS:
            if m in self.stopped:
                continue
            start = time.perf_counter()
            d, finite = direction(m, self.model, self.thetas[m], batch, self.settings[m])
            if finite:
                self.thetas[m] = self.optimizers[m].step(self.thetas[m], d)
            else:
                self.stopped[m] = f"a non-finite update at round {self.iteration + 1}"
            self.seconds[m] += time.perf_counter() - start
        self.iteration += 1

    def evaluate(self):
        """{method: (accuracy after its own adaptation, after SHARED)} on the held-out trials (computed once when the
        two are the same procedure)."""
        out = {}
        for m in RACERS:
            theta, own = self.thetas[m], self.settings[m]
            shared = accuracy_after(self.model, theta, self.data.trials, SHARED)
            same = (own.inner_lr, own.inner_steps) == (SHARED.inner_lr, SHARED.inner_steps)
            out[m] = (shared if same else accuracy_after(self.model, theta, self.data.trials, own), shared)
        return out

    def record(self):
        """Evaluate and append a point to every curve."""
        for m, (own, shared) in self.evaluate().items():
            self.curves[m].append((self.iteration, self.seconds[m], own, shared))


def measured_at(r, every):
    """True at the rounds where the race is measured: every `every` rounds up to round 10·every, then twice as far
    apart at every doubling of the round (every 2·every from 10·every, 4·every from 20·every, …). One measurement
    (4 models, 1,000 trials, 5 steps) costs about as much as 60–80 rounds of all four methods in Pyodide
    (bench/glyph_updates.py), so with every = 100 (the page) measuring takes under half the time at the start and
    its share halves at every doubling of the rounds; a run with every = 20 (the recorded run) is measured at rounds
    0, 20, 40, … for its first 200 rounds, as it was before this schedule."""
    gap = every
    while r >= 10 * gap:
        gap *= 2
    return r % gap == 0


# ------------------------------------------------------------------------------------------- the recorded run
MEASURES = ("own", "shared", "seconds")


def run_race(seed, updates, every, data=None):
    """One race of `updates` rounds, measured at round 0, then where `measured_at(round, every)` and at the end:
    {method: {measure: [...]}} with measures "own" and "shared" (accuracies) and "seconds" (the method's own time
    so far)."""
    race = Race(seed, data)
    while race.iteration < updates:
        race.run_round()
        if measured_at(race.iteration, every) or race.iteration == updates:
            race.record()
    return {m: {"updates": [p[0] for p in c], "seconds": [round(p[1], 4) for p in c],
                "own": [p[2] for p in c], "shared": [p[3] for p in c]} for m, c in race.curves.items()}


def summarise(runs):
    """Median, lowest and highest over the seeds' runs ({seed: run_race(...)}) at every measurement, by method and
    measure; and the updates per second of every method (median over seeds of updates / own seconds at the end)."""
    first = next(iter(runs.values()))
    out = {"updates": first["maml"]["updates"], "median": {}, "low": {}, "high": {}, "updates_per_second": {}}
    for m in RACERS:
        for key, f in (("median", np.median), ("low", np.min), ("high", np.max)):
            out[key][m] = {k: [float(v) for v in f([r[m][k] for r in runs.values()], axis=0)] for k in MEASURES}
        out["updates_per_second"][m] = float(np.median([r[m]["updates"][-1] / r[m]["seconds"][-1]
                                                        for r in runs.values()]))
    # at the first (round 0: every racer's θ is the same random start) and the last measurement, in per cent (what
    # the text prints)
    for name, i in (("start", 0), ("final", -1)):
        out[name] = {m: {k: {key: round(100 * out[key][m][k][i], 1) for key in ("median", "low", "high")}
                         for k in ("own", "shared")} for m in RACERS}
    # paired differences at the last measurement (the same seed: the same θ₀ and episodes), in points, with their
    # 95 % interval over the seeds (`stats.paired`; the text words them with {{measured:…:than}})
    out["paired"] = {f"{a}-{b}-{k}": stats.paired([100 * r[a][k][-1] for r in runs.values()],
                                                  [100 * r[b][k][-1] for r in runs.values()]) for a, b, k in PAIRS}
    return out


PAIRS = (("maml", "reptile", "own"), ("maml", "fomaml", "own"), ("reptile", "fomaml", "own"),
         ("maml", "pretrained", "shared"), ("reptile", "pretrained", "shared"), ("fomaml", "pretrained", "shared"))
