"""Small npm packages, vendored: the maths font the site ships, and axe-core for the accessibility tests.

Each package is pinned by version and by the sha256 of every file we take from it (the tarball itself is not
pinned: the registry may recompress it, the files inside it are what we ship). Files come from `npm pack`, else
from the registry's tarball URL, and are cached in $MAMLVIZ_CACHE or ~/.cache/mamlviz/npm/, never committed.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .vendor import VendorError, _ok, download, verify
from .vendor import cache_dir as _pyodide_cache


@dataclass(frozen=True)
class NpmPackage:
    name: str  # e.g. "@fontsource/stix-two-math"
    version: str
    files: dict[str, str]  # path inside the package (without "package/") → sha256

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


# STIX Two Math (SIL OFL 1.1): an OpenType font with a MATH table. Fontsource calls this file its "latin" subset,
# but it is the whole font (Greek, the mathematical alphanumerics, operators and the MATH table are all in it).
MATH_FONT = NpmPackage("@fontsource/stix-two-math", "5.3.0", {
    "files/stix-two-math-latin-400-normal.woff2": "8b2a6834cfe1f4e0f3724ffa59fe92000013fc5a4c41e6a3f438006c26c60f0d",
    "LICENSE": "0c8b99c034064cbb3c8ad9ba4531b89e179645b93d612da3e8be1cc52b393e58",
})
MATH_FONT_FILE = "assets/fonts/STIXTwoMath-Regular.woff2"  # where the site serves it (site.css names this path)
MATH_FONT_LICENCE = "stix-two-math-OFL-1.1.txt"
MATH_FONT_VERSION = "2.12"  # the font's own version (its name table), not the npm package's

# axe-core (MPL-2.0), for the tests only: never copied into the site.
AXE = NpmPackage("axe-core", "4.10.3", {
    "axe.min.js": "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb",
    "LICENSE": "af175b9d96ee93c21a036152e1b905b0b95304d4ae8c2c921c7609100ba8df7e",
})


def cache_dir(pkg: NpmPackage) -> Path:
    return _pyodide_cache().parent / "npm" / f"{pkg.name.replace('/', '+')}-{pkg.version}"


def _npm_pack(pkg: NpmPackage, tmp: Path, log=print) -> Path:
    if not shutil.which("npm"):
        raise VendorError("npm is not installed")
    log(f"  npm pack {pkg.spec}")
    out = subprocess.run(["npm", "pack", pkg.spec, "--pack-destination", str(tmp)], check=True,
                         capture_output=True, text=True, timeout=600)
    return tmp / out.stdout.strip().splitlines()[-1]


def _registry_url(pkg: NpmPackage, tmp: Path, log=print) -> Path:
    log(f"  GET {pkg.tarball_url}")
    return download(pkg.tarball_url, tmp / "package.tgz", log=log)


def ensure(pkg: NpmPackage, *, sources=(_npm_pack, _registry_url), log=print) -> Path:
    """The cache folder holding every pinned file of `pkg`, verified; fetched once. Stops with a how-to if it can't."""
    cache = cache_dir(pkg)
    if all(_ok(cache / name, h) for name, h in pkg.files.items()):
        return cache
    tried = []
    for source in sources:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                tgz = source(pkg, Path(tmp), log=log)
                with tarfile.open(tgz) as t:
                    for name, expected in pkg.files.items():
                        member = t.extractfile(f"package/{name}")
                        if member is None:
                            raise VendorError(f"{pkg.spec} has no {name}")
                        staged = Path(tmp) / "staged" / name
                        staged.parent.mkdir(parents=True, exist_ok=True)
                        staged.write_bytes(member.read())
                        verify(staged, expected)
                for name in pkg.files:
                    (cache / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(Path(tmp) / "staged" / name, cache / name)
                log(f"  {pkg.spec} verified and cached in {cache}")
                return cache
            except (VendorError, OSError, subprocess.SubprocessError, tarfile.TarError, KeyError) as e:
                tried.append(f"{source.__name__.strip('_')}: {e}")
                log(f"  {pkg.spec}: {tried[-1]}")
    raise VendorError("\n".join([f"Could not obtain {pkg.spec}. Tried:", *(f"  - {t}" for t in tried),
                                 f"To provide it by hand, put {', '.join(pkg.files)} from its tarball",
                                 f"  {pkg.tarball_url} (folder package/) into {cache}/"]))


def copy_math_font(site: Path, cache: Path) -> Path:
    dest = site / MATH_FONT_FILE
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache / "files" / "stix-two-math-latin-400-normal.woff2", dest)
    return dest
