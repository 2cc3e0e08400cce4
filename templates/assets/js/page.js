// Entry point of every page: the menu, then figures and widgets only where the page has them.
import {initMenu} from "./nav.js";

initMenu();
if (document.querySelector(".figure[data-figure]")) {
  import("./figures.js").then((m) => m.initFigures());
}
if (document.querySelector(".widget[data-widget]")) {
  import("./widgets.js").then((m) => m.initWidgets());
}
