// Starts the main worker from <head>, before the browser has read the article: the worker's boot (Pyodide, NumPy,
// the package: seconds) then overlaps the page's own loading instead of following it. A classic script placed
// before the style sheets, so that it runs as soon as it arrives (a module, even async, waits for the parser).
// runtime.js adopts this worker (its messages so far are kept for it) instead of starting another.
"use strict";
(function () {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") return;  // runtime.js says why
  const early = {worker: null, messages: [], error: null};
  try {
    early.worker = new Worker(new URL("worker.js", document.currentScript.src));
  } catch (e) {
    return;  // runtime.js tries again and reports the failure
  }
  early.worker.onmessage = (event) => early.messages.push(event.data);
  early.worker.onerror = (event) => { event.preventDefault(); early.error = event.message || "the worker failed"; };
  performance.mark("mamlviz:main-start");  // for the benchmark
  window.mamlvizEarlyWorker = early;
})();
