"""Every control of every live figure, timed as the reader meets it (part of `mamlviz bench --browser`; not a test).

For each figure that is not a training figure, each of its sliders, handles, toggles and selects is moved `presses`
times (a slider or handle one step at a time in one direction, as a held arrow key moves it; a toggle flipped; a
select stepped through its options, both in whole rounds), waiting for the figure to be idle in between; then the
control is set back to where it started (not timed), so that every control is measured from the figure's usual
state. Each time: from the input event to the first and to the final redraw of the figure (its panels, legend,
readouts or message), each counted at the animation frame after the change (what the screen can show); the reader's
own handle or points, which move at once, do not count. Sliders inside a folded settings group are measured with
their group open, as a reader must open it to reach them. Medians and 95th percentiles per control; for a figure
that answers coarse first and then in full (refine=True), also how long the worker computed the full answers (the
reason a final redraw takes long, where it does). With a second site (`before_base`), the two are measured page by
page alternately in the same browser.
"""

from __future__ import annotations

import os
import statistics

# One control, `n` times: {first: [ms], final: [ms], missed: count of inputs that changed nothing on screen,
# full: [ms the worker computed a full answer after a coarse one, for the inputs that had one]}.
MOVE = """async ([figureId, name, kind, n]) => {
  const rt = await import(new URL("assets/js/runtime.js", location.href).href);
  const fullOf = async () => {
    const main = (await rt.stats()).main;
    return (main && main.full && main.full[figureId]) || {n: 0};
  };
  const fig = document.querySelector(`.figure[data-figure="${figureId}"]`);
  const spec = JSON.parse(fig.querySelector("script.figure-data").textContent).controls.find((c) => c.name === name);
  const group = spec.group && fig.querySelector(`.control-group[data-group="${spec.group}"] details`);
  if (group && !group.open) group.open = true;
  const watched = [".panels", ".legend", ".readouts", ".figure-message"].map((s) => fig.querySelector(s))
    .filter(Boolean);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const idle = async () => {
    for (let t = 0; t < 30000 && fig.dataset.status !== "live"; t += 2) await sleep(2);
    await sleep(60);  // late frames of the same answer
  };
  const input = kind === "handle" ? fig.querySelector(`.handle[aria-label="${CSS.escape(spec.label)}"]`)
    : fig.querySelector(`[data-control="${name}"] input, [data-control="${name}"] select`);
  const state = () => window.mamlvizFigures.find((f) => f.id === figureId).state;
  // the direction with room for n steps (a slider near its top goes down; a handle goes towards the middle)
  let sign = 1;
  if (kind === "slider") sign = Number(input.value) + n * Number(input.step) <= Number(input.max) + 1e-9 ? 1 : -1;
  if (kind === "handle") sign = state()[name][0] < 0.5 ? 1 : -1;
  const out = {first: [], final: [], missed: 0, full: []};
  await idle();
  const start = JSON.parse(JSON.stringify(state()[name]));
  for (let k = 0; k < n; k++) {
    const fullBefore = await fullOf();
    const paints = [];
    // the figure's drawing: not the reader's own handle or points, which follow the input at once
    const own = (r) => (r.target.nodeType === 1 ? r.target : r.target.parentElement).closest(".handle, g.input");
    const mo = new MutationObserver((records) => {
      if (records.some((r) => !own(r))) requestAnimationFrame(() => paints.push(performance.now()));
    });
    for (const w of watched) mo.observe(w, {subtree: true, childList: true, attributes: true, characterData: true});
    const t0 = performance.now();
    if (kind === "slider") {
      const v = Number(input.value) + sign * Number(input.step);
      if (v > Number(input.max) + 1e-9 || v < Number(input.min) - 1e-9) sign = -sign;
      input.value = String(Number(input.value) + sign * Number(input.step));
      input.dispatchEvent(new Event("input", {bubbles: true}));
    } else if (kind === "handle") {
      input.dispatchEvent(new KeyboardEvent("keydown", {key: sign > 0 ? "ArrowRight" : "ArrowLeft", bubbles: true}));
    } else if (kind === "toggle") {
      input.click();
    } else {  // select: the next option
      input.selectedIndex = (input.selectedIndex + 1) % input.options.length;
      input.dispatchEvent(new Event("change", {bubbles: true}));
    }
    await idle();
    mo.disconnect();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const fullAfter = await fullOf();
    if (fullAfter.n > fullBefore.n) out.full.push(fullAfter.total);
    if (!paints.length) { out.missed += 1; continue; }
    out.first.push(paints[0] - t0);
    out.final.push(paints[paints.length - 1] - t0);
  }
  // back where it started (not timed), so that the next control is measured from the figure's usual state
  window.mamlvizFigures.find((f) => f.id === figureId).change({[name]: start});
  await idle();
  return out;
}"""

KINDS = ("slider", "handle", "toggle", "select")
SETTLED = """import(new URL("assets/js/runtime.js", location.href).href).then((rt) => rt.stats())
  .then((s) => !s.main || s.main.running.length === 0)"""


def _median(values):
    return round(statistics.median(values), 1) if values else None


def _p95(values):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, round(0.95 * (len(v) - 1)))], 1)


def figures_on(pg):
    """[(figure id, its controls)] of the page's live figures that are not training figures."""
    return pg.evaluate("""[...document.querySelectorAll('.figure[data-figure]')]
        .map((f) => JSON.parse(f.querySelector('script.figure-data').textContent))
        .filter((d) => !d.training).map((d) => [d.id, d.controls])""")


def measure_page(pg, presses=20, log=print):
    """{figure: {control: {kind, first_median, first_p95, final_median, final_p95, n, missed}}} for the open page."""
    out = {}
    pages_figures = figures_on(pg)
    for figure_id, _ in pages_figures:
        pg.wait_for_selector(f'.figure[data-figure="{figure_id}"][data-status="live"]', timeout=180_000)
    # and the page settled: the main worker runs nothing (after the first answers it computes the full answers the
    # probes left coarse, to have their maps and paths at hand; a reader reading the figure first finds that done)
    for _ in range(1200):   # polled: wait_for_function takes a promise for a truthy answer
        if pg.evaluate(SETTLED):
            break
        pg.wait_for_timeout(50)
    for figure_id, controls in pages_figures:
        for c in controls:
            if c["kind"] not in KINDS:
                continue
            n = presses if c["kind"] in ("slider", "handle") else max(2, presses // 4)
            if c["kind"] != "slider" and c["kind"] != "handle":   # whole rounds: a toggle flipped back, every option
                rounds = 2 if c["kind"] == "toggle" else max(1, len(c.get("options") or ()))
                n = -(-n // rounds) * rounds
            r = pg.evaluate(MOVE, [figure_id, c["name"], c["kind"], n])
            out.setdefault(figure_id, {})[c["name"]] = {
                "kind": c["kind"], "n": len(r["final"]), "missed": r["missed"],
                "first_median": _median(r["first"]), "first_p95": _p95(r["first"]),
                "final_median": _median(r["final"]), "final_p95": _p95(r["final"]),
                "full_n": len(r["full"]), "full_median": _median(r["full"])}
            log(f"  {figure_id} {c['name']}: final {out[figure_id][c['name']]['final_median']} / "
                f"{out[figure_id][c['name']]['final_p95']} ms")
    return out


PAGES = ["03-how-maml-works.html", "04-meta-gradient-cost.html", "05-first-order-maml.html", "06-reptile.html",
         "07-imaml.html", "08-comparison.html"]


def measure(browser, base, presses=20, pages=PAGES, log=print, before_base=None, loads=None):
    """Every control of every non-training figure of the parts that have them, one page after another. With
    `before_base` (another build of the site), each page there first, then here: returns (here, there). `loads`: a
    list that gets the 1-minute load average after every page."""
    out, before = {}, {}
    for page in pages:
        for site, into in ([(before_base, before)] if before_base else []) + [(base, out)]:
            log(f"controls of {page}" + (" (before)" if into is before else ""))
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            try:
                pg = context.new_page()
                pg.goto(site + page)
                into.update(measure_page(pg, presses, log))
            finally:
                context.close()
            if loads is not None:
                loads.append(os.getloadavg()[0])
    return (out, before) if before_base else out


def markdown(controls, before=None) -> str:
    """Per control: median / p95 of the first and the final redraw (ms), the worker's full answers (median ms of
    computing, for the inputs that had one after a coarse answer), and `before`'s final if given."""
    head = "| figure | control | first redraw: median / p95 | final redraw: median / p95 | full answer computed |"
    rule = "| --- | --- | --- | --- | --- |"
    if before:
        head += " before: final median / p95 |"
        rule += " --- |"
    lines = [head, rule]
    f = lambda v: "—" if v is None else f"{v:.0f}"  # noqa: E731
    for figure_id, cs in controls.items():
        for name, v in cs.items():
            missed = f" (no change ×{v['missed']})" if v["missed"] else ""
            full = f"{f(v['full_median'])} ({v['full_n']} of {v['n']})" if v.get("full_n") else "—"
            row = (f"| {figure_id} | {name} ({v['kind']}) | {f(v['first_median'])} / {f(v['first_p95'])} | "
                   f"{f(v['final_median'])} / {f(v['final_p95'])}{missed} | {full} |")
            if before:
                b = (before.get(figure_id) or {}).get(name)
                row += f" {f(b['final_median'])} / {f(b['final_p95'])} |" if b else " — |"
            lines.append(row)
    return "\n".join(lines)
