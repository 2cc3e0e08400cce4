"""The package's zip carries bytecode for the site's own Pyodide (issue 26, the first minute): every module the worker
may import has its .pyc beside its source, for the CPython of the site's Pyodide (its lock file names the version),
hash-based and checked against the source (so a source changed after the build is compiled again, as
tests/browser/test_live_status.py's patched zip relies on)."""

from __future__ import annotations

import json
import zipfile


def test_every_source_in_the_zip_has_checked_bytecode_of_pyodides_python(built_site):
    names = zipfile.ZipFile(built_site / "mamlviz.zip")
    major, minor = json.loads((built_site / "pyodide" / "pyodide-lock.json").read_text())["info"]["python"].split(".")[:2]
    magics = set()
    sources = [n for n in names.namelist() if n.endswith(".py")]
    assert "mamlviz/figures/part3.py" in sources
    for source in sources:
        folder, _, file = source.rpartition("/")
        pyc = f"{folder}/__pycache__/{file[:-3]}.cpython-{major}{minor}.pyc"     # the name Pyodide's Python looks for
        data = names.read(pyc)
        magics.add(data[:4])
        assert int.from_bytes(data[4:8], "little") == 0b11, pyc         # hash-based, checked against the source
    assert len(magics) == 1 and magics.pop()[2:] == b"\r\n"            # one compiler, a CPython magic number
