"""The bibliography prints as text: every entry of references.bib renders without TeX (accents as letters)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from mamlviz.site.citations import format_entry, load_bib, unlatex

BIB = Path(__file__).resolve().parents[2] / "content" / "references.bib"


def test_every_entry_renders_without_tex():
    bib = load_bib(BIB)
    assert len(bib) > 20
    for key, fields in bib.items():
        html = format_entry(fields)
        assert "\\" not in html and "{" not in html and "}" not in html, (key, html)
        assert unicodedata.normalize("NFC", html) == html, key          # accents composed, as a reader types them
    assert "Felipe Llinares-López" in format_entry(bib["blondel2021"])
    assert "Sergio Gómez Colmenarejo" in format_entry(bib["andrychowicz2016"])


@pytest.mark.parametrize("tex, text", [
    ("Llinares-L{\\'o}pez", "Llinares-López"), ("L\\'{o}pez", "López"), ('G\\"{o}del', "Gödel"),
    ("{\\\"u}ber", "über"), ("Fran\\c{c}ois", "François"), ("\\v{S}koda", "Škoda"), ("Erd\\H{o}s", "Erdős"),
    ("{\\`e}", "è"), ("{MAML}", "MAML")])
def test_latex_accents_become_letters(tex, text):
    assert unlatex(tex) == text


def test_any_other_tex_command_stops_the_build(tmp_path):
    bib = tmp_path / "r.bib"
    bib.write_text("@article{a,\n  author = {A. Author},\n  title = {On \\emph{x}},\n  year = {2020}\n}\n")
    with pytest.raises(ValueError, match="TeX left"):
        load_bib(bib)
