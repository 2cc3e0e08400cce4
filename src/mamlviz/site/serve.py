"""Serve site/ on 127.0.0.1 with the standard library (the same server the tests use)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                      ".json": "application/json", ".zip": "application/zip", ".whl": "application/zip"}

    def log_message(self, format, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(site: Path, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
    server = http.server.ThreadingHTTPServer((host, port), functools.partial(Handler, directory=str(site)))
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
