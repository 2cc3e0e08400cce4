// A Web Worker of the runtime (the main one, or a training worker): boots Pyodide, NumPy and mamlviz, then answers
// figure requests. The protocol (docs/architecture.md, "Worker protocol"):
// Page → worker: {id, figure, module, state, action, probe} (probe: the first scene only, to check that the figure
//   answers); {type: "load", modules} imports a page's figure modules;
//   {type: "cancel", figures} stops their streams; {type: "models", name, value} a model trained elsewhere;
//   {type: "stats"} asks for the WebAssembly heap size, the figures whose streams are running, the computations
//   started per figure and, per refining figure, how long its last full answer took and how many it computed.
// Worker → page: {id, ok: true, result, done} (several for a stream) or {id, ok: false, error}; boot reports
//   {type: "progress", step, total, label}, {type: "ready", timings, snapshot}, {type: "failed", error}; {type: "models",
//   name, value} when a figure published a trained model; {type: "stats", bytes, running, started, full}.
// Only registered figures in the package's own figure modules are dispatched (mamlviz.figures.Call, .load); no code
// sent by the page is ever run.
/* global loadPyodide, importScripts */
"use strict";
const indexURL = new URL("../../pyodide/", self.location.href).href;
const bundleURL = new URL("../../mamlviz.zip", self.location.href).href;
const STEPS = ["runtime", "NumPy", "mamlviz", "ready"];
let Call = null, figuresPy = null, pyodide = null;
// A training loop that grows the heap past this is stopped (WebAssembly memory never shrinks): the bound per worker.
const HEAP_LIMIT = 1024 * 1024 * 1024;
const latest = new Map();   // figure → newest request not yet started
const running = new Map();  // figure → {id, call}
const started = {};        // figure → {count, state}: computations started (the stats message reports them)
let timer = null, timerAt = 0;  // the next pump: at once, or when a resting job may refine
// A coarse answer (a scene flagged "rest") is refined at once when its request came alone (none for the figure in
// the REST_MS before it: a click, a key press) or when the figure's last full answer took at most FAST_MS to compute
// (a newer request waits for it no longer than that). Within a burst of requests (a drag, a held key) a slow figure
// is refined only after no newer request came for REST_MS: coarse answers while the reader moves, the full one when
// the reader pauses.
const REST_MS = 60;
const FAST_MS = 25;
const WARM_MS = 500;
const lastAt = new Map();  // figure → when its last request arrived
// figure → {ms, total, n}: its last full answer's first step (the one after the coarse answer) and all its steps
// (a stream has several), in ms of computing; how many full answers it computed
const fullMs = new Map();

function progress(i) {
  self.postMessage({type: "progress", step: i + 1, total: STEPS.length, label: STEPS[i]});
}

const timings = {};  // ms since the worker started: where the boot's time goes (the benchmark reports them)
const mark = (name) => { timings[name] = Math.round(performance.now()); };

async function boot() {
  progress(0);
  // the package's zip is small: fetch it while the runtime boots
  const bundle = fetch(bundleURL).then((r) => {
    if (!r.ok) throw new Error("Cannot load mamlviz.zip (HTTP " + r.status + ").");
    return r.arrayBuffer();
  });
  bundle.catch(() => {});  // reported below, where it is awaited
  if (typeof WebAssembly !== "object") throw new Error("This browser has no WebAssembly, which the live figures need.");
  // Pyodide hangs rather than failing when its .wasm is missing: check the files are there first (HEAD, no body;
  // the three at once, while pyodide.js loads).
  const present = Promise.all(["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"].map(async (name) => {
    let ok = false;
    try { ok = (await fetch(indexURL + name, {method: "HEAD"})).ok; } catch (e) { /* network error */ }
    if (!ok) throw new Error(`Cannot load pyodide/${name}: the file is missing or unreachable.`);
  }));
  present.catch(() => {});  // reported below, where it is awaited
  const snapshot = readSnapshot();
  try { importScripts(indexURL + "pyodide.js"); }
  catch (e) { throw new Error("Cannot load pyodide/pyodide.js (" + e.message + ")."); }
  await present;
  const image = await snapshot;
  if (image) {
    try {
      pyodide = await loadPyodide({...PYODIDE_OPTIONS, _loadSnapshot: image});
      fromSnapshot = true;
    } catch (e) {   // an image this runtime cannot use: forget it, and boot as without one
      await dropSnapshot();
    }
  }
  if (!pyodide) {   // a boot without an image takes one for the next boots (10 ms), then goes on as usual
    const keep = Boolean(self.caches);
    pyodide = await loadPyodide({...PYODIDE_OPTIONS, _makeSnapshot: keep});
    if (keep) keepSnapshot(pyodide);
  }
  mark("runtime");
  progress(1);
  const errors = [];
  await pyodide.loadPackage("numpy", {messageCallback: () => {}, errorCallback: (m) => errors.push(m)});
  if (errors.length) throw new Error("Cannot load NumPy: " + errors.join("; "));
  pyodide.runPython("import numpy");
  mark("numpy");
  progress(2);
  pyodide.unpackArchive(await bundle, "zip", {extractDir: "/home/pyodide/mamlviz-src"});
  pyodide.runPython(`
import sys
sys.path.insert(0, "/home/pyodide/mamlviz-src")
import mamlviz.figures as _figures
`);
  figuresPy = pyodide.globals.get("_figures");
  Call = figuresPy.Call;
  mark("mamlviz");
  progress(3);
}

// Pyodide's memory snapshot (docs/architecture.md): the bare runtime as it is just after its start, taken by the
// first worker that boots without one in this browser (`_makeSnapshot`; the image is taken before NumPy is loaded,
// since Pyodide 0.27 cannot snapshot loaded packages, and the worker then goes on as usual) and kept in Cache Storage
// under the site's Pyodide version; a worker that finds it boots from it (this machine: Pyodide + NumPy 2.0 → 1.4 s
// in Chromium, 1.7 → 1.0 s in Firefox).
const PYODIDE_OPTIONS = {indexURL, lockFileURL: indexURL + "pyodide-lock.json", packages: []};
let fromSnapshot = false;   // this worker booted from the snapshot (the "ready" message says so)
const SNAPSHOT_CACHE = "mamlviz pyodide snapshot";

let snapshotKeyOnce = null;   // read, kept and dropped under one key: the lock file is fetched once a worker
function snapshotKey() {   // the image is this Pyodide's: another version (a new site) finds none
  snapshotKeyOnce ??= fetch(indexURL + "pyodide-lock.json").then((r) => r.json())
    .then(({info}) => `${indexURL}snapshot-${info.version}-${info.python}-${info.platform}`);
  return snapshotKeyOnce;
}

async function readSnapshot() {
  try {
    const hit = self.caches && await (await caches.open(SNAPSHOT_CACHE)).match(await snapshotKey());
    if (!hit) return null;
    const image = new Uint8Array(await hit.arrayBuffer());
    if (wholeImage(image)) return image;
    await dropSnapshot();
  } catch (e) { /* no Cache Storage (a private window), or no lock file: boot without */ }
  return null;
}

// Pyodide 0.27's image: a header (its magic number, the header's length, …) and then the whole WebAssembly memory,
// whole 64 KiB pages. A damaged one would not fail but hang the boot (the memory cannot be instantiated): checked.
const SNAPSHOT_MAGIC = 1886286592, PAGE = 65536;
function wholeImage(image) {
  if (image.byteLength < 16) return false;
  const [magic, header] = new Uint32Array(image.buffer, image.byteOffset, 4);
  const heap = image.byteLength - header;
  return magic === SNAPSHOT_MAGIC && header >= 48 && heap >= 16 * PAGE && heap % PAGE === 0;
}

async function dropSnapshot() {
  try { await (await caches.open(SNAPSHOT_CACHE)).delete(await snapshotKey()); } catch (e) { /* nothing kept */ }
}

function keepSnapshot(py) {   // in the background: the boot does not wait for the cache
  try {
    const image = py.makeMemorySnapshot();
    snapshotKey().then(async (key) => (await caches.open(SNAPSHOT_CACHE)).put(key, new Response(image)))
      .catch(() => {});
  } catch (e) { /* no image this time; the next boot tries again */ }
}

function schedule(delay = 0) {
  const at = performance.now() + delay;
  if (timer !== null && timerAt <= at) return;  // an earlier pump is due anyway
  clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(() => { timer = null; pump(); }, delay);
}

// One chunk per busy figure, then back to the event loop, so a newer request can supersede a running stream.
function pump() {
  for (const [figure, msg] of latest) {
    latest.delete(figure);
    stop(figure);
    started[figure] = {count: ((started[figure] || {}).count || 0) + 1, state: msg.state || {}};
    try {
      const module = typeof msg.module === "string" ? msg.module : "";
      running.set(figure, {id: msg.id, probe: msg.probe === true, alone: msg.gap >= REST_MS,
        call: Call(figure, JSON.stringify(msg.state || {}), msg.action || null, module)});
    } catch (e) {
      self.postMessage({id: msg.id, ok: false, error: pythonError(e)});
    }
  }
  let resting = Infinity;  // ms until the first resting job may refine
  for (const [figure, job] of running) {
    if (job.restUntil > performance.now()) { resting = Math.min(resting, job.restUntil - performance.now()); continue; }
    try {
      const t0 = performance.now();
      const text = job.call.step();
      if (job.refining) {   // the full answer's first step
        const ms = performance.now() - t0;
        job.full = {ms, total: ms, n: ((fullMs.get(figure) || {}).n || 0) + 1};
        fullMs.set(figure, job.full);
        job.refining = false;
      } else if (job.full) job.full.total += performance.now() - t0;
      const out = text ? JSON.parse(text) : {scene: null, done: true};
      if (job.warming) { stop(figure); continue; }   // a probe's full answer: computed for its caches, not sent
      const done = out.done || job.probe;   // a probe asks for the first scene only
      if (out.rest && !out.done) {
        // A probe's coarse answer makes the figure live; its full answer is then computed once the page's first
        // answers are in (WARM_MS), unsent, so that what the reader's first move reuses (a map, a path) is at hand.
        const wait = job.probe ? WARM_MS
          : job.alone || ((fullMs.get(figure) || {}).ms ?? Infinity) <= FAST_MS ? 0 : REST_MS;
        job.restUntil = performance.now() + wait;
        job.refining = true;
        job.warming = job.probe;
        if (wait) resting = Math.min(resting, wait);
      }
      self.postMessage({id: job.id, ok: true, result: out.scene, done});
      handOff();
      if (done && !job.warming) stop(figure);
      else if (heapBytes() > HEAP_LIMIT) {
        self.postMessage({id: job.id, ok: false, error: `stopped: this worker's memory passed ${HEAP_LIMIT >> 20} MB.`});
        stop(figure);
      }
    } catch (e) {
      self.postMessage({id: job.id, ok: false, error: pythonError(e)});
      stop(figure);
    }
  }
  const busy = latest.size || [...running.values()].some((job) => !(job.restUntil > performance.now()));
  if (busy) schedule();
  else if (running.size) schedule(Math.max(1, Math.ceil(resting)));
}

// Trained models a figure published during the last chunk go to the page, which hands them to the other workers.
function handOff() {
  const text = figuresPy.take_published();
  if (!text) return;
  for (const [name, value] of Object.entries(JSON.parse(text))) {
    self.postMessage({type: "models", name, value: JSON.stringify(value)});
  }
}

function heapBytes() { return pyodide._module.HEAP8.length; }

function stop(figure) {
  const job = running.get(figure);
  if (job) {
    try { job.call.close(); job.call.destroy(); } catch (e) { /* already gone */ }
    running.delete(figure);
  }
}

// Pyodide's fatal errors (running out of memory, an abort) leave the interpreter unusable: the page replaces
// this worker (runtime.js, "died").
const FATAL = /fatal|Aborted\(|out of memory|memory access out of bounds/i;

function pythonError(e) {
  if (FATAL.test(String(e && e.message || e))) self.postMessage({type: "fatal", error: String(e && e.message || e)});
  const text = String(e && e.message || e);
  const lines = text.trim().split("\n");
  return lines[lines.length - 1];  // the exception line, not the whole traceback
}

// A request the policy refused (the header `mamlviz serve` sends on this script) is reported to the page, which logs it.
self.addEventListener("securitypolicyviolation", (e) => {
  self.postMessage({type: "violation", text: `${e.violatedDirective} refused ${e.blockedURI || "inline code"}`});
});

// Emscripten reports some failures (a missing .wasm) only as an unhandled rejection: turn those into a failed boot.
let bootFailed = null;
const bootFailure = new Promise((_, reject) => { bootFailed = reject; });
self.addEventListener("unhandledrejection", (event) => {
  if (Call === null) { event.preventDefault(); bootFailed(event.reason); }
});
const booted = Promise.race([boot(), bootFailure]).then(
  () => self.postMessage({type: "ready", timings, origin: performance.timeOrigin, snapshot: fromSnapshot}),
  (e) => { self.postMessage({type: "failed", error: String(e && e.message || e)}); throw e; });

self.onmessage = async (event) => {
  const msg = event.data;
  if (!msg) return;
  try { await booted; } catch (e) { return; }
  if (msg.type === "cancel" && Array.isArray(msg.figures)) {
    for (const figure of msg.figures) { latest.delete(figure); stop(figure); }
  } else if (msg.type === "load" && Array.isArray(msg.modules)) {
    try { figuresPy.load(pyodide.toPy(msg.modules.filter((m) => typeof m === "string"))); }
    catch (e) { /* a failing module shows up as an error of its figure's request */ }
    if (!timings.modules) mark("modules");
  } else if (msg.type === "models" && typeof msg.name === "string" && typeof msg.value === "string") {
    figuresPy.receive(msg.name, msg.value);
  } else if (msg.type === "debug-crash") {  // tests only: die as an uncaught error or Pyodide's fatal error would
    if (msg.how === "error") setTimeout(() => { throw new Error("simulated crash"); });
    if (msg.how === "oom") pythonError(new Error("Aborted(OOM): out of memory (simulated)"));
  } else if (msg.type === "stats") {
    self.postMessage({type: "stats", bytes: heapBytes(), running: [...running.keys(), ...latest.keys()], started,
      full: Object.fromEntries(fullMs)});
  } else if (typeof msg.figure === "string") {
    const now = performance.now();
    msg.gap = now - (lastAt.has(msg.figure) ? lastAt.get(msg.figure) : -Infinity);   // since its previous request
    lastAt.set(msg.figure, now);
    latest.set(msg.figure, msg);
    schedule();
  }
};
