"""The offline copy of the site: a manifest of every file with its sha256 (`offline.json`) and the service worker
(`sw.js`, at the site's root so that its scope is the whole site) that saves exactly those files.

The build's version is a hash of the manifest, written into sw.js: a new build changes sw.js byte for byte, which is
how a browser notices it. The worker (templates/sw.js) fills a new cache named after the version, checks every
file against the manifest's sha256 (so a file of another build, caught mid-deploy, fails the install and the old
cache stays whole), and takes over only when the reader has no page of the old version open, or asks for it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST = "offline.json"
WORKER = "sw.js"


def manifest(site: Path) -> dict:
    """{"version", "bytes", "files": {relative path: {"sha256", "bytes"}}} of every file the site serves (not the
    worker, the manifest itself or hidden files such as .nojekyll)."""
    files = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site).as_posix()
        if not path.is_file() or rel in (MANIFEST, WORKER) or any(p.startswith(".") for p in rel.split("/")):
            continue
        raw = path.read_bytes()
        files[rel] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    version = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    return {"version": version, "bytes": sum(f["bytes"] for f in files.values()), "files": files}


def write(site: Path, worker_source: Path) -> dict:
    """Write offline.json and sw.js (the worker's source with its version filled in) into `site`."""
    m = manifest(site)
    (site / MANIFEST).write_text(json.dumps(m, indent=0, sort_keys=True) + "\n")
    text = worker_source.read_text()
    if "__VERSION__" not in text:
        raise ValueError(f"{worker_source} has no __VERSION__ to fill in")
    (site / WORKER).write_text(text.replace("__VERSION__", m["version"]))
    return m
