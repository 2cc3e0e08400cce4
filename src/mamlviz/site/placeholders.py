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

# Any id is captured (not only [\w-]+), so that a mistyped one stops the build as unknown instead of printing.
FIGURE_LINE = re.compile(r"^\[\[figure(?:\s+(.*?))?\s*\]\]\s*$")
WIDGET_LINE = re.compile(r"^\[\[widget(?:\s+(.*?))?\s*\]\]\s*$")
LARGE = 64_000  # bytes of JSON above which widget data goes to its own file


class PlaceholderError(LookupError):
    pass


def script_json(obj) -> str:
    """JSON safe inside <script>: no `</` sequences."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def figure_html(figure_id: str, number: int) -> str:
    fig = figures.FIGURES.get(figure_id)
    if fig is None:
        raise PlaceholderError(f"unknown figure {figure_id!r}")
    state = fig.default_state()
    data = {**fig.spec(), "state": state, "scene": figures.first_frame(figure_id, state)}
    e = html.escape(figure_id)
    return (f'<figure class="figure" id="fig-{e}" data-figure="{e}" data-status="static">'
            f'<script type="application/json" class="figure-data">{script_json(data)}</script>'
            f'<figcaption><span class="figure-number">Figure {number}.</span> {html.escape(fig.title)}'
            f'</figcaption><noscript><p class="figure-message">This figure needs JavaScript.</p></noscript>'
            f'</figure>')


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

    def render(self, figure_id: str) -> str:
        return figure_html(figure_id, len(self.used))


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
