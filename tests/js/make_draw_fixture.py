"""Write tests/js/draw_strokes.json: the generator's own strokes of some game glyphs, for the drawing panel's input
code (fewshot-logic.js `placeDrawing`, `quantiseStrokes`, `encodeGlyph`).

    .venv/bin/python tests/js/make_draw_fixture.py      # reproduces the committed file exactly

Each glyph: the strokes `mamlviz.glyphs.draw` made (before quantising; floats as Python prints them, which
JavaScript reads back to the same doubles), the pen width, and the glyph text the game shows (`widget_data`).
With them, the panel's `placement` and `width_code` (`mamlviz.figures.part1.drawing_norms`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mamlviz import glyphs
from mamlviz.figures import part1

OUT = Path(__file__).with_name("draw_strokes.json")


def main():
    data = glyphs.generate()
    hands = glyphs._drawer_hands(data["seed"], data["n_drawers"])
    rng = np.random.default_rng(23)
    picks = [(int(c), int(d)) for c, d in zip(rng.integers(data["n_classes"], size=30), rng.integers(20, size=30))]
    out = []
    for c, d in picks:
        cls = data["classes"][c]
        rng_cd = np.random.default_rng([data["seed"], 2, c, d])          # the generator's own stream for (c, d)
        strokes, width = glyphs.draw(cls["template"], cls["rounded"], hands[d], rng_cd)
        assert glyphs.encode(*glyphs.quantise(strokes, width)) == data["glyphs"][c][d]
        out.append({"class": c, "drawer": d, "strokes": [s.tolist() for s in strokes], "width": float(width),
                    "text": data["glyphs"][c][d]})
    fixture = {"made_by": "tests/js/make_draw_fixture.py", **part1.drawing_norms(glyphs.widget_data()), "glyphs": out}
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
