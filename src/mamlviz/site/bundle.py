"""Ship `mamlviz` into the site from its source at build time: one zip, unpacked by the worker.

Only what runs in the browser goes in: the library and the figures, not the site build or the command line.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import mamlviz

EXCLUDE_DIRS = {"site", "__pycache__"}
EXCLUDE_FILES = {"cli.py", "commands.py", "__main__.py", "browserbench.py"}
SUFFIXES = {".py", ".json", ".npz"}
# Large data only one training figure reads: left out of the zip every worker loads, written beside it into
# mamlviz-data/ and fetched by that figure when it starts (`glyphrace.load_data`).
LAZY = {"data/glyph_race_data.npz"}
LAZY_DIR = "mamlviz-data"


def package_files(root: Path | None = None) -> list[Path]:
    root = Path(root or Path(mamlviz.__file__).parent)
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and path.suffix in SUFFIXES and not (set(rel.parts[:-1]) & EXCLUDE_DIRS) \
                and not (len(rel.parts) == 1 and rel.name in EXCLUDE_FILES) and rel.as_posix() not in LAZY:
            out.append(path)
    return out


def write_zip(dest: Path, root: Path | None = None) -> Path:
    """A reproducible zip of the package (fixed timestamps, sorted entries)."""
    root = Path(root or Path(mamlviz.__file__).parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for path in package_files(root):
            info = zipfile.ZipInfo(f"mamlviz/{path.relative_to(root).as_posix()}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return dest


def write_lazy(out: Path, root: Path | None = None) -> None:
    """Copy the LAZY data files into OUT/mamlviz-data/ (by file name)."""
    root = Path(root or Path(mamlviz.__file__).parent)
    (out / LAZY_DIR).mkdir(parents=True, exist_ok=True)
    for rel in sorted(LAZY):
        (out / LAZY_DIR / Path(rel).name).write_bytes((root / rel).read_bytes())
