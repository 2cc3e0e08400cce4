"""Only the newest state reaches the worker (issue 26; not timed: timings are the benchmark's, `mamlviz bench --browser`).

A burst of 20 states in one task gives one computation, of the last state; a figure whose previous request has not
answered yet does not queue the states the reader passed through; streams that refine an answer at rest are
superseded by a newer state at once."""

from __future__ import annotations

import pytest

from live import RUNTIME

P3 = "03-how-maml-works.html"


@pytest.fixture(scope="module")
def part3(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + P3)
    pg.wait_for_selector('.figure[data-figure="sine-fit"][data-status="live"]', timeout=120_000)
    yield pg
    pg.context.close()


def started(pg, figure_id):
    """{count, state} of the computations the main worker started for the figure so far."""
    return pg.evaluate(f"{RUNTIME}.then(m => m.stats())")["main"]["started"].get(figure_id, {"count": 0, "state": None})


def test_a_burst_of_twenty_states_gives_one_computation_of_the_last(part3):
    pg = part3
    before = started(pg, "sine-fit")["count"]
    answers = pg.evaluate("""async (id) => {
      const rt = await import(new URL("assets/js/runtime.js", location.href).href);
      const fig = window.mamlvizFigures.find((f) => f.id === id), answered = [];
      await new Promise((resolve) => {
        for (let k = 0; k < 20; k++) {
          rt.request(id, {...fig.state, amplitude: 1 + k / 10}, null,
            (scene, done) => { answered.push([k, scene.readouts.length > 0]); if (done) resolve(); },
            (error) => { answered.push([k, error]); resolve(); });
        }
      });
      return answered;
    }""", "sine-fit")
    after = started(pg, "sine-fit")
    assert answers == [[19, True]]  # only the last request was answered (the others were never sent)
    assert after["count"] == before + 1
    assert after["state"]["amplitude"] == pytest.approx(2.9)


def test_twenty_slider_inputs_in_one_task_compute_once_and_show_the_last(part3):
    pg = part3
    sel = '.figure[data-figure="sine-fit"]'
    before = started(pg, "sine-fit")["count"]
    pg.evaluate("""(sel) => {
      const input = document.querySelector(`${sel} [data-control="amplitude"] input`);
      for (let k = 0; k < 20; k++) {
        input.value = (2 + k / 10).toFixed(1);
        input.dispatchEvent(new Event("input", {bubbles: true}));
      }
    }""", sel)
    pg.wait_for_function(f"document.querySelector('{sel}').dataset.status === 'live' && "
                         f"document.querySelector('{sel} .describe p').textContent.includes('3.9')", timeout=30_000)
    after = started(pg, "sine-fit")
    assert after["count"] == before + 1 and after["state"]["amplitude"] == pytest.approx(3.9)


def test_a_newer_state_waits_for_the_previous_answer_not_behind_every_one(part3):
    """Inputs in separate tasks while a slow computation runs: the worker computes the first, then whichever state is
    newest each time the previous one answered (not every one in between), and the figure ends on the newest."""
    pg = part3
    sel = '.figure[data-figure="accumulated-loss"]'
    pg.wait_for_selector(f'{sel}[data-status="live"]', timeout=60_000)
    before = started(pg, "accumulated-loss")["count"]
    pg.evaluate("""async (sel) => {
      const input = document.querySelector(`${sel} [data-control="m"] input`);
      const ch = new MessageChannel();
      for (let k = 1; k <= 20; k++) {
        input.value = String(k);
        input.dispatchEvent(new Event("input", {bubbles: true}));
        // a task of its own, as key repeats are, but at once (setTimeout is clamped to 4 ms after a few, which a
        // coarse answer of one more inner step outruns: the test would then count answers, not skipped states)
        await new Promise((r) => { ch.port1.onmessage = r; ch.port2.postMessage(0); });
      }
    }""", sel)
    pg.wait_for_function(f"document.querySelector('{sel}').dataset.status === 'live'", timeout=30_000)
    # idle means the newest state is drawn (not an older answer that came back while the newest waited)
    assert "after m = 20 fine-tuning steps" in pg.locator(f"{sel} .describe p").text_content()
    after = started(pg, "accumulated-loss")
    assert after["state"]["m"] == 20
    # the first, the states current whenever the previous (coarse) answer came back, the last: far fewer than 20
    assert after["count"] - before <= 10, after


def test_a_redraw_that_replaces_only_the_changed_layers_leaves_what_a_whole_redraw_would(part3):
    """The page replaces only the layers (and axes) whose drawing changed: after handle moves (two-tasks: the maps stay,
    the marks move) and slider moves (accumulated-loss: one map changes, two stay), every panel holds exactly what
    drawing its current scene afresh gives."""
    pg = part3
    for fig, control in (("two-tasks", "theta"), ("accumulated-loss", "m")):
        sel = f'.figure[data-figure="{fig}"]'
        pg.wait_for_selector(f'{sel}[data-status="live"]', timeout=60_000)
        for k in range(3):
            if control == "theta":
                pg.locator(f'{sel} .handle').first.press("ArrowRight")
            else:
                pg.evaluate("""([sel, k]) => {
                  const input = document.querySelector(`${sel} [data-control="m"] input`);
                  input.value = String(k + 2);
                  input.dispatchEvent(new Event("input", {bubbles: true}));
                }""", [sel, k])
            pg.wait_for_function(f"document.querySelector('{sel}').dataset.status === 'live'", timeout=30_000)
            pg.wait_for_timeout(100)
        same = pg.evaluate("""async (id) => {
          const scene = await import(new URL("assets/js/scene.js", location.href).href);
          const fig = window.mamlvizFigures.find((f) => f.id === id);
          return fig.panels.map((P) => {
            const fresh = document.createElementNS("http://www.w3.org/2000/svg", "g");
            fresh.innerHTML = scene.layersSVG(P.spec, P.scale);
            const axes = document.createElementNS("http://www.w3.org/2000/svg", "g");
            axes.innerHTML = scene.axesSVG(P.spec, P.scale);
            return [P.parts !== undefined, P.layers.innerHTML === fresh.innerHTML, P.axes.innerHTML === axes.innerHTML];
          });
        }""", fig)
        assert same and all(s == [True, True, True] for s in same), (fig, same)
