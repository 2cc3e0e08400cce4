"""Licences, citation, version, About page and the release archive (on the toy article; no browser)."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from mamlviz.site import about, build, release, vendor_npm

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
MPL_SHA256 = "fab3dd6bdab226f1c08630b1dd917e11fcb4ec5e1e020e2c16f83a0a13863e85"  # the MPL 2.0 text, verbatim


# ------------------------------------------------------------------------------------------ licences, citation
def test_licence_files_exist_and_pyproject_refers_to_them():
    assert PYPROJECT["license"] == "MIT"
    assert PYPROJECT["license-files"] == ["LICENSE", "LICENSE-text"]
    code, text = (REPO / "LICENSE").read_text(), (REPO / "LICENSE-text").read_text()
    assert code.startswith("MIT License") and "Permission is hereby granted, free of charge" in code
    assert "Creative Commons" in text and "CC BY 4.0" in text and "creativecommons.org/licenses/by/4.0/legalcode" in text


def test_shipped_mpl_text_is_the_licence_verbatim():
    path = Path(about.__file__).parent / "licenses" / "MPL-2.0.txt"
    assert path.read_text().startswith("Mozilla Public License Version 2.0")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MPL_SHA256


def test_citation_file_is_valid_cff_for_this_version():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    # CFF 1.2.0 requires cff-version, message, title and authors (each a person or an entity with a name)
    assert cff["cff-version"] == "1.2.0"
    assert isinstance(cff["message"], str) and cff["message"].strip()
    assert isinstance(cff["title"], str) and cff["title"].strip()
    assert cff["authors"] and all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert cff["type"] in ("software", "dataset")
    assert str(cff["version"]) == PYPROJECT["version"]
    assert cff["license"] == ["MIT", "CC-BY-4.0"]
    assert cff["title"] == about.CITE_TITLE  # the About page's BibTeX names the same work


def test_changelog_has_a_section_for_the_version():
    headings = re.findall(r"^## (\S+)", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert headings and headings[0] == PYPROJECT["version"]  # newest first


def test_bibtex_is_balanced_and_names_version_and_year():
    bib = about.bibtex("1.2.3", 2031)
    assert bib.startswith("@misc{mamlviz,") and bib.endswith("}")
    assert bib.count("{") == bib.count("}")
    assert "version = {1.2.3}" in bib and "year    = {2031}" in bib


def test_build_date_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    assert about.build_date().isoformat() == "2023-11-14"


# ------------------------------------------------------------------------------------------ the built pages
@pytest.fixture
def fake_cache(tmp_path):
    """A Pyodide cache with a lock and a NumPy 'wheel' holding a licence text we know."""
    cache = tmp_path / "cache"
    cache.mkdir()
    wheel = "numpy-9.9.9-cp312-cp312-pyodide_2024_0_wasm32.whl"
    (cache / "pyodide-lock.json").write_text(json.dumps({
        "info": {"version": "0.99.1", "python": "3.12.99"},
        "packages": {"numpy": {"version": "9.9.9", "file_name": wheel}}}))
    with zipfile.ZipFile(cache / wheel, "w") as z:
        z.writestr("numpy-9.9.9.dist-info/LICENSE.txt", "Known NumPy notice.\n")
    return cache


@pytest.fixture
def released_toy(toy_project, fake_cache, monkeypatch):
    """The toy article built as if Pyodide were vendored from `fake_cache`, with a pyproject and licences."""
    from mamlviz.site import bundle, vendor

    root = toy_project.content.parent
    (root / "pyproject.toml").write_text('[project]\nname = "toy"\nversion = "9.8.7"\n')
    (root / "LICENSE").write_text("toy code licence\n")
    (root / "LICENSE-text").write_text("toy text licence\n")
    monkeypatch.setattr(vendor, "ensure_pyodide", lambda log=print: fake_cache)
    monkeypatch.setattr(vendor, "copy_into", lambda site, cache: None)
    monkeypatch.setattr(bundle, "compiled", lambda sources, pyodide: {})   # the fake cache has no Pyodide to compile with
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(toy_project, pyodide=True, log=lambda *a: None)
    return toy_project.out


def test_every_page_has_the_footer_with_version_and_both_licences(released_toy):
    pages = sorted(released_toy.glob("*.html"))
    assert {p.name for p in pages} == {"index.html", "01-first.html", "02-second.html", "about.html"}
    for page in pages:
        html = page.read_text()
        footer = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S).group(1)
        assert "9.8.7" in footer and ">MIT<" in footer and ">CC BY 4.0<" in footer  # version from pyproject
        assert 'href="about.html"' in footer
        assert re.search(r'<p class="menu-about"><a href="about.html"', html)  # and the menu links it
    assert 'href="about.html" aria-current="page"' in (released_toy / "about.html").read_text()


def test_about_page_lists_what_was_vendored_and_ships_the_notices(released_toy):
    html = (released_toy / "about.html").read_text()
    assert '<dd id="about-version">9.8.7</dd>' in html and 'datetime="2023-11-14"' in html
    rows = re.findall(r'<tr data-component="([^"]+)">\s*<td>.*?</td>\s*<td>([^<]+)</td>\s*<td>(.*?)</td>', html, re.S)
    assert [(n, v) for n, v, _ in rows] == [("Pyodide", "0.99.1"), ("CPython", "3.12.99"), ("NumPy", "9.9.9"),
                                            ("STIX Two Math", "2.12")]
    licences = dict((n, re.sub(r"<[^>]+>", "", cell)) for n, _, cell in rows)
    assert licences == {"Pyodide": "MPL-2.0", "CPython": "PSF-2.0", "NumPy": "BSD-3-Clause", "STIX Two Math": "OFL-1.1"}
    notices = released_toy / "licenses"
    assert (notices / "numpy-LICENSE.txt").read_text() == "Known NumPy notice.\n"  # taken from the wheel
    assert hashlib.sha256((notices / "pyodide-MPL-2.0.txt").read_bytes()).hexdigest() == MPL_SHA256
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in (notices / "cpython-PSF-2.0.txt").read_text()
    font = vendor_npm.MATH_FONT  # the maths font and its OFL text, as pinned (npm @fontsource/stix-two-math)
    assert hashlib.sha256((notices / vendor_npm.MATH_FONT_LICENCE).read_bytes()).hexdigest() == font.files["LICENSE"]
    assert "SIL OPEN FONT LICENSE Version 1.1" in (notices / vendor_npm.MATH_FONT_LICENCE).read_text()
    woff2 = (released_toy / vendor_npm.MATH_FONT_FILE).read_bytes()
    assert woff2[:4] == b"wOF2" and hashlib.sha256(woff2).hexdigest() == next(
        h for n, h in font.files.items() if n.endswith(".woff2"))
    assert (notices / "LICENSE.txt").read_text() == "toy code licence\n"
    assert (notices / "LICENSE-text.txt").read_text() == "toy text licence\n"
    for href in re.findall(r'href="(licenses/[^"]+)"', html):
        assert (released_toy / href).is_file(), href
    assert "year    = {2023}" in html and "version = {9.8.7}" in html  # the BibTeX block


def test_a_pages_only_build_says_it_ships_no_third_party_components(built_toy):
    html = (built_toy / "about.html").read_text()
    assert "ships no third-party components" in html and "data-component" not in html


# ------------------------------------------------------------------------------------------ the release archive
def sha256sums_by_hand(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}


def test_archive_holds_one_versioned_folder_whose_checksums_match(built_toy, tmp_path):
    dest = release.archive(built_toy, "9.8.7", tmp_path / "dist", mtime=1700000000)
    assert dest.name == "mamlviz-site-9.8.7.tar.gz"
    digest = hashlib.sha256(dest.read_bytes()).hexdigest()
    assert (tmp_path / "dist" / "SHA256SUMS").read_text() == f"{digest}  mamlviz-site-9.8.7.tar.gz\n"
    with tarfile.open(dest) as tar:
        names = tar.getnames()
        assert all(n == "mamlviz-site-9.8.7" or n.startswith("mamlviz-site-9.8.7/") for n in names)
        assert {m.mtime for m in tar.getmembers()} == {1700000000}
        tar.extractall(tmp_path / "host", filter="data")
    folder = tmp_path / "host" / "mamlviz-site-9.8.7"
    listed = {path: h for h, path in (line.split("  ", 1) for line in (folder / "SHA256SUMS").read_text().splitlines())}
    assert listed == sha256sums_by_hand(folder) == sha256sums_by_hand(built_toy)  # every file, identical
    assert {"index.html", "about.html", "01-first.html", "assets/js/page.js"} <= set(listed)
    assert release.check(folder) == []
    # the check notices a changed, a missing and an extra file
    (folder / "index.html").write_text("changed")
    (folder / "about.html").unlink()
    (folder / "extra.txt").write_text("x")
    assert sorted(release.check(folder)) == ["about.html: missing", "extra.txt: not listed",
                                             "index.html: sha256 differs"]


def test_archive_is_reproducible(built_toy, tmp_path):
    one = release.archive(built_toy, "1.0.0", tmp_path / "a", mtime=1700000000).read_bytes()
    two = release.archive(built_toy, "1.0.0", tmp_path / "b", mtime=1700000000).read_bytes()
    assert one == two
    assert not (built_toy / "SHA256SUMS").exists()  # the built site is left as it was


def test_build_command_takes_release_options():
    import argparse

    from mamlviz import commands

    parser = argparse.ArgumentParser()
    commands.add_build(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["build", "--release", "--dist", "/tmp/x"])
    assert args.release and args.dist == "/tmp/x"
