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

FIGURE_LINE = re.compile(r"^\[\[figure\s+([\w\-]+)\]\]\s*$")
WIDGET_LINE = re.compile(r"^\[\[widget\s+([\w\-]+)\]\]\s*$")
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


class FigurePreprocessor(Preprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        out = []
        for line in lines:
            m = FIGURE_LINE.match(line)
            if m:
                self.ext.used.append(m.group(1))
                out += ["", self.md.htmlStash.store(figure_html(m.group(1), len(self.ext.used))), ""]
            else:
                out.append(line)
        return out


class FigureExtension(Extension):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.used: list[str] = []

    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.preprocessors.register(FigurePreprocessor(md, self), "figures", 23)

    def reset(self):
        self.used = []


class WidgetPreprocessor(Preprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        out = []
        for line in lines:
            m = WIDGET_LINE.match(line)
            if m:
                out += ["", self.md.htmlStash.store(self.ext.widget_html(m.group(1))), ""]
            else:
                out.append(line)
        return out


class WidgetExtension(Extension):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.used: list[str] = []
        self.data_files: dict[str, str] = {}  # site-relative path → JSON text, written by the build

    def widget_html(self, widget_id: str) -> str:
        w = figures.WIDGETS.get(widget_id)
        if w is None:
            raise PlaceholderError(f"unknown widget {widget_id!r}")
        self.used.append(widget_id)
        text = script_json(w.fn())
        e = html.escape
        attrs = f'class="widget" data-widget="{e(widget_id)}" data-module="assets/js/widgets/{e(w.module)}"'
        if len(text) > LARGE:
            self.data_files[f"data/{widget_id}.json"] = text
            return f'<div {attrs} data-src="data/{e(widget_id)}.json"></div>'
        return f'<div {attrs}><script type="application/json" class="widget-data">{text}</script></div>'

    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.preprocessors.register(WidgetPreprocessor(md, self), "widgets", 23)

    def reset(self):
        self.used = []
