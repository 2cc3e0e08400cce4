"""Offline after one visit: the service worker saves the whole series from a sub-path of a static host, every part
opens and goes live with the network cut, a new build replaces the saved copy only as a whole (the open page keeps
the old one until the reader takes the new), and a failed update leaves the saved copy as it was.

The site is a copy of the session's build under /some/sub/path/, since these tests change files in it."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mamlviz import figures
from mamlviz.site import offline

REPO = Path(__file__).resolve().parents[2]
SUB = "some/sub/path/"
P1, P3 = "01-introduction.html", "03-how-maml-works.html"
STATUS = ".offline-status"
MARKER = '<p id="build-marker">second build</p>'


@pytest.fixture(scope="module")
def folder(built_site, tmp_path_factory):
    host = tmp_path_factory.mktemp("host")
    shutil.copytree(built_site, host / SUB)
    return host


@pytest.fixture(scope="module")
def base(folder):
    from mamlviz.site.serve import serve_in_thread

    server, url = serve_in_thread(folder)
    yield url + SUB
    server.shutdown()


@pytest.fixture(scope="module")
def reader(open_page, base):
    """One context (one browser profile: one service worker) for the module; its first page stays on Part 3."""
    pg = open_page(service_workers="allow")
    pg.goto(base + P3)
    yield pg
    pg.context.close()


def version(site: Path) -> str:
    return json.loads((site / "offline.json").read_text())["version"]


def cache_names(pg):
    """The offline copy's caches (the runtime keeps Pyodide's memory snapshot in one of its own: worker.js)."""
    return [name for name in pg.evaluate("caches.keys()") if name != "mamlviz pyodide snapshot"]


def cached_digests(pg, cache):
    """sha256 of every body in that cache, computed in the page: {URL: hex}."""
    return pg.evaluate("""async (name) => {
        const cache = await caches.open(name), out = {};
        for (const request of await cache.keys()) {
            const body = await (await cache.match(request)).arrayBuffer();
            out[request.url] = [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))]
                .map((b) => b.toString(16).padStart(2, '0')).join('');
        }
        return out;
    }""", cache)


def status(pg, text, timeout=180_000):
    try:
        pg.locator(STATUS, has_text=text).wait_for(timeout=timeout)
    except Exception as e:
        raise AssertionError(f"waiting for {text!r}; the status line says {pg.locator(STATUS).text_content()!r}") from e


def test_one_visit_saves_the_whole_series(reader, base, folder):
    site = folder / SUB
    status(reader, "Available offline.")
    # the manifest is every file the site serves, hashed here independently of the build's code
    on_disk = {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")}
    del on_disk["sw.js"], on_disk["offline.json"]
    manifest = json.loads((site / "offline.json").read_text())
    assert {k: v["sha256"] for k, v in manifest["files"].items()} == on_disk
    assert {P1, P3, "index.html", "about.html", "mamlviz.zip", "assets/js/worker.js", "pyodide/pyodide.asm.wasm",
            "pyodide/python_stdlib.zip", "data/fewshot-game.json"} <= set(on_disk)
    assert any(k.startswith("pyodide/numpy-") and k.endswith(".whl") for k in on_disk)
    # one cache, named by this scope and build, holding exactly those files, byte for byte
    name = f"mamlviz {base} {version(site)}"
    assert cache_names(reader) == [name]
    assert cached_digests(reader, name) == {base + k: v for k, v in on_disk.items()}
    print(f"\nsaved for offline use: {len(on_disk)} files, {manifest['bytes']} bytes")
    assert reader.console_errors == []


def answers(pg, figure_id):
    return pg.evaluate(f"""import(new URL('assets/js/runtime.js', location.href).href).then((rt) =>
        new Promise((resolve, reject) => {{
            const f = window.mamlvizFigures.find((f) => f.id === '{figure_id}');
            rt.request(f.id, f.state, null, (scene, done) => done && resolve(true), reject);
        }}))""")


def test_every_part_opens_and_goes_live_offline(reader, base, wait_live):
    figures.load_all()
    context = reader.context
    hrefs = reader.locator(".menu-parts > li > a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) == 10
    context.set_offline(True)
    try:
        for href in ["index.html", *hrefs, "about.html", ""]:
            pg = context.new_page()
            errors = []
            pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto(base + href)
            assert pg.locator("main h1").count() == 1, href
            ids = pg.locator(".figure[data-figure]").evaluate_all("els => els.map(e => e.dataset.figure)")
            for figure_id in ids:
                if figures.FIGURES[figure_id].training and figure_id != "meta-lab":
                    continue  # one training worker (Part 3's lab) is enough to show they boot offline too
                wait_live(pg, figure_id, timeout=180_000)
                assert answers(pg, figure_id), (href, figure_id)
            for widget in pg.locator("[data-widget]").all():
                widget.locator("xpath=self::*[@data-mounted='true']").wait_for()
            status(pg, "Available offline.", timeout=30_000)
            assert errors == [], href
            pg.close()
        # and the network really is off: a file the site does not have cannot be had
        pg = context.new_page()
        with pytest.raises(Exception):
            pg.goto(base + "not-in-the-site.html")
        pg.close()
    finally:
        context.set_offline(False)


def rebuild(site: Path, change=None):
    """A new build as the build makes it: a page changes, then the manifest and sw.js are written anew."""
    page = site / P1
    page.write_text(page.read_text().replace("</main>", (change or MARKER) + "</main>"))
    return offline.write(site, REPO / "templates" / "sw.js")["version"]


def registration(pg, what):
    return pg.evaluate(f"navigator.serviceWorker.getRegistration().then((r) => {what})")


def fetch_text(pg, href):
    return pg.evaluate(f"fetch('{href}').then((r) => r.text())")


def test_a_new_build_replaces_the_saved_copy_as_a_whole(reader, base, folder):
    site = folder / SUB
    old = version(site)
    new = rebuild(site)
    assert new != old
    registration(reader, "r.update()")
    status(reader, "A new version of the series is saved")
    button = reader.locator(f"{STATUS} button", has_text="Read the new version")
    # both copies whole side by side; the open page still reads the old one (nothing mixed in)
    assert sorted(cache_names(reader)) == sorted([f"mamlviz {base} {old}", f"mamlviz {base} {new}"])
    assert "build-marker" not in fetch_text(reader, P1)
    assert registration(reader, "r.waiting !== null")
    reader.wait_for_timeout(1000)  # late progress reports of the install must not take the offer away
    assert button.is_visible()
    # the reader takes the new version: the page reloads from it, the old copy is gone
    with reader.expect_navigation():
        button.click()
    status(reader, "Available offline.")
    assert cache_names(reader) == [f"mamlviz {base} {new}"]
    assert "build-marker" in fetch_text(reader, P1)
    digests = cached_digests(reader, f"mamlviz {base} {new}")
    assert digests[base + P1] == hashlib.sha256((site / P1).read_bytes()).hexdigest()
    # and offline, a new page is the new build
    reader.context.set_offline(True)
    try:
        pg = reader.context.new_page()
        pg.goto(base + P1)
        assert pg.locator("#build-marker").inner_text() == "second build"
        pg.close()
    finally:
        reader.context.set_offline(False)
    assert reader.console_errors == []


def test_a_failed_update_keeps_the_saved_copy_whole(reader, base, folder):
    site = folder / SUB
    saved = version(site)
    rebuild(site, '<p id="build-marker-3">third build</p>')
    # a file changes after the manifest was written (a deploy caught half-way): it does not match its sha256
    about = site / "about.html"
    about.write_text(about.read_text().replace("</main>", "<p>changed after the manifest</p></main>"))
    registration(reader, "r.update()")
    status(reader, "Could not save for offline reading")
    assert "about.html is not the file of this version" in reader.locator(STATUS).inner_text()
    assert "still available offline" in reader.locator(STATUS).inner_text()
    assert cache_names(reader) == [f"mamlviz {base} {saved}"]
    for _ in range(240):  # the failure is reported just before the install ends (slow on a loaded machine)
        if registration(reader, "r.waiting === null && r.installing === null"):
            break
        reader.wait_for_timeout(500)
    assert registration(reader, "r.waiting === null && r.installing === null && r.active.state === 'activated'")
    reader.context.set_offline(True)
    try:
        pg = reader.context.new_page()
        pg.goto(base + P1)
        assert pg.locator("#build-marker").count() == 1 and pg.locator("#build-marker-3").count() == 0
        pg.close()
    finally:
        reader.context.set_offline(False)
