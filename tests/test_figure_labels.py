"""What a figure writes for the reader (titles, legends, readouts, descriptions, messages) uses Unicode super- and
subscripts, never a caret: every string literal of the figure modules outside docstrings and comments, and every
figure's first scene."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mamlviz import figures

FIGURE_SOURCES = sorted((Path(figures.__file__).parent).glob("*.py"))


def shown_strings(path):
    """(line, text) of every string constant that is not a docstring (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


@pytest.mark.parametrize("path", FIGURE_SOURCES, ids=lambda p: p.name)
def test_no_caret_in_any_string_a_figure_shows(path):
    carets = [(line, text) for line, text in shown_strings(path) if "^" in text]
    assert not carets, f"{path.name}: {carets}"


def strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from strings(v)


def test_no_caret_in_any_first_scene():
    figures.load_all()
    assert len(figures.FIGURES) > 15
    for fid in figures.FIGURES:
        scene = figures.first_frame(fid)
        assert not [s for s in strings(scene) if "^" in s], fid
