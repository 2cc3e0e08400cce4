// The page side of the worker: boot it once, send requests, route replies; for each figure the latest request wins.
import {loader} from "./loader.js";

const listeners = new Map();   // figure → {id, onScene, onError}
const pending = new Map();     // figure → request waiting for the worker to be ready
let worker = null;
let status = "idle";           // idle | booting | live | failed
let nextId = 1;
const statusListeners = [];

// fn(status, detail) now and on every change; returns a function that unsubscribes.
export function onStatus(fn) {
  statusListeners.push(fn);
  fn(status, null);
  return () => { const i = statusListeners.indexOf(fn); if (i >= 0) statusListeners.splice(i, 1); };
}

function setStatus(s, detail) {
  status = s;
  for (const fn of statusListeners) fn(s, detail);
}

export function start() {
  if (worker || status === "failed") return;
  loader.show();
  setStatus("booting");
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") {
    return fail("This browser cannot run the live figures: it has no WebAssembly. The figures show their first frame only.");
  }
  try {
    worker = new Worker(new URL("./worker.js", import.meta.url));
  } catch (e) {
    return fail("The live figures could not start (" + e.message + "). The figures show their first frame only.");
  }
  worker.onmessage = (event) => receive(event.data);
  // Last resort: a boot that never ends is reported as a failure.
  setTimeout(() => { if (status === "booting") fail("The live figures did not start within two minutes. The figures show their first frame only."); }, 120_000);
  worker.onerror = (event) => {
    event.preventDefault();
    fail("The live figures stopped: " + (event.message || "the worker failed") + ".");
  };
}

function fail(message) {
  status = "failed";
  loader.fail(message);
  setStatus("failed", message);
  if (worker) { worker.terminate(); worker = null; }
  for (const [, l] of listeners) l.onError && l.onError(message);
}

function receive(msg) {
  if (msg.type === "progress") return loader.progress(msg.step, msg.total, msg.label);
  if (msg.type === "ready") {
    loader.ready();
    status = "live";
    for (const [figure, req] of pending) send(figure, req);
    pending.clear();
    setStatus("live");
    return;
  }
  if (msg.type === "failed") {
    return fail("The live figures could not start: " + msg.error + " The figures show their first frame only.");
  }
  for (const [, l] of listeners) {
    if (l.id === msg.id) {
      if (msg.ok) l.onScene(msg.result, msg.done);
      else l.onError(msg.error);
      return;
    }
  }
  // a reply to a superseded request: dropped
}

function send(figure, req) {
  const id = nextId++;
  listeners.set(figure, {id, onScene: req.onScene, onError: req.onError});
  worker.postMessage({id, figure, state: req.state, action: req.action || null});
}

// Ask for a new scene; a newer request for the same figure supersedes this one.
export function request(figure, state, action, onScene, onError) {
  const req = {state: JSON.parse(JSON.stringify(state)), action, onScene, onError};
  if (status === "live") send(figure, req);
  else if (status !== "failed") pending.set(figure, req);
}

// Forget these figures (their page is being left): replies still on their way are dropped, and the worker stops
// their running streams (a training loop stops at its next chunk).
export function cancel(figureIds) {
  for (const figure of figureIds) { listeners.delete(figure); pending.delete(figure); }
  if (worker && status === "live" && figureIds.length) worker.postMessage({type: "cancel", figures: figureIds});
}

export function getStatus() { return status; }
