// The page side of the renderer: puts the text that scene.js draws into a figure's persistent elements.
// Drawing itself lives in scene.js only (the build runs the same module under node for the first frames).
import {makeScale, axesSVG, layerParts, panelHTML, frameAttrs, readoutsHTML, legendHTML, clipId} from "./scene.js";

export {W, H, formatValue} from "./scene.js";
const SVG = "http://www.w3.org/2000/svg";

// An SVG element (for the interactive pieces: handles, input points, crosshair).
export function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

// A panel object over the markup of one `.panel` (written by the build or by makePanels).
export function adoptPanel(wrap, spec) {
  const svg = wrap.querySelector("svg");
  const P = {wrap, svg, frame: svg.querySelector(":scope > rect.frame"), clipRect: svg.querySelector("clipPath rect"),
    axes: svg.querySelector(":scope > g.axes"), layers: svg.querySelector(":scope > g.layers"),
    input: svg.querySelector(":scope > g.input"), handles: svg.querySelector(":scope > g.handles"),
    spec, scale: makeScale(spec)};
  P.input.replaceChildren();    // static markers of the first frame: the live inputs replace them
  P.handles.replaceChildren();
  return P;
}

// New panels for a scene whose panel count changed.
export function makePanels(box, figureId, scene) {
  box.innerHTML = scene.panels.map((p, i) => panelHTML(p, clipId(figureId, i))).join("");
  box.dataset.count = scene.panels.length;
  return [...box.children].map((wrap, i) => adoptPanel(wrap, scene.panels[i]));
}

export function drawPanel(P, panel) {
  P.spec = panel;
  P.scale = makeScale(panel);
  for (const [k, v] of Object.entries(frameAttrs(P.scale))) { P.clipRect.setAttribute(k, v); P.frame.setAttribute(k, v); }
  P.svg.setAttribute("aria-label", panel.title || "plot");
  // only what changed is parsed and laid out again (a moved handle leaves the heat map and its contours alone)
  const axes = axesSVG(panel, P.scale);
  if (axes !== P.axesText) P.axes.innerHTML = P.axesText = axes;
  const parts = layerParts(panel, P.scale), kids = P.layers.children;
  if (P.parts && P.parts.length === parts.length && kids.length === parts.length) {
    parts.forEach((text, i) => { if (text !== P.parts[i]) kids[i].outerHTML = text; });
  } else {
    P.layers.innerHTML = parts.join("");
  }
  P.parts = parts;
}

// Readouts, legend, message and description: plain HTML beside the panels.
export function drawExtras(F, scene) {
  F.readouts.innerHTML = readoutsHTML(scene);
  F.legend.innerHTML = legendHTML(scene);
  F.message.hidden = !scene.message;
  F.message.textContent = scene.message || "";
  const desc = scene.description || "";
  if (F.live.textContent !== desc) F.live.textContent = desc;
  F.describe.textContent = desc;
}
