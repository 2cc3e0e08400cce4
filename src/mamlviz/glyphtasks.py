"""Few-shot classification on the procedural glyphs: N-way K-shot episodes, the game's trials, MAML's machine.

    gs = glyph_set(glyphs.widget_data())                 # the game's 220 characters as 28 × 28 ink images
    batch = episodes(rng, gs, n_way=5, n_tasks=16, augment=True)
    direction, info = meta_gradient("maml", MLP((784, 64, 64, 5), loss="xent"), theta, batch, ...)

An episode (a task) takes one alphabet, n_way of its characters in random order (the order is the label), and
for each a support drawing (the exemplar) by its own drawer, all drawers distinct; query drawings of the same
characters are by other drawers than their exemplar's (never the exemplar's own drawing). Alphabets are never
mixed within an episode. The MLP reads each drawing at 14 × 14 (the 28 × 28 ink image averaged over 2 × 2 blocks,
196 inputs: a quarter of the parameters, so meta-training fits a small machine); labels are one-hot.

The models shipped for the game are meta-trained on alphabets made by another seed of the same generator
(`TRAIN_SEED`) that keeps away from the game's characters (`heldout_exclusions`), so every character the game
shows is held out. With `augment=True`, each training episode is
turned by a multiple of 90° and possibly mirrored, as a whole: eight pseudo-alphabets from each real one.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mamlviz import glyphs, optim
from mamlviz.meta import inner_sgd, meta_gradient
from mamlviz.nn import MLP, softmax

RASTER = 28                      # the game's ink images (what the nearest-neighbour machines compare)
POOL = 2                         # the MLP sees RASTER/POOL = 14 pixels a side
SIDE = RASTER // POOL
TRAIN_SEED = glyphs.SEED + 1     # the training alphabets: never shown by the game
VALID_SEED = glyphs.SEED + 2     # alphabets for watching training (not the game's either)
EVAL_SEED = 1000                 # fixes the 1,000 held-out game trials of the accuracy test
BLUR_SIGMA = 2.0                 # σ (pixels) of the blurred nearest neighbour
GLYPH_MODELS = Path(__file__).parent / "data" / "glyph_models.npz"

# Accuracy (per cent) and the half-width of its 95 % interval on the 1,000 held-out game trials of
# `heldout_trials` (N-way, seed EVAL_SEED): known answers that tests/test_glyphtasks.py recomputes. The text prints
# other draws of trials, measured by bench/measured.py --what game.
HELDOUT_ACCURACY = {
    "raw": {5: (68.9, 2.9), 20: (50.8, 3.1)},       # nearest neighbour on the 28 × 28 ink images
    "blur": {5: (89.5, 1.9), 20: (76.3, 2.6)},      # the same after a Gaussian blur, σ = 2 px
    "maml": {5: (96.2, 1.2), 20: (91.3, 1.7)},      # the shipped models (float16 θ), 5 steps at α = 0.4
}


@dataclass
class GlyphSet:
    """images (C, D, 784): every drawer's drawing of every class; alphabets: (start, count) of each alphabet;
    features (C, D, 196): the MLP's inputs (`features`)."""

    images: np.ndarray
    alphabets: list

    def __post_init__(self):
        self.features = features(self.images)

    @property
    def n_drawers(self):
        return self.images.shape[1]


def features(images):
    """The MLP's input: 28 × 28 ink images (…, 784) averaged over 2 × 2 blocks, (…, 196)."""
    lead = images.shape[:-1]
    blocks = images.reshape(lead + (SIDE, POOL, SIDE, POOL))
    return blocks.mean(axis=(-3, -1)).reshape(lead + (SIDE * SIDE,))


def glyph_set(data):
    """A GlyphSet from `glyphs.generate(...)` or `glyphs.widget_data()` output (rasterised once)."""
    rows = data["glyphs"]
    flat = glyphs.glyph_images([t for row in rows for t in row], RASTER)
    images = flat.reshape(len(rows), len(rows[0]), RASTER * RASTER)
    return GlyphSet(images, [(a["start"], a["count"]) for a in data["alphabets"]])


@dataclass
class Episodes:
    """T episodes: support xs (T, N, 196), ys (T, N, N) one-hot; query xq (T, Q, 196), yq (T, Q, N); and which
    class/drawer every drawing is, for checking: classes/drawers (T, N), query_labels/query_drawers (T, Q)."""

    xs: np.ndarray
    ys: np.ndarray
    xq: np.ndarray
    yq: np.ndarray
    alphabet: np.ndarray
    classes: np.ndarray
    drawers: np.ndarray
    query_labels: np.ndarray
    query_drawers: np.ndarray


def _pick(rng, gs, n_way, n_query, one_query):
    """One episode's indices: alphabet, classes, exemplar drawers, query labels and drawers."""
    usable = [i for i, (_, count) in enumerate(gs.alphabets) if count >= n_way]
    a = usable[rng.integers(len(usable))]
    start, count = gs.alphabets[a]
    classes = start + rng.choice(count, n_way, replace=False)
    drawers = rng.choice(gs.n_drawers, n_way, replace=False)
    labels = rng.integers(n_way, size=1) if one_query else np.repeat(np.arange(n_way), n_query)
    # any drawer but the exemplar's own: draw from D − 1 and skip over it
    qd = rng.integers(gs.n_drawers - 1, size=len(labels))
    qd = qd + (qd >= drawers[labels])
    return a, classes, drawers, labels, qd


def episodes(rng, gs, n_way, n_tasks, *, n_query=1, augment=False, one_query=False):
    """`n_tasks` n_way 1-shot episodes with `n_query` query drawings per class (or, with one_query=True, a single
    query of a random class: the game's trial). augment: turn/mirror each episode (see the module docstring)."""
    picks = [_pick(rng, gs, n_way, n_query, one_query) for _ in range(n_tasks)]
    alphabet, classes, drawers, labels, qdrawers = (np.array(v) for v in zip(*picks))
    xs = gs.features[classes, drawers]
    xq = gs.features[np.take_along_axis(classes, labels, axis=1), qdrawers]
    if augment:
        xs, xq = _augment(rng, xs, xq)
    eye = np.eye(n_way)
    return Episodes(xs, np.broadcast_to(eye, (n_tasks, n_way, n_way)), xq, eye[labels], alphabet, classes,
                    drawers, labels, qdrawers)


def _augment(rng, xs, xq):
    """Each episode (all its drawings alike) turned by k·90° and mirrored with probability ½."""
    xs, xq = xs.copy(), xq.copy()
    for t, (k, flip) in enumerate(zip(rng.integers(4, size=len(xs)), rng.random(len(xs)) < 0.5)):
        for x in (xs, xq):
            img = np.rot90(x[t].reshape(-1, SIDE, SIDE), k, axes=(1, 2))
            x[t] = (img[:, :, ::-1] if flip else img).reshape(len(img), -1)
    return xs, xq


# ------------------------------------------------------------------------------------------------- the machines

def adapt(model, theta, xs, ys, *, lr, steps):
    """φ = U^(k)(θ) on the support set(s): k SGD steps at rate α from θ (all episodes at once)."""
    return inner_sgd(model, theta, xs, ys, lr=lr, steps=steps).phi


def classify(model, theta, episodes_, *, lr, steps):
    """Class probabilities of every query before (at θ) and after adaptation: (p_before, p_after), (T, Q, N)."""
    phi = adapt(model, theta, episodes_.xs, episodes_.ys, lr=lr, steps=steps)
    t = episodes_.xs.shape[0]
    return (softmax(model.predict(theta, episodes_.xq)),
            softmax(model.predict(np.broadcast_to(phi, (t, model.size)), episodes_.xq)))


def first_outputs(model, theta, n):
    """The n-way machine inside an N-way one (n ≤ N): the network with its last n − N outputs masked, in
    adaptation and prediction alike. Masking an output (its logit at −∞) gives it probability 0 and its weights no
    gradient, so the masked machine is exactly the network without those rows of the last layer: (model, θ) of
    that network, sizes (…, n)."""
    d_in, d_out, w0, b0, b1 = model.layers[-1]
    w = theta[w0:b0].reshape(d_in, d_out)[:, :n]
    return MLP(model.sizes[:-1] + (n,), loss="xent"), np.concatenate([theta[:w0], w.ravel(), theta[b0:b0 + n]])


def adaptation_path(model, theta, xs, xq, *, lr, steps):
    """Class probabilities of the queries xq (Q, d) after each inner step 0..k on the exemplars xs (one per class,
    label = row): (k + 1, Q, N), row 0 at θ."""
    path = inner_sgd(model, theta, xs, np.eye(len(xs)), lr=lr, steps=steps, keep_path=True).path
    return np.array([softmax(model.predict(phi, xq)) for phi in path])


def blur_matrix(sigma=BLUR_SIGMA, n=RASTER):
    """B with B·img·Bᵀ = img convolved with a Gaussian (σ px, taps to ±3σ, zero outside the image)."""
    d = np.arange(n)[:, None] - np.arange(n)[None, :]
    taps = np.arange(-math.ceil(3 * sigma), math.ceil(3 * sigma) + 1)
    k = np.exp(-d ** 2 / (2 * sigma ** 2)) / np.exp(-taps ** 2 / (2 * sigma ** 2)).sum()
    return np.where(np.abs(d) <= taps[-1], k, 0.0)


def nearest_neighbour(gs, ep, sigma=None):
    """The exemplar each query of episodes `ep` (not augmented) is nearest to on the 28 × 28 ink images of `gs`
    (squared distance; ties to the first), (T, Q); with sigma, on images blurred by a Gaussian of σ pixels."""
    xs = gs.images[ep.classes, ep.drawers]
    xq = gs.images[np.take_along_axis(ep.classes, ep.query_labels, axis=1), ep.query_drawers]
    if sigma:
        b = blur_matrix(sigma)
        xs, xq = ((b @ x.reshape(x.shape[:-1] + (RASTER, RASTER)) @ b.T).reshape(x.shape) for x in (xs, xq))
    d = ((xq[:, :, None, :] - xs[:, None, :, :]) ** 2).sum(axis=-1)
    return d.argmin(axis=-1)


def accuracy(correct):
    """(accuracy, half-width of its 95 % interval) over independent trials (normal approximation)."""
    correct = np.asarray(correct, dtype=float).ravel()
    p = correct.mean()
    return float(p), float(1.96 * math.sqrt(p * (1 - p) / len(correct)))


def game_set():
    """The game's own characters (glyphs.SEED): held out from training."""
    return glyph_set(glyphs.widget_data())


def heldout_trials(gs, n_way, n=1000, seed=EVAL_SEED):
    """`n` fixed game trials (one query each) on the game's characters."""
    return episodes(np.random.default_rng([seed, n_way]), gs, n_way, n, one_query=True)


# ------------------------------------------------------------------------------------------------- shipped models

def load_models(path=GLYPH_MODELS):
    """{"5": (model, θ float64, metadata), "20": ...}: the shipped game models with their adaptation settings."""
    out = {}
    with np.load(path) as f:
        for key in f.files:
            if key.endswith("_meta"):
                continue
            meta = json.loads(str(f[key + "_meta"]))
            out[key.removeprefix("way")] = (MLP(meta["sizes"], loss="xent"), f[key].astype(float), meta)
    return out


def save_model(path, n_way, theta, metadata):
    """Store θ as float16 (halves the page's download; the accuracy test guards against any loss) beside
    its metadata as `way<N>` in the .npz at `path`, keeping the other models there."""
    path = Path(path)
    arrays = {}
    if path.exists():
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
    arrays[f"way{n_way}"] = np.asarray(theta, dtype=np.float16)
    arrays[f"way{n_way}_meta"] = np.array(json.dumps(metadata, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole, then renamed: two training runs may store their models at once
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


# ------------------------------------------------------------------------------------------------- meta-training

@dataclass(frozen=True)
class GlyphConfig:
    """Meta-training on the glyphs (defaults: the settings of the shipped models)."""

    n_way: int = 5
    hidden: tuple = (64, 64)
    n_tasks: int = 16            # meta-batch
    n_query: int = 1             # query drawings per class
    inner_lr: float = 0.4        # α
    inner_steps: int = 5         # k
    outer_lr: float = 1e-3       # β (Adam)
    augment: bool = True
    train_alphabets: int = 30    # alphabets generated with TRAIN_SEED
    valid_alphabets: int = 10    # alphabets generated with VALID_SEED: checkpoints are selected on them alone
    valid_trials: int = 1000
    method: str = "maml"


def training_sets(config, *, sets=False):
    """(training, validation) GlyphSets of `config`: generated with TRAIN_SEED and VALID_SEED, held apart at the
    character level (see `heldout_exclusions`). sets=True: the generator's outputs instead (templates included)."""
    held = heldout_exclusions()
    train = glyphs.generate(TRAIN_SEED, n_alphabets=config.train_alphabets, exclude=held)
    held = np.concatenate([held, glyphs.turns_and_mirrors(glyphs.template_inks(train))])
    valid = glyphs.generate(VALID_SEED, n_alphabets=config.valid_alphabets, exclude=held)
    return (train, valid) if sets else (glyph_set(train), glyph_set(valid))


def heldout_exclusions():
    """The game's characters, each under the 8 turns and mirrors that training applies: no training or validation
    character comes within the generator's distinctness threshold (1 − IoU of template ink < 0.5) of any of
    them, so every character the game shows is new to the machines, turned or not."""
    return glyphs.turns_and_mirrors(glyphs.template_inks(glyphs.generate(glyphs.SEED, n_drawers=0)))


def train(config, iterations, *, seed=0, eval_every=500, progress=None, sets=None):
    """Meta-train an MLP((196, *hidden, N), xent) on training alphabets; every `eval_every` updates measure the
    accuracy after adaptation on `valid_trials` trials of validation alphabets (VALID_SEED: the training generator,
    never the game's alphabets) and report it to `progress` with θ and the best checkpoint so far (highest validation
    accuracy; the earlier on ties). Returns (model, best θ, curve of (iteration, mean training accuracy, validation
    accuracy), best iteration). `sets`: `training_sets(config)` made earlier (the same data; saves generating it)."""
    c = config
    tic, cpu = time.perf_counter(), time.process_time()
    train_gs, valid_gs = sets or training_sets(c)
    valid = heldout_trials(valid_gs, c.n_way, c.valid_trials, seed=VALID_SEED)
    model = MLP((SIDE * SIDE, *c.hidden, c.n_way), loss="xent")
    rng = np.random.default_rng(seed)
    theta = model.init(rng)
    opt = optim.make("adam", c.outer_lr)
    curve, correct = [], []
    best = (-1.0, 0, theta)
    for it in range(1, iterations + 1):
        batch = episodes(rng, train_gs, c.n_way, c.n_tasks, n_query=c.n_query, augment=c.augment)
        if c.method == "pretrained":     # joint training on the episodes' labelled data: no adaptation
            from mamlviz.glyphrace import joint_gradient   # (glyphrace imports this module)

            direction, _ = joint_gradient(model, theta, batch)
            info = {"nonfinite": not np.isfinite(direction).all(), "phi": theta}
        else:
            direction, info = meta_gradient(c.method, model, theta, batch, inner_lr=c.inner_lr,
                                            inner_steps=c.inner_steps, query_before=False)
        if info["nonfinite"]:
            raise FloatingPointError(f"non-finite meta-gradient at update {it}")
        theta = opt.step(theta, direction)
        phi = info["phi"]
        correct.append((model.predict(phi, batch.xq).argmax(-1) == batch.query_labels).mean())
        if it % eval_every == 0 or it == iterations:
            p_after = classify(model, theta, valid, lr=c.inner_lr, steps=c.inner_steps)[1]
            acc = accuracy(p_after.argmax(-1) == valid.query_labels)[0]
            curve.append((it, float(np.mean(correct)), acc))
            correct = []
            if acc > best[0]:
                best = (acc, it, theta.copy())
            if progress:
                progress({"iteration": it, "train_accuracy": curve[-1][1], "valid_accuracy": acc, "theta": theta,
                          "model": model, "curve": list(curve), "seconds": time.perf_counter() - tic,
                          "cpu_seconds": time.process_time() - cpu, "best_iteration": best[1],
                          "best_valid_accuracy": best[0], "best_theta": best[2]})
    return model, best[2], curve, best[1]
