// Offline reading: registers the service worker (sw.js, at the site's root) and keeps a status line in the footer:
// "Saving for offline reading… n %", "Available offline.", a new version waiting (with a button to use it), or why
// saving failed. Registration waits until the page is quiet (its figures live, or failed), so the 18 MB copy never
// competes with the first boot of the figures.
let shown = {text: "", action: null};
let registration = null;
let switching = false;

function render() {
  const line = document.querySelector(".offline-status");
  if (!line) return;
  line.hidden = !shown.text;
  line.dataset.state = shown.state || "";
  const text = document.createElement("span");
  text.textContent = shown.text;
  const parts = [text];
  if (shown.action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "offline-action";
    button.textContent = shown.action.label;
    button.addEventListener("click", shown.action.run);
    parts.push(" ", button);
  }
  line.replaceChildren(...parts);
}

function show(state, text, action = null) {
  shown = {state, text, action};
  render();
}

// Take the new version: the waiting worker takes over, and the page reloads from the new copy as a whole.
function useNewVersion() {
  const waiting = inState("installed");
  if (!waiting) return;
  switching = true;
  waiting.postMessage({type: "skip-waiting"});
}

// The registration's worker in this state. (By worker state, not by registration attribute: when a worker's
// statechange fires, Chromium may not have moved it from .installing to .waiting yet.)
function inState(...states) {
  if (!registration) return undefined;  // not registered yet (a message can come first: see onMessage)
  return [registration.installing, registration.waiting, registration.active].find((w) => w && states.includes(w.state));
}

function describe() {
  if (!registration) return;
  const waiting = inState("installed");
  if (waiting && registration.active && registration.active !== waiting) {  // (a first install activates by itself)
    show("update", "A new version of the series is saved for offline reading.",
      {label: "Read the new version", run: useNewVersion});
  } else if (inState("installing")) {
    if (!["saving", "failed"].includes(shown.state)) show("saving", "Saving for offline reading…");
  } else if (inState("activating", "activated") && shown.state !== "failed") {  // a failed update's message stays
    show("ready", "Available offline.");
  }
}

function onMessage(event) {
  const m = event.data;
  if (!m || m.type !== "offline") return;
  if (m.state === "saving") {
    // progress reports arrive late: none of them covers what came after (a saved copy, or its failure). Before
    // register() resolved (a copy that another page started saving; Firefox delivers its messages that early),
    // the report itself says a worker is installing; describe() corrects the line once the registration is known.
    const late = (registration && !inState("installing")) || (shown.state === "failed" && shown.version === m.version);
    if (!late) show("saving", `Saving for offline reading… ${m.percent} %`);
  }
  else if (m.state === "failed") {
    const kept = registration && registration.active ? " The version saved earlier is still available offline." : "";
    show("failed", `Could not save for offline reading (${m.error}).${kept}`);
    shown.version = m.version;  // late progress reports of that attempt do not cover this
  } else describe();
}

function watch(worker) {
  if (worker) worker.addEventListener("statechange", describe);
}

async function register() {
  const sw = navigator.serviceWorker;
  sw.addEventListener("message", onMessage);
  sw.addEventListener("controllerchange", () => { if (switching) location.reload(); });
  try {
    registration = await sw.register(new URL("../../sw.js", import.meta.url));
  } catch (e) {
    return show("unavailable", "Offline reading is not available here (" + (e && e.message || e) + ").");
  }
  if (!registration) return;  // registration refused without an error (e.g. by a test harness)
  watch(registration.installing);
  watch(registration.waiting);
  registration.addEventListener("updatefound", () => { watch(registration.installing); describe(); });
  describe();
}

// quiet: a promise that settles when the page's live figures are up (or could not start).
export function installOffline(quiet) {
  document.addEventListener("mamlviz:navigated", render);  // the footer is part of the swapped article
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  quiet.then(register, register);
}

// For tests: the registration (null before the page registered).
export function offlineRegistration() { return registration; }
