"""The real ten parts build (pages only) and every formula in them became MathML: no LaTeX is left as text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from mamlviz.site import Project, build

    out = tmp_path_factory.mktemp("pages")
    build(Project.at(REPO, out), pyodide=False, log=lambda *a: None)
    return {p.name: p.read_text() for p in sorted(out.glob("[0-9][0-9]-*.html"))}


def prose(html):
    """The page's text outside code, scripts, MathML and attributes."""
    html = re.sub(r"<(script|pre|code|math|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_ten_parts(pages):
    assert len(pages) == 10


def test_no_latex_left_as_text(pages):
    for name, html in pages.items():
        text = prose(html)
        assert "$" not in text, (name, text[max(text.find("$") - 80, 0):text.find("$") + 80])
        stray = re.findall(r"\\[a-zA-Z]+", text)
        assert not stray, (name, stray[:5])


def test_inline_maths_may_wrap_onto_the_next_line():
    import markdown

    from mamlviz.site.maths import MathExtension

    html = markdown.markdown("a model $f(x) =\n\\mathrm{softplus}(x)$ here\n\nand $x$ there", extensions=[MathExtension()])
    assert html.count("<math") == 2 and "$" not in html
