"""Part 1 — the few-shot game: build-time data for the `fewshot-game` widget, and the MAML machine's move.

The widget gets the whole procedurally generated glyph set (see `mamlviz.glyphs`); trials are drawn in the
browser from it with a seeded generator per round, so the page needs no server and no image data set. The MAML
machine runs in the page's worker: the game asks the headless figure `fewshot-maml` for its move on each trial.
"""

from __future__ import annotations

from . import Select, figure, widget


@widget("fewshot-game", module="fewshot-game.js")
def fewshot_game():
    """{'glyphs': [[encoded drawing per drawer] per class], 'alphabets': [...], 'modes': [5, 20], ...}."""
    from mamlviz import glyphs          # imported here: generating the set takes a few seconds, only at build time

    data = glyphs.widget_data()
    data["modes"] = [5, 20]
    data["storage_key"] = "mamlviz.fewshot.scores"
    return data


# ------------------------------------------------------------------------------------------------ the MAML machine
_MODELS = {}


def _game_models():
    """The shipped game models, loaded once per process (the worker keeps them between trials)."""
    if not _MODELS:
        from mamlviz import glyphtasks

        _MODELS.update(glyphtasks.load_models())
    return _MODELS


def _valid_glyph(text):
    """An encoded glyph as `mamlviz.glyphs.encode` writes it (anything else is refused, never decoded)."""
    from mamlviz import glyphs

    if not isinstance(text, str) or not 3 <= len(text) <= 2000 or text[0] not in glyphs.B64:
        return False
    parts = text[1:].split(" ")
    return all(len(p) >= 4 and len(p) % 2 == 0 and set(p) <= set(glyphs.B64) for p in parts)


@figure("fewshot-maml", title="The MAML machine's move in the few-shot game", controls=[
    Select("way", "Game", options={"5": "5-way", "20": "20-way"}, default="5"),
])
def fewshot_maml(state, action=None):
    """Headless (no plot): the game sends a trial's exemplars and query (`_exemplars`, `_query`, encoded glyphs);
    the meta-trained MLP for that game adapts to the exemplars (k SGD steps at α on their cross-entropy, from θ)
    and classifies the query. Returns its choice and the class probabilities before (at θ) and after (at φ)."""
    import numpy as np

    from mamlviz import glyphs, glyphtasks
    from mamlviz.nn import softmax

    way = int(state["way"])
    exemplars, query = state.get("_exemplars"), state.get("_query")
    trial = state.get("_trial")
    out = {"way": way, "trial": trial if isinstance(trial, str) and len(trial) < 100 else None,
           "choice": None, "before": [], "after": []}
    if not (isinstance(exemplars, list) and len(exemplars) == way and all(map(_valid_glyph, exemplars))
            and _valid_glyph(query)):
        out["message"] = f"The MAML machine needs {way} exemplars and a query, as encoded drawings."
        out["description"] = out["message"]
        return out
    model, theta, meta = _game_models()[str(way)]
    x = glyphtasks.features(glyphs.glyph_images(exemplars + [query]).reshape(way + 1, -1))
    lr, steps = meta["config"]["inner_lr"], meta["config"]["inner_steps"]
    phi = glyphtasks.adapt(model, theta, x[:way], np.eye(way), lr=lr, steps=steps)
    before, after = softmax(model.predict(theta, x[way:]))[0], softmax(model.predict(phi, x[way:]))[0]
    choice = int(after.argmax())
    out.update(choice=choice, before=before, after=after, steps=steps, inner_lr=lr)
    out["description"] = (f"After {steps} gradient steps on the {way} exemplars, the MAML machine gives the query "
                          f"probability {after[choice]:.0%} of matching exemplar number {choice + 1} (before adapting: "
                          f"{before[choice]:.0%}).")
    return out
