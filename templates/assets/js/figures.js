// The figure runtime: every <figure class="figure"> draws its embedded first frame at once, builds its declared
// controls, and goes live when the worker is ready. State changes (controls, handles, points, URL) send requests;
// scenes coming back are drawn by the generic renderer.
import {makePanel, drawPanel, drawExtras} from "./render.js";
import {makeControl} from "./controls.js";
import {makeHandle} from "./handles.js";
import {makePointsInput} from "./points.js";
import {parseHash, applyEntries, encodeFigure, hashWith} from "./urlstate.js";
import * as runtime from "./runtime.js";

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
    this.controls = data.controls;
    this.defaults = data.state;
    this.state = {...data.state};
    this.scene = data.scene;
    this.panels = [];
    this.handles = [];
    this.pointInputs = [];
    this.widgets = {};
    this.build();
    const fromUrl = parseHash(location.hash)[this.id];
    if (saved) this.applySaved(saved);
    else if (fromUrl) this.applyUrl(fromUrl);
    this.draw(this.scene);
    if (fromUrl || saved) this.request(null);
  }

  // A state kept in history (back/forward): our own, so only its keys that the figure knows are taken.
  applySaved(saved) {
    for (const [k, v] of Object.entries(saved)) if (k in this.state || k.startsWith("_")) this.state[k] = v;
    for (const [k, w] of Object.entries(this.widgets)) if (k in this.state) w.set(this.state[k]);
  }

  build() {
    const caption = this.root.querySelector("figcaption");
    const html = (tag, cls, parent, before) => {
      const e = document.createElement(tag);
      e.className = cls;
      if (before) parent.insertBefore(e, before); else parent.append(e);
      return e;
    };
    this.panelBox = html("div", "panels", this.root, caption);
    this.legend = html("ul", "legend", this.root, caption);
    this.readouts = html("dl", "readouts", this.root, caption);
    this.message = html("p", "figure-message", this.root, caption);
    this.message.setAttribute("role", "status");
    this.message.hidden = true;
    this.controlBox = html("div", "controls", this.root, caption);
    const bar = html("div", "figure-bar", this.root, caption);
    this.statusEl = html("p", "figure-status", bar);
    this.statusEl.setAttribute("aria-live", "polite");
    this.notice = html("p", "figure-notice", bar);
    this.notice.setAttribute("role", "status");
    this.notice.hidden = true;
    const copy = html("button", "copy-link", bar);
    copy.type = "button";
    copy.textContent = "Copy link to this view";
    copy.addEventListener("click", () => this.copyLink());
    this.live = html("p", "visually-hidden", this.root, caption);
    this.live.setAttribute("aria-live", "polite");
    const details = html("details", "describe", this.root, caption);
    details.innerHTML = "<summary>Describe this figure</summary><p></p>";
    this.describe = details.querySelector("p");
    for (const c of this.controls) {
      const w = makeControl(c, this.state[c.name], this.id, (name, v) => this.change({[name]: v}), (a) => this.request(a));
      if (w) { this.widgets[c.name] = w; this.controlBox.append(w.element); }
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
      this.panelBox.replaceChildren();
      this.panels = scene.panels.map(() => makePanel(this.panelBox));
      this.panelBox.dataset.count = this.panels.length;
      this.handles = [];
      this.pointInputs = [];
      this.panels.forEach((P, i) => drawPanel(P, scene.panels[i]));
      for (const c of this.controls) {
        const P = this.panels[c.panel || 0];
        if (!P) continue;
        const get = () => this.state[c.name];
        const set = (v) => this.change({[c.name]: v});
        if (c.kind === "handle") this.handles.push(makeHandle(P, c, get, set));
        if (c.kind === "points") this.pointInputs.push(makePointsInput(P, c, get, set, (m) => this.showNotice(m)));
      }
    } else {
      this.panels.forEach((P, i) => drawPanel(P, scene.panels[i]));
    }
    this.updateInputs();
    drawExtras(this, scene);
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

  request(action) {
    if (runtime.getStatus() === "failed") return;
    this.inflight = true;
    if (runtime.getStatus() === "live") this.setStatus("busy");
    runtime.request(this.id, this.state, action,
      (scene, done) => {
        if (scene) {
          if (scene.state) Object.assign(this.state, scene.state);
          for (const [k, v] of Object.entries(scene.state || {})) if (this.widgets[k]) this.widgets[k].set(v);
          this.draw(scene);
        }
        if (done) { this.inflight = false; this.setStatus("live"); }
      },
      (error) => {
        this.message.hidden = false;
        this.message.textContent = "The figure could not be computed: " + error;
        this.inflight = false;
        this.setStatus("live");
      });
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
let unsubscribe = null;

// saved: {figureId: state} kept in history for this page (back/forward), or null.
export function initFigures(saved) {
  teardownFigures();
  figs = [...document.querySelectorAll(".figure[data-figure]")].map((root) => {
    try { return new Figure(root, saved && saved[root.dataset.figure]); } catch (e) {
      root.dataset.status = "failed";
      return null;
    }
  }).filter(Boolean);
  for (const f of figs) f.setStatus("static");
  unsubscribe = runtime.onStatus((status, detail) => {
    for (const f of figs) {
      if (status === "live") {
        f.setStatus(f.inflight ? "busy" : "live");
      }
      if (status === "failed") f.setStatus("failed", "Not live: " + (detail || "the runtime could not start") + "");
    }
  });
  runtime.start();
  window.mamlvizFigures = figs;  // for debugging and tests
}

// The page is being left (client-side navigation): stop what its figures asked for, forget them.
export function teardownFigures() {
  if (unsubscribe) unsubscribe();
  unsubscribe = null;
  runtime.cancel(figs.map((f) => f.id));
  for (const f of figs) clearTimeout(f.noticeTimer);
  figs = [];
}

export function figureStates() {
  return Object.fromEntries(figs.map((f) => [f.id, JSON.parse(JSON.stringify(f.state))]));
}
