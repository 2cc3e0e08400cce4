"""`mamlviz serve`'s bytes: compressed when accepted, revalidated with a content ETag (304), plain otherwise."""

from __future__ import annotations

import gzip
import urllib.request

import pytest

from mamlviz.site.serve import serve_in_thread


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    (folder / "page.html").write_text("<!doctype html><p>" + "hello " * 2000 + "</p>")
    (folder / "data.whl").write_bytes(b"PK" + bytes(range(256)) * 10)
    server, url = serve_in_thread(folder)
    yield folder, url
    server.shutdown()


def get(url, **headers):
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_gzip_when_accepted_and_identical_after_decoding(served):
    folder, url = served
    status, headers, body = get(url + "page.html", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == (folder / "page.html").read_bytes()
    assert len(body) < (folder / "page.html").stat().st_size / 10
    status, headers, body = get(url + "page.html")
    assert "Content-Encoding" not in headers and body == (folder / "page.html").read_bytes()


def test_already_compressed_files_are_sent_as_they_are(served):
    folder, url = served
    status, headers, body = get(url + "data.whl", **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers and body == (folder / "data.whl").read_bytes()


def test_repeat_visit_revalidates_and_a_new_build_changes_the_etag(served):
    folder, url = served
    _, headers, _ = get(url + "page.html", **{"Accept-Encoding": "gzip"})
    assert headers["Cache-Control"] == "no-cache"
    status, _, body = get(url + "page.html", **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    (folder / "page.html").write_text("<p>a new build</p>")
    status, headers2, body = get(url + "page.html", **{"If-None-Match": headers["ETag"]})
    assert status == 200 and body == b"<p>a new build</p>" and headers2["ETag"] != headers["ETag"]


def test_missing_files_and_directories_behave_as_before(served):
    _, url = served
    assert get(url + "nope.html")[0] == 404


def test_a_reader_leaving_mid_download_is_not_reported_but_real_errors_are(served, capsys):
    """A reset connection (a closed tab) is the client's doing: no traceback. Any other error still prints one."""
    from mamlviz.site.serve import Server

    server = Server(("127.0.0.1", 0), lambda *a: None)
    try:
        for error, reported in ((ConnectionResetError(104, "reset by peer"), False), (BrokenPipeError(), False),
                                (ValueError("a bug"), True)):
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 1))
            assert ("Exception occurred" in capsys.readouterr().err) is reported
    finally:
        server.server_close()
