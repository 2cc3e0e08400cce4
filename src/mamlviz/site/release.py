"""A release: the built site as one versioned archive, ready to unpack on any static host under any sub-path.

`dist/mamlviz-site-VERSION.tar.gz` holds one folder, `mamlviz-site-VERSION/`: the whole site plus `SHA256SUMS`
(one `HASH  path` line a file, the format `sha256sum -c` reads). `dist/SHA256SUMS` holds the archive's own hash.
The archive is reproducible: sorted entries, fixed owner and modes, every time stamp the build date.
"""

from __future__ import annotations

import calendar
import dataclasses
import gzip
import hashlib
import io
import tarfile
import tempfile
from pathlib import Path

from . import about

SUMS = "SHA256SUMS"


def name(version: str) -> str:
    return f"mamlviz-site-{version}"


def checksums(folder: Path) -> str:
    """SHA256SUMS of every file under `folder` (itself excluded), sorted by path."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != SUMS)
    return "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}\n"
                   for p in files)


def parse_sums(text: str) -> dict[str, str]:
    """{path: sha256} from SHA256SUMS text."""
    pairs = (line.split("  ", 1) for line in text.splitlines() if line.strip())
    return {path: digest for digest, path in pairs}


def check(folder: Path) -> list[str]:
    """Compare the files under `folder` with its SHA256SUMS: the problems found (empty when all match)."""
    listed = parse_sums((Path(folder) / SUMS).read_text())
    actual = parse_sums(checksums(folder))
    problems = [f"{p}: missing" for p in listed if p not in actual]
    problems += [f"{p}: not listed" for p in actual if p not in listed]
    problems += [f"{p}: sha256 differs" for p in listed if p in actual and actual[p] != listed[p]]
    return problems


def archive(site: Path, version: str, dist: Path, *, mtime: int = 0) -> Path:
    """Write dist/mamlviz-site-VERSION.tar.gz from the built `site` (left untouched) and dist/SHA256SUMS."""
    site, dist, top = Path(site), Path(dist), name(version)
    dist.mkdir(parents=True, exist_ok=True)
    dest = dist / f"{top}.tar.gz"

    def entry(path: str, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
        info = tarfile.TarInfo(f"{top}/{path}".rstrip("/"))
        info.type, info.mode = (tarfile.DIRTYPE, 0o755) if directory else (tarfile.REGTYPE, 0o644)
        info.size, info.mtime, info.uname, info.gname = size, mtime, "", ""
        return info

    sums = checksums(site).encode()
    with open(dest, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(entry("", directory=True))
        for path in sorted(site.rglob("*")):
            rel = path.relative_to(site).as_posix()
            if path.is_dir():
                tar.addfile(entry(rel, directory=True))
            elif path.name != SUMS:
                with open(path, "rb") as f:
                    tar.addfile(entry(rel, path.stat().st_size), f)
        tar.addfile(entry(SUMS, len(sums)), io.BytesIO(sums))
    (dist / SUMS).write_text(f"{hashlib.sha256(dest.read_bytes()).hexdigest()}  {dest.name}\n")
    return dest


def release(project, dist: Path, *, log=print) -> Path:
    """Build the site afresh (with Pyodide) into a temporary folder and archive it into `dist`."""
    from . import build

    version = about.version(project.content.parent)
    epoch = calendar.timegm(about.build_date().timetuple())
    with tempfile.TemporaryDirectory() as tmp:
        site = build(dataclasses.replace(project, out=Path(tmp) / name(version)), pyodide=True, log=log)
        dest = archive(site, version, dist, mtime=epoch)
    log(f"wrote {dest} ({dest.stat().st_size / 1e6:.1f} MB) and {Path(dist) / SUMS}")
    return dest
