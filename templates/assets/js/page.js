// Entry point of every page: the menu, figures and widgets where the page has them, and client-side navigation
// that keeps the figure runtime alive from part to part (navigate.js).
import {initMenu} from "./nav.js";
import {installNavigation} from "./navigate.js";
import {installOffline} from "./offline.js";
import {watchPlots} from "./plotscale.js";
import {watchStrips} from "./panelstrip.js";

let figures = null;  // the figures module, once a page needed it
let widgets = null;  // the widgets module, likewise

async function enter(saved) {
  if (document.querySelector(".figure[data-figure]")) {
    figures = figures || await import("./figures.js");
    figures.initFigures(saved);
    watchPlots();
    watchStrips();
  }
  if (document.querySelector(".widget[data-widget]")) {
    widgets = widgets || await import("./widgets.js");
    await widgets.initWidgets();  // widgets may add the anchors a link points to
  }
}

// The article is about to be swapped: its figures and widgets stop listening, timing and computing.
function leave() {
  if (figures) figures.teardownFigures();
  if (widgets) widgets.teardownWidgets();
}

initMenu();
enter(null);
installNavigation({enter, leave, states: () => (figures ? figures.figureStates() : {})});
installOffline(quiet());

// Settles once the page has loaded and, on a page with figures, their runtime is live (or failed): the offline
// copy then never competes with the first boot. (At the latest after a minute, whatever happened.)
function quiet() {
  const loaded = document.readyState === "complete" ? Promise.resolve() : new Promise((r) => addEventListener("load", r, {once: true}));
  if (!document.querySelector(".figure[data-figure]")) return loaded;
  return loaded.then(() => import("./runtime.js")).then((rt) => new Promise((resolve) => {
    setTimeout(resolve, 60_000);
    const off = rt.onStatus((s) => { if (s === "live" || s === "failed") { resolve(); queueMicrotask(() => off()); } });
  }));
}
