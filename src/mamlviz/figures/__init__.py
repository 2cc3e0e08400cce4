"""The figure registry: figures are pure functions from state to scene (see docs/architecture.md).

The site build calls `run` natively for the default state (the first frame embedded in the page); the
Web Worker calls the very same `run` on every interaction. Nothing here imports anything but NumPy and the
standard library, so it runs unchanged in Pyodide.

    @figure("demo-descent", title="…", controls=[Slider(...), Handle(...)])
    def demo(state, action=None):
        return {"panels": [...], "readouts": [...], "description": "…"}

State validation lives here, once: numbers are clamped to their control's range, unknown keys are dropped,
malformed values fall back to the default. URL garbage is therefore harmless whichever way it arrives.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

FIGURES: dict[str, "Figure"] = {}
WIDGETS: dict[str, "Widget"] = {}
# Objects that survive between requests (a paused trainer), keyed by figure id; a Reset action drops them.
sessions: dict[str, Any] = {}
# Trained models handed between workers, by name (see `publish`): what this process knows of each.
trained: dict[str, Any] = {}
_published: dict[str, Any] = {}  # published here since the runtime last took them


# --------------------------------------------------------------------------------------------- controls
@dataclass
class Control:
    name: str
    label: str
    # Controls with the same group are shown together, collapsed (a method's settings): a toggle of the group stays
    # visible beside its summary, the other controls fold away. Only how the page lays them out; the state is flat.
    group: str = field(default="", kw_only=True)

    kind = "control"

    def spec(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "group" or v}
        d["kind"] = self.kind
        return _jsonable(d)

    def validate(self, value):  # returns the cleaned value, or raises ValueError
        return value


@dataclass
class Slider(Control):
    min: float = 0.0
    max: float = 1.0
    step: float = 0.01
    default: float = 0.0
    integer: bool = False
    kind = "slider"

    def __post_init__(self):
        if not self.min <= self.default <= self.max:
            raise ValueError(f"slider {self.name}: default {self.default} outside [{self.min}, {self.max}]")
        self.integer = self.integer or all(float(v).is_integer() for v in (self.min, self.max, self.step))

    def validate(self, value):
        v = _number(value)
        v = min(max(v, self.min), self.max)
        return int(round(v)) if self.integer else v


@dataclass
class Select(Control):
    options: dict = field(default_factory=dict)  # value -> label, in display order
    default: str = ""
    kind = "select"

    def __post_init__(self):
        if self.default not in self.options:
            raise ValueError(f"select {self.name}: default {self.default!r} not among its options")

    def validate(self, value):
        if str(value) not in self.options:
            raise ValueError(value)
        return str(value)


@dataclass
class Toggle(Control):
    default: bool = False
    kind = "toggle"

    def validate(self, value):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)


@dataclass
class Button(Control):
    kind = "button"
    default: None = None


def training_buttons(*extra: Button) -> list[Button]:
    """Start, Pause, any extra buttons, then Reset: the buttons of every training figure, in one order."""
    return [Button("start", "Start"), Button("pause", "Pause"), *extra, Button("reset", "Reset")]


@dataclass
class Handle(Control):
    """A draggable point on panel `panel`; arrow keys move it by `step` (Shift: ×10)."""

    panel: int = 0
    default: tuple = (0.5, 0.5)
    bounds: tuple = ((0.0, 1.0), (0.0, 1.0))
    step: float = 0.01
    css: str = "theta"
    kind = "handle"

    def validate(self, value):
        x, y = (_number(v) for v in value)
        (x0, x1), (y0, y1) = self.bounds
        return [min(max(x, x0), x1), min(max(y, y0), y1)]


@dataclass
class Points(Control):
    """Points the reader places on panel `panel` (click/tap or keyboard crosshair)."""

    panel: int = 0
    default: tuple = ()
    max_points: int = 20
    bounds: tuple | None = None  # defaults to the panel's limits in the browser
    step: float | None = None  # keyboard crosshair step; defaults to 1/40 of the panel
    css: str = "support"
    kind = "points"

    def validate(self, value):
        pts = []
        for p in value:
            x, y = (_number(v) for v in p)
            if self.bounds:
                (x0, x1), (y0, y1) = self.bounds
                x, y = min(max(x, x0), x1), min(max(y, y0), y1)
            pts.append([x, y])
        return pts[: self.max_points]


def _number(v) -> float:
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(v)
    return v


# --------------------------------------------------------------------------------------------- registry
@dataclass
class Figure:
    id: str
    title: str
    controls: list
    fn: Callable
    training: bool = False  # long jobs: the page runs it in a training worker of its own
    module: str = ""  # the figure module that registers it (the worker imports only the modules a page uses)
    refine: bool = False  # slow: answer coarse at once (fn(..., coarse=True)), refine when the reader pauses

    def default_state(self) -> dict:
        return {c.name: _jsonable(c.default) for c in self.controls if c.kind != "button"}

    def validate(self, state: dict | None) -> dict:
        """Default state overlaid by the valid entries of `state`; unknown keys and bad values are dropped.

        Keys a figure put into the state itself (through a scene's "state") are kept if JSON-able.
        """
        clean = self.default_state()
        by_name = {c.name: c for c in self.controls}
        for key, value in (state or {}).items():
            c = by_name.get(key)
            if c is None:
                if key.startswith("_"):  # figure-owned keys are prefixed with "_"
                    clean[key] = value
                continue
            if c.kind == "button":
                continue
            try:
                clean[key] = c.validate(value)
            except (TypeError, ValueError):
                pass
        return clean

    def spec(self) -> dict:
        return {"id": self.id, "title": self.title, "controls": [c.spec() for c in self.controls],
                "training": self.training, "module": self.module}


@dataclass
class Widget:
    id: str
    module: str
    fn: Callable


def figure(figure_id: str, *, title: str, controls=(), training: bool = False, refine: bool = False):
    """Register `fn(state, action)` as figure `figure_id`. `training=True`: its requests run long (a training loop
    streaming frames), so the page gives it a worker of its own and the other figures keep answering meanwhile.
    `refine=True`: the full answer takes longer than a frame; `fn(state, action, coarse=True)` gives a quicker coarse
    one (fewer grid points or steps, checks left out) that agrees with the full one where they overlap. The worker
    draws the coarse answer first and computes the full one only once the reader pauses (`Call`); a coarse scene
    flagged "complete": True left nothing out, and is the answer."""

    def register(fn):
        if figure_id in FIGURES and FIGURES[figure_id].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"figure id {figure_id!r} registered twice")
        module = fn.__module__.rpartition(".")[2] if fn.__module__.startswith(__name__ + ".") else ""
        FIGURES[figure_id] = Figure(figure_id, title, list(controls), fn, training, module, refine)
        fn.figure_id = figure_id
        return fn

    return register


def widget(widget_id: str, *, module: str | None = None):
    """Register a build-time data function for `[[widget ID]]`; its JS lives in assets/js/widgets/<module>."""

    def register(fn):
        WIDGETS[widget_id] = Widget(widget_id, module or f"{widget_id}.js", fn)
        return fn

    return register


def load_all() -> None:
    """Import every figure module of this package (each registers its figures)."""
    for name in figure_modules():
        importlib.import_module(f"{__name__}.{name}")


def figure_modules() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]


def load(names) -> None:
    """Import the named figure modules only (a page needs its own; the worker imports them lazily).
    Names that are not figure modules of this package are ignored: the page cannot make it import anything else."""
    known = set(figure_modules())
    for name in names:
        if name in known:
            importlib.import_module(f"{__name__}.{name}")


# --------------------------------------------------------------------------------------------- trained models
def publish(name: str, value) -> None:
    """A training figure offers a trained model (JSON-able, or None when it is gone, e.g. after a reset).

    Figures in this process see it at once in `trained[name]`; in the browser the runtime takes it from the training
    worker (`take_published`) and hands it to the other workers (`receive`), so that e.g. Part 3's sine fit uses the
    models that the lab trains in a worker of its own."""
    trained[name] = _jsonable(value)
    _published[name] = trained[name]


def take_published() -> str:
    """JSON text {name: model} of what was published since the last call, or "" (the worker polls after each chunk)."""
    if not _published:
        return ""
    text = json.dumps(_published, allow_nan=False)
    _published.clear()
    return text


def receive(name: str, value_json: str) -> None:
    """A model published in another worker arrives here."""
    trained[name] = json.loads(value_json)


# --------------------------------------------------------------------------------------------- running
def run(figure_id: str, state: dict | None = None, action: str | None = None, coarse: bool = False):
    """Validate `state` and call the figure. Returns a JSON-able scene, or a generator of them (streaming).
    `coarse=True` asks a figure declared with refine=True for its quick coarse answer (others ignore it)."""
    fig = FIGURES.get(figure_id)
    if fig is None:
        raise KeyError(f"unknown figure {figure_id!r}")
    buttons = {c.name for c in fig.controls if c.kind == "button"}
    if action is not None and action not in buttons:
        action = None
    if coarse and fig.refine:
        result = fig.fn(fig.validate(state), action, coarse=True)
    else:
        result = fig.fn(fig.validate(state), action)
    if isinstance(result, types.GeneratorType):
        return (_jsonable(scene) for scene in result)
    return _jsonable(result)


def first_frame(figure_id: str, state: dict | None = None) -> dict:
    """The first scene for `state` (for a streaming figure: its first yielded scene)."""
    result = run(figure_id, state)
    if isinstance(result, types.GeneratorType):
        scene = next(result)
        result.close()
        return scene
    return result


class Call:
    """One worker request: `step()` returns the next scene as JSON text with a done flag, or "" when finished.

    `module` names the figure module to import first if the figure is not registered yet (every module if empty).
    A figure declared with refine=True answers twice: its coarse scene first (flagged "rest": the worker runs the
    next step only once no newer request came for a moment), then the full one."""

    def __init__(self, figure_id: str, state_json: str, action: str | None, module: str = ""):
        if figure_id not in FIGURES:
            load([module]) if module else load_all()
        args = (figure_id, json.loads(state_json or "{}"), action or None)
        refine = figure_id in FIGURES and FIGURES[figure_id].refine   # an unknown id: run() says so
        self.coarse = run(*args, coarse=True) if refine else None
        self.result = None if self.coarse is not None else run(*args)
        self.args = args
        self.finished = False

    def step(self) -> str:
        if self.finished:
            return ""
        if self.coarse is not None:
            scene, self.coarse = self.coarse, None
            if scene.pop("complete", False):   # the coarse answer left nothing out (all it needed was cached)
                self.finished = True
                return json.dumps({"scene": scene, "done": True}, allow_nan=False)
            return json.dumps({"scene": scene, "done": False, "rest": True}, allow_nan=False)
        if self.result is None:
            self.result = run(*self.args)
        if not isinstance(self.result, types.GeneratorType):
            self.finished = True
            return json.dumps({"scene": self.result, "done": True}, allow_nan=False)
        try:
            scene = next(self.result)
        except StopIteration:
            self.finished = True
            return json.dumps({"scene": None, "done": True})
        return json.dumps({"scene": scene, "done": False}, allow_nan=False)

    def close(self) -> None:
        if isinstance(self.result, types.GeneratorType):
            self.result.close()
        self.finished = True


def _jsonable(obj):
    """NumPy arrays and scalars to lists and floats; NaN/inf to None (JSON has neither)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "fiub":   # a heat map: no Python loop over its numbers
        finite = np.isfinite(obj)
        if finite.all():
            return obj.tolist()
        out = obj.astype(object)
        out[~finite] = None
        return out.tolist()
    if hasattr(obj, "tolist"):  # numpy array or scalar
        return _jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj
