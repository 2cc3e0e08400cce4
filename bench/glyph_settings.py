"""The runs behind `mamlviz.glyphrace.CLASSIFICATION_SETTINGS`: each candidate (method:k:α:β) meta-trains the race's MLP
(`mamlviz.glyphrace`: 8 five-way 1-shot episodes an update, augmented, Adam at β) from seed 0 for 300 updates and is
measured every 100 on 500 trials of the validation alphabets (glyphtasks.VALID_SEED, never the game's), after its
own adaptation (k steps at α) and after the game's 5 steps at 0.4. Prints one line per candidate. Not a test.

    nice -n 10 .venv/bin/python bench/glyph_settings.py maml:1:0.4:0.001 maml:5:0.4:0.001 ...

(About 40 s a candidate on a busy two-core machine; the candidates and results are in src/mamlviz/data/README.md.)
"""

import sys
import time

import numpy as np

from mamlviz import glyphrace, glyphtasks, optim
from mamlviz.commands import _cached_glyph_sets
from mamlviz.train import MethodSettings

UPDATES, EVERY = 300, 100


def main(candidates):
    train, valid_gs = _cached_glyph_sets(glyphtasks.GlyphConfig())
    valid = glyphtasks.heldout_trials(valid_gs, 5, 500, seed=glyphtasks.VALID_SEED)
    model = glyphrace.Race(0, glyphrace.load_data(n_trials=1), evaluate=False).model
    for name in candidates:
        method, k, alpha, beta = name.split(":")
        own = MethodSettings(float(alpha), int(k))
        rng = np.random.default_rng(0)
        theta, opt = model.init(rng), optim.make("adam", float(beta))
        start, out = time.perf_counter(), []
        for it in range(1, UPDATES + 1):
            batch = glyphtasks.episodes(rng, train, 5, glyphrace.N_TASKS, augment=True)
            theta = opt.step(theta, glyphrace.direction(method, model, theta, batch, own)[0])
            if it % EVERY == 0:
                out.append((it, glyphrace.accuracy_after(model, theta, valid, own),
                            glyphrace.accuracy_after(model, theta, valid, glyphrace.SHARED)))
        print(name, f"{time.perf_counter() - start:.0f}s", out, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
