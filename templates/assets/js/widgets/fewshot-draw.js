// Part 1, after the game: "Teach the machines your own characters". The reader draws one example of each of N
// characters (N = 2 to 5) and 1 to 3 queries, or takes any of them from the game's characters (by keyboard too).
// Each drawing becomes a glyph the way the game's are (fewshot-logic.js `drawingGlyph`: placed into the range of
// the game's drawings, simplified, quantised, the game's median pen) and is inked by the game's rasteriser; the
// two nearest-neighbour machines answer here, the MAML machine in the page's worker (the headless figure
// "fewshot-draw" of mamlviz.figures.part1: the game's 5-way model, unused outputs masked, 5 steps at α = 0.4),
// which sends back the query's probabilities after every inner step.
//
// mount(element, data): data from mamlviz.figures.part1.fewshot_draw_panel ({placement, width_code, ways,
// max_queries}). The game's characters come from the game widget's own data on the page. The drawings are the
// panel's URL state (#fewshot-draw:n=3;q=1;c=cell,cell,…) and can be saved to and loaded from a small file.

import {el} from "./dom.js";
import * as runtime from "../runtime.js";
import {GRID, RASTER, blur, decodeGlyph, drawingGlyph, drawingProblem, glyphPath, nearest, pool, rasterise}
  from "./fewshot-logic.js";
import {packFloat32} from "./fewshot-game.js";
import {hashWith, parseHash} from "../urlstate.js";

const FIGURE = "fewshot-draw";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const MAX_URL = 6000;            // longer links are refused by some mail and chat programs: offer the file instead

// ------------------------------------------------------------------------------------------------ cell codes
// A cell is empty, the reader's strokes (points on the 0..63 grid of the box), or a game character {c, d}.
// In the URL: "" | strokes as base64url x,y pairs joined by "." | "~class.drawer".
export function encodeCell(cell) {
  if (cell.kind === "game") return `~${cell.c}.${cell.d}`;
  if (cell.kind === "drawn") return cell.strokes.map((s) => s.map(([x, y]) => B64[x] + B64[y]).join("")).join(".");
  return "";
}

export function decodeCell(text, nClasses, nDrawers) {
  if (!text) return {kind: "empty"};
  if (text[0] === "~") {
    const m = /^~(\d{1,4})\.(\d{1,3})$/.exec(text);
    if (!m || +m[1] >= nClasses || +m[2] >= nDrawers) return null;
    return {kind: "game", c: +m[1], d: +m[2]};
  }
  const strokes = [];
  for (const part of text.split(".")) {
    if (!part || part.length % 2 || [...part].some((ch) => !B64.includes(ch))) return null;
    const pts = [];
    for (let i = 0; i < part.length; i += 2) pts.push([B64.indexOf(part[i]), B64.indexOf(part[i + 1])]);
    strokes.push(pts);
  }
  return {kind: "drawn", strokes, offEdge: false};
}

// ------------------------------------------------------------------------------------------------ the panel
export function mount(root, data) {
  const ways = data.ways || [2, 3, 4, 5];
  const maxQueries = data.max_queries || 3;
  const st = {
    n: 3, queries: 1,
    cells: Array.from({length: ways[ways.length - 1] + maxQueries}, () => ({kind: "empty"})),
    game: null,               // the game's data ({glyphs, alphabets, n_drawers}), once loaded
    token: 0,                 // the latest MAML request
    changedAt: 0,             // performance.now() when the drawings last changed
  };
  const cellIndex = (role, i) => (role === "example" ? i : ways[ways.length - 1] + i);
  const uid = `fd-${Math.random().toString(36).slice(2, 8)}`;

  // ---- the game's characters (for "use a character from the game"), from the game widget's data
  let gamePromise = null;
  function loadGame() {
    if (!gamePromise) {
      const host = document.querySelector('.widget[data-widget="fewshot-game"]');
      const inline = host && host.querySelector("script.widget-data");
      gamePromise = (inline ? Promise.resolve(JSON.parse(inline.textContent))
        : host && host.dataset.src ? fetch(new URL(host.dataset.src, document.baseURI)).then((r) => r.json())
        : Promise.reject(new Error("the game is not on this page")))
        .then((d) => { st.game = d; return d; });
    }
    return gamePromise;
  }

  // ---- DOM
  const nSelect = el("select", { id: `${uid}-n`, onchange: () => { st.n = +nSelect.value; layout(); update(); } },
    ...ways.map((n) => el("option", { value: n, text: `${n} characters` })));
  const qSelect = el("select", { id: `${uid}-q`, onchange: () => { st.queries = +qSelect.value; layout(); update(); } },
    ...Array.from({length: maxQueries}, (_, k) => el("option", { value: k + 1, text: `${k + 1} ${k ? "queries" : "query"}` })));
  const examplesBox = el("div", { class: "fd-cells", role: "group", "aria-label": "Your examples, one per character" });
  const queriesBox = el("div", { class: "fd-cells fd-queries", role: "group", "aria-label": "Your queries" });
  const status = el("p", { class: "fd-status", role: "status", "aria-live": "polite" });
  const answers = el("div", { class: "fd-answers", "data-testid": "fewshot-draw-answers" });
  const notice = el("p", { class: "fd-notice", role: "status", hidden: true });
  const fileInput = el("input", { type: "file", accept: ".json,application/json", class: "fd-file", hidden: true,
    onchange: () => loadFile() });
  const share = el("div", { class: "fs-controls fd-share" },
    el("button", { type: "button", onclick: () => copyLink(), text: "Copy link to these drawings" }),
    el("button", { type: "button", onclick: () => saveFile(), text: "Save drawings to a file" }),
    el("button", { type: "button", onclick: () => fileInput.click(), text: "Load drawings from a file" }), fileInput);
  root.classList.add("fs-game", "fd-panel");
  root.replaceChildren(
    el("div", { class: "fd-toolbar" },
      el("label", { for: nSelect.id, text: "Teach " }), nSelect,
      el("label", { for: qSelect.id, text: " then ask " }), qSelect),
    el("p", { class: "fd-help", text: "Draw one example of each character in the boxes (mouse, pen or finger), " +
      "then a query: another drawing of one of them. Or pick any box's character from the game's alphabets. " +
      "The machines answer as soon as every box is filled." }),
    examplesBox, queriesBox, status, answers, notice, share);

  // ---- one cell: a drawing pad, its buttons, the game-character picker, the 14 × 14 image the MLP reads
  const cellViews = st.cells.map((_, k) => makeCellView(k));
  function makeCellView(k) {
    const isQuery = k >= ways[ways.length - 1];
    const i = isQuery ? k - ways[ways.length - 1] : k;
    const name = isQuery ? `Query ${i + 1}` : `Example ${i + 1}`;
    const pad = el("svg:svg", { class: "fd-pad", viewBox: "-2 -2 67 67", role: "img", "aria-label": `${name}: empty` });
    const ink = el("svg:g", { class: "fd-ink" });
    pad.append(el("svg:rect", { x: -2, y: -2, width: 67, height: 67, class: "fd-pad-bg" }), ink);
    const seen = el("svg:svg", { class: "fd-seen", viewBox: "0 0 14 14", "aria-hidden": "true" });
    const picker = el("select", { class: "fd-pick", id: `${uid}-pick-${k}`, onfocus: () => fillPicker(picker),
      "aria-label": `${name}: your drawing, or a character from the game`,
      onchange: () => pick(k, picker.value) }, el("option", { value: "", text: "— your drawing —" }));
    const message = el("p", { class: "fd-message" });
    const view = el("div", { class: `fd-cell ${isQuery ? "is-query" : "is-example"}`, "data-cell": k,
      "data-role": isQuery ? "query" : "example", "data-index": i },
      el("div", { class: "fd-cell-head" }, el("span", { class: "fd-name", text: name }),
        el("span", { class: "fd-seen-box", title: "What the MLP reads: 14 × 14 pixels" }, seen)),
      pad,
      el("div", { class: "fd-cell-tools" },
        el("button", { type: "button", class: "fd-undo", onclick: () => undo(k), text: "Undo",
          "aria-label": `Undo the last stroke of ${name}` }),
        el("button", { type: "button", class: "fd-clear", onclick: () => setCell(k, {kind: "empty"}), text: "Clear",
          "aria-label": `Clear ${name}` })),
      el("label", { class: "fd-pick-label", for: picker.id, text: "or a character from the game:" }), picker,
      message);
    attachDrawing(k, pad);
    (isQuery ? queriesBox : examplesBox).append(view);
    return {view, pad, ink, seen, picker, message, name, isQuery, i};
  }

  function fillPicker(picker) {
    if (picker.options.length > 1) return;
    loadGame().then((g) => {
      if (picker.options.length > 1) return;
      for (const a of g.alphabets) {
        const group = el("optgroup", { label: `Alphabet “${a.name}”` });
        for (let j = 0; j < a.count; j++) {
          group.append(el("option", { value: a.start + j, text: `${a.name}, character ${j + 1}` }));
        }
        picker.append(group);
      }
    }).catch((e) => showNotice(`The game's characters could not be loaded: ${e.message}`));
  }

  // ---- drawing with a pointer (mouse, pen, touch): points on the 0..63 grid of the box
  function attachDrawing(k, pad) {
    let stroke = null;
    const point = (ev) => {
      const r = pad.getBoundingClientRect();
      // the box 0..63 sits inside the viewBox −2..65: scale to it
      const x = ((ev.clientX - r.left) / r.width) * 67 - 2, y = ((ev.clientY - r.top) / r.height) * 67 - 2;
      const off = x < 0 || y < 0 || x > GRID - 1 || y > GRID - 1;
      return {p: [Math.round(Math.min(GRID - 1, Math.max(0, x))), Math.round(Math.min(GRID - 1, Math.max(0, y)))], off};
    };
    pad.addEventListener("pointerdown", (ev) => {
      if (ev.button > 0) return;
      ev.preventDefault();
      pad.setPointerCapture?.(ev.pointerId);
      const cell = st.cells[k].kind === "drawn" ? st.cells[k] : {kind: "drawn", strokes: [], offEdge: false};
      const {p, off} = point(ev);
      stroke = {id: ev.pointerId, pts: [p]};
      cell.strokes = [...cell.strokes, stroke.pts];
      cell.offEdge = cell.offEdge || off;
      st.cells[k] = cell;
      drawCell(k);
    });
    pad.addEventListener("pointermove", (ev) => {
      if (!stroke || ev.pointerId !== stroke.id) return;
      const {p, off} = point(ev);
      const last = stroke.pts[stroke.pts.length - 1];
      if (p[0] !== last[0] || p[1] !== last[1]) stroke.pts.push(p);
      if (off) st.cells[k].offEdge = true;
      drawCell(k);
    });
    const end = (ev) => {
      if (!stroke || ev.pointerId !== stroke.id) return;
      stroke = null;
      setCell(k, st.cells[k]);
    };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
  }

  // ---- a cell's glyph: text, 28 × 28 ink, 14 × 14 features, or what is wrong with it
  function cellGlyph(k) {
    const cell = st.cells[k];
    if (cell.kind === "game") {
      if (!st.game) return {problem: "loading"};
      const text = st.game.glyphs[cell.c][cell.d];
      return {text, img: rasterise(text)};
    }
    if (cell.kind === "empty") return {problem: "empty"};
    const unit = cell.strokes.map((s) => s.map(([x, y]) => [x / (GRID - 1), y / (GRID - 1)]));
    const problem = drawingProblem(unit);
    if (problem) return {problem};
    const text = drawingGlyph(unit, data.placement, data.width_code);
    return {text, img: rasterise(text)};
  }

  function drawCell(k) {
    const v = cellViews[k], cell = st.cells[k];
    if (cell.kind === "game" && st.game) {
      const g = decodeGlyph(st.game.glyphs[cell.c][cell.d]);
      v.ink.replaceChildren(el("svg:path", { class: "fd-stroke is-game", d: glyphPath(g), "stroke-width": g.width }));
    } else if (cell.kind === "drawn") {
      v.ink.replaceChildren(...cell.strokes.map((s) => el("svg:path", { class: "fd-stroke",
        d: s.length === 1 ? `M${s[0][0]},${s[0][1]}h0.01` : `M${s.map((p) => p.join(",")).join("L")}`,
        "stroke-width": (data.width_code + 10) / 10 * 1.5 })));
    } else v.ink.replaceChildren();
  }

  function setCell(k, cell) {
    st.cells[k] = cell;
    const v = cellViews[k];
    if (cell.kind !== "game") v.picker.value = "";
    drawCell(k);
    update();
  }

  function undo(k) {
    const cell = st.cells[k];
    if (cell.kind !== "drawn" || !cell.strokes.length) return setCell(k, {kind: "empty"});
    const strokes = cell.strokes.slice(0, -1);
    setCell(k, strokes.length ? {kind: "drawn", strokes, offEdge: cell.offEdge} : {kind: "empty"});
  }

  function pick(k, value) {
    if (value === "") return setCell(k, {kind: "empty"});
    const v = cellViews[k];
    // each example by its own drawer, the queries by yet others (as in the game: never the example's own drawing)
    const d = v.isQuery ? 10 + v.i : v.i;
    loadGame().then(() => setCell(k, {kind: "game", c: +value, d}));
  }

  // ---- layout: the cells in use
  function layout() {
    nSelect.value = String(st.n);
    qSelect.value = String(st.queries);
    cellViews.forEach((v) => { v.view.hidden = v.isQuery ? v.i >= st.queries : v.i >= st.n; });
  }

  // ---- the machines
  const MESSAGES = {
    empty: (name) => `${name} is empty: draw it, or pick a character from the game.`,
    dot: (name) => `${name} is a single dot: the machines need a character — draw a few strokes.`,
    loading: () => "Loading the game's characters…",
  };

  function update() {
    st.changedAt = performance.now();
    const examples = [], queries = [];
    let missing = [];
    cellViews.forEach((v, k) => {
      if (v.view.hidden) return;
      const g = cellGlyph(k);
      v.glyph = g;
      const cell = st.cells[k];
      v.message.textContent = g.problem && g.problem !== "empty" ? MESSAGES[g.problem](v.name)
        : cell.kind === "drawn" && cell.offEdge ? "Part of this drawing went past the edge of the box and was cut there; redraw it if it no longer looks right." : "";
      v.view.dataset.glyph = g.text || "";
      v.pad.setAttribute("aria-label", `${v.name}: ${cell.kind === "game" ? `the game's character ${cell.c + 1}`
        : cell.kind === "drawn" ? `your drawing, ${cell.strokes.length} stroke${cell.strokes.length === 1 ? "" : "s"}` : "empty"}`);
      showSeen(v, g.img);
      if (g.problem) missing.push(v);
      (v.isQuery ? queries : examples).push(g);
    });
    const exMissing = missing.filter((v) => !v.isQuery), qMissing = missing.filter((v) => v.isQuery);
    st.token += 1;
    if (exMissing.length || qMissing.length) {
      answers.replaceChildren();
      root.dataset.answer = "waiting";
      const qReady = queries.length - qMissing.length;
      status.textContent = exMissing.length && qReady
        ? `Your ${qReady === 1 ? "query is" : "queries are"} ready, but the machines need one example of every character first: ` +
          `${exMissing.map((v) => v.name).join(", ")} ${exMissing.length === 1 ? "is" : "are"} still to do.`
        : `Still to do: ${missing.map((v) => v.name).join(", ")}.`;
      return;
    }
    status.textContent = "";
    answer(examples, queries);
  }

  function showSeen(v, img) {
    if (!img) return v.seen.replaceChildren();
    const f = pool(img), rects = [];
    for (let i = 0; i < 14; i++) {
      for (let j = 0; j < 14; j++) {
        if (f[i * 14 + j] > 0.004) rects.push(el("svg:rect", { x: j, y: i, width: 1, height: 1, "fill-opacity": f[i * 14 + j].toFixed(3) }));
      }
    }
    v.seen.replaceChildren(...rects);
  }

  function answer(examples, queries) {
    const n = examples.length;
    const raw = queries.map((q) => nearest(q.img, examples.map((e) => e.img)));
    const blurred = examples.map((e) => blur(e.img));
    const soft = queries.map((q) => nearest(blur(q.img), blurred));
    const token = st.token;
    const x = [...examples, ...queries].map((g) => pool(g.img));
    renderAnswers(n, raw, soft, null);
    root.dataset.answer = "partial";
    const state = { n: String(n), _x: packFloat32(x), _tag: String(token) };
    if (runtime.getStatus() === "failed") {
      renderAnswers(n, raw, soft, { message: "The MAML machine could not start in this browser; the other machines still answer." });
      return;
    }
    runtime.request(FIGURE, state, null, (scene) => {
      if (!scene || scene.tag !== String(token) || token !== st.token) return;   // an earlier drawing's answer
      // from the change (a stroke ended, a pick) to the answer on the page, rasterising included
      root.dataset.answeredAt = performance.now().toFixed(1);
      root.dataset.answerMs = (performance.now() - st.changedAt).toFixed(1);
      root.dataset.computeMs = String(scene.compute_ms);
      root.dataset.answer = scene.choice && scene.choice.length ? "answered" : "failed";
      root.dataset.steps = JSON.stringify(scene.steps);
      renderAnswers(n, raw, soft, scene.choice && scene.choice.length ? scene : { message: scene.message });
    }, (error) => renderAnswers(n, raw, soft, { message: `The MAML machine could not answer: ${error}` }));
  }

  function renderAnswers(n, raw, soft, maml) {
    const blocks = raw.map((r, q) => {
      const line = (who, i) => el("li", {}, `${who}: example ${i + 1}`);
      const list = el("ul", { class: "fd-picks" },
        line("Nearest neighbour, raw pixels", r), line("Nearest neighbour, blurred pixels", soft[q]),
        maml && maml.choice ? line(`MAML (${maml.inner_steps} steps at α = ${maml.inner_lr})`, maml.choice[q])
          : el("li", { class: "fd-wait" }, maml && maml.message ? maml.message : "MAML: " + (runtime.getStatus() === "live"
            ? "adapting…" : "waiting for Python to load in this page…")));
      const block = el("div", { class: "fd-answer", "data-query": q }, el("h4", { text: `Query ${q + 1}` }), list);
      if (maml && maml.steps && maml.steps.length) block.append(stepTable(n, maml, q));
      return block;
    });
    if (maml && maml.masked) {
      blocks.push(el("p", { class: "fd-masked", text: `The MAML machine is the game's 5-way network; with ${n} ` +
        `characters its ${maml.masked} unused output${maml.masked === 1 ? " is" : "s are"} masked (given probability 0) ` +
        "while it adapts and when it answers, which is the same as a network with " + `${n} outputs.` }));
    }
    answers.replaceChildren(...blocks);
  }

  function stepTable(n, maml, q) {
    const body = el("tbody");
    maml.steps.forEach((probs, k) => {
      const p = probs[q], best = p.indexOf(Math.max(...p));
      body.append(el("tr", { "data-step": k },
        el("th", { scope: "row", text: k === 0 ? "0 (θ)" : k === maml.steps.length - 1 ? `${k} (φ)` : String(k) }),
        ...p.map((v, i) => {
          const bar = el("span", { class: "fs-bar is-after", "aria-hidden": "true" });
          bar.style.width = `${(2.5 * v).toFixed(2)}em`;
          return el("td", { class: i === best ? "is-top" : null }, bar, el("span", { class: "fs-pct", text: `${(100 * v).toFixed(1)}%` }));
        })));
    });
    return el("table", { class: "fs-probs fd-steps" },
      el("caption", { text: `Query ${q + 1}: the probability MAML gives each example after each gradient step on your examples` }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Step" }),
        ...Array.from({length: n}, (_, i) => el("th", { scope: "col", text: `Example ${i + 1}` })))), body);
  }

  // ---- state: URL and file
  function entry() {
    const cells = cellViews.filter((v) => !v.view.hidden).map((v) => encodeCell(st.cells[cellIndex(v.isQuery ? "query" : "example", v.i)]));
    return `${FIGURE}:n=${st.n};q=${st.queries};c=${cells.join(",")}`;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  function copyLink() {
    const e = entry();
    if (e.length > MAX_URL) return showNotice(`These drawings need ${e.length} characters in a link, too many for ` +
      "some programs; save them to a file instead.");
    history.replaceState(history.state, "", hashWith(FIGURE, e));
    navigator.clipboard?.writeText(location.href).catch(() => {});
    showNotice("The link in the address bar now holds these drawings; it has been copied if this browser allows.");
  }

  function saveFile() {
    const blob = new Blob([JSON.stringify({mamlviz: FIGURE, state: entry()}) + "\n"], {type: "application/json"});
    const a = el("a", { href: URL.createObjectURL(blob), download: "my-characters.json" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function loadFile() {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > 100000) return showNotice("That file is too big to be saved drawings (at most 100 kB).");
    file.text().then((text) => {
      let obj = null;
      try { obj = JSON.parse(text); } catch (e) { /* handled below */ }
      if (!obj || obj.mamlviz !== FIGURE || typeof obj.state !== "string") {
        return showNotice("That file does not hold drawings saved by this panel.");
      }
      applyEntry(parseHash(`#${obj.state}`)[FIGURE] || {});
    });
  }

  function applyEntry(e) {
    const problems = [];
    if ("n" in e) {
      const n = Number(e.n);
      if (ways.includes(n)) st.n = n;
      else if (Number.isInteger(n) && n < ways[0]) { st.n = ways[0]; problems.push(`at least ${ways[0]} characters are needed, so ${ways[0]} are used`); }
      else problems.push(`“${e.n}” characters is not one of ${ways.join(", ")}`);
    }
    if ("q" in e) {
      const q = Number(e.q);
      if (Number.isInteger(q) && q >= 1 && q <= maxQueries) st.queries = q;
      else problems.push(`“${e.q}” queries is not between 1 and ${maxQueries}`);
    }
    const texts = "c" in e ? e.c.split(",") : [];
    const nClasses = st.game ? st.game.glyphs.length : 10000, nDrawers = st.game ? st.game.n_drawers : 1000;
    const order = [...Array(st.n).keys()].map((i) => cellIndex("example", i))
      .concat([...Array(st.queries).keys()].map((i) => cellIndex("query", i)));
    let needGame = false;
    order.forEach((k, j) => {
      const cell = decodeCell(texts[j] || "", nClasses, nDrawers);
      if (!cell) { problems.push(`${cellViews[k].name} could not be read`); st.cells[k] = {kind: "empty"}; return; }
      st.cells[k] = cell;
      if (cell.kind === "game") needGame = true;
    });
    layout();
    const finish = () => {
      cellViews.forEach((v, k) => {
        const c = st.cells[k];
        if (c.kind === "game" && st.game && (c.c >= st.game.glyphs.length || c.d >= st.game.n_drawers)) {
          st.cells[k] = {kind: "empty"};
          problems.push(`${v.name} names a character the game does not have`);
        }
        if (st.cells[k].kind === "game") { fillPicker(v.picker); v.picker.value = String(st.cells[k].c); }
        drawCell(k);
      });
      update();
      if (problems.length) showNotice(`Some of the saved drawings were not used: ${problems.join("; ")}.`);
    };
    if (needGame) loadGame().then(finish, () => { problems.push("the game's characters could not be loaded"); finish(); });
    else finish();
  }

  // ---- start
  runtime.register(FIGURE, { module: "part1" });
  runtime.preload(["part1"]);
  runtime.start();
  layout();
  const fromUrl = parseHash(location.hash)[FIGURE];
  if (fromUrl) applyEntry(fromUrl);
  else update();
  return { get state() { return st; } };
}
