"""Code that runs is the code shown: `[[code mamlviz.module.function]]` includes that function's source.

The source comes from `inspect` (never line ranges) and is highlighted by Pygments at build time, with a
caption naming the function and its module file.
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
import textwrap
from pathlib import Path

from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

LINE = re.compile(r"^\[\[code(?:\s+(.*?))?\s*\]\]\s*$")  # any name: a mistyped one stops the build


class CodeIncludeError(LookupError):
    pass


def resolve(dotted: str):
    """Import the longest importable module prefix of `dotted`, then walk attributes."""
    parts = dotted.split(".")
    if not all(p.isidentifier() for p in parts):
        raise CodeIncludeError(f"cannot include code {dotted!r}: not a dotted name")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            break
        return obj
    raise CodeIncludeError(f"cannot include code {dotted!r}: no such function")


def render_code(dotted: str) -> str:
    obj = resolve(dotted)
    obj = inspect.unwrap(obj)
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        path = Path(inspect.getsourcefile(obj))
    except (TypeError, OSError) as e:
        raise CodeIncludeError(f"cannot include code {dotted!r}: {e}") from e
    parts = path.parts
    shown = "/".join(parts[parts.index("mamlviz") - 1:]) if "mamlviz" in parts else path.name
    code = highlight(source, PythonLexer(), HtmlFormatter(cssclass="codehilite")).replace(
        '<div class="codehilite">', scroller(f"Code of {obj.__qualname__}"), 1)
    return (f'<figure class="code-include" data-code="{html.escape(dotted)}">{code}'
            f'<figcaption><code>{html.escape(obj.__qualname__)}</code> from <code>{html.escape(shown)}</code>'
            f' — the code that runs in your browser.</figcaption></figure>')


class CodePreprocessor(Preprocessor):
    def run(self, lines):
        out = []
        for line in lines:
            m = LINE.match(line)
            if m:
                out += ["", self.md.htmlStash.store(render_code(m.group(1) or "")), ""]
            else:
                out.append(line)
        return out


# Code blocks scroll sideways: focusable and named (each its own name: they are landmarks), for the keyboard.
def scroller(label: str) -> str:
    return f'<div class="codehilite" tabindex="0" role="region" aria-label="{html.escape(label)}">'


class ScrollablePostprocessor(Postprocessor):
    """Fenced code blocks (included code is named by `render_code`): "Code listing 1", "Code listing 2", …"""

    def run(self, text):
        parts = text.split('<div class="codehilite">')
        return parts[0] + "".join(scroller(f"Code listing {i}") + p for i, p in enumerate(parts[1:], start=1))


class CodeIncludeExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(CodePreprocessor(md), "code_include", 22)
        md.postprocessors.register(ScrollablePostprocessor(md), "code_scrollable", 5)
