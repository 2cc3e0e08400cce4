// Part 2: published Omniglot 20-way 1-shot accuracies over time, with the reader's score from the Part 1 game.
//
// mount(element, data): data.results = [{name, short, year, date, acc, cite, family, protocol, source}],
// data.protocols = {id: words}, data.storage_key is where the game keeps {"5": {"right", "total"}, "20": {...}}.
// One row per result in order of publication (by date; year on the vertical axis, accuracy on the horizontal),
// then rows for the reader's own scores. Results under Lake et al.'s protocol carry a dagger. The chart is re-laid
// out at its real width so its text stays legible on phones; a table with the same numbers and sources follows it.
// data.glyph_machines = [{name, short, acc, ci, note}]: the Part 1 game's machines on 20-way trials of this site's
// generated characters (NOT Omniglot), drawn in the lower band with the reader's scores, which share that data.

import {el} from "./dom.js";

const SCORE_KEY = "mamlviz.fewshot.scores";

export function readScores(key = SCORE_KEY) {
  let raw = null;
  try { raw = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return { available: false }; }
  const out = { available: true };
  for (const m of ["5", "20"]) {
    const s = raw && typeof raw === "object" ? raw[m] : null;
    const total = s && Number.isFinite(+s.total) ? Math.max(0, Math.floor(+s.total)) : 0;
    const right = s && Number.isFinite(+s.right) ? Math.min(total, Math.max(0, Math.floor(+s.right))) : 0;
    if (total > 0) out[m] = { right, total, acc: (100 * right) / total };
  }
  return out;
}

// A marker shape per family, so the family does not rest on colour alone.
function marker(kind, x, y, r, cls) {
  if (kind === "metric") return el("svg:circle", { cx: x, cy: y, r, class: cls });
  if (kind === "model") return el("svg:rect", { x: x - r * 0.9, y: y - r * 0.9, width: r * 1.8, height: r * 1.8, class: cls });
  if (kind === "optimisation") {
    return el("svg:path", { d: `M${x},${y - r * 1.15} L${x + r * 1.1},${y + r * 0.8} L${x - r * 1.1},${y + r * 0.8} Z`, class: cls });
  }
  if (kind === "glyph") {                  // a hollow square: measured on our characters, not a published result
    return el("svg:rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: cls, "stroke-width": 1.5 });
  }
  if (kind === "you") {
    const pts = [];
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + (k * Math.PI) / 5, rr = k % 2 ? r * 0.5 : r * 1.3;
      pts.push(`${(x + rr * Math.cos(a)).toFixed(1)},${(y + rr * Math.sin(a)).toFixed(1)}`);
    }
    return el("svg:polygon", { points: pts.join(" "), class: cls });
  }
  return el("svg:path", { d: `M${x},${y - r * 1.2} L${x + r * 1.2},${y} L${x},${y + r * 1.2} L${x - r * 1.2},${y} Z`, class: cls });
}

const fmt = (v) => (Math.round(v * 10) / 10).toFixed(1);
const trials = (n) => `${n} trial${n === 1 ? "" : "s"}`;

export function mount(root, data, {signal} = {}) {
  const key = data.storage_key || SCORE_KEY;
  const results = [...data.results].sort((a, b) => String(a.date).localeCompare(String(b.date)));  // stable: ties keep data order
  const protocols = data.protocols || {};
  const dagger = (r) => (r.protocol === "lake" ? " †" : "");
  const familyNames = data.families || {};
  const chart = el("div", { class: "ot-chart", "data-testid": "timeline-chart" });
  const note = el("p", { class: "ot-note", "aria-live": "polite", "data-testid": "timeline-note" });
  const legend = el("ul", { class: "ot-legend", "aria-hidden": "true" });
  const table = el("table", { class: "ot-table", "data-testid": "timeline-table" });
  const description = el("p", { class: "widget-description ot-description", "data-testid": "timeline-description" });
  root.classList.add("ot-timeline");
  root.replaceChildren(
    chart, legend, note,
    el("p", { class: "ot-caveat", text: "† Lake et al.'s protocol: whole alphabets held out of training, and the " +
      "20 characters of a trial all from one alphabet. The other rows split Omniglot by character, so a test " +
      "character's alphabet may have been seen in training. Caveat: your score and the published ones are not " +
      "strictly comparable either. The published numbers are for real Omniglot characters, averaged over many " +
      "trials; yours is for our generated characters, over however many rounds you played." }),
    el("details", { class: "ot-details" }, el("summary", { text: "The chart in words, and as a table" }),
      description, table),
  );

  for (const [fam, label] of Object.entries(familyNames)) {
    const s = el("svg:svg", { viewBox: "-8 -8 16 16" }, marker(fam, 0, 0, 5, `ot-point fam-${fam}`));
    legend.append(el("li", {}, s, label));
  }
  legend.append(el("li", {}, el("svg:svg", { viewBox: "-8 -8 16 16" }, marker("you", 0, 0, 5, "ot-you")),
                   "you, 20-way"));
  legend.append(el("li", {}, el("svg:svg", { viewBox: "-8 -8 16 16" }, marker("other", 0, 0, 4.5, "ot-you-5")),
                   "you, 5-way (easier task)"));
  const machines = data.glyph_machines || [];
  if (machines.length) {
    legend.append(el("li", {}, el("svg:svg", { viewBox: "-8 -8 16 16" }, marker("glyph", 0, 0, 4.5, "ot-glyph")),
                     "machines on our characters, 20-way (not Omniglot)"));
  }

  let scores = readScores(key);
  let lastWidth = 0;

  function rows() {
    const out = results.map((r) => ({ kind: r.family, year: r.year, name: r.name + dagger(r), short: r.short + dagger(r),
      acc: r.acc, protocol: r.protocol, source: r.source }));
    for (const m of machines) {
      out.push({ kind: "glyph", year: "ours", name: m.name, short: m.short, acc: m.acc,
                 ci: m.ci, note: m.note, band: true });
    }
    if (scores["20"]) out.push({ kind: "you", year: "you", name: `You, 20-way (${trials(scores["20"].total)})`,
      short: "You, 20-way", acc: scores["20"].acc, you: "20", band: true });
    if (scores["5"]) out.push({ kind: "you5", year: "you", name: `You, 5-way (${trials(scores["5"].total)}) — easier task`,
      short: "You, 5-way", acc: scores["5"].acc, you: "5", band: true });
    return out;
  }

  function draw() {
    const W = Math.max(280, Math.min(760, Math.round(chart.clientWidth || root.clientWidth || 640)));
    lastWidth = W;
    const narrow = W < 520;
    const rs = rows();
    const rowH = 26, top = 8, bottom = 44;
    const labelW = narrow ? 126 : 250;
    const left = labelW + (narrow ? 6 : 10), right = 46;
    const H = top + rs.length * rowH + bottom + (rs.some((r) => r.band) ? 10 + (machines.length ? rowH : 0) : 0);
    const lo = Math.min(50, ...rs.map((r) => Math.floor(r.acc / 10) * 10));
    const X = (v) => left + ((v - lo) / (100 - lo)) * (W - left - right);
    const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
      "aria-label": "Omniglot 20-way 1-shot accuracy by method and year" + (scores["20"] || scores["5"] ? ", with your scores" : "") });
    const grid = el("svg:g", { class: "ot-grid" });
    const axis = el("svg:g", { class: "ot-axis" });
    const plotBottom = H - bottom;
    for (let v = lo; v <= 100; v += 10) {
      grid.append(el("svg:line", { x1: X(v), x2: X(v), y1: top, y2: plotBottom }));
      axis.append(el("svg:text", { x: X(v), y: plotBottom + 16, "text-anchor": "middle", text: `${v}%` }));
    }
    axis.append(el("svg:line", { x1: X(lo), x2: X(100), y1: plotBottom, y2: plotBottom }));
    axis.append(el("svg:text", { class: "ot-axis-title", x: (X(lo) + X(100)) / 2, y: plotBottom + 34, "text-anchor": "middle",
      text: "accuracy on 20-way 1-shot trials" }));
    svg.append(grid, axis);
    let y = top + rowH / 2;
    let prevYear = null;
    rs.forEach((r, i) => {
      if (r.band && (i === 0 || !rs[i - 1].band)) {
        y += 10;
        const headH = machines.length ? rowH : 0;       // the band's heading: not Omniglot
        svg.append(el("svg:rect", { class: "ot-you-band", x: 0, y: y - rowH / 2 - 4, width: W, height: (rs.length - i) * rowH + 8 + headH }));
        svg.append(el("svg:line", { x1: 0, x2: W, y1: y - rowH / 2 - 5, y2: y - rowH / 2 - 5, class: "ot-sep", stroke: "currentColor", "stroke-opacity": 0.3 }));
        if (headH) {
          svg.append(el("svg:text", { class: "ot-band-title", x: 2, y: y + 4,
            text: narrow ? "Our characters, not Omniglot:" : "On this site's generated characters (Part 1 game), not Omniglot:" }));
          y += headH;
        }
      }
      const g = el("svg:g", { class: `ot-row${r.you ? " is-you" : ""}${r.kind === "glyph" ? " is-glyph" : ""}`,
                              "data-you": r.you || null });
      const yearText = r.year === prevYear ? "" : r.year === "you" ? "today" : r.year === "ours" ? "ours" : r.year;
      prevYear = r.year;
      g.append(el("svg:text", { class: "ot-label-year", x: 2, y: y + 4, text: yearText }));
      g.append(el("svg:text", { class: r.you ? "ot-you-label" : "ot-label", x: narrow ? 50 : 58, y: y + 4,
        text: narrow ? r.short : r.name }));
      g.append(el("svg:line", { x1: X(lo), x2: X(r.acc), y1: y, y2: y, stroke: "currentColor", "stroke-opacity": 0.18 }));
      const m = r.kind === "glyph" ? marker("glyph", X(r.acc), y, 5, "ot-glyph")
        : r.kind === "you" ? marker("you", X(r.acc), y, 6, "ot-you")
        : r.kind === "you5" ? marker("other", X(r.acc), y, 5.5, "ot-you-5")
        : marker(r.kind, X(r.acc), y, 5, `ot-point fam-${r.kind}`);
      g.append(m);
      // the value beside its marker, on the left when it would run off the right edge
      const value = r.kind === "glyph" ? `${fmt(r.acc)}%`
        : r.you && narrow ? `${fmt(r.acc)}% (n=${scores[r.you].total})` : `${fmt(r.acc)}%`;
      const gap = r.you ? 14 : 10;
      const fits = X(r.acc) + gap + value.length * 8 <= W;   // about 8 px a character at the chart's font size
      g.append(el("svg:text", { class: r.you ? "ot-you-label" : "ot-label", x: fits ? X(r.acc) + gap : X(r.acc) - gap,
        y: y + 4, "text-anchor": fits ? "start" : "end", text: value }));
      svg.append(g);
      y += rowH;
    });
    chart.replaceChildren(svg);

    // the table and the words
    table.replaceChildren(
      el("caption", { text: "Omniglot 20-way 1-shot accuracy (per cent)" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Year" }), el("th", { scope: "col", text: "Method" }),
        el("th", { scope: "col", text: "Family" }), el("th", { scope: "col", class: "num", text: "Accuracy" }),
        el("th", { scope: "col", text: "Protocol" }), el("th", { scope: "col", text: "Source" }))),
      el("tbody", {}, ...rs.map((r) => el("tr", { class: r.you ? "is-you" : null },
        el("td", { text: r.kind === "glyph" ? "this site" : r.you ? "today" : r.year }), el("td", { text: r.name }),
        el("td", { text: r.kind === "glyph" ? r.note || "Part 1 game (not Omniglot)"
          : r.you ? "you (Part 1 game)" : familyNames[r.kind] || r.kind }),
        el("td", { class: "num", text: r.ci ? `${fmt(r.acc)} ± ${fmt(r.ci)}%` : `${fmt(r.acc)}%` }),
        el("td", { text: r.kind === "glyph" ? "this site's generated characters, 20 per trial"
          : r.you ? "generated characters, 20 or 5 per trial" : protocols[r.protocol] || "" }),
        el("td", { text: r.kind === "glyph" ? "measured by this project (Part 1)" : r.you ? "this browser" : r.source || "" })))));
    const pub = results.map((r) => `${r.name}${r.protocol === "lake" ? " (Lake et al.'s protocol)" : ""} (${r.year}) ${fmt(r.acc)}%`).join("; ");
    let words = `One row per published result on Omniglot 20-way 1-shot classification, in order of publication, with accuracy from ${lo}% to 100% across: ${pub}.`;
    if (machines.length) {
      words += " Below them, in a separate band because they are measured on this site's generated characters and " +
        "not on Omniglot, the Part 1 game's machines on 1,000 20-way trials: " +
        machines.map((m) => `${m.name} ${fmt(m.acc)}%`).join("; ") + ".";
    }
    if (scores["20"]) words += ` Your 20-way score from Part 1 is the starred row: ${scores["20"].right} right of ${trials(scores["20"].total)}, ${fmt(scores["20"].acc)}%.`;
    if (scores["5"]) words += ` Your 5-way score, a different and easier task, is the dashed diamond: ${scores["5"].right} right of ${trials(scores["5"].total)}, ${fmt(scores["5"].acc)}%.`;
    if (!scores["20"] && !scores["5"]) words += " You have no score yet.";
    description.textContent = words;

    if (!scores.available) {
      note.className = "ot-note ot-none";
      note.textContent = "This browser is not letting the page read stored data, so your score from Part 1 cannot be shown here.";
    } else if (!scores["20"] && !scores["5"]) {
      note.className = "ot-note ot-none";
      note.textContent = "Play the game in Part 1 to see your score here.";
    } else {
      note.className = "ot-note";
      const parts = [];
      if (scores["20"]) parts.push(`20-way: ${scores["20"].right} right of ${trials(scores["20"].total)} (${fmt(scores["20"].acc)}%), the starred row`);
      if (scores["5"]) parts.push(`5-way: ${scores["5"].right} right of ${scores["5"].total} (${fmt(scores["5"].acc)}%), the dashed diamond — a different, easier task than the 20-way one charted here`);
      note.textContent = `Your scores from Part 1 — ${parts.join("; ")}.` +
        (!scores["20"] ? " Play the 20-way game to compare like with like." : "");
    }
  }

  draw();
  const refresh = () => { scores = readScores(key); draw(); };
  // listeners outside our element end with the page (signal: client-side navigation away)
  window.addEventListener("storage", (ev) => { if (ev.key === null || ev.key === key) refresh(); }, {signal});
  window.addEventListener("pageshow", refresh, {signal});
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); }, {signal});
  if (typeof ResizeObserver !== "undefined") {
    const resize = new ResizeObserver(() => {
      const w = Math.round(chart.clientWidth);
      if (w && Math.abs(w - lastWidth) > 8 && !(lastWidth === 760 && w > 760)) draw();
    });
    resize.observe(chart);
    signal?.addEventListener("abort", () => resize.disconnect());
  }
  return { refresh };
}
