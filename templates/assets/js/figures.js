// The figure runtime: every <figure class="figure"> draws its embedded first frame at once, builds its declared
// controls, and goes live on its own first answer from the worker (a probe of the built state once the worker is
// ready, unless a request went first); a figure whose code fails or is unknown says "failed" with the reason.
// State changes (controls, handles, points, URL) send requests; scenes coming back are drawn by the generic renderer.
import {adoptPanel, makePanels, drawPanel, drawExtras} from "./render.js";
import {controlGroups, makeControl} from "./controls.js";
import {makeHandle} from "./handles.js";
import {makePointsInput} from "./points.js";
import {parseHash, applyEntries, encodeFigure, hashWith} from "./urlstate.js";
import * as runtime from "./runtime.js";

const REDUCED_MOTION = matchMedia("(prefers-reduced-motion: reduce)");
const STILL_MS = 1000;

const STATUS_TEXT = {
  static: "First frame — the live computation is loading…",
  live: "Live: computed in your browser.",
  busy: "Computing…",
  failed: "Not live: showing the first frame only.",
};

class Figure {
  constructor(root, saved) {
    this.root = root;
    const data = JSON.parse(root.querySelector("script.figure-data").textContent);
    this.id = data.id;
    this.module = data.module || "";
    this.training = Boolean(data.training);
    runtime.register(this.id, {training: this.training, module: this.module});  // training: a worker of its own
    this.controls = data.controls;
    this.defaults = data.state;
    this.state = {...data.state};
    this.scene = data.scene;  // the first frame's panel specs (limits, aspect); its drawing is already in the page
    this.panels = [];
    this.handles = [];
    this.pointInputs = [];
    this.widgets = {};
    this.answered = false;  // live only once the worker has answered for this figure (its own code ran)
    this.build();
    const fromUrl = parseHash(location.hash)[this.id];
    if (saved) this.applySaved(saved);
    else if (fromUrl) this.applyUrl(fromUrl);
    this.panels = [...this.panelBox.children].map((wrap, i) => adoptPanel(wrap, this.scene.panels[i]));
    this.wireInputs();
    this.updateInputs();
    if (fromUrl || saved) this.request(null);
    // back on a part whose training worker lives on (a client-side visit): show its job as it is, not the built frame
    else if (this.training && runtime.getStatus(this.id) === "live") this.request(null);
  }

  // A state kept in history (back/forward): our own, so only its keys that the figure knows are taken.
  applySaved(saved) {
    for (const [k, v] of Object.entries(saved)) if (k in this.state || k.startsWith("_")) this.state[k] = v;
    for (const [k, w] of Object.entries(this.widgets)) if (k in this.state) w.set(this.state[k]);
  }

  // The build wrote the first frame (panels, legend, readouts, message, description); add what only a live page has.
  build() {
    const part = (cls) => this.root.querySelector(":scope > ." + cls);
    const before = part("describe");
    const html = (tag, cls, parent, ahead) => {
      const e = document.createElement(tag);
      e.className = cls;
      if (ahead) parent.insertBefore(e, ahead); else parent.append(e);
      return e;
    };
    this.panelBox = part("panels");
    this.legend = part("legend");
    this.readouts = part("readouts");
    this.message = part("figure-message");
    this.describe = before.querySelector("p");
    this.controlBox = html("div", "controls", this.root, before);
    const bar = html("div", "figure-bar", this.root, before);
    this.statusEl = html("p", "figure-status", bar);
    this.statusEl.setAttribute("aria-live", "polite");
    this.notice = html("p", "figure-notice", bar);
    this.notice.setAttribute("role", "status");
    this.notice.hidden = true;
    const copy = html("button", "copy-link", bar);
    copy.type = "button";
    copy.textContent = "Copy link to this view";
    copy.addEventListener("click", () => this.copyLink());
    this.restartButton = html("button", "restart-worker", bar);  // shown when a training worker stopped
    this.restartButton.type = "button";
    this.restartButton.textContent = "Restart the live computation";
    this.restartButton.hidden = true;
    this.restartButton.addEventListener("click", () => runtime.restart(this.id));
    this.live = html("p", "visually-hidden", this.root, before);
    this.live.setAttribute("aria-live", "polite");
    const place = controlGroups(this.controlBox);
    for (const c of this.controls) {
      const w = makeControl(c, this.state[c.name], this.id, (name, v) => this.change({[name]: v}), (a) => this.request(a));
      if (w) { this.widgets[c.name] = w; place(c, w); }
    }
    this.controlBox.hidden = !this.controlBox.children.length;
  }

  setStatus(kind, text) {
    this.root.dataset.status = kind;
    this.statusEl.textContent = text || STATUS_TEXT[kind];
  }

  draw(scene) {
    this.scene = scene;
    if (this.panels.length !== scene.panels.length) {
      this.panels = makePanels(this.panelBox, this.id, scene);
      this.wireInputs();
    } else {
      this.panels.forEach((P, i) => drawPanel(P, scene.panels[i]));
    }
    this.updateInputs();
    drawExtras(this, scene);
  }

  // Handles and points inputs on their panels, driven by the state.
  wireInputs() {
    this.handles = [];
    this.pointInputs = [];
    for (const c of this.controls) {
      const P = this.panels[c.panel || 0];
      if (!P) continue;
      const get = () => this.state[c.name];
      const set = (v) => this.change({[c.name]: v});
      if (c.kind === "handle") this.handles.push(makeHandle(P, c, get, set));
      if (c.kind === "points") this.pointInputs.push(makePointsInput(P, c, get, set, (m) => this.showNotice(m)));
    }
  }

  updateInputs() {
    for (const h of this.handles) h.update();
    for (const p of this.pointInputs) p.update();
  }

  change(patch) {
    Object.assign(this.state, patch);
    for (const [k, v] of Object.entries(patch)) if (this.widgets[k]) this.widgets[k].set(v);
    this.updateInputs();
    this.request(null);
  }

  // probe: the built state asked once, to learn that the figure answers; its scene (the built frame) is not drawn.
  request(action, probe = false) {
    if (runtime.getStatus(this.id) === "failed") return;
    this.inflight = true;
    // the runtime may still answer an older request while this one waits: only the newest one's end means idle
    const mine = this.requestSeq = (this.requestSeq || 0) + 1;
    if (this.answered && runtime.getStatus(this.id) === "live") this.setStatus("busy");
    // Reduced motion: a stream that animates (a walk, a descent) jumps to its last frame; a long stream (training,
    // a race, a measurement) still shows its progress, once a second (STILL_MS) instead of frame by frame.
    const still = !this.training && REDUCED_MOTION.matches;
    let held = null, shown = performance.now();
    const show = (scene) => { held = null; shown = performance.now(); this.draw(scene); };
    runtime.request(this.id, this.state, action,
      (scene, done) => {
        this.answered = true;
        if (!done && this.root.dataset.status !== "busy") this.setStatus("busy");  // a stream's first frames
        if (scene) {
          // an older request's answer must not undo what the reader did since (a key press that is still queued)
          if (scene.state && mine === this.requestSeq) {
            Object.assign(this.state, scene.state);
            for (const [k, v] of Object.entries(scene.state)) if (this.widgets[k]) this.widgets[k].set(v);
          }
          if (probe) { /* the built frame stays */ } else if (still && !done && performance.now() - shown < STILL_MS) held = scene; else show(scene);
        } else if (done && held) show(held);
        if (done && mine === this.requestSeq) { this.inflight = false; this.setStatus("live"); }
      },
      (error) => {
        this.message.hidden = false;
        this.message.textContent = "The figure could not be computed: " + error;
        if (mine !== this.requestSeq) return;
        this.inflight = false;
        // never answered: its code fails (or does not exist) — not live; a later request may still answer
        this.setStatus(this.answered ? "live" : "failed", this.answered ? null : `Not live: ${error}`);
      }, probe);
  }

  applyUrl(entries) {
    const {state, ignored} = applyEntries(this.controls, this.state, entries);
    this.state = state;
    for (const [k, w] of Object.entries(this.widgets)) if (k in state) w.set(state[k]);
    if (ignored.length) this.showNotice(`Ignored from the link: ${ignored.join(", ")} (not valid for this figure).`);
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { this.notice.hidden = true; }, 6000);
  }

  async copyLink() {
    const hash = hashWith(this.id, encodeFigure(this.id, this.controls, this.state, this.defaults));
    history.replaceState(null, "", hash);
    try {
      await navigator.clipboard.writeText(location.href);
      this.showNotice("Link copied: it opens this figure in its current state.");
    } catch (e) {
      this.showNotice("The address bar now holds a link to this view.");
    }
  }
}

let figs = [];
let unsubscribe = [];

function onScreen(el) {
  const r = el.getBoundingClientRect();
  return r.bottom > 0 && r.top < innerHeight;
}

// saved: {figureId: state} kept in history for this page (back/forward), or null.
export function initFigures(saved) {
  teardownFigures();
  figs = [...document.querySelectorAll(".figure[data-figure]")].map((root) => {
    try { return new Figure(root, saved && saved[root.dataset.figure]); } catch (e) {
      root.dataset.status = "failed";
      return null;
    }
  }).filter(Boolean);
  for (const f of figs) {
    f.setStatus("static");
    // each figure follows the worker that serves it (the main one, or its training worker)
    unsubscribe.push(runtime.onStatus((status, detail) => {
      // the first answers in the order the reader sees them: the figures on screen probe first, the rest a task later
      if (status === "live" && !f.answered && !f.inflight) {
        if (onScreen(f.root)) f.request(null, true);
        else setTimeout(() => { if (figs.includes(f) && !f.answered && !f.inflight) f.request(null, true); });
      }
      if (status === "live" && f.root.dataset.status !== "failed") f.setStatus(!f.answered ? "static" : f.inflight ? "busy" : "live");
      if (status === "failed") f.setStatus("failed", "Not live: " + (detail || "the runtime could not start") + "");
      // a worker that died: the main one restarts by itself, a training one when the reader presses Restart
      if (status === "booting" && detail) f.setStatus("static", `The live computation stopped (${detail}); restarting…`);
      if (status === "stopped") f.setStatus("stopped", `Not live: ${detail}. Press Restart to start it again.`);
      f.restartButton.hidden = status !== "stopped";
    }, f.id));
  }
  runtime.preload([...new Set(figs.filter((f) => !f.training).map((f) => f.module).filter(Boolean))]);
  // a training figure's worker boots when the reader comes near it (a whole runtime: not for readers who never do)
  const near = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { runtime.warm(e.target.dataset.figure); near.unobserve(e.target); }
  }, {rootMargin: "100% 0px"});
  for (const f of figs) if (f.training) near.observe(f.root);
  unsubscribe.push(() => near.disconnect());
  runtime.start();
  window.mamlvizFigures = figs;  // for debugging and tests
}

// The page is being left (client-side navigation): stop what its figures asked for, forget them.
export function teardownFigures() {
  for (const off of unsubscribe) off();
  unsubscribe = [];
  runtime.cancel(figs.map((f) => f.id));
  for (const f of figs) clearTimeout(f.noticeTimer);
  figs = [];
}

export function figureStates() {
  return Object.fromEntries(figs.map((f) => [f.id, JSON.parse(JSON.stringify(f.state))]));
}
