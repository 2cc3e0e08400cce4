"""Firefox ESR and WebKitGTK for the smoke tests (tests/browser/test_engines.py): Debian's own builds, driven by
the protocols they ship (not a test module).

- Firefox ESR (`firefox-esr`) over WebDriver BiDi: Firefox's own remote agent (`--remote-debugging-port`) speaks
  it, so no geckodriver is needed; the client is a few commands over a WebSocket (the `websockets` package).
- WebKitGTK (`webkit2gtk-driver`: `WebKitWebDriver`, which drives the MiniBrowser of libwebkit2gtk) over W3C
  WebDriver (HTTP, the standard library), in a virtual X server (`xvfb`), since MiniBrowser opens a real window.

Both offer the same small interface: `goto(url)`, `run(body)` (the body of an async function; its return value
comes back through JSON), `wait(condition)`, `resize(width, height)` (of the viewport), `press(key)` (a real key
press to the focused element), `errors()` (window `error` and `unhandledrejection` events, plus, in Firefox, the
page's console errors) and `close()`. `name` and `version` say which engine it is.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

FIREFOX = "/usr/bin/firefox-esr"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
XVFB = "/usr/bin/Xvfb"
MINIBROWSERS = "/usr/lib/*/webkit2gtk-4.1/MiniBrowser"

# Window errors of the page, recorded from its first script on (Firefox: a preload script; WebKit: after each load).
RECORD_ERRORS = """() => {
  if (window.__mamlvizErrors) return;
  const errors = window.__mamlvizErrors = [];
  addEventListener("error", (e) => errors.push("error event: " + (e.message || (e.target && (e.target.src || e.target.href)) || "?")), true);
  addEventListener("unhandledrejection", (e) => errors.push("unhandled rejection: " + ((e.reason && e.reason.message) || e.reason)));
}"""

KEYS = {"ArrowRight": "\ue014", "ArrowLeft": "\ue012", "Enter": "\ue006", "Space": " "}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key_actions(key):
    value = KEYS.get(key, key)
    return [{"type": "key", "id": "keyboard", "actions": [{"type": "keyDown", "value": value},
                                                          {"type": "keyUp", "value": value}]}]


class Engine:
    name = version = ""

    def run(self, body: str):
        raise NotImplementedError

    def wait(self, condition: str, timeout: float = 60, what: str = ""):
        """Poll a JavaScript expression until it is true; on a timeout, fail saying what was awaited."""
        end = time.monotonic() + timeout
        while True:
            if self.run(f"return Boolean({condition});"):
                return
            if time.monotonic() > end:
                raise AssertionError(f"{self.name}: timed out after {timeout:.0f} s waiting for {what or condition}")
            time.sleep(0.2)

    def page_errors(self):
        return self.run("return window.__mamlvizErrors || [];")


class Firefox(Engine):
    """Debian's Firefox ESR, headless, with a fresh profile, over WebDriver BiDi."""

    name = "Firefox ESR"

    def __init__(self):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="mamlviz-firefox-")
        port = free_port()
        self.log = open(os.path.join(self.profile, "firefox.log"), "w")
        self.proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", self.profile,
                                      f"--remote-debugging-port={port}", "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60
        while True:
            try:
                self.ws = connect(f"ws://127.0.0.1:{port}/session", max_size=None, open_timeout=5)
                break
            except OSError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    self.close()
                    raise RuntimeError("Firefox ESR did not open its WebDriver BiDi port")
                time.sleep(0.3)
        self.next_id, self.console = 0, []
        caps = self.command("session.new", {"capabilities": {}})["capabilities"]
        self.version = f"{caps['browserName']} {caps['browserVersion']}"
        self.command("session.subscribe", {"events": ["log.entryAdded"]})
        self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
        self.command("script.addPreloadScript", {"functionDeclaration": RECORD_ERRORS})

    def command(self, method, params, timeout=300):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=timeout))
            if msg.get("type") == "event":
                entry = msg["params"]
                # the page's own console: kept with its document's realm, since lines can come late from a page
                # already left (a boot cut short by the navigation says "Cannot load pyodide/pyodide.js")
                if (msg["method"] == "log.entryAdded" and entry.get("level") == "error"
                        and entry.get("source", {}).get("context") == getattr(self, "context", None)):
                    self.console.append((entry["source"].get("realm"), f"console: {entry.get('text')}"))
            elif msg.get("id") == self.next_id:
                if msg.get("type") == "error":
                    raise RuntimeError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return msg["result"]

    def goto(self, url):
        self.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def window_realm(self):
        realms = self.command("script.getRealms", {"context": self.context, "type": "window"})["realms"]
        return realms[0]["realm"] if realms else None

    def run(self, body):
        out = self.command("script.evaluate", {
            "expression": f"(async () => {{ {body} }})().then((v) => JSON.stringify(v === undefined ? null : v))",
            "target": {"context": self.context}, "awaitPromise": True})
        if out["type"] == "exception":
            raise RuntimeError(f"{self.name}: {out['exceptionDetails'].get('text')}")
        return json.loads(out["result"]["value"])

    def resize(self, width, height):
        self.command("browsingContext.setViewport", {"context": self.context,
                                                     "viewport": {"width": width, "height": height}})

    def press(self, key):
        self.command("input.performActions", {"context": self.context, "actions": _key_actions(key)})

    def errors(self):
        self.run("return 0;")  # collects the log events that came meanwhile
        realm = self.window_realm()   # the current document (a link followed in the page makes a new one too)
        return self.page_errors() + [text for r, text in self.console if r == realm]

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class WebKit(Engine):
    """Debian's WebKitGTK (MiniBrowser) over W3C WebDriver, in its own virtual X server."""

    name = "WebKitGTK"

    def __init__(self):
        self.procs = []
        self.folder = tempfile.mkdtemp(prefix="mamlviz-webkit-")
        self.log = open(os.path.join(self.folder, "webkit.log"), "w")
        read, write = os.pipe()
        self.procs.append(subprocess.Popen([XVFB, "-displayfd", str(write), "-screen", "0", "1600x1200x24",
                                            "-nolisten", "tcp"], pass_fds=[write], stdout=self.log,
                                           stderr=subprocess.STDOUT))
        os.close(write)
        with os.fdopen(read) as f:
            display = ":" + f.readline().strip()
        port = free_port()
        self.procs.append(subprocess.Popen([WEBKIT_DRIVER, f"--port={port}"],
                                           env={**os.environ, "DISPLAY": display},
                                           stdout=self.log, stderr=subprocess.STDOUT))
        self.base = f"http://127.0.0.1:{port}"
        (binary,) = glob.glob(MINIBROWSERS)[:1] or [None]
        end = time.monotonic() + 60
        while True:
            try:
                out = self.http("POST", "/session", {"capabilities": {"alwaysMatch": {
                    "webkitgtk:browserOptions": {"binary": binary, "args": ["--automation"]}}}})
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > end:
                    self.close()
                    raise RuntimeError("WebKitWebDriver did not answer")
                time.sleep(0.3)
        self.session = f"/session/{out['sessionId']}"
        caps = out["capabilities"]
        self.version = f"WebKitGTK {caps['browserVersion']} ({caps['browserName']})"
        self.http("POST", self.session + "/timeouts", {"script": 300_000, "pageLoad": 300_000})

    def http(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            value = json.loads(e.read()).get("value", {})
            raise RuntimeError(f"{self.name} {method} {path}: {value.get('error')}: {value.get('message')}") from None

    def goto(self, url):
        self.http("POST", self.session + "/url", {"url": url})
        self.run(f"({RECORD_ERRORS})();")  # WebKit's driver has no preload scripts: from the load event on

    def run(self, body):
        script = ("const done = arguments[arguments.length - 1];"
                  f"(async () => {{ {body} }})().then((v) => done(JSON.stringify({{ok: v === undefined ? null : v}})),"
                  " (e) => done(JSON.stringify({error: String(e && e.stack || e)})));")
        out = json.loads(self.http("POST", self.session + "/execute/async", {"script": script, "args": []}))
        if "error" in out:
            raise RuntimeError(f"{self.name}: {out['error']}")
        return out["ok"]

    def resize(self, width, height):
        # the window's size; MiniBrowser's own toolbar sets a floor to its width (about 450 px under Xvfb)
        self.http("POST", self.session + "/window/rect", {"width": width, "height": height})

    def press(self, key):
        self.http("POST", self.session + "/actions", {"actions": _key_actions(key)})
        self.http("DELETE", self.session + "/actions")

    def errors(self):
        return self.page_errors()

    def close(self):
        try:
            if getattr(self, "session", None):
                self.http("DELETE", self.session)
        except Exception:
            pass
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


ENGINES = {"firefox": (Firefox, FIREFOX), "webkit": (WebKit, WEBKIT_DRIVER)}
