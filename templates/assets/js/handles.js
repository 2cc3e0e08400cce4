// Draggable handles (Red Blob Games style): a small dot, a large invisible hit area, pointer drag, arrow keys.
// The handle only converts events to figure coordinates and calls set([x, y]); clamping and snapping follow the
// declaration (bounds, step). Shift+arrow moves ten steps.
import {el} from "./render.js";

function snap(v, step, lo) { return step ? lo + Math.round((v - lo) / step) * step : v; }
function clamp(v, lo, hi) { return Math.min(Math.max(v, lo), hi); }

export function makeHandle(P, c, get, set) {
  const g = el("g", {class: "handle " + (c.css || "theta"), tabindex: 0, role: "slider",
    "aria-roledescription": "draggable point", "aria-label": c.label}, P.handles);
  el("circle", {r: 22, class: "hit"}, g);
  el("circle", {r: 7, class: "dot"}, g);
  const label = el("text", {class: "handle-label", x: 10, y: -10}, g);
  label.textContent = c.label;
  const [[x0, x1], [y0, y1]] = c.bounds;
  const place = (p) => {
    const [x, y] = [clamp(snap(p[0], c.step, x0), x0, x1), clamp(snap(p[1], c.step, y0), y0, y1)];
    return [Number(x.toFixed(10)), Number(y.toFixed(10))];
  };
  const update = () => {
    const [x, y] = get();
    g.setAttribute("transform", `translate(${P.scale.sx(x)} ${P.scale.sy(y)})`);
    const text = `${c.label}: (${x.toFixed(2)}, ${y.toFixed(2)})`;
    g.setAttribute("aria-valuetext", text);
    g.setAttribute("aria-valuenow", x);
  };
  const toData = (event) => {
    const m = P.svg.getScreenCTM().inverse();
    const pt = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
    return [P.scale.ix(pt.x), P.scale.iy(pt.y)];
  };
  g.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    event.stopPropagation();
    g.focus();
    g.setPointerCapture(event.pointerId);
    g.classList.add("dragging");
  });
  // a touch that starts on a handle drags it and never pans the page (non-passive: the panel's SVG lets pans through)
  g.addEventListener("touchstart", (event) => event.preventDefault(), {passive: false});
  g.addEventListener("pointermove", (event) => {
    if (!g.hasPointerCapture(event.pointerId)) return;
    set(place(toData(event)));
  });
  const end = (event) => { g.classList.remove("dragging"); if (g.hasPointerCapture(event.pointerId)) g.releasePointerCapture(event.pointerId); };
  g.addEventListener("pointerup", end);
  g.addEventListener("pointercancel", end);
  g.addEventListener("click", (event) => event.stopPropagation());
  g.addEventListener("keydown", (event) => {
    const d = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]}[event.key];
    if (!d) return;
    event.preventDefault();
    event.stopPropagation();
    const k = (event.shiftKey ? 10 : 1) * (c.step || (x1 - x0) / 100);
    const [x, y] = get();
    set(place([x + d[0] * k, y + d[1] * k]));
  });
  return {update, element: g};
}
