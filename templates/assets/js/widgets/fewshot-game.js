// The Part 1 few-shot game: M-way 1-shot classification of procedurally drawn characters.
//
// mount(element, data): data is the build-time payload of mamlviz.figures.part1.fewshot_game (or a URL to it,
// or {url}). Each round is a trial drawn from a generator seeded by (mode, round): M characters of one invented
// alphabet, one exemplar each (all by different drawers), and a query (the same class as one exemplar, by yet
// another drawer). The reader answers by click/tap, by dragging the query onto an exemplar, or by pressing the
// exemplar's key (1–9, 0, then a–j). Scores per mode live in localStorage under "mamlviz.fewshot.scores" as
// {"5": {"right": n, "total": n}, "20": {...}}; the Part 2 timeline reads them from there.

import {el} from "./dom.js";

const SCORE_KEY = "mamlviz.fewshot.scores";
const MACHINE_KEY = "mamlviz.fewshot.machine";
const ROUND_KEY = "mamlviz.fewshot.rounds";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const RASTER = 28;

// ------------------------------------------------------------------------------------------------ small helpers
// A storage that degrades to memory when localStorage is unavailable (private mode, blocked cookies).
function makeStore(onFail) {
  const memory = {};
  let ok = true;
  return {
    get ok() { return ok; },
    read(key) {
      if (ok) {
        let text = null;
        try { text = window.localStorage.getItem(key); } catch (e) { ok = false; onFail(); }
        // a corrupt entry is not blocked storage: read it as empty (the next write replaces it)
        if (ok) { try { return JSON.parse(text || "null"); } catch (e) { return null; } }
      }
      return memory[key] ?? null;
    },
    write(key, value) {
      memory[key] = value;
      if (!ok) return;
      try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { ok = false; onFail(); }
    },
  };
}

function cleanScores(raw, modes) {
  const out = {};
  for (const m of modes) {
    const s = raw && typeof raw === "object" ? raw[String(m)] : null;
    const right = s && Number.isFinite(+s.right) ? Math.max(0, Math.floor(+s.right)) : 0;
    const total = s && Number.isFinite(+s.total) ? Math.max(right, Math.floor(+s.total)) : 0;
    out[String(m)] = { right, total };
  }
  return out;
}

// mulberry32, seeded by a string hash: one generator per trial, so a round is the same trial on every load.
function hashString(s) {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}
function rngFrom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function sample(rand, n, k) {             // k distinct integers from 0..n-1 (partial Fisher–Yates)
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) { const j = i + Math.floor(rand() * (n - i)); [a[i], a[j]] = [a[j], a[i]]; }
  return a.slice(0, k);
}

// ------------------------------------------------------------------------------------------------ glyphs
export function decodeGlyph(text) {
  const width = (B64.indexOf(text[0]) + 10) / 10;
  const strokes = text.slice(1).split(" ").map((part) => {
    const pts = [];
    for (let i = 0; i + 1 < part.length; i += 2) pts.push([B64.indexOf(part[i]), B64.indexOf(part[i + 1])]);
    return pts;
  });
  return { strokes, width };
}

// Uniform Catmull–Rom through the points, as cubic Béziers (the curve mamlviz.glyphs.catmull_rom samples).
function segments(pts) {
  const q = [pts[0], ...pts, pts[pts.length - 1]];
  const out = [];
  for (let i = 1; i < q.length - 2; i++) {
    const [p0, p1, p2, p3] = [q[i - 1], q[i], q[i + 1], q[i + 2]];
    out.push([p1, [p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6],
              [p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6], p2]);
  }
  return out;
}

function glyphPath(glyph) {
  const r = (v) => Math.round(v * 100) / 100;
  return glyph.strokes.map((pts) => `M${pts[0][0]},${pts[0][1]}` + segments(pts).map(
    ([, c1, c2, p2]) => ` C${r(c1[0])},${r(c1[1])} ${r(c2[0])},${r(c2[1])} ${p2[0]},${p2[1]}`).join("")).join(" ");
}

function glyphSvg(text, label) {
  const g = decodeGlyph(text);
  const svg = el("svg:svg", { viewBox: "-2 -2 67 67", class: "fs-glyph", focusable: "false",
                              ...(label ? { role: "img", "aria-label": label } : { "aria-hidden": "true" }) });
  svg.append(el("svg:path", { d: glyphPath(g), "stroke-width": g.width }));
  return svg;
}

// Ink image (RASTER × RASTER, values 0..1) of a glyph: how far inside the pen each pixel centre is. The same
// rule as mamlviz.glyphs.rasterise, so the naive machine here and the tests in Python see the same pixels.
function rasterise(text) {
  const g = decodeGlyph(text);
  const n = RASTER, cell = 63 / n, img = new Float32Array(n * n);
  for (const pts of g.strokes) {
    const poly = [pts[0]];
    for (const [p1, c1, c2, p2] of segments(pts)) {
      for (let s = 1; s <= 6; s++) {
        const t = s / 6, u = 1 - t;
        poly.push([u * u * u * p1[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t * t * t * p2[0],
                   u * u * u * p1[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t * t * t * p2[1]]);
      }
    }
    const reach = g.width / 2 + cell;
    for (let k = 0; k + 1 < poly.length; k++) {
      const [ax, ay] = poly[k], [bx, by] = poly[k + 1];
      const abx = bx - ax, aby = by - ay, L2 = Math.max(abx * abx + aby * aby, 1e-12);
      const j0 = Math.max(0, Math.floor((Math.min(ax, bx) - reach) / cell));
      const j1 = Math.min(n - 1, Math.ceil((Math.max(ax, bx) + reach) / cell));
      const i0 = Math.max(0, Math.floor((Math.min(ay, by) - reach) / cell));
      const i1 = Math.min(n - 1, Math.ceil((Math.max(ay, by) + reach) / cell));
      for (let i = i0; i <= i1; i++) {
        const py = (i + 0.5) * cell;
        for (let j = j0; j <= j1; j++) {
          const px = (j + 0.5) * cell;
          const t = Math.min(1, Math.max(0, ((px - ax) * abx + (py - ay) * aby) / L2));
          const dx = px - (ax + t * abx), dy = py - (ay + t * aby);
          const v = Math.min(1, Math.max(0, (g.width / 2 - Math.sqrt(dx * dx + dy * dy)) / cell + 0.5));
          if (v > img[i * n + j]) img[i * n + j] = v;
        }
      }
    }
  }
  return img;
}

// ------------------------------------------------------------------------------------------------ the game
export function makeTrial(data, mode, round) {
  const rand = rngFrom(hashString(`${data.seed}:${mode}:${round}`));
  const usable = data.alphabets.filter((a) => a.count >= mode);
  const alphabet = usable[Math.floor(rand() * usable.length)];
  const classes = sample(rand, alphabet.count, mode).map((i) => alphabet.start + i);
  const drawers = sample(rand, data.n_drawers, Math.min(mode, data.n_drawers));
  while (drawers.length < mode) drawers.push(Math.floor(rand() * data.n_drawers));
  const answer = Math.floor(rand() * mode);
  let queryDrawer = Math.floor(rand() * (data.n_drawers - 1));
  if (queryDrawer >= drawers[answer]) queryDrawer += 1;           // any drawer but the exemplar's
  return { mode, round, alphabet: alphabet.name, classes, drawers, answer, queryDrawer };
}

export function mount(element, data) {
  if (typeof data === "string" || (data && data.url && !data.glyphs)) {
    element.textContent = "Loading the characters…";
    return fetch(typeof data === "string" ? data : data.url).then((r) => r.json())
      .then((d) => { element.textContent = ""; return mountGame(element, d); })
      .catch(() => { element.textContent = "The characters for this game could not be loaded."; });
  }
  return mountGame(element, data);
}

function mountGame(root, data) {
  const modes = (data.modes || [5, 20]).map(Number);
  const scoreKey = data.storage_key || SCORE_KEY;
  const note = el("p", { class: "fs-storage-note", hidden: true, role: "note",
    text: "This browser is not letting the page store anything, so your scores last only until you leave the page." });
  const store = makeStore(() => { note.hidden = false; });
  const st = {
    mode: modes[0],
    scores: cleanScores(store.read(scoreKey), modes),
    machine: cleanScores(store.read(MACHINE_KEY), modes),
    rounds: Object.fromEntries(modes.map((m) => [String(m), 0])),
    trial: null,
    chosen: null,            // index the reader chose, once answered
    machinePick: null,
  };
  const savedRounds = store.read(ROUND_KEY);
  for (const m of modes) {
    const r = savedRounds && Number.isFinite(+savedRounds[m]) ? Math.max(0, Math.floor(+savedRounds[m])) : 0;
    st.rounds[String(m)] = Math.max(r, st.scores[String(m)].total);
  }
  const rasters = new Map();
  const raster = (c, d) => {
    const k = `${c}:${d}`;
    if (!rasters.has(k)) rasters.set(k, rasterise(data.glyphs[c][d]));
    return rasters.get(k);
  };

  // ---- DOM
  const uid = `fs-${Math.random().toString(36).slice(2, 8)}`;
  const modeButtons = modes.map((m) => el("button", {
    type: "button", class: "fs-mode", "data-mode": m, "aria-pressed": String(m === st.mode),
    onclick: () => setMode(m),
  }, `${m}-way`));
  const roundInfo = el("span", { class: "fs-round" });
  const query = el("div", { class: "fs-query", "data-testid": "fewshot-query" });
  const queryBox = el("div", { class: "fs-query-box" },
    el("span", { class: "fs-query-label", text: "Query" }), query,
    el("span", { class: "fs-drag-hint", "aria-hidden": "true", text: "drag me ⤵" }));
  const feedback = el("p", { class: "fs-feedback", role: "status", "aria-live": "polite", id: `${uid}-fb` });
  const feedbackIcon = el("span", { class: "fs-feedback-icon", "aria-hidden": "true" });
  const feedbackBox = el("div", { class: "fs-feedback-box" }, feedbackIcon, feedback);
  const exemplars = el("div", { class: "fs-exemplars", role: "group", "aria-label": "Exemplars, one per class" });
  const board = el("div", {
    class: "fs-board", tabindex: "0", id: `${uid}-board`,
    "aria-label": "Few-shot game board. Press an exemplar's key (1 to 9, 0, then a to j) to choose it, N for the next trial.",
  }, el("div", { class: "fs-top" }, queryBox, feedbackBox), exemplars);
  const nextButton = el("button", { type: "button", class: "fs-next", onclick: () => nextTrial() });
  const resetButton = el("button", { type: "button", class: "fs-reset", onclick: () => resetScores() },
    "Reset scores");
  const yourScore = el("p", { class: "fs-score", "data-testid": "fewshot-score" });
  const machineScore = el("p", { class: "fs-machine-score", "data-testid": "fewshot-machine-score" });
  const machineLine = el("p", { class: "fs-machine", "aria-live": "polite" });
  const description = el("p", { class: "widget-description fs-description", "data-testid": "fewshot-description" });

  root.classList.add("fs-game");
  root.replaceChildren(
    el("div", { class: "fs-toolbar" },
      el("div", { class: "fs-modes", role: "group", "aria-label": "Game mode" }, ...modeButtons), roundInfo),
    el("p", { class: "fs-instructions", id: `${uid}-help` },
      "Which exemplar shows the same character as the query? Click or tap it, drag the query onto it, or press its key (Tab to an exemplar and press Enter works too)."),
    board,
    el("div", { class: "fs-controls" }, nextButton, resetButton),
    el("div", { class: "fs-scores" }, yourScore, machineScore, machineLine),
    note,
    el("details", { class: "fs-details" }, el("summary", { text: "What the figure shows, in words" }), description),
  );
  if (!store.ok) note.hidden = false;

  // ---- rendering
  function keyLabel(i) { return KEYS[i] ?? String(i + 1); }

  function renderTrial() {
    const t = st.trial;
    roundInfo.textContent = `${t.mode}-way, round ${t.round + 1} · alphabet “${t.alphabet}”`;
    query.replaceChildren(glyphSvg(data.glyphs[t.classes[t.answer]][t.queryDrawer], "The query character"));
    query.dataset.classId = String(t.classes[t.answer]);
    exemplars.dataset.mode = String(t.mode);
    exemplars.replaceChildren(...t.classes.map((c, i) => {
      const key = keyLabel(i);
      return el("button", {
        type: "button", class: "fs-exemplar", "data-key": key, "data-index": i, "data-class-id": c,
        "aria-keyshortcuts": key, "aria-label": `Exemplar ${key}`,
        onclick: () => answer(i),
      }, el("span", { class: "fs-key", "aria-hidden": "true", text: key }), glyphSvg(data.glyphs[c][t.drawers[i]]),
        el("span", { class: "fs-mark", "aria-hidden": "true" }));
    }));
    feedback.textContent = "";
    feedbackIcon.textContent = "";
    feedbackBox.className = "fs-feedback-box";
    feedback.textContent = `Pick the exemplar that matches the query (keys ${keyLabel(0)}–${keyLabel(t.mode - 1)}).`;
    machineLine.textContent = "";
    board.classList.remove("is-answered");
    nextButton.textContent = "Skip to a new trial";
    renderScores();
    describe();
  }

  function pct(s) { return s.total ? ` (${Math.round((100 * s.right) / s.total)}%)` : ""; }
  function renderScores() {
    const parts = modes.map((m) => {
      const s = st.scores[String(m)];
      return `${m}-way: ${s.right} right of ${s.total}${pct(s)}`;
    });
    yourScore.textContent = `Your score — ${parts.join(" · ")}`;
    const mparts = modes.map((m) => {
      const s = st.machine[String(m)];
      return `${m}-way: ${s.right} of ${s.total}${pct(s)}`;
    });
    machineScore.textContent = `Naive machine on the same trials — ${mparts.join(" · ")}`;
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(+b.dataset.mode === st.mode));
  }

  function describe() {
    const t = st.trial;
    const s = st.scores[String(t.mode)];
    let text = `Round ${t.round + 1} of the ${t.mode}-way 1-shot game, with characters from the invented alphabet ` +
      `“${t.alphabet}”. At the top is the query character; below it are ${t.mode} exemplars labelled ` +
      `${keyLabel(0)} to ${keyLabel(t.mode - 1)}, ${t.mode} different characters each drawn by a different person. ` +
      "Exactly one of them is the same character as the query, drawn by someone else. ";
    if (st.chosen === null) text += "This trial has not been answered yet. ";
    else {
      text += st.chosen === t.answer ? `You chose ${keyLabel(st.chosen)}, which is right. `
        : `You chose ${keyLabel(st.chosen)}; the answer was ${keyLabel(t.answer)}. `;
      text += `The naive machine chose ${keyLabel(st.machinePick)}` +
        (st.machinePick === t.answer ? ", also right. " : ", which is wrong. ");
    }
    text += `Your ${t.mode}-way score so far: ${s.right} right of ${s.total}.`;
    description.textContent = text;
  }

  // ---- the naive machine: nearest neighbour on raw pixels
  function machineChoice(t) {
    const q = raster(t.classes[t.answer], t.queryDrawer);
    let best = 0, bestD = Infinity;
    t.classes.forEach((c, i) => {
      const e = raster(c, t.drawers[i]);
      let d = 0;
      for (let k = 0; k < q.length; k++) { const x = q[k] - e[k]; d += x * x; }
      if (d < bestD) { bestD = d; best = i; }
    });
    return best;
  }

  // ---- actions
  function newTrial() {
    const key = String(st.mode);
    st.trial = makeTrial(data, st.mode, st.rounds[key]);
    st.chosen = null;
    st.machinePick = null;
    renderTrial();
  }

  function answer(i) {
    const t = st.trial;
    if (st.chosen !== null || i < 0 || i >= t.mode) return;
    st.chosen = i;
    st.machinePick = machineChoice(t);
    const key = String(t.mode);
    const right = i === t.answer;
    st.scores[key].total += 1;
    if (right) st.scores[key].right += 1;
    st.machine[key].total += 1;
    if (st.machinePick === t.answer) st.machine[key].right += 1;
    st.rounds[key] = t.round + 1;
    store.write(scoreKey, st.scores);
    store.write(MACHINE_KEY, st.machine);
    store.write(ROUND_KEY, st.rounds);

    const buttons = [...exemplars.children];
    buttons.forEach((b, k) => {
      b.setAttribute("aria-disabled", "true");
      const mark = b.querySelector(".fs-mark");
      if (k === t.answer) {
        b.classList.add("is-answer");
        mark.textContent = "✓";
        b.setAttribute("aria-label", `Exemplar ${keyLabel(k)}: the answer${k === i ? ", your choice" : ""}`);
      } else if (k === i) {
        b.classList.add("is-wrong");
        mark.textContent = "✗";
        b.setAttribute("aria-label", `Exemplar ${keyLabel(k)}: your choice, not the answer`);
      }
      if (k === i) b.classList.add("is-chosen");
    });
    board.classList.add("is-answered");
    feedbackBox.className = `fs-feedback-box ${right ? "is-right" : "is-wrong"}`;
    feedbackIcon.textContent = right ? "✓" : "✗";
    feedback.textContent = right ? "Right!" : `Not quite — the answer was ${keyLabel(t.answer)}.`;
    machineLine.textContent = `The naive machine (nearest neighbour on raw pixels) picked ${keyLabel(st.machinePick)}` +
      (st.machinePick === t.answer ? " — right." : ` — wrong; the answer was ${keyLabel(t.answer)}.`);
    nextButton.textContent = "Next trial";
    renderScores();
    describe();
    if (root.contains(document.activeElement)) nextButton.focus();
  }

  function nextTrial() {
    if (st.chosen === null) {                      // skipping: the trial counts for nothing, the round moves on
      st.rounds[String(st.mode)] = st.trial.round + 1;
      store.write(ROUND_KEY, st.rounds);
    }
    newTrial();
  }

  function setMode(m) {
    if (m === st.mode && st.trial) return;
    st.mode = m;
    newTrial();
  }

  function resetScores() {
    st.scores = cleanScores(null, modes);
    st.machine = cleanScores(null, modes);
    store.write(scoreKey, st.scores);
    store.write(MACHINE_KEY, st.machine);
    renderScores();
    describe();
    if (st.chosen !== null) newTrial();
    feedbackBox.className = "fs-feedback-box";
    feedbackIcon.textContent = "";
    feedback.textContent = "Scores reset to zero for both modes.";
  }

  // ---- keyboard: keys act while focus is anywhere inside the game
  root.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    if (k === "n" && st.chosen !== null) { ev.preventDefault(); nextTrial(); nextButton.focus(); return; }
    const i = KEYS.indexOf(k);
    if (i >= 0 && i < st.trial.mode && ev.target.tagName !== "INPUT") {
      ev.preventDefault();
      answer(i);
    } else if (k === "Enter" && ev.target === board && st.chosen !== null) {
      ev.preventDefault();
      nextTrial();
    }
  });

  // ---- drag the query onto an exemplar (pointer events: mouse, pen and touch)
  let drag = null;
  const exemplarAt = (x, y) => {
    const hit = document.elementFromPoint(x, y);
    const b = hit && hit.closest ? hit.closest(".fs-exemplar") : null;
    return b && exemplars.contains(b) ? b : null;
  };
  query.addEventListener("pointerdown", (ev) => {
    if (st.chosen !== null || ev.button > 0) return;
    ev.preventDefault();
    query.setPointerCapture?.(ev.pointerId);
    drag = { id: ev.pointerId, x0: ev.clientX, y0: ev.clientY, ghost: null, over: null };
  });
  query.addEventListener("pointermove", (ev) => {
    if (!drag || ev.pointerId !== drag.id) return;
    if (!drag.ghost && Math.hypot(ev.clientX - drag.x0, ev.clientY - drag.y0) < 4) return;
    if (!drag.ghost) {
      drag.ghost = el("div", { class: "fs-ghost", "aria-hidden": "true" }, query.firstChild.cloneNode(true));
      document.body.append(drag.ghost);
      root.classList.add("is-dragging");
    }
    drag.ghost.style.left = `${ev.clientX}px`;
    drag.ghost.style.top = `${ev.clientY}px`;
    const over = exemplarAt(ev.clientX, ev.clientY);
    if (over !== drag.over) {
      drag.over?.classList.remove("is-drop-target");
      over?.classList.add("is-drop-target");
      drag.over = over;
    }
  });
  const endDrag = (ev, drop) => {
    if (!drag || ev.pointerId !== drag.id) return;
    const d = drag;
    drag = null;
    d.ghost?.remove();
    d.over?.classList.remove("is-drop-target");
    root.classList.remove("is-dragging");
    if (drop && d.ghost) {
      const target = exemplarAt(ev.clientX, ev.clientY);
      if (target) { answer(+target.dataset.index); target.focus(); nextButton.focus(); }
    }
  };
  query.addEventListener("pointerup", (ev) => endDrag(ev, true));
  query.addEventListener("pointercancel", (ev) => endDrag(ev, false));

  newTrial();
  return { get state() { return st; } };
}
