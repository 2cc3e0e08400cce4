"""Smoke tests in the two other engines a reader may have: Debian's Firefox ESR (over WebDriver BiDi) and WebKitGTK,
the engine of Safari (Debian's webkit2gtk-driver, under Xvfb, over W3C WebDriver); see tests/browser/engines.py.
Chromium runs the whole browser suite; these check that the series works at all elsewhere, as a reader would use it.

One walk per engine, with a fresh profile, on the served build:
- Part 1, and Part 2 loaded in full as soon as the offline copy is being saved (the service worker's progress
  messages then reach a new page before its `register()` resolved): Part 2's widgets drawn, resized to 390 px and
  back, the copy saved.
- Part 1 again: the game's MAML machine answers (the runtime's own answer), the reader answers one trial.
- Parts 3 and 8, reached by their links (client-side navigation keeps the worker): every figure's own first answer
  (status "live"; a figure that says "failed" fails the test at once, with its reason), one control a figure moved
  by a real key press with a readout or drawing that changes, the page resized to 390 px and back.
- Part 3 loaded anew: its worker boots from Pyodide's memory snapshot that an earlier boot kept (worker.js).
- After every step: no window `error` or `unhandledrejection` event (and, in Firefox, no console error).
"""

from __future__ import annotations

import os
import time

import pytest

from engines import ENGINES
from live import RUNTIME

P1, P2, P3, P8 = "01-introduction.html", "02-where-maml-sits.html", "03-how-maml-works.html", "08-comparison.html"
GAME = '.widget[data-widget="fewshot-game"]'
BOOT_S = 240  # WebKitGTK boots Pyodide in 10-20 s on a quiet machine; a loaded one is slower

FIGURES = """return [...document.querySelectorAll('.figure[data-figure]')].map((f) => ({
  id: f.dataset.figure, status: f.dataset.status, text: (f.querySelector('.figure-status') || {}).textContent || '',
  training: JSON.parse(f.querySelector('script.figure-data').textContent).training === true}));"""

# What a reader sees change: the drawing, the readouts, the description, the message.
SEEN = """const f = document.querySelector('.figure[data-figure="ID"]');
return [...f.querySelectorAll('.panels, .readouts, .describe, .figure-message')].map((e) => e.innerHTML).join('|');"""


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request):
    cls, program = ENGINES[request.param]
    if not os.path.exists(program):
        pytest.fail(f"{program} is missing: ./dev test installs Debian's firefox-esr, webkit2gtk-driver and xvfb")
    e = cls()
    yield e
    e.close()


def no_errors(e, where):
    errors = e.errors()
    assert errors == [], f"{e.version}, {where}: {errors}"


def wait_every_figure_live(e, timeout=BOOT_S):
    """Every figure of the page on screen has answered for itself; a failed one fails the test at once. A training
    figure boots its worker when it comes near the screen: each not yet live is scrolled into view in turn."""
    end = time.monotonic() + timeout
    while True:
        figures = e.run(FIGURES)
        failed = [f"{f['id']}: {f['text']}" for f in figures if f["status"] == "failed"]
        assert not failed, f"{e.version}: figures failed: {failed}"
        waiting = [f for f in figures if f["status"] != "live"]
        if not waiting:
            return [(f["id"], f["training"]) for f in figures]
        assert time.monotonic() < end, f"{e.version}: not live after {timeout} s: {waiting}"
        for f in waiting:
            if f["training"]:
                e.run(f"document.querySelector('.figure[data-figure=\"{f['id']}\"]').scrollIntoView();")
        time.sleep(0.5)


def changes(e, figure, before, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = e.run(f"return document.querySelector('.figure[data-figure=\"{figure}\"]').dataset.status;")
        assert status != "failed", f"{e.version}: {figure} failed after a control moved"
        if status in ("live", "busy") and e.run(SEEN.replace("ID", figure)) != before:
            return True
        time.sleep(0.2)
    return False


def press_button(e, figure, name):
    # a click (Firefox's BiDi key events reach a focused button but do not activate it)
    e.run(f"const b = document.querySelector('.figure[data-figure=\"{figure}\"] [data-control=\"{name}\"] button');"
          "b.scrollIntoView({block: 'center'}); b.click();")


def move_one_control(e, figure, training):
    """A training figure: Start until what the reader sees changes, then Pause. Any other: focus
    its sliders one after another and press → (← at the top of its range) until what the reader sees changes.
    Fails if nothing changes it."""
    if training:
        before = e.run(SEEN.replace("ID", figure))
        press_button(e, figure, "start")
        assert changes(e, figure, before, 60), f"{e.version}: Start did not change {figure}"
        press_button(e, figure, "pause")
        e.wait(f"document.querySelector('.figure[data-figure=\"{figure}\"] .describe p').textContent"
               ".startsWith('Paused')", 30, f"{figure} to pause")
        return
    sliders = e.run(f"return document.querySelectorAll('.figure[data-figure=\"{figure}\"] .controls "
                    "input[type=range]').length;")
    for i in range(sliders):
        before = e.run(SEEN.replace("ID", figure))
        at_max = e.run(f"""const s = document.querySelectorAll('.figure[data-figure="{figure}"] .controls input[type=range]')[{i}];
            const d = s.closest('details'); if (d) d.open = true;
            s.scrollIntoView({{block: 'center'}}); s.focus(); return Number(s.value) >= Number(s.max);""")
        e.press("ArrowLeft" if at_max else "ArrowRight")
        if changes(e, figure, before, 15):
            return
    raise AssertionError(f"{e.version}: none of the {sliders} sliders of {figure} changed what it shows")


def resize_and_back(e, where):
    """To 390 px and back to 1280; returns the narrowest width the engine gave the page."""
    widths = []
    for width, height in ((390, 844), (1280, 900)):
        e.resize(width, height)
        widths.append(e.run("await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));"
                            "await new Promise((r) => setTimeout(r, 300)); return innerWidth;"))
        no_errors(e, f"{where} at {width} px")
    assert widths[0] < 480 and widths[1] >= 1200, f"{e.version}: the page was {widths} px wide"
    return widths[0]


def hop(e, href):
    """Follow a link to another part, as a reader clicks it (client-side navigation)."""
    e.run(f"document.querySelector('main a[href$=\"{href}\"], nav a[href$=\"{href}\"]').click();")
    e.wait(f"location.pathname.endsWith('{href}') && document.querySelector('.figure[data-figure]')", 30,
           f"the link to {href}")


def test_smoke(engine, served_site):
    e, start = engine, time.monotonic()

    def step(what):
        print(f"{e.version}: {what} at {time.monotonic() - start:.1f} s", flush=True)

    e.resize(1280, 900)
    # Part 1, then Part 2 as soon as the offline copy is being saved (its worker's messages reach the new page early)
    e.goto(served_site + P1)
    e.wait("['saving', 'ready'].includes(document.querySelector('.offline-status')?.dataset.state)", 60,
           "the offline copy to start")
    saving = e.run("return document.querySelector('.offline-status').dataset.state;") == "saving"
    no_errors(e, "Part 1")
    e.goto(served_site + P2)
    step("Part 2 loaded " + ("while the offline copy was being saved" if saving else "after the copy was saved"))
    e.wait("document.querySelector('.widget[data-widget=\"omniglot-timeline\"] svg')", 30, "the timeline")
    no_errors(e, "Part 2 after Part 1" + (" while the copy was saved" if saving else ""))
    narrow = resize_and_back(e, "Part 2")
    e.wait("document.querySelector('.offline-status')?.dataset.state === 'ready'", BOOT_S, "the offline copy")
    no_errors(e, "Part 2, offline copy saved")
    step("Part 2: resized, offline copy saved")

    # Part 1 again: one trial of the game, once its MAML machine (the runtime's answer) has played
    e.goto(served_site + P1)
    e.wait(f"['answered', 'failed'].includes(document.querySelector('{GAME}')?.dataset.mamlStatus)", BOOT_S,
           "the game's MAML machine to answer")
    assert e.run(f"return document.querySelector('{GAME}').dataset.mamlStatus;") == "answered", \
        e.run(f"return document.querySelector('{GAME} .fs-maml')?.textContent;")
    step("Part 1: the game's machine answered")
    e.run(f"""const g = document.querySelector('{GAME}'), c = g.querySelector('.fs-query').dataset.classId;
        g.querySelector(`.fs-exemplar[data-class-id="${{c}}"]`).click();""")  # the exemplar of the query's class
    assert e.run(f"return document.querySelector('{GAME} .fs-feedback').textContent;") == "Right!"
    assert "1 right of 1" in e.run(f"return document.querySelector('{GAME} .fs-score').textContent;")
    no_errors(e, "Part 1, a trial answered")

    for href in (P3, P8):  # on by links, as a reader: the worker stays
        hop(e, href)
        figures = wait_every_figure_live(e)
        step(f"{href}: every figure live")
        no_errors(e, f"{href}, live")
        for figure, training in figures:
            move_one_control(e, figure, training)
            step(f"{href}: {figure} moved")
        no_errors(e, f"{href}, controls moved")
        resize_and_back(e, href)
    # a new page load: its worker boots from Pyodide's memory snapshot that an earlier boot in this browser kept
    e.goto(served_site + P3)
    wait_every_figure_live(e)
    assert e.run(f"return (await {RUNTIME}).workers()[0].snapshot;") is True, "Part 3 booted without the snapshot"
    no_errors(e, "Part 3, booted from the snapshot")
    step("Part 3 reloaded: booted from the snapshot, every figure live")
    print(f"{e.version}: smoke walk passed (narrowest viewport {narrow} px)")
