"""The trained sine models shipped with the package (Part 3 of the explainer): a pretrained model (joint training,
= MAML with 0 inner steps) and a second-order MAML model, both trained by this project's own `mamlviz train`.

They were produced by (see also src/mamlviz/data/README.md):

    mamlviz train --method pretrained --iterations 20000 --outer-lr 0.003 --seed 1 --eval-every 5000 --save-model pretrained
    mamlviz train --method maml --support 5 --iterations 30000 --outer-lr 0.003 --seed 1 --eval-every 5000 --save-model maml

(meta-batch 25 tasks, 10 query points, K = 10 support points for the pretrained model and K = 5 for MAML, one inner
step at α = 0.01, Adam at 0.003, tasks resampled every update). The exact hyper-parameters of each are stored beside θ: `load_sine_metadata()`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SINE_MODELS = Path(__file__).parent / "data" / "sine_models.npz"


def load_sine_models(path=SINE_MODELS):
    """{"pretrained": θ, "maml": θ}, float64 arrays of shape (1761,) for `mamlviz.nn.MLP()`."""
    with np.load(path) as f:
        return {k: f[k].astype(float) for k in f.files if not k.endswith("_meta")}


def load_sine_metadata(path=SINE_MODELS):
    """{"pretrained": {...}, "maml": {...}}: method, seed, iterations, training hyper-parameters, command."""
    with np.load(path) as f:
        return {k[:-5]: json.loads(str(f[k])) for k in f.files if k.endswith("_meta")}


def save_model(path, name, theta, metadata):
    """Add (or replace) model `name` in the .npz file at `path`, keeping the other models there."""
    path = Path(path)
    arrays = {}
    if path.exists():
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
    arrays[name] = np.asarray(theta, dtype=np.float64)
    arrays[name + "_meta"] = np.array(json.dumps(metadata, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
