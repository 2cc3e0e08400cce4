"""`[[figure ID]]` and `[[widget ID]]`: two small Markdown extensions that emit a figure or widget container.

A figure container embeds its declaration (controls, default state) and its first frame — the scene computed
natively at build time — as JSON; the browser draws that frame at once and the worker takes over later.
A widget container embeds its build-time data (or the URL of `data/ID.json` when large) and names its module.
"""

from __future__ import annotations

import html
import json
import re

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from mamlviz import figures

from .frames import MARKER

# Any id is captured (not only [\w-]+), so that a mistyped one stops the build as unknown instead of printing.
FIGURE_LINE = re.compile(r"^\[\[figure(?:\s+(.*?))?\s*\]\]\s*$")
WIDGET_LINE = re.compile(r"^\[\[widget(?:\s+(.*?))?\s*\]\]\s*$")
LARGE = 64_000  # bytes of JSON above which widget data goes to its own file


class PlaceholderError(LookupError):
    pass


def script_json(obj) -> str:
    """JSON safe inside <script>: no `</` sequences."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def panel_specs(scene: dict) -> dict:
    """What the page needs of the first frame besides its drawing (already in the HTML): each panel's axes."""
    return {"panels": [{k: v for k, v in p.items() if k != "layers"} for p in scene["panels"]]}


def figure_html(figure_id: str, number: int) -> tuple[str, dict]:
    """The figure's container with a marker where its drawn first frame goes, and the item to draw there."""
    fig = figures.FIGURES.get(figure_id)
    if fig is None:
        raise PlaceholderError(f"unknown figure {figure_id!r}")
    state = fig.default_state()
    scene = figures.first_frame(figure_id, state)
    spec = fig.spec()
    data = {**spec, "state": state, "scene": panel_specs(scene)}
    e = html.escape(figure_id)
    token = f"{figure_id}-{number}"
    item = {"id": figure_id, "scene": scene, "controls": spec["controls"], "state": state}
    return (f'<figure class="figure" id="fig-{e}" data-figure="{e}" data-status="static">'
            f'<script type="application/json" class="figure-data">{script_json(data)}</script>'
            f'{MARKER.format(token)}'
            f'<figcaption><span class="figure-number">Figure {number}.</span> {html.escape(fig.title)}'
            f'</figcaption><noscript><p class="figure-note">The first frame, drawn when the page was built: '
            f'with JavaScript the figure computes live.</p></noscript></figure>'), {token: item}


class _LinePreprocessor(Preprocessor):
    """Replaces each line that is a placeholder of `ext` by the HTML it renders to (stashed: Markdown keeps it)."""

    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        out = []
        for line in lines:
            m = self.ext.LINE.match(line)
            if m:
                item_id = m.group(1) or ""
                self.ext.used.append(item_id)
                out += ["", self.md.htmlStash.store(self.ext.render(item_id)), ""]
            else:
                out.append(line)
        return out


class _LinePlaceholderExtension(Extension):
    """A `[[kind ID]]` line placeholder; `used` lists the ids in order of appearance on the page."""

    LINE: re.Pattern
    NAME: str

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.used: list[str] = []

    def render(self, item_id: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.preprocessors.register(_LinePreprocessor(md, self), self.NAME, 23)

    def reset(self):
        self.used = []


class FigureExtension(_LinePlaceholderExtension):
    LINE, NAME = FIGURE_LINE, "figures"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.frames: dict[str, dict] = {}  # marker token → first frame to draw (frames.fill), for this page

    def render(self, figure_id: str) -> str:
        text, frame = figure_html(figure_id, len(self.used))
        self.frames.update(frame)
        return text

    def reset(self):
        super().reset()
        self.frames = {}


class WidgetExtension(_LinePlaceholderExtension):
    LINE, NAME = WIDGET_LINE, "widgets"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.data_files: dict[str, str] = {}  # site-relative path → JSON text, written by the build

    def render(self, widget_id: str) -> str:
        w = figures.WIDGETS.get(widget_id)
        if w is None:
            raise PlaceholderError(f"unknown widget {widget_id!r}")
        text = script_json(w.fn())
        e = html.escape
        attrs = f'class="widget" data-widget="{e(widget_id)}" data-module="assets/js/widgets/{e(w.module)}"'
        if len(text) > LARGE:
            self.data_files[f"data/{widget_id}.json"] = text
            return f'<div {attrs} data-src="data/{e(widget_id)}.json"></div>'
        return f'<div {attrs}><script type="application/json" class="widget-data">{text}</script></div>'
