// The page side of the workers. Public contract (docs/architecture.md, "Runtime"):
//   request(figureId, state, action, onScene, onError[, probe])  ask for a scene; the latest request per figure wins
//   onStatus(fn[, figureId]) → unsubscribe               fn(status, detail): idle | booting | live | failed
//   start()                                              boot the main worker (once per document; adopts the one
//                                                        that boot.js started from <head>, if any)
//   register(figureId, {training, module})              declare a figure: its module (imported on demand by the
//                                                        worker); training=true runs it in a training worker
//   preload(modules)                                     import a page's figure modules in the main worker now
//   warm(figureId)                                       boot a training figure's worker (when it nears the screen)
//   cancel(figureIds)                                    forget these figures and stop their running streams
//   restart(figureId)                                    the reader restarts a stopped training worker
// A worker that dies once live (an uncaught error, or Pyodide's fatal error such as running out of memory) is
// replaced: the main worker at once (status "booting" again; at most MAX_RESTARTS in RESTART_WINDOW_MS, then
// "failed"), a training worker when the reader asks (status "stopped" until then); either way every figure it
// served is asked again for its current state.
// One main worker answers every figure; figures declared with training=True run in a pool of their own workers
// (at most hardwareConcurrency − 1, at least 1), so the other figures keep answering while they train. Trained
// models that a training figure publishes are handed to every other worker (message "models").
import {loader} from "./loader.js";

const BOOT_LIMIT_MS = 120_000;
const MAX_RESTARTS = 3, RESTART_WINDOW_MS = 300_000;
const training = new Set();     // figure ids declared as training figures
const moduleOf = new Map();     // figure id → its figure module (e.g. "part3")
const assigned = new Map();     // training figure → its Channel
const pool = [];                // training Channels
const models = new Map();       // name → latest published model (JSON text), for workers that boot later
let nextId = 1;

class Channel {
  constructor(name, {showLoader}) {
    this.name = name;
    this.showLoader = showLoader;
    this.worker = null;
    this.status = "idle";
    this.listeners = new Map();  // figure → {id, onScene, onError}
    this.pending = new Map();    // figure → request waiting for the worker to be ready
    this.queued = new Map();     // figure → its newest request, held until this task ends and its last one answered
    this.statusListeners = [];
    this.figures = new Set();
    this.preload = [];           // figure modules to import as soon as the worker is up (again after a restart)
    this.deaths = [];            // times the worker died, for the restart budget
    this.autoRestart = showLoader;
  }

  setStatus(s, detail) {
    this.status = s;
    this.detail = detail;
    for (const fn of [...this.statusListeners]) fn(s, detail);
  }

  start(restartReason = null) {
    if (this.worker || this.status === "failed") {  // started before (from <head>): show where it is
      if (this.showLoader) loader.render();
      return;
    }
    if (this.showLoader) loader.show();
    this.setStatus("booting", restartReason);
    if (typeof WebAssembly !== "object" || typeof Worker !== "function") {
      return this.fail("This browser cannot run the live figures: it has no WebAssembly. The figures show their first frame only.");
    }
    // the main worker that boot.js started from <head> (once per document: a restart starts a new one)
    const early = this === main && !restartReason ? window.mamlvizEarlyWorker : null;
    delete window.mamlvizEarlyWorker;
    window.mamlvizMainStarted = true;  // boot.js is async: if it arrives after this, it starts no second worker
    try {
      this.worker = early ? early.worker : new Worker(new URL("./worker.js", import.meta.url));
    } catch (e) {
      return this.fail("The live figures could not start (" + e.message + "). The figures show their first frame only.");
    }
    if (!early) performance.mark(`mamlviz:${this.name}-start`);  // for the benchmark
    this.worker.onmessage = (event) => this.receive(event.data);
    // Last resort: a boot that never ends is reported as a failure.
    const boot = this.boot = (this.boot || 0) + 1;
    setTimeout(() => { if (this.boot === boot && this.status === "booting") this.fail("The live figures did not start within two minutes. The figures show their first frame only."); }, BOOT_LIMIT_MS);
    this.worker.onerror = (event) => {
      event.preventDefault();
      const reason = event.message || "the worker failed";
      if (this.status === "live") this.died(reason);
      else this.fail("The live figures stopped: " + reason + ".");
    };
    if (early) {  // what the worker said before we listened
      for (const msg of early.messages) this.receive(msg);
      if (early.error) this.fail("The live figures stopped: " + early.error + ".");
    }
  }

  // The worker died after it was live: replace it (the main one at once, within a budget; a training one when the
  // reader asks), then ask it again for every figure's current state (receive, "ready").
  died(reason) {
    if (this.worker) { this.worker.terminate(); this.worker = null; }
    const now = performance.now();
    this.deaths = [...this.deaths.filter((t) => now - t < RESTART_WINDOW_MS), now];
    for (const [figure, l] of this.listeners) {
      if (!this.pending.has(figure)) this.pending.set(figure, {state: l.state, action: null, probe: l.probe, onScene: l.onScene, onError: l.onError});
    }
    for (const [figure, req] of this.queued) this.pending.set(figure, req);
    this.queued.clear();
    this.listeners.clear();
    if (this.deaths.length > MAX_RESTARTS) {
      return this.fail(`The live figures stopped ${this.deaths.length} times (last: ${reason}). The figures show their last frame only.`);
    }
    if (!this.autoRestart) return this.setStatus("stopped", `its worker stopped (${reason})`);
    this.start(reason);
  }

  fail(message) {
    this.status = "failed";
    if (this.worker) { this.worker.terminate(); this.worker = null; }
    for (const [, l] of [...this.listeners, ...this.pending, ...this.queued]) l.onError && l.onError(message);
    this.pending.clear();
    this.queued.clear();
    if (this.showLoader) loader.fail(message);
    this.setStatus("failed", message);  // last: the figures' own error handling does not cover it
  }

  receive(msg) {
    if (msg.type === "progress") return this.showLoader && loader.progress(msg.step, msg.total, msg.label);
    if (msg.type === "ready") {
      // the worker's marks count from its own start; "start" is that start in the page's clock (ms since navigation)
      this.timings = {...msg.timings, start: msg.origin ? Math.round(msg.origin - performance.timeOrigin) : null};
      this.snapshot = msg.snapshot === true;   // booted from Pyodide's memory snapshot (worker.js)
      if (this.showLoader) loader.ready();
      this.status = "live";
      if (this.preload.length) this.worker.postMessage({type: "load", modules: this.preload});
      for (const [name, text] of models) this.worker.postMessage({type: "models", name, value: text});
      for (const [figure, req] of this.pending) this.send(figure, req);
      this.pending.clear();
      this.setStatus("live");
      performance.mark(`mamlviz:${this.name}-live`);  // for the benchmark
      return;
    }
    if (msg.type === "fatal") return this.died(msg.error);
    if (msg.type === "failed") {
      return this.fail("The live figures could not start: " + msg.error + " The figures show their first frame only.");
    }
    if (msg.type === "models") return handOff(this, msg.name, msg.value);
    if (msg.type === "stats") return this.onStats && this.onStats(msg);
    if (msg.type === "violation") return console.error(`Content-security policy, ${this.name} worker: ${msg.text}`);
    for (const [figure, l] of this.listeners) {
      if (l.id === msg.id) {
        l.answered = true;
        // the figure's current state (scenes may update it), for a request again after a restart
        if (msg.ok && msg.result && msg.result.state) Object.assign(l.state, msg.result.state);
        if (msg.ok) l.onScene(msg.result, msg.done);
        else l.onError(msg.error);
        this.flush(figure);
        return;
      }
    }
    // a reply to a superseded or cancelled request: dropped
  }

  send(figure, req) {
    const id = nextId++;
    this.listeners.set(figure, {id, state: req.state, probe: req.probe, onScene: req.onScene, onError: req.onError});
    this.worker.postMessage({id, figure, module: moduleOf.get(figure) || "", state: req.state, action: req.action || null,
      probe: Boolean(req.probe)});
  }

  // Only the newest state goes to the worker (issue 26): requests made in one task (a burst of input events) collapse
  // into the last, sent when the task ends; and while a figure's previous request has not answered yet, its newest
  // waits for that answer instead of queueing behind it (a stream that has answered is superseded at once).
  request(figure, req) {
    if (this.status === "failed") return;
    if (this.status !== "live") return this.pending.set(figure, req);
    this.queued.set(figure, req);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => { this.flushing = false; for (const f of [...this.queued.keys()]) this.flush(f); });
  }

  flush(figure) {
    const l = this.listeners.get(figure), req = this.queued.get(figure);
    if (!req || (l && !l.answered) || this.status !== "live") return;
    this.queued.delete(figure);
    this.send(figure, req);
  }

  cancel(figures) {
    for (const figure of figures) { this.listeners.delete(figure); this.pending.delete(figure); this.queued.delete(figure); }
    if (this.worker && this.status === "live" && figures.length) this.worker.postMessage({type: "cancel", figures});
  }
}

const main = new Channel("main", {showLoader: true});

// A trained model from one worker goes to every other worker (and to those that boot later).
function handOff(from, name, text) {
  models.set(name, text);
  for (const ch of [main, ...pool]) {
    if (ch !== from && ch.status === "live") ch.worker.postMessage({type: "models", name, value: text});
  }
}

export function poolSize() {
  return Math.max(1, (navigator.hardwareConcurrency || 2) - 1);
}

// The channel of a figure: training figures get a pool worker of their own while the pool has room, then share.
function channelFor(figure) {
  if (!training.has(figure)) return main;
  let ch = assigned.get(figure);
  if (!ch) {
    if (pool.length < poolSize()) {
      ch = new Channel("training-" + (pool.length + 1), {showLoader: false});
      pool.push(ch);
    } else {
      ch = pool.reduce((a, b) => (b.figures.size < a.figures.size ? b : a));
    }
    ch.figures.add(figure);
    assigned.set(figure, ch);
  }
  return ch;
}

// Boot a training figure's worker: once the main worker is up (two cold boots at once would slow the figures'
// first answers), and only when the figure comes near the screen or is asked for something (figures.js).
export function warm(figure) {
  const ch = channelFor(figure);
  if (ch !== main && ch.status === "idle" && !ch.waiting) {
    ch.waiting = true;
    const off = onStatus((s, detail) => {
      if (s === "live") ch.start();
      if (s === "failed") ch.fail(detail || "The live figures could not start.");
      if (s === "live" || s === "failed") queueMicrotask(() => off());
    });
  }
  return ch;
}

export function register(figure, {training: trains = false, module = ""} = {}) {
  if (module) moduleOf.set(figure, module);
  if (!trains) return;
  training.add(figure);
  const ch = channelFor(figure);
  if (!ch.watchesMain) {  // no main worker, no training worker: its figures say so at once
    ch.watchesMain = true;
    onStatus((s, detail) => { if (s === "failed" && ch.status !== "failed") ch.fail(detail); });
  }
}

// Import these figure modules in the main worker as soon as it is up (before the first request needs them).
export function preload(modules) {
  main.preload = [...new Set([...main.preload, ...modules])];
  if (main.status === "live") main.worker.postMessage({type: "load", modules});
}

export function onStatus(fn, figure = null) {
  const ch = figure === null ? main : channelFor(figure);
  ch.statusListeners.push(fn);
  fn(ch.status, ch.detail || null);
  return () => { const i = ch.statusListeners.indexOf(fn); if (i >= 0) ch.statusListeners.splice(i, 1); };
}

export function start() { main.start(); }

// The reader restarts a training figure's stopped worker (figures.js shows the button).
export function restart(figure) {
  const ch = channelFor(figure);
  if (ch.status === "stopped") ch.start();
}

// For tests: make a worker die as it would in use. how: "terminate" (gone at once), "error" (an uncaught error in
// the worker), "oom" (the worker reports Pyodide's fatal out-of-memory error).
export function debugCrash(name, how) {
  const ch = [main, ...pool].find((c) => c.name === name);
  if (!ch || !ch.worker) return false;
  if (how === "terminate") ch.died("the worker was terminated");
  else ch.worker.postMessage({type: "debug-crash", how});
  return true;
}

// Ask for a new scene; a newer request for the same figure supersedes this one. probe: the first scene only (a
// stream stops there), to learn that the figure's own code answers.
export function request(figure, state, action, onScene, onError, probe = false) {
  if (training.has(figure)) warm(figure);
  channelFor(figure).request(figure, {state: JSON.parse(JSON.stringify(state)), action, probe, onScene, onError});
}

export function cancel(figureIds) {
  for (const ch of [main, ...pool]) ch.cancel(figureIds);
}

export function getStatus(figure = null) { return (figure === null ? main : channelFor(figure)).status; }

// For tests and the benchmark: the workers, their status and the figures they serve.
export function workers() {
  return [main, ...pool].map((ch) => ({name: ch.name, status: ch.status, figures: [...ch.figures], timings: ch.timings || null,
    snapshot: ch.snapshot === true}));
}

// For tests and the benchmark: each live worker's WebAssembly memory (bytes), running streams (figure ids) and the
// computations it started per figure ({figure: {count, state}}: how many, and the last one's state) and the ms its
// refining figures' last full answers took ({figure: {ms, total, n}}: the first step, all steps, how many answers),
// {name: {bytes, running, started, full}}.
export function stats() {
  return Promise.all([main, ...pool].filter((ch) => ch.status === "live").map((ch) => new Promise((resolve) => {
    ch.onStats = (msg) => resolve([ch.name, {bytes: msg.bytes, running: msg.running, started: msg.started,
      full: msg.full}]);
    ch.worker.postMessage({type: "stats"});
  }))).then(Object.fromEntries);
}

// The latest model published under `name` (JSON text), or null.
export function trainedModel(name) { return models.has(name) ? models.get(name) : null; }
