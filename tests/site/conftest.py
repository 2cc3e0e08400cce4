"""Fixtures of the site-build tests: the toy article of toy_article.py in a temporary folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def load_toy_article():
    spec = importlib.util.spec_from_file_location("mamlviz_toy_article", Path(__file__).with_name("toy_article.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy_project(tmp_path):
    from mamlviz import figures

    yield load_toy_article().make_toy_project(tmp_path)
    figures.WIDGETS.pop("test-widget", None)


@pytest.fixture
def built_toy(toy_project):
    from mamlviz.site import build

    build(toy_project, pyodide=False, log=lambda *a: None)
    return toy_project.out
