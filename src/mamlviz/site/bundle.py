"""Ship `mamlviz` into the site from its source at build time: one zip, unpacked by the worker.

Only what runs in the browser goes in: the library and the figures, not the site build or the command line. With
the site's Pyodide at hand, the sources' bytecode goes in too (compiled by that Pyodide under node,
`pycompile.mjs`), so that the worker imports the figure modules without compiling them on every page load.
"""

from __future__ import annotations

import base64
import json
import subprocess
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


def write_zip(dest: Path, root: Path | None = None, pyodide: Path | None = None) -> Path:
    """A reproducible zip of the package (fixed timestamps, sorted entries); with `pyodide` (the folder of the site's
    Pyodide), each source's bytecode for that Pyodide beside it (`__pycache__/NAME.cpython-3XX.pyc`)."""
    root = Path(root or Path(mamlviz.__file__).parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    entries = {f"mamlviz/{path.relative_to(root).as_posix()}": path.read_bytes() for path in package_files(root)}
    if pyodide is not None:
        entries.update(compiled({name: data for name, data in entries.items() if name.endswith(".py")}, pyodide))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])
    return dest


def compiled(sources: dict[str, bytes], pyodide: Path) -> dict[str, bytes]:
    """{zip path of each source's .pyc: bytecode} compiled by the Pyodide in `pyodide` under node."""
    from .frames import FrameError, node

    request = {"indexURL": f"{Path(pyodide).resolve()}/",
               "files": {name: data.decode("utf-8") for name, data in sources.items()}}
    try:
        done = subprocess.run([node(), str(Path(__file__).with_name("pycompile.mjs"))], input=json.dumps(request),
                              capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise FrameError(f"compiling the package with Pyodide under node failed: {e}") from e
    if done.returncode != 0:
        raise FrameError(f"compiling the package with Pyodide under node failed:\n{done.stderr.strip()}")
    return {name: base64.b64decode(data) for name, data in json.loads(done.stdout).items()}


def write_lazy(out: Path, root: Path | None = None) -> None:
    """Copy the LAZY data files into OUT/mamlviz-data/ (by file name)."""
    root = Path(root or Path(mamlviz.__file__).parent)
    (out / LAZY_DIR).mkdir(parents=True, exist_ok=True)
    for rel in sorted(LAZY):
        (out / LAZY_DIR / Path(rel).name).write_bytes((root / rel).read_bytes())
