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


FAKE_CORE = {name: f"official {name}".encode() for name in vendor.CORE}


@pytest.fixture
def fake_core(monkeypatch):
    """Pin the core's sha256 to small stand-in files, so that one file at a time can be the bad one."""
    monkeypatch.setattr(vendor, "CORE", {n: hashlib.sha256(data).hexdigest() for n, data in FAKE_CORE.items()})
    return FAKE_CORE


def _tarball_source(files):
    def source(tmp, log):
        path = tmp / "pyodide.tgz"
        with tarfile.open(path, "w:gz") as t:
            for name, data in files.items():
                info = tarfile.TarInfo(f"package/{name}")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        return path

    return source


def test_core_tarball_with_every_file_right_is_cached(tmp_path, fake_core):
    cache = tmp_path / "cache"
    assert vendor.obtain_core(cache, [("fake npm", _tarball_source(fake_core))], log=lambda *a: None) == []
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == fake_core


@pytest.mark.parametrize("bad", list(vendor.CORE))
def test_core_tarball_with_one_tampered_file_is_rejected(tmp_path, fake_core, bad):
    """Every other file is right: the one tampered file alone must stop the build, and nothing is cached."""
    files = dict(fake_core, **{bad: fake_core[bad] + b" (tampered)"})
    with pytest.raises(vendor.VendorError) as e:
        vendor.ensure_pyodide(tmp_path / "cache", core_sources=[("fake npm", _tarball_source(files))],
                              log=lambda *a: None)
    text = str(e.value)
    assert f"fake npm: {bad}: sha256" in text and "does not match" in text
    assert "put them into" in text and "MAMLVIZ_CACHE" in text  # how to provide the files by hand
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.parametrize("bad", list(vendor.CORE))
def test_core_tarball_missing_one_file_is_rejected(tmp_path, fake_core, bad):
    files = {n: d for n, d in fake_core.items() if n != bad}
    tried = vendor.obtain_core(tmp_path / "cache", [("fake npm", _tarball_source(files))], log=lambda *a: None)
    assert len(tried) == 1 and bad in tried[0]


@pytest.mark.parametrize("bad", list(vendor.CORE))
def test_a_tampered_file_in_the_cache_is_fetched_again(tmp_path, fake_core, bad):
    cache = tmp_path / "cache"
    cache.mkdir()
    for name, data in fake_core.items():
        (cache / name).write_bytes(data + b"!" if name == bad else data)
    calls = []

    def source(tmp, log):
        calls.append(1)
        return _tarball_source(fake_core)(tmp, log)

    assert vendor.obtain_core(cache, [("fake npm", source)], log=lambda *a: None) == []
    assert calls == [1] and (cache / bad).read_bytes() == fake_core[bad]
    # all right now: the cache is used as it is
    assert vendor.obtain_core(cache, [("fake npm", source)], log=lambda *a: None) == [] and calls == [1]


def test_a_tampered_wheel_in_the_cache_is_fetched_again(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "numpy-test.whl").write_bytes(b"the real wheel, tampered")

    def good(tmp, name, log):
        (tmp / name).write_bytes(b"the real wheel")
        return tmp / name

    assert vendor.obtain_package(cache, _lock(b"the real wheel"), "numpy", [("mirror", good)], log=lambda *a: None) == []
    assert (cache / "numpy-test.whl").read_bytes() == b"the real wheel"


def test_trimmed_lock_keeps_info_and_numpy():
    lock = _lock(b"x")
    assert vendor.trimmed_lock(lock) == {"info": lock["info"], "packages": {"numpy": lock["packages"]["numpy"]}}


def test_cache_folder_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path))
    assert vendor.cache_dir() == tmp_path / f"pyodide-{vendor.VERSION}"
