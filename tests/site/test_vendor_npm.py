"""The small npm packages (the maths font, axe-core for the tests): pinned files, verified; and the code colours'
contrast (codestyle) against WCAG's formula worked by hand."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile

import pytest

from mamlviz.site import codestyle, vendor, vendor_npm


def _tarball(tmp, files: dict[str, bytes]):
    path = tmp / "package.tgz"
    with tarfile.open(path, "w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_pinned_files_are_verified_and_a_tampered_tarball_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    pkg = vendor_npm.NpmPackage("@x/font", "1.0.0", {"files/a.woff2": hashlib.sha256(b"font").hexdigest(),
                                                      "LICENSE": hashlib.sha256(b"OFL").hexdigest()})
    tampered = lambda p, tmp, log: _tarball(tmp, {"files/a.woff2": b"evil", "LICENSE": b"OFL"})  # noqa: E731
    good = lambda p, tmp, log: _tarball(tmp, {"files/a.woff2": b"font", "LICENSE": b"OFL", "other": b"x"})  # noqa: E731
    with pytest.raises(vendor.VendorError, match="does not match"):
        vendor_npm.ensure(pkg, sources=(tampered,), log=lambda *a: None)
    cache = vendor_npm.ensure(pkg, sources=(tampered, good), log=lambda *a: None)
    assert (cache / "files/a.woff2").read_bytes() == b"font" and not (cache / "other").exists()
    assert vendor_npm.ensure(pkg, sources=(), log=lambda *a: None) == cache  # cached: no source asked again
    assert pkg.tarball_url == "https://registry.npmjs.org/@x/font/-/font-1.0.0.tgz"


def test_the_shipped_pins_name_a_woff2_font_and_its_licence():
    assert set(vendor_npm.MATH_FONT.files) == {"files/stix-two-math-latin-400-normal.woff2", "LICENSE"}
    assert set(vendor_npm.AXE.files) == {"axe.min.js", "LICENSE"}
    for pkg in (vendor_npm.MATH_FONT, vendor_npm.AXE):
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pkg.files.values())


def test_contrast_matches_known_wcag_values():
    assert codestyle.contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert codestyle.contrast((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    # #777 on white: WCAG's well-known 4.48:1, just short of AA
    assert codestyle.contrast(codestyle.rgb("#777"), codestyle.rgb("#ffffff")) == pytest.approx(4.48, abs=0.01)
    # by hand: L(#60a0b0) = 0.2126·0.1170 + 0.7152·0.3515 + 0.0722·0.4342 = 0.3077; on #f0f0f0 (L 0.8714)
    assert codestyle.contrast(codestyle.rgb("#60a0b0"), codestyle.rgb("#f0f0f0")) == pytest.approx(
        (0.8714 + 0.05) / (0.3077 + 0.05), abs=0.01)


def test_every_code_colour_reaches_4_5_on_its_background_in_light_and_dark():
    css = codestyle.pygments_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    for block, bg in ((light, "#f0f0f0"), (dark, "#0d1117")):
        rules = [line for line in block.splitlines() if line.startswith(".codehilite .")]
        colours = [(m.group(1), line) for line in rules for m in [codestyle.COLOUR.search(line)] if m]
        assert len(colours) > 30
        for colour, line in colours:
            own = codestyle.BACKGROUND.search(line)
            ratio = codestyle.contrast(codestyle.rgb(colour), codestyle.rgb(own.group(1) if own else bg))
            assert ratio >= 4.5, line
    assert "#43707b" in light  # friendly's comment colour (#60A0B0, 2.6:1) darkened, hue kept
    assert "#60A0B0" not in css
