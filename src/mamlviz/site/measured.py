"""Measured numbers in the text: `{{measured:KEY}}` or `{{measured:KEY:FORMAT}}` → a value of
src/mamlviz/data/measured.json (written by bench/measured.py), formatted with Python's format spec; keys under
`code.` are computed from the code at build time instead (settings, parameter counts, closed forms: `computed`).

KEY is a dotted path into the file (`browser.ms_per_update.maml`, `browser.cost_load.0`; list items by index), so a
new run of the benchmark updates every number the text prints at the next build. A key the file lacks (or a missing
file) is printed as "(not measured)" and listed in `MeasuredExtension.missing`, not an error: the benchmark builds
the site before it has measured anything. tests/site/test_content.py requires every key of the text to be there.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import math
import re
import textwrap
from functools import cache
from pathlib import Path

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

import mamlviz
from mamlviz.stats import verdict

DATA = Path(mamlviz.__file__).parent / "data" / "measured.json"
# Other recorded runs, each under its own first key: {{measured:glyph_race.median.maml.own.-1:.1%}} reads
# data/glyph_race.json (bench/glyph_race.py).
FILES = {"glyph_race": DATA.parent / "glyph_race.json"}
PATTERN = re.compile(r"\{\{measured:([\w.\-]+)(?::([^}]*))?\}\}")


class MeasuredError(KeyError):
    pass


class NotMeasured(MeasuredError):
    """The file lacks the key (or the file is missing): not measured yet."""


def lookup(data, key: str):
    value = {**data, "code": computed()} if key.startswith("code.") else data
    for part in key.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise NotMeasured(f"no measured value {key!r} in {DATA.name} (run bench/measured.py)") from None
    return value


def significant(value: float, digits: int) -> str:
    """`value` to `digits` significant figures, never in exponent form: 0.0123 → 0.012, 7173 → 7,200."""
    if value == 0 or not math.isfinite(value):
        return format(value, "g")
    exponent = math.floor(math.log10(abs(value)))
    decimals = max(digits - 1 - exponent, 0)
    return format(round(value, digits - 1 - exponent), f",.{decimals}f")


# `{{measured:KEY:than}}` on a paired difference a − b (`mamlviz.stats.paired`): how a compares with b
THAN = {"higher": "higher than", "lower": "lower than", "level": "not shown to differ from"}


def render(data, key: str, spec: str | None) -> str:
    """The value of `key`, formatted by `spec`: a Python format spec, `Nsig` (N significant figures), or `than` (a
    paired difference worded from its 95 % interval: "higher than", "lower than", "not shown to differ from")."""
    value = lookup(data, key)
    if spec == "than" and isinstance(value, dict) and {"lo", "hi"} <= value.keys():
        return THAN[verdict(value)]   # a comparison worded from its interval
    if isinstance(value, (dict, list)):
        raise MeasuredError(f"measured value {key!r} is not a number or text")
    if spec and spec.endswith("sig") and isinstance(value, (int, float)):
        text = significant(float(value), int(spec[:-3]))
    else:
        text = format(value, spec or "")
    return text.replace("-", "−") if isinstance(value, (int, float)) else text   # a typographic minus in numbers


class MeasuredPreprocessor(Preprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        return [PATTERN.sub(self.sub, line) for line in lines]

    def sub(self, m):
        try:
            return render(self.ext.data(), m.group(1), m.group(2))
        except NotMeasured:
            self.ext.missing.append(m.group(1))
            return "(not measured)"


class MeasuredExtension(Extension):
    def __init__(self, path: Path = DATA, **kwargs):
        super().__init__(**kwargs)
        self.path = Path(path)
        self._data = None
        self.missing: list[str] = []

    def data(self):
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise NotMeasured(f"{self.path} is missing or unreadable (run bench/measured.py)") from None
            for key, path in FILES.items():
                if path.exists():
                    self._data[key] = json.loads(path.read_text(encoding="utf-8"))
                    # its code version, beside measured.json's own (`stale`)
                    self._data.setdefault("versions", {}).update(self._data[key].get("versions", {}))
        return self._data

    def extendMarkdown(self, md):
        md.preprocessors.register(MeasuredPreprocessor(md, self), "measured", 35)   # before maths (21)


# ------------------------------------------------------------------------------------------ computed at build time

@cache
def computed():
    """Numbers the build computes from the code (cheap, a second or two): the text's `{{measured:code.…}}`. Settings
    come from where the code keeps them, so a changed default changes the text."""
    import math

    import numpy as np

    from mamlviz import sine
    from mamlviz.figures import part4, part8, part8_glyphs, part9
    from mamlviz.nn import MLP
    from mamlviz.train import METHOD_SETTINGS, TrainConfig

    d = MLP().size
    lo, hi = sine.X_RANGE
    theta, batch = part4.cost_batch()
    # Part 4: kB kept per task for the backward pass on its cost figure's batch, at k = 1, 5 and 10
    kept = {m: {str(k): part4.measure_method(m, k, theta, batch, repeats=1)[1] / 1000 for k in (1, 5, 10)}
            for m in ("maml", "fomaml", "reptile", "imaml")}
    return {
        "settings": {m: s.to_dict() for m, s in METHOD_SETTINGS.items()},   # Part 7's table, compare_methods
        "train": TrainConfig().to_dict(),
        "race": {m: part8.race_config(m).for_method(m).to_dict() for m in part8.RACERS},
        "race_shared_lr": part8.SHARED_LR,
        "glyph_race_eval_every": part8_glyphs.EVAL_EVERY,      # Part 8's classification race in the page
        "sine_params": d,
        "sine": {   # Part 3's closed forms: the mean task −(2 E[A]/π) cos x; the flat line's MSE, largest over ψ
            "mean_slope": 2 * np.mean(sine.AMPLITUDE) / math.pi,
            "flat_mse_max": sine.AMPLITUDE[1] ** 2 * (0.5 + abs(math.sin(hi - lo)) / (2 * (hi - lo))),
            "amplitude_max": sine.AMPLITUDE[1],
        },
        "jacobian": {"entries_million": d * d / 1e6, "megabytes": d * d * 8 / 1e6, "kb_per_copy": d * 8 / 1e3},
        "kept_kb_per_task": {m: part9.kept_per_task(m) / 1000 for m in part8.RACERS},
        "cost_kept_kb": kept,
        "cost_kept_kb_maml_per_step": (kept["maml"]["10"] - kept["maml"]["1"]) / 9,
        "cost_hmax": _cost_hmax(),
        "part5": _part5_start(),
        **_toy_numbers(),
    }


def _cost_hmax(others=20):
    """Part 4: the largest support-Hessian eigenvalue h_max over the cost figure's tasks at its θ, and its range over
    `others` other seeds' initialisations and batches (Part 5's Lanczos; a second for all)."""
    from mamlviz.figures import part4, part5

    top = lambda seed: float(part5.top_curvature(*part4.cost_batch(seed)).max())
    rest = [top(s) for s in range(others + 1) if s != part4.COST_SEED][:others]
    return {"figure": top(part4.COST_SEED), "others_min": min(rest), "others_max": max(rest), "others": len(rest)}


def _part5_start():
    """Part 5 at the initialisation of the MAML-vs-FOMAML figure (seed 0) on its fixed batch: the two meta-gradients'
    cosine and dropped term, the support Hessians' extreme eigenvalues (Lanczos), the held-out MSE after one step."""
    import numpy as np

    from mamlviz.figures import part5
    from mamlviz.lanczos import lanczos
    from mamlviz.train import MetaTrainer

    batch = part5.fixed_batch()
    theta = part5.MLP_MODEL.init(np.random.default_rng(0))    # = MetaTrainer's θ₀ for seed 0
    _, _, hvp = part5.MLP_MODEL.linearize(theta, batch.xs, batch.ys)
    v0 = np.random.default_rng(0).standard_normal((batch.xs.shape[0], part5.MLP_MODEL.size))
    ritz = lanczos(hvp, v0, part5.LANCZOS_STEPS)
    out = {"top": float(ritz[:, 0].max()), "bottom": float(ritz[:, -1].min())}
    for key, alpha in (("default", 0.01), ("small_alpha", 0.001)):
        cos, dropped = part5.compare_directions(theta, batch, alpha, 1)
        trainer = MetaTrainer("maml", part5.MLP_MODEL, part5._config({"alpha": alpha, "k": 1}), seed=0)
        out[key] = {"alpha": alpha, "cos": cos, "dropped": dropped, "alpha_top": alpha * out["top"],
                           "mse_one_step": float(trainer.evaluate()["median"][1])}
    return out


def _toy_numbers():
    """The two-parameter examples of Parts 6–8, computed as their figures compute them."""
    import numpy as np

    from mamlviz import figures
    from mamlviz.figures import part6, part7, part8  # noqa: F401 (part7 registers the figure run below)

    four = part6.softplus_tasks(part6.FOUR_TASKS, 0)

    def reptile_fixed_point(alpha, k, n=600):
        theta = np.array([0.3, 0.3])
        for _ in range(n):
            theta = part6.reptile_update(four, theta, alpha, k, 1.0)[3]
        return theta.tolist()

    out = {"reptile": {"optima": np.mean(part6.FOUR_TASKS, axis=0).tolist(),
                       "joint": part6.joint_minimum(four).tolist(),
                       "fixed_k10_a007": reptile_fixed_point(0.07, 10)}}
    # Part 7: the eigenvalues of I + H/λ the gradient figure reports at λ = 0.01, no inner steps, θ = (0.45, 0.45)
    scene = figures.run("imaml-gradient", {"log_lam": -2, "steps": 0, "theta": [0.45, 0.45]})
    eig = [r["value"] for r in scene["readouts"] if r["label"].startswith("eigenvalues of I + H/λ")]
    out["imaml_example"] = {"eig_min": eig[0], "eig_max": eig[1]}
    # Part 8: where iMAML ends in the trajectories figure with λ = 0.5, k = 10 after 80 updates (other settings default)
    state = figures.FIGURES["trajectories"].validate({"lam": 0.5, "k": 10, "updates": 80})
    imaml = {"path": [np.array(state["theta"], dtype=float)], "why": None}
    part8._advance({"imaml": imaml}, part8.four_tasks(0), state, int(state["updates"]))
    out["trajectories"] = {"imaml_lam05_k10": imaml["path"][-1].tolist()}
    return out


# ------------------------------------------------------------------------------------- which code wrote the data

CORE = ["mamlviz.nn", "mamlviz.meta", "mamlviz.fused", "mamlviz.cg", "mamlviz.optim", "mamlviz.sine", "mamlviz.train"]
# what each section of measured.json depends on: modules, module:function, or files under src/mamlviz
SOURCES = {
    "cost": CORE + ["mamlviz.figures.part9:time_rounds", "mamlviz.figures.part9:kept_per_task",
                    "mamlviz.train:race_config", "mamlviz.train:RACE_SETTINGS"],
    "race": CORE + ["mamlviz.train:race_config", "mamlviz.train:RACE_SETTINGS",
                    "mamlviz.figures.part8:held_out", "mamlviz.figures.part8:new_race",
                    "mamlviz.figures.part8:race_round"],
    "methods": CORE,
    "part5": CORE + ["mamlviz.lanczos", "mamlviz.figures.part5:_config", "mamlviz.figures.part5:fixed_batch",
                     "mamlviz.figures.part5:compare_directions", "mamlviz.figures.part5:top_curvature"],
    "game": ["mamlviz.nn", "mamlviz.meta", "mamlviz.glyphs", "mamlviz.glyphtasks", "data/glyph_models.npz"],
    # data/glyph_race.json (bench/glyph_race.py): the race, its updates, episodes, held-out trials and summary
    "glyph_race": ["mamlviz.glyphrace", "mamlviz.fused_xent", "mamlviz.nn", "mamlviz.meta:task_mean",
                   "mamlviz.optim", "mamlviz.stats", "mamlviz.glyphtasks:episodes", "mamlviz.glyphtasks:_pick",
                   "mamlviz.glyphtasks:_augment", "mamlviz.glyphtasks:heldout_trials",
                   "mamlviz.glyphtasks:HELDOUT_ACCURACY", "data/glyph_race_data.npz"],
}
# How to bring a stale section up to date (default: `bench/measured.py --what SECTION`)
REMEDY = {"glyph_race": "nice -n 10 python bench/glyph_race.py with the arguments of the command recorded in "
                        "glyph_race.json (or bench/glyph_race.py --verify to recompute seed 0 and restamp if equal)"}


def _source_bytes(name):
    import importlib

    import mamlviz

    if "/" in name:
        return (Path(mamlviz.__file__).parent / name).read_bytes()
    module, _, attr = name.partition(":")
    mod = importlib.import_module(module)
    if not attr:
        return _code(inspect.getsource(mod))
    obj = getattr(mod, attr)
    if callable(obj):
        return _code(textwrap.dedent(inspect.getsource(obj)))
    return json.dumps(obj, sort_keys=True, default=str).encode()


def _code(source):
    """The code of `source` without its comments, docstrings and layout (its syntax tree): what computes."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def fingerprint(section: str) -> str:
    """A short hash of the code (and data) a section of measured.json depends on: the data is stale when it
    differs from the one recorded with it (`versions.SECTION.code`). Comments and docstrings do not count."""
    h = hashlib.sha256()
    for name in SOURCES[section]:
        h.update(name.encode() + b"\0" + _source_bytes(name) + b"\0")
    return h.hexdigest()[:16]


def sections_of(key: str) -> list[str]:
    """The sections of measured.json (keys of its `versions`) that a key's value depends on; [] for a description
    of the machine or a number computed at build time."""
    parts = key.split(".")
    if parts[0] in ("game", "methods", "part5", "glyph_race"):
        return [parts[0]]
    if parts[0] in ("native", "browser") and len(parts) > 1:
        if parts[1] in ("ms_per_update", "cost_load", "cost_date"):
            return [f"{parts[0]}.cost"]
        if parts[1] == "spread_same":
            return ["native.race", "browser.race"]
        if parts[1] in ("race", "spread", "paired", "race_load", "race_date"):
            return [f"{parts[0]}.race"]
    if parts[0] in ("cost_rounds", "kept_kb_per_task"):
        return ["native.cost"]
    if parts[0] in ("budget", "race_settings", "agreement"):
        return ["native.race", "browser.race"]
    return []


def stale(keys, data) -> list[str]:
    """Why each of `keys` (as the text uses them) is stale: its section of `data` was measured by other code than
    the code now (or records no version at all). [] when every key is current."""
    versions, out = data.get("versions", {}), []
    for key in sorted(keys):
        for section in sections_of(key):
            recorded = versions.get(section, {}).get("code")
            name = section.split(".")[-1]
            current = fingerprint(name)
            if recorded != current:
                remedy = REMEDY.get(name, f"bench/measured.py --what {name}")
                out.append(f"{key}: section {section} was measured by code {recorded}, the code is now {current} "
                           f"(rerun {remedy})")
    return out


def fill(text: str, data=None) -> str:
    """`text` with every placeholder replaced by its value, as the build prints it (for tests that read the text)."""
    data = MeasuredExtension().data() if data is None else data     # measured.json with the other recorded runs
    return PATTERN.sub(lambda m: render(data, m.group(1), m.group(2)), text)
