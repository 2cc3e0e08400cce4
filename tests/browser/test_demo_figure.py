"""The figure machinery on a toy article with the demonstration figure: first frame before the worker, live,
slider, keyboard handle, points, URL state, streaming, failure modes; plus the widget hook."""

from __future__ import annotations

import hashlib
import json
import math
import time

import pytest

from mamlviz import figures

FIG = '.figure[data-figure="demo-descent"]'


def readout(pg, label):
    return pg.locator(f'{FIG} dd[data-readout="{label}"]').inner_text()


def native(state, label):
    """The readout the same figure function gives natively, formatted like the page (minus sign as U+2212)."""
    figures.load_all()
    scene = figures.run("demo-descent", state)
    r = next(r for r in scene["readouts"] if r["label"] == label)
    return format(r["value"], r["format"]).replace("-", "−")


def test_first_frame_before_the_worker_then_live(page, demo_site, wait_live, outside_requests):
    pg = page()
    pg.goto(demo_site + "01-first.html", wait_until="domcontentloaded")
    pg.wait_for_selector(f"{FIG} .plot image.heatmap")  # drawn by the build: in the HTML
    pg.wait_for_selector(f"{FIG} .controls")            # the page's script has wired the figure
    # the first frame is on screen while the runtime is still loading
    assert pg.locator(FIG).get_attribute("data-status") == "static"
    assert pg.locator("#loader").is_visible()
    assert readout(pg, "f(x_10)") == native({}, "f(x_10)")
    assert pg.locator(f"{FIG} .layer-contour path").count() > 3
    assert pg.locator(f"{FIG} .handle").count() == 1
    wait_live(pg, "demo-descent")
    assert "live" in pg.locator(f"{FIG} .figure-status").inner_text().lower()
    assert pg.locator(FIG + " .describe p").text_content().startswith("Heat map of f")
    assert pg.console_errors == [] and outside_requests(pg, demo_site) == []
    assert [f for f in pg.failed_requests if not f.startswith(demo_site)] == []


def test_slider_answers(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html")
    wait_live(pg, "demo-descent")
    slider = pg.locator("#ctl-demo-descent-a")
    slider.focus()
    for _ in range(2):
        pg.keyboard.press("ArrowLeft")  # 0.4 → 0.3 (step 0.05)
    assert pg.locator(f'{FIG} [data-control="a"] output').inner_text() == "0.30"
    expected = native({"a": 0.3}, "f(x_10)")
    pg.wait_for_function(f"document.querySelector('{FIG} dd[data-readout=\"f(x_10)\"]').textContent === '{expected}'")
    assert expected != native({}, "f(x_10)")
    assert pg.console_errors == []


def test_handle_moves_with_the_keyboard(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html")
    wait_live(pg, "demo-descent")
    handle = pg.locator(f"{FIG} .handle")
    handle.focus()
    for _ in range(5):
        pg.keyboard.press("ArrowRight")
    pg.keyboard.press("Shift+ArrowDown")  # ten steps at once
    assert handle.get_attribute("aria-valuetext") == "Start point: (0.20, 0.70)"
    expected = native({"x0": [0.2, 0.7]}, "f(x₀)")
    pg.wait_for_function(f"document.querySelector('{FIG} dd[data-readout=\"f(x₀)\"]').textContent === '{expected}'")
    # the heat map did not move, the handle did: its transform follows the state
    assert pg.locator(f"{FIG} .plot image.heatmap").count() == 1


def test_pointer_drag_moves_the_handle(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html")
    wait_live(pg, "demo-descent")
    box = pg.locator(f"{FIG} .handle .dot").bounding_box()
    frame = pg.locator(f"{FIG} .panel").first.locator(".frame").bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(frame["x"] + 0.6 * frame["width"], frame["y"] + 0.6 * frame["height"], steps=5)
    pg.mouse.up()
    text = pg.locator(f"{FIG} .handle").get_attribute("aria-valuetext")
    x, y = (float(v) for v in text.split("(")[1].rstrip(")").split(","))
    assert abs(x - 0.6) < 0.03 and abs(y - 0.4) < 0.03


def test_points_by_pointer_and_keyboard(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html")
    wait_live(pg, "demo-descent")
    panel = pg.locator(f"{FIG} .panel svg").first
    frame = panel.locator(".frame").bounding_box()
    pg.mouse.click(frame["x"] + 0.8 * frame["width"], frame["y"] + 0.8 * frame["height"])
    assert panel.locator(".input-point").count() == 1
    panel.focus()
    pg.keyboard.press("ArrowRight")
    pg.keyboard.press("Enter")
    assert panel.locator(".input-point").count() == 2
    pg.wait_for_function(f"document.querySelectorAll('{FIG} .layer-line path.secondary').length === 2")
    pg.keyboard.press("Delete")
    assert panel.locator(".input-point").count() == 1
    panel.locator(".input-point").first.click()  # clicking a point removes it
    assert panel.locator(".input-point").count() == 0


def test_url_state_is_applied_validated_and_shareable(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html#demo-descent:a=0.1;steps=999;x0=0.5,0.25;bogus=1;lr=abc")
    assert "bogus" in pg.locator(f"{FIG} .figure-notice").inner_text()
    assert pg.locator(f'{FIG} [data-control="steps"] output').inner_text() == "30"  # clamped
    wait_live(pg, "demo-descent")
    state = {"a": 0.1, "steps": 30, "x0": [0.5, 0.25]}
    expected = native(state, "f(x_30)")
    pg.wait_for_function(f"document.querySelector('{FIG} dd[data-readout=\"f(x_30)\"]')?.textContent === '{expected}'")
    pg.locator(f"{FIG} .copy-link").click()
    assert pg.evaluate("location.hash") == "#demo-descent:a=0.1;steps=30;x0=0.5,0.25"


def test_streaming_animation_and_superseding(page, demo_site, wait_live):
    pg = page()
    pg.goto(demo_site + "01-first.html")
    wait_live(pg, "demo-descent")
    seen = pg.evaluate_handle("window.__seen = []")
    pg.evaluate(f"""new MutationObserver(() => window.__seen.push(
        document.querySelector('{FIG} dd[data-readout="steps shown"]')?.textContent)).observe(
        document.querySelector('{FIG} .readouts'), {{childList: true, subtree: true}})""")
    pg.locator(f'{FIG} [data-control="animate"] button').click()
    pg.wait_for_function("window.__seen.includes('10')")
    frames = [v for v in pg.evaluate("window.__seen") if v]
    assert frames[0] in ("0", "1") and len(set(frames)) >= 5  # streamed frame by frame
    # a newer request supersedes a running stream: start an animation, then change a slider at once
    pg.locator(f'{FIG} [data-control="animate"] button').click()
    pg.locator("#ctl-demo-descent-steps").focus()
    pg.keyboard.press("ArrowLeft")  # steps 10 → 9
    wait_live(pg, "demo-descent")
    pg.wait_for_timeout(300)
    assert readout(pg, "steps shown") == "9"
    assert pg.console_errors == []


def test_no_webassembly_keeps_first_frames_and_says_so(page, demo_site):
    pg = page(init_script="delete window.WebAssembly;")
    pg.goto(demo_site + "01-first.html")
    pg.wait_for_selector(f'{FIG}[data-status="failed"]')
    assert "WebAssembly" in pg.locator("#loader").inner_text()
    assert pg.locator("#loader").is_visible() and pg.locator("#loader").get_attribute("role") == "alert"
    assert pg.locator(f"{FIG} .plot image.heatmap").count() == 1  # the first frame stays
    assert readout(pg, "f(x_10)") == native({}, "f(x_10)")
    assert "not live" in pg.locator(f"{FIG} .figure-status").inner_text().lower()


def test_missing_runtime_file_keeps_first_frames_and_says_so(page, demo_site):
    pg = page()
    pg.context.route("**/pyodide.asm.wasm", lambda route: route.abort())
    pg.goto(demo_site + "01-first.html")
    pg.wait_for_selector(f'{FIG}[data-status="failed"]', timeout=60_000)
    text = pg.locator("#loader").inner_text()
    assert "could not start" in text and "first frame" in text
    assert pg.locator(f"{FIG} .plot image.heatmap").count() == 1
    assert readout(pg, "f(x_10)") == native({}, "f(x_10)")


def test_widget_hook_mounts_a_module_with_its_data(page, demo_site):
    pg = page()
    pg.goto(demo_site + "02-second.html")
    pg.wait_for_selector('.widget[data-mounted="true"]')
    assert pg.locator(".test-widget-output").inner_text() == "widget says hello 5"
    assert pg.console_errors == []


def test_cold_load_measurements(page, demo_site, demo_built, wait_live, shots):
    """Records time to first frame, time to live and bytes of a cold load (no timing assertion), and checks what
    those numbers are made of: the first frame is drawn while the figure is still static, every runtime file comes
    once from the served site in full (its decoded body equals the file on disk; on the wire it may be compressed),
    and nothing else."""
    pg = page()
    bodies, finished = {}, []
    pg.context.on("requestfinished", lambda r: r.method == "GET" and (
        finished.append(r), bodies.setdefault(r.url, []).append(r.sizes()["responseBodySize"])))
    t0 = time.monotonic()
    pg.goto(demo_site + "01-first.html", wait_until="commit")
    pg.wait_for_selector(f"{FIG} .plot image.heatmap")
    first = time.monotonic() - t0
    assert pg.locator(FIG).get_attribute("data-status") == "static"   # drawn before the runtime is up
    wait_live(pg, "demo-descent")
    live = time.monotonic() - t0
    pg.wait_for_timeout(500)
    pg.locator(FIG).screenshot(path=str(shots / "demo-figure.png"))
    runtime = ["pyodide/pyodide.js", "pyodide/pyodide.asm.js", "pyodide/pyodide.asm.wasm",
               "pyodide/python_stdlib.zip", "mamlviz.zip"]
    runtime += [str(p.relative_to(demo_built)) for p in (demo_built / "pyodide").glob("numpy-*.whl")]
    assert len(runtime) == 6
    for name in runtime:
        got = [r for r in finished if r.url == demo_site + name]
        assert len(got) == 1, f"{name} was loaded {len(got)} times"
        body = got[0].response().body()                                  # decoded: the file itself, in full
        assert hashlib.sha256(body).digest() == hashlib.sha256((demo_built / name).read_bytes()).digest(), name
    assert all(url.startswith((demo_site, "data:", "blob:")) for url in bodies)
    total = sum(sum(v) for v in bodies.values())                          # bytes on the wire (gzip where sent so)
    assert total > 5_000_000
    assert 0 < first < live
    result = {"first_frame_s": round(first, 2), "live_s": round(live, 2), "bytes": total,
              "requests": sum(len(v) for v in bodies.values())}
    (shots / "cold-load.json").write_text(json.dumps(result))
    print("\ncold load:", result)


def test_url_with_malformed_percent_escapes_keeps_the_figure_working(page, demo_site, wait_live):
    # "%E0%A4%A" is not a valid escape: decodeURIComponent throws on it. The figure must still draw, go live, apply
    # the valid entries and say what it ignored; "Copy link" must still work with such a hash.
    pg = page()
    pg.goto(demo_site + "01-first.html#demo-descent:a=0.1;bogus=%E0%A4%A&other:x=%")
    pg.wait_for_selector(f"{FIG} .plot image.heatmap")
    assert pg.locator(f'{FIG} [data-control="a"] output').inner_text() == "0.10"
    assert "bogus" in pg.locator(f"{FIG} .figure-notice").inner_text()
    wait_live(pg, "demo-descent")
    pg.locator(f"{FIG} .copy-link").click()
    assert pg.evaluate("location.hash").endswith("&demo-descent:a=0.1")
    assert pg.console_errors == []
