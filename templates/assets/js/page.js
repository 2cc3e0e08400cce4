// Entry point of every page: the menu, figures and widgets where the page has them, and client-side navigation
// that keeps the figure runtime alive from part to part (navigate.js).
import {initMenu} from "./nav.js";
import {installNavigation} from "./navigate.js";
import {installOffline} from "./offline.js";

let figures = null;  // the figures module, once a page needed it

async function enter(saved) {
  if (document.querySelector(".figure[data-figure]")) {
    figures = figures || await import("./figures.js");
    figures.initFigures(saved);
  }
  if (document.querySelector(".widget[data-widget]")) {
    await (await import("./widgets.js")).initWidgets();  // widgets may add the anchors a link points to
  }
}

function leave() {
  if (figures) figures.teardownFigures();
}

initMenu();
enter(null);
installNavigation({enter, leave, states: () => (figures ? figures.figureStates() : {})});
installOffline(quiet());

// Settles once the page has loaded and the figures' runtime, if this page started it, is live (or failed).
function quiet() {
  const loaded = document.readyState === "complete" ? Promise.resolve() : new Promise((r) => addEventListener("load", r, {once: true}));
  return loaded.then(() => import("./runtime.js")).then((rt) => new Promise((resolve) => {
    const off = rt.onStatus((s) => { if (s !== "booting") { resolve(); queueMicrotask(() => off()); } });
  }));
}
