"""Parts 8–10 in a real browser: every control and the handle of the comparison figures answer as the native figure
functions do (arrow coordinates, paths, readouts), trajectories come back from a link, the sine race's first update
equals a native recomputation and its final numbers lie within the spread of native runs; Part 10 lists every
reference. One page per part, shared by the tests of this module."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures
from mamlviz.figures import part8

PAGE = "08-comparison.html"
SPEC = importlib.util.spec_from_file_location("part8_known", Path(__file__).parents[1] / "test_part8.py")
known = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(known)


from live import RUNTIME, pause_and_check_stopped, running, wait_until


def fig(figure_id):
    return f'.figure[data-figure="{figure_id}"]'


def page_state(pg, figure_id):
    return json.loads(pg.evaluate(f"JSON.stringify(window.mamlvizFigures.find(f => f.id === '{figure_id}').state)"))


def page_scene(pg, figure_id):
    """The page's current scene. The first frame drawn at build time keeps only its axes as data (its layers are in
    the HTML as SVG, drawn natively by the same function), so for it this is the native scene of the page's state:
    only what the reader reads (readouts, description) is then compared with the page."""
    scene = json.loads(pg.evaluate(f"JSON.stringify(window.mamlvizFigures.find(f => f.id === '{figure_id}').scene)"))
    if any("layers" not in panel for panel in scene["panels"]):
        return figures.run(figure_id, page_state(pg, figure_id))
    return scene


def wait_idle(pg, figure_id, timeout=60_000):
    pg.wait_for_function(f"document.querySelector('{fig(figure_id)}').dataset.status === 'live'", timeout=timeout)
    pg.wait_for_timeout(50)


def formatted(r):
    return "—" if r["value"] is None else format(r["value"], r["format"]).replace("-", "−")


def assert_matches_native(pg, figure_id, what, final=False):
    """The page's arrows, paths and readouts equal the native figure function's for the page's own state."""
    state = page_state(pg, figure_id)
    native = known.final(figure_id, state) if final else figures.run(figure_id, state)
    scene = page_scene(pg, figure_id)
    got, want = known.arrows(scene), known.arrows(native)
    assert set(got) == set(want), what
    for m in want:
        np.testing.assert_allclose(got[m][1], want[m][1], rtol=1e-9, atol=1e-12, err_msg=what)
    for m, p in known.paths(native).items():
        np.testing.assert_allclose(known.paths(scene)[m], p, rtol=1e-9, atol=1e-12, err_msg=what)
    for r in native["readouts"]:
        text = pg.locator(f'{fig(figure_id)} dd[data-readout="{r["label"]}"]').inner_text()
        if r["format"].endswith("e") and r["value"] is not None:   # JS writes 9.30e-4 where Python writes 9.30e-04
            assert float(text.replace("−", "-")) == pytest.approx(float(formatted(r).replace("−", "-"))), what
        else:
            assert text == formatted(r), (what, r["label"])
    assert pg.locator(f"{fig(figure_id)} .describe p").text_content() == native["description"], what
    return scene


@pytest.fixture(scope="module")
def part8_page(open_page, served_site):
    pg = open_page()
    pg.goto(served_site + PAGE)
    for figure_id in ("four-methods", "trajectories", "sine-race", "race-fit"):
        pg.locator(fig(figure_id)).scroll_into_view_if_needed()   # the race's worker boots when it nears the screen
        pg.wait_for_selector(f'{fig(figure_id)}[data-status="live"]', timeout=120_000)
    workers = {w["name"]: w["figures"] for w in pg.evaluate(f"{RUNTIME}.then(m => m.workers())")}
    # the race trains in a worker of its own (shared with the classification race when the pool has one worker)
    assert "sine-race" in workers["training-1"] and set(workers["training-1"]) <= {"sine-race", "glyph-race"}
    pg.evaluate("""window.__sameDocument = true; window.__navs = 0;
                   document.addEventListener('mamlviz:navigated', () => window.__navs++)""")
    yield pg
    pg.context.close()


def open_group(pg, figure_id, group):
    """Unfold a method's settings by keyboard, as a reader would: focus its summary, press Enter."""
    details = pg.locator(f'{fig(figure_id)} .control-group[data-group="{group}"] details')
    if not details.evaluate("d => d.open"):
        details.locator("summary").focus()
        pg.keyboard.press("Enter")
        assert details.evaluate("d => d.open"), group


def group_summary(pg, group):
    return pg.locator(f'{fig("four-methods")} .control-group[data-group="{group}"] .group-values').inner_text()


def expected_summary(state, m):
    outer = "ε" if m == "reptile" else "β"
    text = f"{outer} {state[m + '_outer']:.2f} · α {state[m + '_alpha']:.3f} · k {state[m + '_k']}"
    return text + (f" · λ {state['imaml_lambda']:.1f}" if m == "imaml" else "")


def test_four_methods_settings_fold_per_method_and_their_summaries_follow_the_state(part8_page):
    """21 controls: each method's switch stays visible, its sliders fold into one <details> per method (closed at
    first, so the figure is short on a phone) whose summary gives the current values."""
    pg, F = part8_page, fig("four-methods")
    groups = pg.locator(f"{F} .control-group")
    assert groups.evaluate_all("gs => gs.map(g => g.dataset.group)") == list(part8.METHODS)
    for m in part8.METHODS:
        row = pg.locator(f'{F} .control-group[data-group="{m}"]')
        assert row.locator(f'[data-control="{m}_on"] input').is_visible()          # the switch: visible
        assert not row.locator(f'[data-control="{m}_k"] input').is_visible()        # the sliders: folded
        assert group_summary(pg, m) == expected_summary(page_state(pg, "four-methods"), m)
    # every setting is reachable: unfold by keyboard, Tab into the first slider, move it; the summary follows
    open_group(pg, "four-methods", "fomaml")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.closest('[data-control]').dataset.control") == "fomaml_outer"
    pg.keyboard.press("ArrowLeft")
    wait_idle(pg, "four-methods")
    state = page_state(pg, "four-methods")
    assert state["fomaml_outer"] == pytest.approx(0.49)
    assert group_summary(pg, "fomaml") == expected_summary(state, "fomaml")
    assert_matches_native(pg, "four-methods", "fomaml β by keyboard inside its group")
    # and it is in the link to the view
    pg.locator(f"{F} .copy-link").click()
    assert "fomaml_outer=0.49" in pg.evaluate("location.hash")
    pg.keyboard.press("ArrowRight")   # back to the default for the next test
    wait_idle(pg, "four-methods")
    assert pg.console_errors == []


def test_every_control_of_the_four_methods_changes_its_own_arrow_as_natively(part8_page):
    pg, F = part8_page, fig("four-methods")
    wait_idle(pg, "four-methods")
    assert_matches_native(pg, "four-methods", "first frame")
    for c in figures.FIGURES["four-methods"].controls:
        before = known.arrows(page_scene(pg, "four-methods"))
        box = pg.locator(f'{F} [data-control="{c.name}"]')
        if c.group and c.kind != "toggle":
            open_group(pg, "four-methods", c.group)
        if c.kind == "slider":
            box.locator("input").focus()
            for key in ["ArrowLeft"] * 3:   # a small change of each
                pg.keyboard.press(key)
        elif c.kind == "toggle" and c.name != "unit":
            box.locator("input").uncheck()
        elif c.kind == "select":
            box.locator("select").select_option("imaml")
        else:
            continue
        wait_idle(pg, "four-methods")
        scene = assert_matches_native(pg, "four-methods", c.name)
        method = c.name.split("_")[0]
        if method in part8.METHODS and c.kind == "slider":     # its own arrow moved, the others did not
            after = known.arrows(scene)
            for m in after:
                moved = not np.allclose(after[m][1], before[m][1], rtol=0, atol=1e-12)
                assert moved == (m == method), (c.name, m)
        if c.kind == "toggle":
            assert method not in known.arrows(scene)
            box.locator("input").check()
            wait_idle(pg, "four-methods")
    # directions only, the handle by keyboard, a resample: still the native scene
    pg.locator(f'{F} [data-control="unit"] input').check()
    handle = pg.locator(f"{F} .handle")
    handle.focus()
    for key in ("ArrowRight",) * 5 + ("ArrowDown",) * 3:
        pg.keyboard.press(key)
    wait_idle(pg, "four-methods")
    assert page_state(pg, "four-methods")["theta"] == pytest.approx([0.15, 0.37])
    assert_matches_native(pg, "four-methods", "handle, unit arrows")
    pg.locator(f'{F} [data-control="resample"] button').click()
    wait_idle(pg, "four-methods")
    assert page_state(pg, "four-methods")["_seed"] == 1
    assert_matches_native(pg, "four-methods", "resample")
    assert pg.locator(f"{F} g.arrow").count() == 4
    assert pg.console_errors == []


def test_inner_rate_zero_makes_the_drawn_maml_and_fomaml_arrows_coincide(part8_page):
    pg, F = part8_page, fig("four-methods")
    for name in ("maml_alpha", "fomaml_alpha", "maml_outer", "fomaml_outer"):
        open_group(pg, "four-methods", name.split("_")[0])
        pg.locator(f'{F} [data-control="{name}"] input').fill("0.5" if name.endswith("outer") else "0")
    wait_idle(pg, "four-methods")
    a = known.arrows(page_scene(pg, "four-methods"))
    np.testing.assert_allclose(a["maml"][1], a["fomaml"][1], atol=1e-12)
    assert pg.locator(f'{F} dd[data-readout="angle MAML–FOMAML"]').inner_text() == "0.0"


def test_trajectories_from_a_link_are_the_native_paths(browser, served_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(served_site + PAGE + "#trajectories:theta=0.3,0.6;updates=40;k=3;reptile_on=0")
    sel = f'{fig("trajectories")} dd[data-readout="meta-updates"]'
    pg.wait_for_function(f"document.querySelector('{sel}')?.textContent === '40'", timeout=120_000)
    wait_idle(pg, "trajectories", timeout=120_000)
    state = page_state(pg, "trajectories")
    assert state["theta"] == [0.3, 0.6] and state["k"] == 3 and state["reptile_on"] is False
    scene = assert_matches_native(pg, "trajectories", "from the link", final=True)
    assert set(known.paths(scene)) == {"maml", "fomaml", "imaml"}
    assert pg.locator(f'{fig("trajectories")} path.line.maml').count() == 1
    # keyboard on a slider: one more inner step, recomputed as natively
    pg.locator(f'{fig("trajectories")} [data-control="k"] input').focus()
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"document.querySelector('{fig('trajectories')} .describe p').textContent.includes('k = 4')",
                         timeout=60_000)
    pg.wait_for_function(f"document.querySelector('{sel}')?.textContent === '40'", timeout=120_000)
    wait_idle(pg, "trajectories", timeout=120_000)
    assert_matches_native(pg, "trajectories", "k = 4", final=True)
    assert errors == []
    context.close()


def test_race_first_update_equals_native_and_final_numbers_lie_in_the_native_spread(part8_page, shots):
    pg, F = part8_page, fig("sine-race")
    pg.locator(f'{F} [data-control="step"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Paused after 1 ')",
                         timeout=120_000)
    values = {r["label"]: r["value"] for r in page_scene(pg, "sine-race")["readouts"]}
    for m, name in part8.RACERS.items():
        _, own, shared = known.first_update_native(m, 0)
        assert values[f"{name}: own procedure"] == pytest.approx(own, rel=1e-9), name
        assert values[f"{name}: one shared step"] == pytest.approx(shared, rel=1e-9), name
    # race on to 100 updates (the budget slider's minimum), keyboard-driven
    pg.locator(f'{F} [data-control="budget"] input').focus()
    pg.keyboard.press("Home")
    pg.locator(f'{F} [data-control="start"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Finished after 100')",
                         timeout=600_000)
    scene = page_scene(pg, "sine-race")
    for panel in scene["panels"]:
        lines = {L["class"]: L for L in panel["layers"] if L["kind"] == "line" and "recorded" not in L["class"]}
        # updates 0, 1 (the single step above), 50 and 100 (the grey recorded race under them is not the page's)
        assert set(lines) == set(part8.RACERS) and all(len(L["x"]) == 4 for L in lines.values())
    page_final = {r["label"]: r["value"] for r in scene["readouts"]}
    # five native runs with seeds 0–4 (the page's seed among them): the page's numbers lie within two standard
    # deviations of their spread, and next to the native run with the page's own seed
    runs = [_native_race(seed, 100) for seed in range(5)]
    for m, name in part8.RACERS.items():
        for j, label in ((0, "own procedure"), (1, "one shared step")):
            v = np.array([r[m][j] for r in runs])
            got = page_final[f"{name}: {label}"]
            assert abs(got - v.mean()) <= 2 * v.std(ddof=1), (name, label, got, v)
            assert got == pytest.approx(v[0], rel=1e-3), (name, label, got, v[0])
    table = {name: {"page": [page_final[f"{name}: own procedure"], page_final[f"{name}: one shared step"]],
                    "native seed 0": list(runs[0][m]), "native seeds 0-4 mean": np.mean([r[m] for r in runs], 0).tolist(),
                    "native seeds 0-4 sd": np.std([r[m] for r in runs], 0, ddof=1).tolist()}
             for m, name in part8.RACERS.items()}
    (shots / "race-final-100.json").write_text(json.dumps(table, indent=1))   # for the record, not an assertion
    # the race's models are the ones the fitting figure uses: handed from the race's worker to the main one
    wait_until(pg, f"{RUNTIME}.then(m => JSON.parse(m.trainedModel('sine-race')).iteration === 100)")
    model = json.loads(pg.evaluate(f"{RUNTIME}.then(m => m.trainedModel('sine-race'))"))
    assert model["seed"] == 0
    G = fig("race-fit")
    pg.locator(f'{G} [data-control="steps"] input').fill("2")
    wait_idle(pg, "race-fit")
    assert "No race" not in (pg.locator(f"{G} .figure-message").text_content() or "")
    assert "after 100 race updates" in pg.locator(f"{G} .describe p").text_content()
    assert pg.locator(f"{G} path.line.reptile").count() == 1
    assert_fits_are_those_of(pg, model)
    assert pg.console_errors == []


def assert_fits_are_those_of(pg, model):
    """race-fit's MSE readouts equal a plain fit, written out here, of the published models to the page's points."""
    from mamlviz.nn import MLP

    state = page_state(pg, "race-fit")
    assert state["adapt"] == "shared"
    xs = np.array([p[0] for p in state["points"]])[:, None]
    ys = state["amplitude"] * np.sin(xs - state["phase"])
    x = np.linspace(-5, 5, 201)[:, None]
    net = MLP()
    values = {r["label"]: r["value"] for r in page_scene(pg, "race-fit")["readouts"]}
    fitted = 0
    for m, name in part8.RACERS.items():
        theta = phi = np.array(model["thetas"][m])
        for _ in range(state["steps"]):
            phi = phi - state["alpha"] * net.loss_grad(phi, xs, ys)[1]
        want = np.mean((net.predict(phi, x) - state["amplitude"] * np.sin(x - state["phase"])) ** 2)
        if net.loss(phi, xs, ys) > net.loss(theta, xs, ys):     # the steps raised the support loss: "diverged"
            assert values[f"{name}: MSE"] is None, name
        else:
            assert values[f"{name}: MSE"] == pytest.approx(want, rel=1e-7), name
            fitted += 1
    assert fitted >= 2      # not a test that passes with every model diverged


def race_updates(pg):
    return int(pg.locator(f'{fig("sine-race")} dd[data-readout="meta-updates"]').inner_text())


def test_the_race_trains_in_its_worker_while_the_other_figures_answer_then_pauses(part8_page):
    pg, F = part8_page, fig("sine-race")
    pg.locator(f'{F} [data-control="budget"] input').fill("5000")
    pg.locator(f'{F} [data-control="start"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Racing')", timeout=60_000)
    assert running(pg)["training-1"] == ["sine-race"]
    # while it races, the comparison figure answers (keyboard on θ) with the native scene
    handle = pg.locator(f'{fig("four-methods")} .handle')
    handle.focus()
    pg.keyboard.press("ArrowUp")
    wait_idle(pg, "four-methods")
    assert_matches_native(pg, "four-methods", "θ moved while the race trains")
    assert running(pg)["training-1"] == ["sine-race"]
    before = race_updates(pg)
    pg.wait_for_function(f"Number(document.querySelector('{F} dd[data-readout=\"meta-updates\"]').textContent) > {before}",
                         timeout=60_000)
    # Pause stops it where it is, and hands the models over as they are then
    paused_at = pause_and_check_stopped(pg, F, race_updates)
    wait_until(pg, f"{RUNTIME}.then(m => JSON.parse(m.trainedModel('sine-race')).iteration === {paused_at})")
    model = json.loads(pg.evaluate(f"{RUNTIME}.then(m => m.trainedModel('sine-race'))"))
    G = fig("race-fit")
    pg.locator(f'{G} [data-control="steps"] input').fill("1")
    pg.wait_for_function(f"document.querySelector('{G} .describe p').textContent.includes('after {paused_at} race')")
    wait_idle(pg, "race-fit")
    assert_fits_are_those_of(pg, model)
    # Reset stops, withdraws the models, and the fit says so
    pg.locator(f'{F} [data-control="reset"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Ready')")
    assert pg.evaluate(f"{RUNTIME}.then(m => m.trainedModel('sine-race'))") == "null"
    pg.locator(f'{G} [data-control="steps"] input').fill("2")
    pg.wait_for_function(f"document.querySelector('{G} .figure-message').textContent.includes('No race has run yet')")
    assert pg.console_errors == []


def _native_race(seed, budget):
    race = part8.new_race(seed)
    while part8.race_iteration(race) < budget:
        it = part8.race_iteration(race) + 1
        part8.race_round(race, evaluate_now=it % part8.RACE_EVAL_EVERY == 0 or it >= budget)
    return {m: race["curves"][m][-1][2:] for m in part8.RACERS}


def test_race_fit_points_by_keyboard_and_clear(part8_page):
    pg, G = part8_page, fig("race-fit")
    svg = pg.locator(f"{G} .panel svg").first
    svg.focus()
    pg.keyboard.press("Enter")
    wait_idle(pg, "race-fit")
    assert svg.locator(".input-point").count() == 6
    pg.locator(f'{G} [data-control="clear"] button').click()
    pg.wait_for_function(f"document.querySelector('{G} .figure-message').textContent.includes('No support points')")
    assert "NaN" not in pg.locator(G).inner_text()


def test_part10_lists_every_reference_and_annotations_link_to_them(page, served_site):
    from mamlviz.site.citations import load_bib

    bib = load_bib(Path(__file__).parents[2] / "content" / "references.bib")
    pg = page()
    pg.goto(served_site + "10-further-reading.html")
    assert pg.locator(".references li").count() == len(bib)
    for key in ("collins2020", "finn2018", "blondel2021", "elsken2020"):
        assert pg.locator(f'a.cite-ref[href="#ref-{key}"]').count() >= 1
        assert pg.locator(f"#ref-{key}").count() == 1


def test_leaving_the_page_stops_the_race(part8_page):
    """Last of the module's page: a hop to Part 9 by the menu cancels the race's stream in its worker."""
    pg, F = part8_page, fig("sine-race")
    pg.locator(f'{F} [data-control="start"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.startsWith('Racing')", timeout=60_000)
    assert running(pg)["training-1"] == ["sine-race"]
    pg.locator('.menu-parts a[href="09-conclusion.html"]').first.click()
    pg.wait_for_function("window.__navs > 0")
    wait_until(pg, f"{RUNTIME}.then(m => m.stats()).then(s => s['training-1'].running.length === 0)")
    assert pg.evaluate("window.__sameDocument === true")   # a client-side hop, the workers kept
    assert pg.console_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(page, served_site, shots, width):
    pg = page(viewport={"width": width, "height": 900})
    for name in ("08-comparison", "09-conclusion", "10-further-reading"):
        pg.goto(served_site + name + ".html")
        if name.startswith("08"):
            pg.wait_for_selector(f'{fig("four-methods")}[data-status="live"]', timeout=120_000)
        pg.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, width, overflow)


def test_part9_measures_every_method_in_its_training_worker(page, served_site):
    from mamlviz.figures import part9

    pg = page()
    pg.goto(served_site + "09-conclusion.html")
    F = fig("cost-per-update")
    pg.locator(F).scroll_into_view_if_needed()      # a training figure's worker boots near the screen
    pg.wait_for_selector(f'{F}[data-status="live"]', timeout=120_000)
    assert "Press Measure" in pg.locator(f"{F} .figure-message").text_content()
    pg.locator(f'{F} [data-control="updates"] input').focus()
    pg.keyboard.press("Home")                        # 3 rounds
    pg.locator(f'{F} [data-control="measure"] button').click()
    pg.wait_for_function(f"document.querySelector('{F} .describe p').textContent.includes('fastest of 3 of 3 rounds')",
                         timeout=120_000)
    wait_idle(pg, "cost-per-update")
    workers = {w["name"]: w["figures"] for w in pg.evaluate(f"{RUNTIME}.then(m => m.workers())")}
    assert workers["training-1"] == ["cost-per-update"]
    scene = page_scene(pg, "cost-per-update")
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    for name in part8.RACERS.values():
        assert values[f"{name}: ms per update"] > 0
        shown = pg.locator(f'{F} dd[data-readout="{name}: ms per update"]').inner_text()
        assert shown == format(values[f"{name}: ms per update"], ".3g")
    ours = part9.measured().get("browser", {}).get("ms_per_update", {})
    assert pg.locator(f"{F} path.line:not(.recorded)").count() == len(part8.RACERS) + len(ours)  # yours, ours beside
    assert pg.locator(f"{F} path.line.recorded").count() == 2 * len(part8.RACERS)   # and the recorded run, still there
    assert pg.console_errors == []
