"""Vendoring Pyodide: every file is verified by sha256; a bad file is rejected; failures say what was tried."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from mamlviz.site import vendor


def test_verify_rejects_a_bad_hash(tmp_path):
    f = tmp_path / "x.whl"
    f.write_bytes(b"good")
    vendor.verify(f, hashlib.sha256(b"good").hexdigest())
    with pytest.raises(vendor.VendorError, match="does not match"):
        vendor.verify(f, hashlib.sha256(b"other").hexdigest())


def _lock(content: bytes) -> dict:
    return {"info": {"version": vendor.VERSION},
            "packages": {"numpy": {"file_name": "numpy-test.whl", "sha256": hashlib.sha256(content).hexdigest()},
                         "scipy": {"file_name": "scipy.whl", "sha256": "0" * 64}}}


def test_package_with_bad_hash_is_rejected_and_the_next_source_used(tmp_path):
    cache = tmp_path / "cache"
    lock = _lock(b"the real wheel")

    def bad(tmp, name, log):
        (tmp / name).write_bytes(b"tampered")
        return tmp / name

    def good(tmp, name, log):
        (tmp / name).write_bytes(b"the real wheel")
        return tmp / name

    tried = vendor.obtain_package(cache, lock, "numpy", [("bad mirror", bad), ("good mirror", good)], log=lambda *a: None)
    assert tried == []
    assert (cache / "numpy-test.whl").read_bytes() == b"the real wheel"
    # cached now: no source is asked again
    assert vendor.obtain_package(cache, lock, "numpy", [], log=lambda *a: None) == []


def test_only_bad_sources_fail_with_what_was_tried(tmp_path):
    cache = tmp_path / "cache"

    def bad(tmp, name, log):
        (tmp / name).write_bytes(b"tampered")
        return tmp / name

    def offline(tmp, name, log):
        raise OSError("network unreachable")

    tried = vendor.obtain_package(cache, _lock(b"real"), "numpy", [("mirror", bad), ("cdn", offline)],
                                  log=lambda *a: None)
    assert len(tried) == 2 and "does not match" in tried[0] and "unreachable" in tried[1]
    assert not (cache / "numpy-test.whl").exists()


def test_core_tarball_with_a_tampered_file_is_rejected(tmp_path):
    def tampered(tmp, log):
        path = tmp / "pyodide.tgz"
        with tarfile.open(path, "w:gz") as t:
            for name in vendor.CORE:
                data = b"evil" if name == "pyodide.asm.wasm" else b"x"
                info = tarfile.TarInfo(f"package/{name}")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        return path

    with pytest.raises(vendor.VendorError) as e:
        vendor.ensure_pyodide(tmp_path / "cache", core_sources=[("fake npm", tampered)], log=lambda *a: None)
    text = str(e.value)
    assert "fake npm" in text and "does not match" in text
    assert "put them into" in text and "MAMLVIZ_CACHE" in text  # how to provide the files by hand
    assert not (tmp_path / "cache" / "pyodide.asm.wasm").exists()


def test_trimmed_lock_keeps_info_and_numpy():
    lock = _lock(b"x")
    assert vendor.trimmed_lock(lock) == {"info": lock["info"], "packages": {"numpy": lock["packages"]["numpy"]}}


def test_cache_folder_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path))
    assert vendor.cache_dir() == tmp_path / f"pyodide-{vendor.VERSION}"
