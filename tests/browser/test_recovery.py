"""A worker that dies is replaced and the figures recover with their state; a browser without WebAssembly keeps the
first frames and says why nothing is live.

Deaths are made with the runtime's test hook `debugCrash(name, how)`: "terminate" (the worker is gone at once),
"error" (an uncaught error inside the worker, reported by the browser's error event), "oom" (the worker reports
Pyodide's fatal out-of-memory error). The main worker restarts by itself; a training worker waits for the reader.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from mamlviz import figures

P1, P3 = "01-introduction.html", "03-how-maml-works.html"
from live import RUNTIME


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def boots(pg):
    return sum(1 for u in pg.requests if u.endswith("pyodide/pyodide.js"))


def crash(pg, worker, how):
    assert pg.evaluate(f"{RUNTIME}.then((rt) => rt.debugCrash('{worker}', '{how}'))")


def page_state(pg, figure_id):
    return pg.evaluate(f"JSON.parse(JSON.stringify(window.mamlvizFigures.find((f) => f.id === '{figure_id}').state))")


def description(pg, figure_id):
    return pg.locator(f"{fig(figure_id)} .describe p").text_content()


def native_description(state, figure_id="two-tasks"):
    figures.load_all()
    return figures.run(figure_id, state)["description"]


def idle(pg, figure_id, timeout=120_000):
    pg.wait_for_selector(f'{fig(figure_id)}[data-status="live"]', timeout=timeout)


@pytest.fixture(scope="module")
def lab(open_page, served_site):
    """Part 3, live, with the two-task figure moved off its defaults by a resample and a meta-gradient step (both
    come back from the worker as state updates, so only the runtime's copy of the current state has them)."""
    pg = open_page()
    pg.goto(served_site + P3)
    idle(pg, "two-tasks")
    for button in ("New samples", "Meta-gradient step"):
        pg.locator(f"{fig('two-tasks')} button", has_text=button).click()
        idle(pg, "two-tasks")
    pg.wait_for_function("window.mamlvizFigures.find((f) => f.id === 'two-tasks').state._seed === 1")
    yield pg
    pg.context.close()


def recovers(pg, worker, how, boots_before):
    """The figure's current state survives the death of `worker`: after the restart, a request again for that state
    draws the same description as before, which is also the figure function's own, run here."""
    state = page_state(pg, "two-tasks")
    assert state["_seed"] == 1 and state["theta"] != [0.15, 0.85] and len(state["_trail"]) >= 2
    before = description(pg, "two-tasks")
    assert before == native_description(state)
    pg.evaluate(f"document.querySelector('{fig('two-tasks')} .describe p').textContent = 'wiped'")
    crash(pg, worker, how)
    pg.wait_for_function(f"document.querySelector('{fig('two-tasks')} .describe p').textContent !== 'wiped'",
                         timeout=120_000)
    idle(pg, "two-tasks")
    assert description(pg, "two-tasks") == before
    assert page_state(pg, "two-tasks") == state
    assert boots(pg) == boots_before + 1  # one new worker, booted once
    assert pg.evaluate(f"{RUNTIME}.then((rt) => rt.getStatus())") == "live"


@pytest.mark.parametrize("how", ["terminate", "error"])
def test_the_main_worker_restarts_and_the_figures_keep_their_state(lab, how):
    pg = lab
    recovers(pg, "main", how, boots(pg))
    # and it answers new input: another step moves θ as the figure function does
    state = page_state(pg, "two-tasks")
    pg.locator(f"{fig('two-tasks')} button", has_text="Meta-gradient step").click()
    pg.wait_for_function(f"JSON.stringify(window.mamlvizFigures.find((f) => f.id === 'two-tasks').state.theta) "
                         f"!== '{json.dumps(state['theta'], separators=(',', ':'))}'")
    idle(pg, "two-tasks")
    assert description(pg, "two-tasks") == native_description(page_state(pg, "two-tasks"))
    assert pg.console_errors == []


def test_a_dead_training_worker_waits_for_the_reader(lab, wait_live):
    pg = lab
    wait_live(pg, "meta-lab", timeout=180_000)
    before = boots(pg)
    crash(pg, "training-1", "terminate")
    status = pg.locator(f"{fig('meta-lab')} .figure-status")
    pg.wait_for_selector(f'{fig("meta-lab")}[data-status="stopped"]')
    assert re.search(r"Not live: its worker stopped \(the worker was terminated\)\. Press Restart", status.inner_text())
    button = pg.locator(f"{fig('meta-lab')} button.restart-worker")
    assert button.is_visible()
    # the other figures run in the main worker and keep answering
    assert pg.locator(f'{fig("two-tasks")}[data-status="live"]').count() == 1
    assert boots(pg) == before  # nothing restarts by itself
    button.click()
    wait_live(pg, "meta-lab", timeout=180_000)
    assert not button.is_visible()
    assert boots(pg) == before + 1
    workers = {w["name"]: w["status"] for w in pg.evaluate(f"{RUNTIME}.then((rt) => rt.workers())")}
    assert workers == {"main": "live", "training-1": "live"}
    assert pg.console_errors == []


def test_out_of_memory_restarts_and_a_worker_that_keeps_dying_gives_up(lab):
    pg = lab
    recovers(pg, "main", "oom", boots(pg))
    last = description(pg, "two-tasks")
    # deaths within five minutes (this module's earlier tests count too): restarted up to 3, then the runtime
    # stops trying and says so
    for _ in range(4):
        crash(pg, "main", "terminate")
        pg.wait_for_selector(f'{fig("two-tasks")}[data-status="live"], {fig("two-tasks")}[data-status="failed"]',
                             timeout=120_000)
        if pg.locator(f'{fig("two-tasks")}[data-status="failed"]').count():
            break
    pg.wait_for_selector(f'{fig("two-tasks")}[data-status="failed"]', timeout=1000)
    assert "stopped 4 times" in pg.locator(f"{fig('two-tasks')} .figure-status").inner_text()
    assert "stopped 4 times" in pg.locator("#loader").inner_text()
    assert description(pg, "two-tasks") == last  # the last frame stays
    assert pg.console_errors == []


NO_WASM = "delete globalThis.WebAssembly;"


@pytest.mark.parametrize("href", [P3, P1])
def test_without_webassembly_the_first_frames_stay_and_the_page_says_why(open_page, served_site, built_site, href):
    pg = open_page(init_script=NO_WASM)
    try:
        pg.goto(served_site + href)
        assert pg.evaluate("typeof WebAssembly") == "undefined"
        if href == P3:  # the loading indicator of the figures says why
            pg.locator("#loader").wait_for(state="visible")
            pg.wait_for_function("document.querySelector('#loader').textContent.includes('no WebAssembly')")
        ids = pg.locator(".figure[data-figure]").evaluate_all("els => els.map(e => e.dataset.figure)")
        html = (built_site / href).read_text()
        for figure_id in ids:
            pg.wait_for_selector(f'{fig(figure_id)}[data-status="failed"]')
            assert "no WebAssembly" in pg.locator(f"{fig(figure_id)} .figure-status").inner_text()
            # the first frame as built: its description, and as many drawn layers as the HTML holds
            built = re.search(rf'data-figure="{figure_id}".*?<details class="describe"><summary>[^<]*</summary><p>(.*?)</p>',
                              html, re.S)
            assert built and description(pg, figure_id) == unescape(built.group(1))
            block = html[html.index(f'data-figure="{figure_id}"'):]
            block = block[:block.index("</figure>")]
            assert pg.locator(f"{fig(figure_id)} g.layers > *").count() == block.count('<g class="layer ')
        if href == P1:  # the game's MAML machine says it cannot play, and why; the other machines do
            pg.locator('.widget[data-widget="fewshot-game"][data-mounted="true"]').wait_for()
            pg.locator('[data-maml-status="failed"]').wait_for(state="attached")
            pg.wait_for_function("document.querySelector('.widget[data-widget=\"fewshot-game\"]').textContent"
                                 ".includes('could not start in this browser; the other machines still play. "
                                 "This browser cannot run the live figures: it has no WebAssembly.')")
        assert not any("pyodide/" in u for u in pg.requests)  # no worker was started
        assert pg.console_errors == []
    finally:
        pg.context.close()
