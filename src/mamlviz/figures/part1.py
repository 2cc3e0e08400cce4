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


def _inputs(x, way, side):
    """The game's `_x` as a (way + 1, side²) array: way exemplars then the query, pixels in [0, 1]; else None.
    `_x` is base64 of little-endian float32 values (the page's Float32Array): a quarter of the bytes of a JSON list
    of the numbers, and no number to parse on either side of the worker."""
    import base64
    import binascii

    import numpy as np

    if not isinstance(x, str) or len(x) != 4 * -(-4 * (way + 1) * side * side // 3):
        return None
    try:
        arr = np.frombuffer(base64.b64decode(x, validate=True), dtype="<f4").astype(float)
    except (binascii.Error, ValueError):
        return None
    if arr.size != (way + 1) * side * side or not (np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1):
        return None
    return arr.reshape(way + 1, side * side)


@figure("fewshot-maml", title="The MAML machine's move in the few-shot game", controls=[
    Select("way", "Game", options={"5": "5-way", "20": "20-way"}, default="5"),
])
def fewshot_maml(state, action=None):
    """Headless (no plot): the game sends a trial's drawings as the MLP reads them (`_x`: the exemplars, then the
    query, each its 28 × 28 ink image averaged over 2 × 2 blocks, 196 values, packed as float32 in base64; the game
    rasterises them, as for its pixel machines); the meta-trained MLP for that game adapts to the exemplars (k SGD steps at α on their
    cross-entropy, from θ) and classifies the query. Returns its choice and the probabilities before (θ) and after (φ)."""
    import time

    import numpy as np

    from mamlviz import glyphtasks
    from mamlviz.nn import softmax

    way = int(state["way"])
    x = _inputs(state.get("_x"), way, glyphtasks.SIDE)
    trial = state.get("_trial")
    out = {"way": way, "trial": trial if isinstance(trial, str) and len(trial) < 100 else None,
           "choice": None, "before": [], "after": []}
    if x is None:
        out["message"] = (f"The MAML machine needs {way} exemplars and a query, each as "
                          f"{glyphtasks.SIDE * glyphtasks.SIDE} pixel values between 0 and 1 (float32, base64).")
        out["description"] = out["message"]
        return out
    tic = time.perf_counter()
    model, theta, meta = _game_models()[str(way)]
    lr, steps = meta["config"]["inner_lr"], meta["config"]["inner_steps"]
    phi = glyphtasks.adapt(model, theta, x[:way], np.eye(way), lr=lr, steps=steps)
    before, after = softmax(model.predict(theta, x[way:]))[0], softmax(model.predict(phi, x[way:]))[0]
    choice = int(after.argmax())
    out.update(choice=choice, before=before, after=after, steps=steps, inner_lr=lr,
               compute_ms=round(1000 * (time.perf_counter() - tic), 1))
    out["description"] = (f"After {steps} gradient steps on the {way} exemplars, the MAML machine gives the query "
                          f"probability {after[choice]:.0%} of matching exemplar number {choice + 1} (before adapting: "
                          f"{before[choice]:.0%}).")
    return out
