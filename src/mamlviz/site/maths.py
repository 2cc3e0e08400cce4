"""LaTeX → MathML at build time (latex2mathml): `$…$` inline, `$$…$$` display.

A preprocessor (after fenced code is stashed) finds the maths before Markdown can mangle `_` and `*` in it,
converts it, and leaves a stash placeholder that Markdown passes through untouched.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

# Inline code spans are matched first and kept as they are; `\$` is a literal dollar. Inline maths may wrap onto
# the next line of its paragraph (a single newline), never across a blank line.
MATH = re.compile(r"(?P<code>`+)(?:.+?)(?P=code)|\\\$|\$\$(?P<display>.+?)\$\$"
                  r"|\$(?P<inline>[^\s$](?:(?:[^$\n]|\n(?![ \t]*\n))*?[^\s$\\])?)\$", re.S)


class MathError(ValueError):
    pass


def to_mathml(latex: str, display: bool) -> str:
    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception as e:  # latex2mathml raises a zoo of exception types
        raise MathError(f"cannot convert LaTeX {latex.strip()!r}: {e}") from e
    # A command latex2mathml does not know (\arg, say) comes through as text: stop rather than print it.
    left = re.findall(r"\\[A-Za-z]+", mathml)
    if left:
        raise MathError(f"TeX left in the MathML of {latex.strip()!r}: {', '.join(dict.fromkeys(left))}")
    # Keep the source for copy-paste and for readers whose browser lacks MathML.
    ann = f'<annotation encoding="application/x-tex">{html.escape(latex.strip())}</annotation>'
    mathml = re.sub(r"^(<math[^>]*>)(.*)(</math>)$", rf"\1<semantics><mrow>\2</mrow>{_esc(ann)}</semantics>\3",
                    mathml, flags=re.S)
    # A long display scrolls sideways on a phone: focusable, so that the keyboard can scroll it too.
    return (f'<div class="math-display" tabindex="0" role="group" aria-label="Equation">{mathml}</div>'
            if display else mathml)


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\")


class MathPreprocessor(Preprocessor):
    def run(self, lines):
        text = "\n".join(lines)

        def sub(m):
            if m.group("code") or m.group(0) == "\\$":
                return "$" if m.group(0) == "\\$" else m.group(0)
            display = m.group("display") is not None
            placeholder = self.md.htmlStash.store(to_mathml(m.group("display" if display else "inline"), display))
            return f"\n\n{placeholder}\n\n" if display else placeholder

        return MATH.sub(sub, text).split("\n")


class MathExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(MathPreprocessor(md), "maths", 21)
