"""Pyodide's memory snapshot (issue 26, item 4; worker.js): the first worker that boots in a browser without one
takes the image of the bare runtime and keeps it in Cache Storage; the next boots in that browser start from it and
answer exactly as a plain boot does (the readouts of a moved figure equal the native ones); an image that is not whole is dropped, the boot goes on plainly and keeps a
new one. (Its speed is `bench/pyodide_snapshot.py`'s business, not a test's.)"""

from __future__ import annotations

import json
from functools import cache

from live import RUNTIME, wait_until

from mamlviz import figures

PAGE = "03-how-maml-works.html"
F = '.figure[data-figure="accumulated-loss"]'
CACHE = "mamlviz pyodide snapshot"
KEY = ("fetch('pyodide/pyodide-lock.json').then((r) => r.json()).then(({info}) => new URL("
       "`pyodide/snapshot-${info.version}-${info.python}-${info.platform}`, location.href).href)")
KEPT = f"caches.open('{CACHE}').then((c) => {KEY}.then((k) => c.match(k))).then((r) => r ? r.arrayBuffer() : null)" \
       ".then((b) => b ? b.byteLength : 0)"


def boot(pg, base):
    """Open Part 3, set accumulated-loss's m and α: its readouts become the native ones (else this times out). Whether
    the page's worker booted from the image."""
    pg.goto(base + PAGE)
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=120_000)
    pg.locator(f'{F} [data-control="m"] input').fill("3")
    pg.locator(f'{F} [data-control="alpha"] input').fill("0.03")
    expected = json.dumps(native_readouts(), separators=(",", ":"))
    wait_until(pg, f"JSON.stringify([...document.querySelectorAll('{F} dd[data-readout]')].map((e) => e.textContent))"
                   f" === {json.dumps(expected)}", timeout=60_000)
    return pg.evaluate(f"{RUNTIME}.then((m) => m.workers()[0].snapshot)")


@cache
def native_readouts():
    figures.load_all()
    scene = figures.run("accumulated-loss", {"m": 3, "alpha": 0.03})
    scene = list(scene)[-1] if not isinstance(scene, dict) else scene
    return tuple(format(r["value"], r["format"]).replace("-", "−") for r in scene["readouts"])


def test_the_next_boot_starts_from_the_image_the_first_kept_and_answers_the_same(open_page, served_site):
    first = open_page()
    try:
        assert boot(first, served_site) is False                 # a fresh browser: nothing kept yet
        wait_until(first, f"{KEPT}.then((n) => n > 16 * 65536)")  # the image it took (about 21 MB)
        second = first.context.new_page()
        assert boot(second, served_site) is True                 # and the same answers (boot waits for them)
        assert first.console_errors == []
    finally:
        first.context.close()


def test_an_image_that_is_not_whole_is_dropped_and_the_boot_goes_on(open_page, served_site):
    pg = open_page()
    try:
        pg.goto(served_site + "about.html")
        for damaged in ("new Uint8Array(4000)",                                   # too short for any memory
                        "(() => { const a = new Uint32Array(16 * 16384 + 13); a[0] = 1886286592; a[1] = 48;"
                        " return new Uint8Array(a.buffer); })()"):               # the magic, but not whole pages
            pg.evaluate(f"caches.open('{CACHE}').then((c) => {KEY}.then((k) => c.put(k, new Response({damaged}))))")
            assert boot(pg, served_site) is False
            wait_until(pg, f"{KEPT}.then((n) => n > 16 * 65536 && n % 16 === 0)")   # a whole image again
            pg.goto(served_site + "about.html")
        assert pg.console_errors == []
    finally:
        pg.context.close()
