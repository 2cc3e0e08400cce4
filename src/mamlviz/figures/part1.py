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


@widget("fewshot-draw", module="fewshot-draw.js")
def fewshot_draw_panel():
    """The panel "Teach the machines your own characters": how a reader's drawing is placed and inked like the
    game's (`placement`, `width_code`: `drawing_norms`). The game's characters come from the game's own data."""
    from mamlviz import glyphs

    return {**drawing_norms(glyphs.widget_data()), "ways": [2, 3, 4, 5], "max_queries": MAX_QUERIES}


def drawing_norms(data):
    """What a reader's drawing must look like to be read as the game's drawings are, from the game's own drawings:
    the range (1st to 99th percentile) of their longer side and of their centre (both axes), in the unit box, and
    the median pen width code (see `glyphs.quantise`)."""
    import numpy as np

    from mamlviz import glyphs

    sizes, centres, widths = [], [], []
    for row in data["glyphs"]:
        for text in row:
            strokes, _ = glyphs.decode(text)
            pts = np.vstack(strokes) / (glyphs.GRID - 1)
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            sizes.append((hi - lo).max())
            centres.extend((lo + hi) / 2)
            widths.append(glyphs.B64.index(text[0]))
    rng = (lambda v: [round(float(np.percentile(v, 1)), 3), round(float(np.percentile(v, 99)), 3)])
    return {"placement": {"size": rng(sizes), "centre": rng(centres)}, "width_code": int(np.median(widths))}


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


# ------------------------------------------------------------------------------------ the reader's own characters
MAX_QUERIES = 3


def _rows(x, side, max_rows):
    """`_x` (base64 of float32, as the game sends) as a (rows, side²) array of pixels in [0, 1]; else None."""
    import base64
    import binascii

    import numpy as np

    if not isinstance(x, str) or len(x) > 4 * -(-4 * max_rows * side * side // 3):
        return None
    try:
        arr = np.frombuffer(base64.b64decode(x, validate=True), dtype="<f4").astype(float)
    except (binascii.Error, ValueError):
        return None
    if arr.size == 0 or arr.size % (side * side) or not (np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1):
        return None
    return arr.reshape(-1, side * side)


@figure("fewshot-draw", title="The MAML machine learns the reader's own characters", controls=[
    Select("n", "Characters", options={str(n): f"{n} characters" for n in range(2, 6)}, default="3"),
])
def fewshot_draw(state, action=None):
    """Headless (no plot): the panel "Teach the machines your own characters" sends `_x`, n exemplars (one per
    character) and then 1–3 queries, each as the MLP reads it (the 14 × 14 block means of the 28 × 28 ink image,
    float32 in base64, as the game's `_x`). The game's 5-way machine, its unused outputs masked when n < 5
    (`glyphtasks.first_outputs`), takes 5 SGD steps at α = 0.4 on the exemplars' cross-entropy; returns the queries'
    class probabilities after each step 0..5 (`steps`, (6, Q, n)) and its choice for each query."""
    import time

    from mamlviz import glyphtasks

    n = int(state["n"])
    x = _rows(state.get("_x"), glyphtasks.SIDE, n + MAX_QUERIES)
    tag = state.get("_tag")
    out = {"n": n, "tag": tag if isinstance(tag, str) and len(tag) < 100 else None, "steps": [], "choice": []}
    if x is None or not n < len(x) <= n + MAX_QUERIES:
        out["message"] = (f"The MAML machine needs {n} examples (one per character) and then 1 to {MAX_QUERIES} "
                          f"queries, each as {glyphtasks.SIDE ** 2} pixel values between 0 and 1 (float32, base64).")
        out["description"] = out["message"]
        return out
    tic = time.perf_counter()
    model, theta, meta = _game_models()["5"]
    lr, steps = meta["config"]["inner_lr"], meta["config"]["inner_steps"]
    small, theta_n = glyphtasks.first_outputs(model, theta, n)
    probs = glyphtasks.adaptation_path(small, theta_n, x[:n], x[n:], lr=lr, steps=steps)
    choice = [int(c) for c in probs[-1].argmax(-1)]
    out.update(steps=probs, choice=choice, inner_lr=lr, inner_steps=steps, masked=model.sizes[-1] - n,
               compute_ms=round(1000 * (time.perf_counter() - tic), 1))
    out["description"] = " ".join(
        f"Query {q + 1}: after {steps} gradient steps on your {n} examples the MAML machine gives example "
        f"{c + 1} probability {probs[-1, q, c]:.0%} (before adapting: {probs[0, q, c]:.0%})."
        for q, c in enumerate(choice))
    return out
