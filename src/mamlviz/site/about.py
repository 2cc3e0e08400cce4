"""What the site says about itself: version, build date, licences, third-party notices, how to cite.

The version has one source, `pyproject.toml` (read next to content/, else from the installed package's metadata).
Third-party components are data: `components(cache)` lists what the build vendors, each with where its licence
text comes from; the build copies those texts into `site/licenses/` and the About page lists them. A new vendored
asset (a maths font, axe for the tests) is one more `Component` there.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).parent
CODE_LICENCE = ("MIT", "https://opensource.org/license/mit")
TEXT_LICENCE = ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/")
OWN_LICENCES = {"LICENSE": "LICENSE.txt", "LICENSE-text": "LICENSE-text.txt"}  # repo file → site/licenses/ name
AUTHORS = "The mamlviz authors"
CITE_TITLE = "MAML, live: an interactive explainer of model-agnostic meta-learning"


@dataclass(frozen=True)
class Component:
    """A third-party component shipped in the built site."""

    name: str
    version: str
    licence: str  # SPDX identifier
    home: str
    role: str  # what it does in the site
    notice: Callable[[], bytes] | None  # its licence text, or None when it ships none of its own
    notice_name: str = ""  # file name under site/licenses/

    @property
    def notice_url(self) -> str | None:
        return f"licenses/{self.notice_name}" if self.notice else None


def _file(path: Path) -> Callable[[], bytes]:
    return path.read_bytes


def _from_zip(archive: Path, member: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    return read


def components(cache: Path | None, font: Path | None = None) -> list[Component]:
    """Every third-party component the build ships (none when Pyodide is not vendored: `cache` is None);
    `font` is the cache folder of the maths font (site.vendor_npm), when vendored."""
    from .vendor_npm import MATH_FONT, MATH_FONT_LICENCE, MATH_FONT_VERSION

    fonts = [Component("STIX Two Math", MATH_FONT_VERSION, "OFL-1.1",
                       "https://github.com/stipub/stixfonts",
                       f"the OpenType maths font of every formula (npm {MATH_FONT.spec})",
                       _file(font / "LICENSE"), MATH_FONT_LICENCE)] if font is not None else []
    if cache is None:
        return fonts
    lock = json.loads((cache / "pyodide-lock.json").read_text())
    numpy = lock["packages"]["numpy"]
    return [
        # The npm package ships no licence file; the text is the MPL 2.0 verbatim (Pyodide's repository LICENSE).
        Component("Pyodide", lock["info"]["version"], "MPL-2.0", "https://pyodide.org",
                  "runs Python and NumPy in the browser (site/pyodide/)",
                  _file(HERE / "licenses" / "MPL-2.0.txt"), "pyodide-MPL-2.0.txt"),
        Component("CPython", lock["info"]["python"], "PSF-2.0", "https://docs.python.org/3/license.html",
                  "the Python interpreter and standard library inside Pyodide",
                  _file(HERE / "licenses" / "PSF-2.0.txt"), "cpython-PSF-2.0.txt"),
        Component("NumPy", numpy["version"], "BSD-3-Clause", "https://numpy.org",
                  "arrays and linear algebra for every figure (the wheel in site/pyodide/)",
                  _from_zip(cache / numpy["file_name"], f"numpy-{numpy['version']}.dist-info/LICENSE.txt"),
                  "numpy-LICENSE.txt"),
        *fonts,
    ]


def version(root: Path | None = None) -> str:
    """The version in ROOT/pyproject.toml, else that of the installed package."""
    pyproject = Path(root) / "pyproject.toml" if root is not None else None
    if pyproject is not None and pyproject.is_file():
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    return importlib.metadata.version("mamlviz")


def build_date() -> dt.date:
    """Today (UTC), or the date of $SOURCE_DATE_EPOCH for a reproducible build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return now.date()


def bibtex(ver: str, year: int) -> str:
    return "\n".join([
        "@misc{mamlviz,",
        f"  author  = {{{{{AUTHORS}}}}},",
        f"  title   = {{{{{CITE_TITLE}}}}},",
        f"  year    = {{{year}}},",
        f"  version = {{{ver}}},",
        f"  note    = {{Interactive web explainer, version {ver}}},",
        "}",
    ])


@dataclass
class SiteInfo:
    """What the templates show about the site (footer and About page)."""

    version: str
    date: dt.date
    components: list[Component]
    own_licences: dict[str, Path]  # site/licenses/ name → source file

    @classmethod
    def of(cls, root: Path | None, cache: Path | None, font: Path | None = None) -> "SiteInfo":
        own = {dest: Path(root) / src for src, dest in OWN_LICENCES.items()
               if root is not None and (Path(root) / src).is_file()}
        return cls(version(root), build_date(), components(cache, font), own)

    def template_vars(self) -> dict:
        return {"version": self.version, "build_date": self.date.isoformat(), "components": self.components,
                "code_licence": CODE_LICENCE, "text_licence": TEXT_LICENCE, "own_licences": self.own_licences,
                "bibtex": bibtex(self.version, self.date.year), "authors": AUTHORS, "cite_title": CITE_TITLE}

    def write_notices(self, site: Path) -> list[Path]:
        """Copy our licences and every component's licence text into site/licenses/."""
        folder = site / "licenses"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, src in self.own_licences.items():
            (folder / name).write_bytes(src.read_bytes())
            written.append(folder / name)
        for c in self.components:
            if c.notice:
                (folder / c.notice_name).write_bytes(c.notice())
                written.append(folder / c.notice_name)
        return written
