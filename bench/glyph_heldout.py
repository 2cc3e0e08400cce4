"""Held-out accuracy of glyph models on the game's 1,000 fixed trials (not a test; tests/test_glyphtasks.py
recomputes the shipped models' numbers).

    python bench/glyph_heldout.py                       # the shipped models (glyph_models.npz)
    python bench/glyph_heldout.py run.npz [run2.npz]    # files written by `mamlviz train --family glyphs --out`

Each model is rounded to float16 first (as shipped) and adapts with its own inner rate and steps; the trials are
`glyphtasks.heldout_trials` of the game's alphabets, which no training run or checkpoint selection sees. Prints
accuracy ± the half-width of its 95 % interval, with the validation accuracy that selected the checkpoint.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from mamlviz import glyphtasks as gt
from mamlviz.nn import MLP


def models(paths):
    """(name, model, θ as float16 → float64, metadata) of each file, or of the shipped models."""
    if not paths:
        for way, (model, theta, meta) in sorted(gt.load_models().items(), key=lambda kv: int(kv[0])):
            yield f"shipped way{way}", model, theta, meta
    for path in paths:
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            yield path, MLP(meta["sizes"], loss="xent"), f["theta"].astype(np.float16).astype(float), meta


def main(paths):
    gs = gt.game_set()
    for name, model, theta, meta in models(paths):
        c = meta["config"]
        ep = gt.heldout_trials(gs, c["n_way"])
        after = gt.classify(model, theta, ep, lr=c["inner_lr"], steps=c["inner_steps"])[1]
        acc, half = gt.accuracy(after.argmax(-1) == ep.query_labels)
        print(f"{name}: {c['n_way']}-way, augment={c['augment']}, update {meta['iterations']} of "
              f"{meta.get('trained_iterations', meta['iterations'])}, validation {meta.get('valid_accuracy', '-')}: "
              f"held out {100 * acc:.1f} ± {100 * half:.1f} %")


if __name__ == "__main__":
    main(sys.argv[1:])
