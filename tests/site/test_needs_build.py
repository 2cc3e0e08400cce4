"""`mamlviz serve` rebuilds when a source is newer than the built site, pyproject.toml (the version) included."""
import os

from mamlviz import site


def _touch(path, mtime):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (mtime, mtime))


def test_needs_build_follows_every_source(tmp_path):
    project = site.Project.at(tmp_path)
    _touch(tmp_path / "content" / "01-a.md", 1_000)
    _touch(tmp_path / "templates" / "base.html", 1_000)
    _touch(tmp_path / "pyproject.toml", 1_000)
    assert site.needs_build(project)  # nothing built yet
    now = 4_000_000_000  # later than the installed package's files
    _touch(project.out / "index.html", now)
    _touch(project.out / "pyodide" / "pyodide.asm.wasm", now)
    assert not site.needs_build(project)
    for source in ["content/01-a.md", "templates/base.html", "pyproject.toml"]:
        os.utime(tmp_path / source, (now + 1, now + 1))
        assert site.needs_build(project), source
        os.utime(tmp_path / source, (1_000, 1_000))
    assert not site.needs_build(project)
