"""Serve site/ on 127.0.0.1 with the standard library (the same server the tests and the benchmark use).

Bytes: responses are compressed (gzip; Brotli too when the `brotli` package is installed) when the client accepts
it, and every file carries a strong ETag (a hash of its content) with `Cache-Control: no-cache`, so a repeat visit
revalidates each file and gets `304 Not Modified` for what did not change, and a new build never mixes old and new
files: nothing is taken from a cache without asking.

Policy: every response carries the site's content-security policy (`csp.HEADER`). The pages also hold it in a
<meta> tag, but a worker's policy comes from its own script's response: only the header covers the workers.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import threading
from pathlib import Path

from .csp import HEADER as CSP_HEADER

try:  # optional: Brotli where the package is there
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".txt", ".md", ".bib", ".py"}
_encoded: dict[tuple, tuple[str, bytes]] = {}  # (path, mtime, size, encoding) → (etag, body)
_lock = threading.Lock()


def encode(path: Path, encoding: str) -> tuple[str, bytes]:
    """The file's body in `encoding` ("identity", "gzip", "br") and its ETag; computed once per file version."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size, encoding)
    with _lock:
        if key in _encoded:
            return _encoded[key]
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:32]
    if encoding == "gzip":
        body = gzip.compress(raw, compresslevel=6, mtime=0)
    elif encoding == "br":
        body = brotli.compress(raw, quality=5)
    else:
        body = raw
    tag = f'"{digest}-{encoding}"'
    with _lock:
        _encoded[key] = (tag, body)
    return tag, body


def choose_encoding(accept: str, suffix: str) -> str:
    offered = {part.split(";")[0].strip().lower() for part in (accept or "").split(",")}
    if suffix not in COMPRESSIBLE:
        return "identity"
    if brotli is not None and "br" in offered:
        return "br"
    return "gzip" if "gzip" in offered else "identity"


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Chromium revalidates (If-None-Match) HTTP/1.1 responses, not 1.0 ones
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                      ".json": "application/json", ".zip": "application/zip", ".whl": "application/zip"}

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            index = path / "index.html"
            if not self.path.split("?")[0].endswith("/") or not index.is_file():
                return super().send_head()  # redirects and directory listings as the standard server does
            path = index
        if not path.is_file():
            return super().send_head()  # 404 as usual
        encoding = choose_encoding(self.headers.get("Accept-Encoding", ""), path.suffix)
        try:
            tag, body = encode(path, encoding)
        except OSError:
            self.send_error(404, "File not found")
            return None
        if tag in {t.strip() for t in self.headers.get("If-None-Match", "").split(",")}:
            self.send_response(304)
            self._validators(tag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if encoding != "identity":
            self.send_header("Content-Encoding", encoding)
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP_HEADER)  # pages and, above all, the workers' scripts
        self._validators(tag)
        self.end_headers()
        return io.BytesIO(body)

    def _validators(self, tag):
        self.send_header("ETag", tag)
        self.send_header("Cache-Control", "no-cache")  # always revalidate: cheap 304s, never a stale mix

    def log_message(self, format, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A reader who leaves while a file is being sent (a closed tab, a navigation, a test that ends) resets the
        connection: nothing went wrong on our side, so say nothing. Anything else is printed as usual."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):   # BrokenPipeError, ConnectionResetError, …
            return
        super().handle_error(request, client_address)


def make_server(site: Path, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
    server = Server((host, port), functools.partial(Handler, directory=str(site)))
    server.daemon_threads = True
    server.verbose = verbose
    return server


def serve_in_thread(site: Path, port: int = 0):
    """Start a server on a free port in a daemon thread; returns (server, base_url)."""
    server = make_server(site, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"


def serve_forever(site: Path, port: int = 8000, host: str = "127.0.0.1") -> None:
    server = make_server(site, port, host, verbose=True)
    print(f"Serving {site} at http://{host}:{server.server_address[1]}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

