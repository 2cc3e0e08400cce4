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


def test_every_measured_number_of_the_text_is_in_the_data_file(pages):
    """The text's {{measured:KEY}} come from src/mamlviz/data/measured.json (bench/measured.py): none is missing,
    and the built pages print them (no placeholder and no "(not measured)" left)."""

    from mamlviz.site.measured import PATTERN, MeasuredExtension, render

    data = MeasuredExtension().data()      # measured.json, with the other recorded runs under their keys
    uses = {m.groups() for p in (REPO / "content").glob("*.md") for m in PATTERN.finditer(p.read_text())}
    assert uses, "the text prints no measured number"
    for key, spec in sorted(uses, key=str):
        assert render(data, key, spec), key   # a number, a text, or a comparison worded from its interval
    for name, html in pages.items():
        assert "{{measured" not in html and "(not measured)" not in html, name
    # the machine and the browser they came from are stated where the numbers are
    assert data["machine"]["cores"] and data["browser"]["browser"].startswith("Debian Chromium")
    assert data["pyodide"] == "0.27.7"


def test_no_tex_left_inside_the_mathml(pages):
    """latex2mathml passes a command it does not know (\\arg) through as text: every page's MathML, outside the
    TeX annotation kept for copying, holds no backslash command, and converting one stops the build."""
    from mamlviz.site.maths import MathError, to_mathml

    for name, html in pages.items():
        for math in re.findall(r"<math\b.*?</math>", html, flags=re.S):
            shown = re.sub(r"<annotation\b.*?</annotation>", "", math, flags=re.S)
            assert not re.search(r"\\[A-Za-z]+", shown), (name, shown[:300])
    with pytest.raises(MathError, match=r"\\arg"):
        to_mathml(r"\arg\min_\varphi f(\varphi)", display=True)


def text_of(html):
    """The page without code, scripts, styles and figures (maths kept)."""
    html = re.sub(r"<(figure|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<(script|pre|code|style)\b.*?</\1>", " ", html, flags=re.S)


def test_prose_has_typographic_quotes(pages):
    """Python-Markdown's smarty: the text of the parts, outside code, maths and figures, has “…” and ’, never a
    straight quote (figures write their own text)."""
    import html as htmlmod

    for name, html in pages.items():
        text = re.sub(r"<(figure|svg)\b.*?</\1>", " ", html, flags=re.S)
        text = htmlmod.unescape(prose(text))
        straight = [text[max(m.start() - 40, 0):m.start() + 20] for m in re.finditer(r"[\"']", text)]
        assert not straight, (name, straight[:3])
        assert "“" in text or "’" in text, name
        # each quote turned the right way, next to maths too (a formula counts as a word here)
        words = htmlmod.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<math\b.*?</math>", "x", text_of(html), flags=re.S)))
        wrong = re.findall(r".{0,30}(?:“(?=[\s.,:;!?)]|$)|(?<=\s)”).{0,10}", words)
        assert not wrong, (name, wrong[:3])
