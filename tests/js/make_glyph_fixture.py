"""Write tests/js/glyph_rasters.json: reference ink images from Python for the game's JavaScript (fewshot-logic.js).

    .venv/bin/python tests/js/make_glyph_fixture.py      # reproduces the committed file exactly

A few glyphs of the game's set (every alphabet, several drawers, dots and multi-stroke characters), each with
`mamlviz.glyphs.glyph_image` (the raw 28 × 28 ink image) and its blur B·img·Bᵀ (`glyphtasks.blur_matrix`), and
trials over them whose nearest exemplar (squared distance of the raw images, first on ties) numpy finds here —
chosen so that in some the nearest exemplar is not the answer, which a machine that peeks at the answer would miss.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mamlviz import glyphs, glyphtasks

OUT = Path(__file__).with_name("glyph_rasters.json")


def rounded(img):
    """The image as a flat list, 5 decimals (the JavaScript keeps float32; the tests allow 1e-4)."""
    return [0 if v == 0 else v for v in np.round(img, 5).ravel().tolist()]


def main():
    data = glyphs.widget_data()
    rng = np.random.default_rng(13)
    B = glyphtasks.blur_matrix()
    # one class of each of the 10 alphabets, 3 drawers each: 30 glyphs
    classes = [a["start"] + int(rng.integers(a["count"])) for a in data["alphabets"]]
    drawers = sorted(int(d) for d in rng.choice(data["n_drawers"], 3, replace=False))
    texts = [[data["glyphs"][c][d] for d in drawers] for c in classes]
    raw = [[glyphs.glyph_image(t) for t in row] for row in texts]
    trials = []
    for _ in range(400):
        way = 5
        cls = [int(c) for c in rng.choice(len(classes), way, replace=False)]
        drw = [int(d) for d in rng.choice(len(drawers), way)]
        answer = int(rng.integers(way))
        query = int(rng.choice([d for d in range(len(drawers)) if d != drw[answer]]))
        q = raw[cls[answer]][query].ravel()
        dist = [float(((q - raw[c][d].ravel()) ** 2).sum()) for c, d in zip(cls, drw)]
        nearest = int(np.argmin(dist))
        trials.append({"classes": cls, "drawers": drw, "answer": answer, "queryDrawer": query, "nearest": nearest})
    wrong = [t for t in trials if t["nearest"] != t["answer"]][:6]
    right = [t for t in trials if t["nearest"] == t["answer"]][:6]
    fixture = {
        "made_by": "tests/js/make_glyph_fixture.py",
        "texts": texts,
        "raw": [[rounded(img) for img in row] for row in raw],
        "blurred": [[rounded(B @ img @ B.T) for img in row[:1]] for row in raw[:4]],   # a few: blurs are dense
        "trials": wrong + right,
    }
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
