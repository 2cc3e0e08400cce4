// The Part 1 few-shot game: M-way 1-shot classification of procedurally drawn characters.
//
// mount(element, data): data is the build-time payload of mamlviz.figures.part1.fewshot_game (or a URL to it,
// or {url}). Each round is a trial drawn from a generator seeded by (mode, round): M characters of one invented
// alphabet, one exemplar each (all by different drawers), and a query (the same class as one exemplar, by yet
// another drawer). The reader answers by click/tap, by dragging the query onto an exemplar, or by pressing the
// exemplar's key (1–9, 0, then a–j). Scores per mode live in localStorage under "mamlviz.fewshot.scores" as
// {"5": {"right": n, "total": n}, "20": {...}}; the Part 2 timeline reads them from there.
//
// Three machines play the same trials: nearest neighbour on raw pixels and on blurred pixels (both here, in
// JavaScript), and the MAML machine, a meta-trained MLP that adapts to the exemplars in the page's Python worker
// (the headless figure "fewshot-maml" of mamlviz.figures.part1; the game boots the runtime itself).

import {el} from "./dom.js";
import * as runtime from "../runtime.js";
import {BLUR_SIGMA, RASTER, blur, cleanScores, decodeGlyph, glyphPath, machineChoice, makeTrial, rasterise,
  recordAnswer, recordSkip} from "./fewshot-logic.js";


const SCORE_KEY = "mamlviz.fewshot.scores";
const MACHINE_KEY = "mamlviz.fewshot.machine";
const ROUND_KEY = "mamlviz.fewshot.rounds";
const BLUR_KEY = "mamlviz.fewshot.blur";
const MAML_KEY = "mamlviz.fewshot.maml";
const MAML_FIGURE = "fewshot-maml";
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

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

// ------------------------------------------------------------------------------------------------ glyphs
function glyphSvg(text, label) {
  const g = decodeGlyph(text);
  const svg = el("svg:svg", { viewBox: "-2 -2 67 67", class: "fs-glyph", focusable: "false",
                              ...(label ? { role: "img", "aria-label": label } : { "aria-hidden": "true" }) });
  svg.append(el("svg:path", { d: glyphPath(g), "stroke-width": g.width }));
  return svg;
}

// Rows of numbers as base64 of little-endian float32 (what mamlviz.figures.part1 reads as `_x`): a quarter of the
// bytes of JSON numbers, and nothing to parse in the worker.
export function packFloat32(rows) {
  const n = rows.reduce((s, r) => s + r.length, 0), view = new DataView(new ArrayBuffer(4 * n));
  let k = 0;
  for (const r of rows) for (const v of r) { view.setFloat32(4 * k, v, true); k += 1; }
  const bytes = new Uint8Array(view.buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// ------------------------------------------------------------------------------------------------ the game
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
    blur: cleanScores(store.read(BLUR_KEY), modes),
    maml: cleanScores(store.read(MAML_KEY), modes),
    rounds: Object.fromEntries(modes.map((m) => [String(m), 0])),
    trial: null,
    chosen: null,            // index the reader chose, once answered
    machinePick: null,
    blurPick: null,
    mamlMove: null,          // the MAML machine's reply for this trial: {choice, before, after, ms}
    mamlCounted: false,
    shownAt: 0,
    liveAt: Infinity,        // when the Python runtime became live (the clock of a trial shown before starts then)
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
  // what the MAML machine reads: the raster averaged over 2 × 2 blocks (mamlviz.glyphtasks.features), 14 × 14
  const pooled = new Map();
  const features = (c, d) => {
    const k = `${c}:${d}`;
    if (!pooled.has(k)) {
      const img = raster(c, d), n = RASTER / 2, out = new Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const a = 2 * i * RASTER + 2 * j;
          out[i * n + j] = (img[a] + img[a + 1] + img[a + RASTER] + img[a + RASTER + 1]) / 4;
        }
      }
      pooled.set(k, out);
    }
    return pooled.get(k);
  };
  const blurred = new Map();
  const blurredRaster = (c, d) => {
    const k = `${c}:${d}`;
    if (!blurred.has(k)) blurred.set(k, blur(raster(c, d)));
    return blurred.get(k);
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
  const blurScore = el("p", { class: "fs-blur-score", "data-testid": "fewshot-blur-score" });
  const blurLine = el("p", { class: "fs-blur", "aria-live": "polite" });
  const mamlScore = el("p", { class: "fs-maml-score", "data-testid": "fewshot-maml-score" });
  const mamlLine = el("p", { class: "fs-maml", "aria-live": "polite" });
  const mamlTable = el("tbody");
  const mamlView = el("details", { class: "fs-maml-view", open: true, hidden: true },
    el("summary", { text: "How the MAML machine decided" }),
    el("table", { class: "fs-probs" },
      el("caption", { class: "fs-probs-caption" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Exemplar" }),
        el("th", { scope: "col", text: "Before adapting (at θ)" }),
        el("th", { scope: "col", text: "After adapting (at φ)" }))),
      mamlTable));
  const description = el("p", { class: "widget-description fs-description", "data-testid": "fewshot-description" });

  root.classList.add("fs-game");
  root.replaceChildren(
    el("div", { class: "fs-toolbar" },
      el("div", { class: "fs-modes", role: "group", "aria-label": "Game mode" }, ...modeButtons), roundInfo),
    el("p", { class: "fs-instructions", id: `${uid}-help` },
      "Which exemplar shows the same character as the query? Click or tap it, drag the query onto it, or press its key (Tab to an exemplar and press Enter works too)."),
    board,
    el("div", { class: "fs-controls" }, nextButton, resetButton),
    el("div", { class: "fs-scores" }, yourScore, machineScore, machineLine, blurScore, blurLine, mamlScore, mamlLine),
    mamlView,
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
    query.dataset.drawer = String(t.queryDrawer);
    exemplars.dataset.mode = String(t.mode);
    exemplars.replaceChildren(...t.classes.map((c, i) => {
      const key = keyLabel(i);
      return el("button", {
        type: "button", class: "fs-exemplar", "data-key": key, "data-index": i, "data-class-id": c,
        "data-drawer": t.drawers[i],
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
    blurLine.textContent = "";
    mamlView.hidden = true;
    board.classList.remove("is-answered");
    nextButton.textContent = "Skip to a new trial";
    renderScores();
    describe();
    st.shownAt = performance.now();
    askMaml(t);
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
    const line = (scores) => modes.map((m) => {
      const s = scores[String(m)];
      return `${m}-way: ${s.right} of ${s.total}${pct(s)}`;
    }).join(" · ");
    blurScore.textContent = `Blurred-pixel machine — ${line(st.blur)}`;
    mamlScore.textContent = `MAML machine — ${line(st.maml)}`;
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
      text += `The blurred-pixel machine chose ${keyLabel(st.blurPick)}` +
        (st.blurPick === t.answer ? ", right. " : ", wrong. ");
      const m = st.mamlMove;
      text += m ? `The MAML machine chose ${keyLabel(m.choice)} (${m.choice === t.answer ? "right" : "wrong"}), ` +
        `with probability ${Math.round(100 * m.after[m.choice])}% after adapting to the exemplars and ` +
        `${Math.round(100 * m.before[m.choice])}% before. ` : "The MAML machine has not answered yet. ";
    }
    text += `Your ${t.mode}-way score so far: ${s.right} right of ${s.total}.`;
    description.textContent = text;
  }

  // ---- the MAML machine: adapts to the exemplars in the worker; its move is revealed once the reader answered
  const trialToken = (t) => `${t.mode}:${t.round}`;
  function askMaml(t) {
    st.mamlMove = null;
    st.mamlCounted = false;
    const token = trialToken(t);
    const tic = performance.now();
    const x = [...t.classes.map((c, i) => features(c, t.drawers[i])), features(t.classes[t.answer], t.queryDrawer)];
    const state = { way: String(t.mode), _trial: token, _x: packFloat32(x) };
    root.dataset.mamlPrepMs = (performance.now() - tic).toFixed(1);      // rasterising and pooling, in JavaScript
    root.dataset.mamlStatus = runtime.getStatus() === "failed" ? "failed" : "waiting";
    showMamlStatus();
    runtime.request(MAML_FIGURE, state, null, (scene) => {
      if (!scene || scene.trial !== token || st.trial !== t) return;       // a late reply to an earlier trial
      if (scene.choice === null || scene.choice === undefined) return mamlFailed(scene.message || "no answer");
      const since = Math.max(st.shownAt, st.liveAt === Infinity ? st.shownAt : st.liveAt);
      st.mamlMove = { choice: scene.choice, before: scene.before, after: scene.after, steps: scene.steps,
                      ms: performance.now() - since, waited: since > st.shownAt };
      root.dataset.mamlStatus = "answered";
      root.dataset.mamlMs = st.mamlMove.ms.toFixed(1);
      root.dataset.mamlComputeMs = String(scene.compute_ms);       // of which Python's share
      if (st.chosen !== null) revealMaml();
      else showMamlStatus();
    }, (error) => mamlFailed(error));
  }

  function mamlFailed(error) {
    root.dataset.mamlStatus = "failed";
    mamlLine.textContent = `The MAML machine could not play this trial: ${error}`;
  }

  function showMamlStatus() {
    if (st.mamlMove && st.chosen !== null) return;                      // revealed already
    const s = runtime.getStatus();
    mamlLine.textContent = s === "failed"
      ? `The MAML machine could not start in this browser; the other machines still play.${st.whyNot ? " " + st.whyNot : ""}`
      : st.mamlMove ? "The MAML machine has made its choice; it is shown once you answer."
      : s === "live" ? "The MAML machine is thinking…"
      : "The MAML machine is getting ready (Python and NumPy load in this page, once)…";
  }

  function revealMaml() {
    const t = st.trial, m = st.mamlMove;
    if (!st.mamlCounted) {
      st.mamlCounted = true;
      st.maml[String(t.mode)].total += 1;
      if (m.choice === t.answer) st.maml[String(t.mode)].right += 1;
      store.write(MAML_KEY, st.maml);
    }
    mamlLine.textContent = `The MAML machine (a network that took ${m.steps} gradient steps on these exemplars) picked ` +
      `${keyLabel(m.choice)}` + (m.choice === t.answer ? " — right." : ` — wrong; the answer was ${keyLabel(t.answer)}.`) +
      ` It answered ${Math.round(m.ms)} ms after ${m.waited ? "Python had loaded in this page" : "the trial appeared"}.`;
    mamlTable.replaceChildren(...t.classes.map((_, i) => {
      const bar = (p, cls) => {
        const fill = el("span", { class: `fs-bar ${cls}`, "aria-hidden": "true" });
        fill.style.width = `${(50 * p).toFixed(1)}%`;  // CSSOM, not a style attribute (the policy has no inline styles)
        return el("td", {}, fill, el("span", { class: "fs-pct", text: `${(100 * p).toFixed(1)}%` }));
      };
      const notes = [i === m.choice ? "MAML's choice" : "", i === t.answer ? "the answer" : ""].filter(Boolean);
      return el("tr", { class: i === m.choice ? "is-maml-choice" : null, "data-index": i },
        el("th", { scope: "row", text: `${keyLabel(i)}${notes.length ? ` (${notes.join(", ")})` : ""}` }),
        bar(m.before[i], "is-before"), bar(m.after[i], "is-after"));
    }));
    mamlView.querySelector("caption").textContent = `The probability the MAML machine gives each exemplar of being ` +
      `the query's class: before adapting (its meta-learned starting point θ; the labels are in random order, so ` +
      `it cannot know yet) and after ${m.steps} gradient steps on the ${t.mode} exemplars (φ).`;
    mamlView.dataset.choice = String(m.choice);
    mamlView.dataset.before = JSON.stringify(m.before);
    mamlView.dataset.after = JSON.stringify(m.after);
    mamlView.hidden = false;
    renderScores();
    describe();
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
    st.machinePick = machineChoice(t, raster);          // the naive machine: nearest neighbour on raw pixels
    st.blurPick = machineChoice(t, blurredRaster);
    const right = i === t.answer;
    recordAnswer(st, t, i, {machine: st.machinePick, blur: st.blurPick});
    store.write(scoreKey, st.scores);
    store.write(MACHINE_KEY, st.machine);
    store.write(BLUR_KEY, st.blur);
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
    blurLine.textContent = `The blurred-pixel machine (nearest neighbour after a Gaussian blur of ${BLUR_SIGMA} pixels) ` +
      `picked ${keyLabel(st.blurPick)}` + (st.blurPick === t.answer ? " — right." : " — wrong.");
    nextButton.textContent = "Next trial";
    renderScores();
    describe();
    if (st.mamlMove) revealMaml();
    else showMamlStatus();
    if (root.contains(document.activeElement)) nextButton.focus();
  }

  function nextTrial() {
    if (st.chosen === null) {                      // skipping: the trial counts for nothing, the round moves on
      recordSkip(st, st.trial);
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
    st.blur = cleanScores(null, modes);
    st.maml = cleanScores(null, modes);
    store.write(scoreKey, st.scores);
    store.write(MACHINE_KEY, st.machine);
    store.write(BLUR_KEY, st.blur);
    store.write(MAML_KEY, st.maml);
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

  runtime.onStatus((status, detail) => {
    if (status === "failed" && detail) st.whyNot = detail;  // e.g. no WebAssembly: the reader is told why
    if (status === "live" && st.liveAt === Infinity) st.liveAt = performance.now();
    if (st.trial && !st.mamlMove) showMamlStatus();
  });
  runtime.register(MAML_FIGURE, { module: "part1" });   // import just Part 1's figure module, as soon as it is up
  runtime.preload(["part1"]);
  runtime.start();
  newTrial();
  return { get state() { return st; } };
}
