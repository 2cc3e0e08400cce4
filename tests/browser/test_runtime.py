"""The live runtime in Chromium: moving between parts keeps the worker (no second boot) and the new part's
figures answer; back/forward restore a part and its figures' state; a reload works; the menu, previous/next and
in-text links all go through the same client-side navigation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mamlviz import figures
from mamlviz.figures import part3

P2, P3, P4 = "02-where-maml-sits.html", "03-how-maml-works.html", "04-meta-gradient-cost.html"
from live import RUNTIME, pause_and_check_stopped, running, wait_until


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def native(figure_id, state, label):
    """A readout of the figure function run natively in this process, formatted like the page."""
    figures.load_all()
    r = next(r for r in figures.run(figure_id, state)["readouts"] if r["label"] == label)
    return format(r["value"], r["format"]).replace("-", "−")


def boots(pg):
    """How many times this page loaded the runtime's loader script (once per worker boot)."""
    return sum(1 for u in pg.requests if u.endswith("pyodide/pyodide.js"))


def one_boot_per_worker(pg):
    """No second boot: the main worker and (if the lab came near the screen) Part 3's one training worker, each
    booted once."""
    workers = pg.evaluate(f"{RUNTIME}.then(m => m.workers())")
    started = [w["name"] for w in workers if w["status"] != "idle"]
    return [w["name"] for w in workers] == ["main", "training-1"] and started[0] == "main" and boots(pg) == len(started)


@pytest.fixture(scope="module")
def nav_page(open_page, served_site):
    """One page for the whole module: Part 3, live, with a marker that a full load would wipe."""
    pg = open_page()
    pg.goto(served_site + P3)
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=60_000)
    mark(pg)
    yield pg
    pg.context.close()


def mark(pg):
    """A marker that a full load wipes, and a count of finished client-side navigations."""
    pg.evaluate("""window.__sameDocument = true; window.__navs = 0;
                   document.addEventListener('mamlviz:navigated', () => window.__navs++)""")


def navigated(pg, before):
    pg.wait_for_function(f"window.__navs > {before}")


def same_document(pg):
    return pg.evaluate("window.__sameDocument === true")


def hop(pg, selector, href):
    before = pg.evaluate("window.__navs")
    pg.locator(selector).first.click()
    navigated(pg, before)
    assert pg.url.endswith(href)
    assert pg.locator(".menu a[aria-current=page]").get_attribute("href") == href


def test_menu_hop_keeps_the_worker_and_the_new_part_answers(nav_page):
    pg = nav_page
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    assert same_document(pg) and pg.title().startswith("Part 2:")
    assert pg.evaluate("document.activeElement.tagName") == "H1"  # focus moved to the new heading
    assert pg.locator('.widget[data-widget="approach-map"]').count() == 1
    pg.wait_for_selector('.widget[data-widget="approach-map"][data-mounted="true"]')
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    assert same_document(pg) and pg.title().startswith("Part 3:")
    # live at once: the worker is already up (no boot; how fast is for the benchmark, not for a test)
    pg.wait_for_selector(f'{fig("accumulated-loss")}[data-status="live"]', timeout=30_000)
    slider = pg.locator(f'{fig("accumulated-loss")} [data-control="m"] input')
    slider.focus()
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    expected = native("accumulated-loss", {"m": 3}, "min J_3")
    pg.wait_for_function(f"""document.querySelector('{fig("accumulated-loss")} dd[data-readout="min J_3"]')
                             ?.textContent === '{expected}'""")
    assert one_boot_per_worker(pg)
    assert pg.console_errors == []


def test_previous_next_and_in_text_links_keep_the_worker(nav_page):
    pg = nav_page
    hop(pg, ".prevnext a[rel=next]", P4)
    hop(pg, ".prevnext a[rel=prev]", P3)
    # an in-text link (the same delegated handler serves every link of the article)
    pg.evaluate(f"""(() => {{ const a = document.createElement('a'); a.href = '{P2}#method-maml'; a.id = 'in-text';
                    a.textContent = 'Part 2'; document.querySelector('article p').append(a); }})()""")
    before = pg.evaluate("window.__navs")
    pg.locator("#in-text").click()
    navigated(pg, before)
    assert pg.url.endswith(P2 + "#method-maml")
    assert pg.evaluate("document.getElementById('method-maml').getBoundingClientRect().top") < 200  # scrolled there
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=30_000)
    assert same_document(pg) and one_boot_per_worker(pg)
    assert pg.console_errors == []


def test_back_and_forward_restore_the_part_and_its_figures(nav_page):
    pg = nav_page
    F = fig("accumulated-loss")
    slider = pg.locator(f'{F} [data-control="m"] input')
    slider.focus()
    pg.keyboard.press("End")  # m = 20
    expected = native("accumulated-loss", {"m": 20}, "min J_20")
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_20\"]')?.textContent === '{expected}'")
    pg.evaluate(f"document.querySelector('{F}').scrollIntoView()")
    scroll = pg.evaluate("window.scrollY")
    hop(pg, f'.menu-parts a[href="{P4}"]', P4)  # the sticky menu: clicking it does not scroll the page
    before = pg.evaluate("window.__navs")
    pg.go_back()
    navigated(pg, before)
    assert pg.url.endswith(P3)
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=30_000)
    assert pg.locator(f'{F} [data-control="m"] output').inner_text() == "20"
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_20\"]')?.textContent === '{expected}'")
    assert abs(pg.evaluate("window.scrollY") - scroll) < 5
    assert pg.title().startswith("Part 3:")
    before = pg.evaluate("window.__navs")
    pg.go_forward()
    navigated(pg, before)
    assert pg.url.endswith(P4) and pg.title().startswith("Part 4:")
    assert same_document(pg) and one_boot_per_worker(pg)
    assert pg.console_errors == []


def test_a_reload_after_client_side_hops_loads_the_page_itself(nav_page):
    pg = nav_page
    pg.goto(pg.url.split("#")[0].rsplit("/", 1)[0] + "/" + P3)
    mark(pg)
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    pg.reload()
    assert not same_document(pg)
    assert pg.title().startswith("Part 2:")
    pg.wait_for_selector('.widget[data-widget="approach-map"][data-mounted="true"]')
    assert pg.console_errors == []


def window_listeners(pg, types=("storage", "pageshow", "visibilitychange")):
    """{event type: listeners on window and document}, as Chromium's debugger lists them (no hook in our code)."""
    cdp = pg.context.new_cdp_session(pg)
    counts = dict.fromkeys(types, 0)
    for target in ("window", "document"):
        handle = cdp.send("Runtime.evaluate", {"expression": target})["result"]["objectId"]
        for listener in cdp.send("DOMDebugger.getEventListeners", {"objectId": handle})["listeners"]:
            if listener["type"] in counts:
                counts[listener["type"]] += 1
    cdp.detach()
    return counts


def test_widget_listeners_do_not_pile_up_across_visits(nav_page):
    """Part 2's timeline listens on window and document; leaving the part by the menu removes those listeners,
    so after three visits there are as many as after one, and none while another part is shown."""
    pg = nav_page
    if pg.evaluate("window.__navs === undefined"):  # a reload (the test before) wiped the counter
        mark(pg)
    if not pg.url.endswith(P2):
        hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    timeline = '.widget[data-widget="omniglot-timeline"][data-mounted="true"]'
    pg.wait_for_selector(timeline)
    once = window_listeners(pg)
    assert once["storage"] >= 1 and once["pageshow"] >= 1 and once["visibilitychange"] >= 1
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    away = window_listeners(pg)
    assert all(away[k] == once[k] - 1 for k in once), (once, away)  # the timeline's own three are gone
    for _ in range(2):
        hop(pg, f'.menu-parts a[href="{P2}"]', P2)
        pg.wait_for_selector(timeline)
        hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    pg.wait_for_selector(timeline)
    assert window_listeners(pg) == once
    # and the live timeline still answers: a score stored by another tab redraws its note
    pg.evaluate("""window.localStorage.setItem('mamlviz.fewshot.scores',
                   JSON.stringify({'20': {right: 3, total: 4}}));
                   window.dispatchEvent(new StorageEvent('storage', {key: null}))""")
    pg.wait_for_function("document.querySelector('[data-testid=timeline-note]').textContent.includes('3 right of 4')")
    assert pg.console_errors == []


COUNT_WORKERS = """window.__workerUrls = [];
const Native = window.Worker;
window.Worker = class extends Native {
  constructor(url, options) { super(url, options); window.__workerUrls.push(String(url)); }
};"""


def test_the_main_worker_starts_from_the_head_once_and_a_url_state_is_computed(open_page, served_site):
    """boot.js starts the main worker before the article is parsed; the figures' runtime adopts it (one worker,
    one boot) and it stays one across a menu hop; a full reload boots once again. A figure whose state comes from
    the URL is computed (its built first frame is for the default state), the others keep their built frame."""
    pg = open_page(init_script=COUNT_WORKERS)
    state = {"amplitude": 2.0, "phase": 0.0, "alpha": 0.05}
    pg.goto(served_site + P3 + "#sine-fit:amplitude=2;phase=0;alpha=0.05")
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=120_000)
    started = pg.evaluate("""(() => {
        const mark = performance.getEntriesByName('mamlviz:main-start')[0];
        return {mark: mark ? mark.startTime : null,
                scripts: performance.getEntriesByType('navigation')[0].domContentLoadedEventStart,
                urls: window.__workerUrls};
    })()""")
    # from <head> (boot.js, async: as soon as it arrives), at the latest when the page's own scripts run
    assert started["mark"] is not None and started["mark"] < started["scripts"]
    assert [u.rsplit("/", 1)[1] for u in started["urls"]] == ["worker.js"]
    workers = pg.evaluate(f"{RUNTIME}.then(m => m.workers())")
    assert workers[0]["name"] == "main" and workers[0]["status"] == "live"
    assert workers[0]["timings"]["start"] is not None and workers[0]["timings"]["numpy"] > workers[0]["timings"]["runtime"]
    assert boots(pg) == 1
    # the URL's state is the figure's, and its frame is computed for it (not the built default frame)
    label = "MAML: MSE after"
    shown = json.loads(pg.evaluate("JSON.stringify(window.mamlvizFigures.find(f => f.id === 'sine-fit').state)"))
    assert {k: shown[k] for k in state} == state
    expected, default = native("sine-fit", shown, label), native("sine-fit", {}, label)
    assert expected != default
    pg.wait_for_function(f"document.querySelector('{fig('sine-fit')} dd[data-readout=\"{label}\"]')"
                         f"?.textContent === '{expected}'")
    # a figure without URL state keeps the frame the build drew, and answers the reader at once
    F = fig("accumulated-loss")
    assert pg.locator(f"{F} dd[data-readout='min J_0']").inner_text() == native("accumulated-loss", {}, "min J_0")
    mark(pg)
    hop(pg, f'.menu-parts a[href="{P2}"]', P2)
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    pg.locator(f'{F} [data-control="m"] input').focus()
    pg.keyboard.press("End")  # m = 20
    expected = native("accumulated-loss", {"m": 20}, "min J_20")
    pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_20\"]')?.textContent === '{expected}'")
    assert pg.evaluate("window.__workerUrls.length") == 1 and boots(pg) == 1
    pg.reload()
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=120_000)
    assert pg.evaluate("window.__workerUrls.length") == 1 and boots(pg) == 2  # one boot per document
    assert pg.console_errors == []
    pg.context.close()


@pytest.fixture(scope="module")
def no_js(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("href", ["03-how-maml-works.html"])
def test_with_javascript_off_every_figure_shows_its_first_frame(no_js, served_site, href):
    """No script runs: each figure's drawn SVG, legend and readouts are in the page as written by the build, and
    the readouts are the native figure function's."""
    pg = no_js
    pg.goto(served_site + href)
    ids = pg.locator(".figure[data-figure]").evaluate_all("fs => fs.map(f => f.dataset.figure)")
    assert ids
    for figure_id in ids:
        scene = figures.first_frame(figure_id)
        F = fig(figure_id)
        assert pg.locator(f"{F} svg.plot").count() == len(scene["panels"])
        box = pg.locator(f"{F} svg.plot").first.bounding_box()
        assert box["width"] > 200 and box["height"] > 150  # drawn at its size, not collapsed
        drawn = pg.locator(f"{F} .layers path, {F} .layers circle, {F} .layers image").count()
        assert drawn >= sum(len(p["layers"]) > 0 for p in scene["panels"])
        for r in scene["readouts"]:
            want = "—" if r["value"] is None else format(r["value"], r["format"]).replace("-", "−")
            assert pg.locator(f'{F} dd[data-readout="{r["label"]}"]').inner_text() == want


# ------------------------------------------------------------------------------------------ training workers
LAB = fig("meta-lab")


def updates(pg):
    return int(pg.locator(f'{LAB} dd[data-readout="meta-updates"]').inner_text())


def wait_updates(pg, at_least, timeout=120_000):
    pg.wait_for_function(f"Number(document.querySelector('{LAB} dd[data-readout=\"meta-updates\"]').textContent) >= {at_least}",
                         timeout=timeout)


@pytest.fixture(scope="module")
def lab_page(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + P3)
    pg.wait_for_selector(f'{fig("sine-fit")}[data-status="live"]', timeout=120_000)
    assert [w["name"] for w in pg.evaluate(f"{RUNTIME}.then(m => m.workers())")] == ["main", "training-1"]
    assert pg.locator(f'{LAB}[data-status="static"]').count() == 1  # not booted while the lab is off-screen
    pg.locator(LAB).scroll_into_view_if_needed()
    for figure_id in ("meta-lab", "accumulated-loss", "sine-fit"):
        pg.wait_for_selector(f'{fig(figure_id)}[data-status="live"]', timeout=120_000)
    mark(pg)
    yield pg
    pg.context.close()


def test_the_lab_trains_in_a_worker_of_its_own_and_the_figures_keep_answering(lab_page):
    pg = lab_page
    workers = pg.evaluate(f"{RUNTIME}.then(m => m.workers())")
    assert [w["name"] for w in workers] == ["main", "training-1"]  # hardwareConcurrency 2 here: one training worker
    assert workers[1]["figures"] == ["meta-lab"] and workers[1]["status"] == "live"
    pg.locator(f'{LAB} [data-control="start"] button').click()
    wait_updates(pg, 50)
    assert running(pg)["training-1"] == ["meta-lab"]
    # while it trains, another figure answers with the native result
    F = fig("accumulated-loss")
    pg.locator(f'{F} [data-control="m"] input').focus()
    for m in (1, 2):
        pg.keyboard.press("ArrowRight")
        expected = native("accumulated-loss", {"m": m}, f"min J_{m}")
        pg.wait_for_function(f"document.querySelector('{F} dd[data-readout=\"min J_{m}\"]')?.textContent === '{expected}'",
                             timeout=10_000)
    assert running(pg)["training-1"] == ["meta-lab"]  # and the lab still trains
    before = updates(pg)
    wait_updates(pg, before + 25)
    assert pg.console_errors == []


def test_pause_stops_the_training_and_the_sine_fit_gets_the_lab_models(lab_page):
    pg = lab_page
    paused_at = pause_and_check_stopped(pg, LAB, updates)
    # the hand-off: the models the lab published reached the main worker, which the sine fit runs in
    model = json.loads(pg.evaluate(f"{RUNTIME}.then(m => m.trainedModel('meta-lab'))"))
    assert model["iteration"] == paused_at
    S = fig("sine-fit")
    pg.locator(f'{S} [data-control="models"] select').select_option("lab")
    state = figures.FIGURES["sine-fit"].default_state()
    thetas = np.array([model["pretrained"], model["maml"]])
    mse, _ = part3.true_mse(thetas, state["amplitude"], state["phase"])  # before adaptation: the models themselves
    expected = format(mse[1], ".3f")
    pg.wait_for_function(f"document.querySelector('{S} dd[data-readout=\"MAML: MSE before\"]')?.textContent === '{expected}'")
    assert "No models trained" not in pg.locator(f"{S} .figure-message").inner_text()
    assert pg.console_errors == []


def test_reset_stops_and_withdraws_the_models(lab_page):
    pg = lab_page
    pg.locator(f'{LAB} [data-control="start"] button').click()
    wait_updates(pg, updates(pg) + 25)
    pg.locator(f'{LAB} [data-control="reset"] button').click()
    pg.wait_for_function(f"document.querySelector('{LAB} dd[data-readout=\"meta-updates\"]').textContent === '0'")
    assert running(pg)["training-1"] == []
    S = fig("sine-fit")
    pg.locator(f'{S} [data-control="amplitude"] input').focus()
    pg.keyboard.press("ArrowLeft")  # any new request of the sine fit now finds no lab models
    pg.wait_for_function(f"document.querySelector('{S} .figure-message').textContent.includes('No models trained')")
    assert pg.console_errors == []


def test_leaving_the_page_stops_the_training(lab_page):
    pg = lab_page
    pg.locator(f'{LAB} [data-control="start"] button').click()
    wait_updates(pg, 25)
    hop(pg, f'.menu-parts a[href="{P4}"]', P4)
    wait_until(pg, f"""{RUNTIME}.then(m => m.stats()).then(s => s['training-1'].running.length === 0)""")
    assert same_document(pg)
    assert pg.console_errors == []


def test_coming_back_shows_the_paused_job_not_the_built_frame(lab_page):
    """Back on Part 3 by the menu, the lab shows the job its worker kept (left paused when the reader left): its
    update count, the curves so far and "Paused", and it answers; not the built first frame (0 updates)."""
    pg = lab_page
    if not pg.url.endswith(P4):
        pg.locator(f'{LAB} [data-control="start"] button').click()
        wait_updates(pg, 25)
        hop(pg, f'.menu-parts a[href="{P4}"]', P4)
    wait_until(pg, f"""{RUNTIME}.then(m => m.stats()).then(s => s['training-1'].running.length === 0)""")
    trained = json.loads(pg.evaluate(f"{RUNTIME}.then(m => m.trainedModel('meta-lab'))"))["iteration"]
    assert trained >= 25
    hop(pg, f'.menu-parts a[href="{P3}"]', P3)
    pg.wait_for_function(f"document.querySelector('{LAB} dd[data-readout=\"meta-updates\"]').textContent === '{trained}'",
                         timeout=30_000)
    pg.wait_for_function(f"document.querySelector('{LAB} .describe p').textContent.startsWith('Paused')")
    assert pg.locator(f'{LAB}[data-status="live"]').count() == 1
    # the curves so far are drawn (the built frame of an untrained lab has none)
    assert pg.locator(f"{LAB} svg path.line").count() > 0
    # and Start continues from there
    pg.locator(f'{LAB} [data-control="start"] button').click()
    wait_updates(pg, trained + 25)
    pg.locator(f'{LAB} [data-control="pause"] button').click()
    assert same_document(pg) and one_boot_per_worker(pg)
    assert pg.console_errors == []
