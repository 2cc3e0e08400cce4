"""Part 1 — the few-shot game: build-time data for the `fewshot-game` widget.

The widget gets the whole procedurally generated glyph set (see `mamlviz.glyphs`); trials are drawn in the
browser from it with a seeded generator per round, so the page needs no server and no image data set.
"""

from __future__ import annotations

from . import widget


@widget("fewshot-game", module="fewshot-game.js")
def fewshot_game():
    """{'glyphs': [[encoded drawing per drawer] per class], 'alphabets': [...], 'modes': [5, 20], ...}."""
    from mamlviz import glyphs          # imported here: generating the set takes a few seconds, only at build time

    data = glyphs.widget_data()
    data["modes"] = [5, 20]
    data["storage_key"] = "mamlviz.fewshot.scores"
    return data
