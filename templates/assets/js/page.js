// Entry point of every page: the menu, figures and widgets where the page has them, and client-side navigation
// that keeps the figure runtime alive from part to part (navigate.js).
import {initMenu} from "./nav.js";
import {installNavigation} from "./navigate.js";

let figures = null;  // the figures module, once a page needed it
let widgets = null;  // the widgets module, likewise

async function enter(saved) {
  if (document.querySelector(".figure[data-figure]")) {
    figures = figures || await import("./figures.js");
    figures.initFigures(saved);
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
