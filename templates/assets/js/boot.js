// Starts the main worker from <head>, before the browser has read the article: the worker's boot (Pyodide, NumPy,
// the package: seconds) then overlaps the page's own loading instead of following it. A classic `async` script
// placed before the style sheet, so that it runs as soon as it arrives (a module, even async, waits for the parser)
// and blocks nothing: as a parser-blocking script it held up the style sheet's request until it had arrived, and
// with it the first paint. runtime.js adopts this worker (its messages so far are kept for it) instead of starting
// another; should runtime.js start first, this script does nothing.
"use strict";
(function () {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") return;  // runtime.js says why
  if (window.mamlvizMainStarted) return;  // runtime.js came first and started the worker itself
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
