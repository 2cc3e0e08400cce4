// One Web Worker per page: boots Pyodide, NumPy and mamlviz, then answers figure requests.
// Page → worker: {id, figure, state, action}, or {type: "cancel", figures} to stop streams. Worker → page: {id, ok: true, result, done} (several for a stream)
// or {id, ok: false, error}; boot reports {type: "progress", step, total, label}, {type: "ready"}, {type: "failed"}.
// Only registered figures are dispatched (mamlviz.figures.Call); no code sent by the page is ever run.
/* global loadPyodide, importScripts */
"use strict";
const indexURL = new URL("../../pyodide/", self.location.href).href;
const bundleURL = new URL("../../mamlviz.zip", self.location.href).href;
const STEPS = ["runtime", "NumPy", "mamlviz", "ready"];
let Call = null;
const latest = new Map();   // figure → newest request not yet started
const running = new Map();  // figure → {id, call}
let scheduled = false;

function progress(i) {
  self.postMessage({type: "progress", step: i + 1, total: STEPS.length, label: STEPS[i]});
}

async function boot() {
  progress(0);
  if (typeof WebAssembly !== "object") throw new Error("This browser has no WebAssembly, which the live figures need.");
  // Pyodide hangs rather than failing when its .wasm is missing: check the files are there first (HEAD, no body).
  for (const name of ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]) {
    let ok = false;
    try { ok = (await fetch(indexURL + name, {method: "HEAD"})).ok; } catch (e) { /* network error */ }
    if (!ok) throw new Error(`Cannot load pyodide/${name}: the file is missing or unreachable.`);
  }
  try { importScripts(indexURL + "pyodide.js"); }
  catch (e) { throw new Error("Cannot load pyodide/pyodide.js (" + e.message + ")."); }
  const pyodide = await loadPyodide({indexURL, lockFileURL: indexURL + "pyodide-lock.json", packages: []});
  progress(1);
  const errors = [];
  await pyodide.loadPackage("numpy", {messageCallback: () => {}, errorCallback: (m) => errors.push(m)});
  if (errors.length) throw new Error("Cannot load NumPy: " + errors.join("; "));
  pyodide.runPython("import numpy");
  progress(2);
  const response = await fetch(bundleURL);
  if (!response.ok) throw new Error("Cannot load mamlviz.zip (HTTP " + response.status + ").");
  pyodide.unpackArchive(await response.arrayBuffer(), "zip", {extractDir: "/home/pyodide/mamlviz-src"});
  pyodide.runPython(`
import sys
sys.path.insert(0, "/home/pyodide/mamlviz-src")
import mamlviz.figures as _figures
_figures.load_all()
`);
  Call = pyodide.globals.get("_figures").Call;
  progress(3);
}

function schedule() {
  if (!scheduled) { scheduled = true; setTimeout(pump, 0); }
}

// One chunk per busy figure, then back to the event loop, so a newer request can supersede a running stream.
function pump() {
  scheduled = false;
  for (const [figure, msg] of latest) {
    latest.delete(figure);
    stop(figure);
    try {
      running.set(figure, {id: msg.id, call: Call(figure, JSON.stringify(msg.state || {}), msg.action || null)});
    } catch (e) {
      self.postMessage({id: msg.id, ok: false, error: pythonError(e)});
    }
  }
  for (const [figure, job] of running) {
    try {
      const text = job.call.step();
      const out = text ? JSON.parse(text) : {scene: null, done: true};
      self.postMessage({id: job.id, ok: true, result: out.scene, done: out.done});
      if (out.done) stop(figure);
    } catch (e) {
      self.postMessage({id: job.id, ok: false, error: pythonError(e)});
      stop(figure);
    }
  }
  if (running.size || latest.size) schedule();
}

function stop(figure) {
  const job = running.get(figure);
  if (job) {
    try { job.call.close(); job.call.destroy(); } catch (e) { /* already gone */ }
    running.delete(figure);
  }
}

function pythonError(e) {
  const text = String(e && e.message || e);
  const lines = text.trim().split("\n");
  return lines[lines.length - 1];  // the exception line, not the whole traceback
}

// Emscripten reports some failures (a missing .wasm) only as an unhandled rejection: turn those into a failed boot.
let bootFailed = null;
const bootFailure = new Promise((_, reject) => { bootFailed = reject; });
self.addEventListener("unhandledrejection", (event) => {
  if (Call === null) { event.preventDefault(); bootFailed(event.reason); }
});
const booted = Promise.race([boot(), bootFailure]).then(
  () => self.postMessage({type: "ready"}),
  (e) => { self.postMessage({type: "failed", error: String(e && e.message || e)}); throw e; });

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg && msg.type === "cancel" && Array.isArray(msg.figures)) {
    for (const figure of msg.figures) { latest.delete(figure); stop(figure); }
    return;
  }
  if (!msg || typeof msg.figure !== "string") return;
  try { await booted; } catch (e) { return; }
  latest.set(msg.figure, msg);
  schedule();
};
