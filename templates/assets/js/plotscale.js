// Plot text at a readable size whatever the drawing's scale. SVG text is sized in the viewBox's units, which a
// narrow screen shrinks (a plot 420 units wide drawn 324 px wide on a phone: 0.77). Each figure's panels get
// --plot-k, viewBox units per CSS px, and figures.css sizes plot text as at least its size in rem times k: as
// large on screen as the page's text scale asks, at any width.
import {W} from "./scene.js";

let observer = null;

function update(box) {
  const svg = box.querySelector("svg.plot");
  if (!svg) return;
  // the drawn scale (a height-capped drawing is fitted inside its box), else the box's width
  const ctm = svg.getScreenCTM(), w = svg.getBoundingClientRect().width;
  const scale = ctm && ctm.a > 0 ? ctm.a : w / W;
  if (scale > 0) box.style.setProperty("--plot-k", (1 / scale).toFixed(4));
}

export function watchPlots(root = document) {
  if (observer) observer.disconnect();
  if (typeof ResizeObserver === "undefined") return;
  observer = new ResizeObserver((entries) => { for (const e of entries) update(e.target); });
  for (const box of root.querySelectorAll(".figure .panels")) observer.observe(box);
}
