// Points input: click/tap the panel to add a point, click a point to remove it. Keyboard: focus the panel,
// move the crosshair with the arrow keys, Enter/Space adds a point there, Delete/Backspace removes the last.
import {el} from "./render.js";

export function makePointsInput(P, c, get, set, notify) {
  const svg = P.svg;
  svg.setAttribute("tabindex", "0");
  svg.classList.add("accepts-points");
  svg.setAttribute("aria-label", `${P.spec ? P.spec.title || "" : ""} — ${c.label}: click to add or remove; ` +
    "with the keyboard, arrow keys move the crosshair, Enter adds a point, Delete removes the last");
  const bounds = () => c.bounds || [P.scale.xlim, P.scale.ylim];
  let cross = null;
  const clampPt = ([x, y]) => {
    const [[x0, x1], [y0, y1]] = bounds();
    return [Math.min(Math.max(x, x0), x1), Math.min(Math.max(y, y0), y1)].map((v) => Number(v.toFixed(4)));
  };
  const add = (p) => {
    const pts = get();
    if (pts.length >= c.max_points) { notify(`At most ${c.max_points} points: remove one first.`); return; }
    set([...pts, clampPt(p)]);
  };
  const draw = () => {
    P.input.replaceChildren();
    get().forEach((p, k) => {
      const g = el("g", {class: "input-point " + (c.css || "support"),
        transform: `translate(${P.scale.sx(p[0])} ${P.scale.sy(p[1])})`}, P.input);
      el("circle", {r: 12, class: "hit"}, g);
      el("circle", {r: 5, class: "dot"}, g);
      g.addEventListener("click", (event) => {
        event.stopPropagation();
        set(get().filter((_, i) => i !== k));
      });
    });
    if (cross && svg.matches(":focus-visible")) {  // the keyboard's crosshair: not after a tap or a click
      const g = el("g", {class: "crosshair", transform: `translate(${P.scale.sx(cross[0])} ${P.scale.sy(cross[1])})`}, P.input);
      el("line", {x1: -9, x2: 9, y1: 0, y2: 0}, g);
      el("line", {x1: 0, x2: 0, y1: -9, y2: 9}, g);
    }
  };
  svg.addEventListener("click", (event) => {
    if (event.target.closest(".handle")) return;
    const pt = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    const s = P.scale;
    if (pt.x < s.left || pt.x > s.left + s.pw || pt.y < s.top || pt.y > s.top + s.ph) return;
    add([s.ix(pt.x), s.iy(pt.y)]);
  });
  svg.addEventListener("focus", () => {
    if (!cross) { const [[x0, x1], [y0, y1]] = bounds(); cross = [(x0 + x1) / 2, (y0 + y1) / 2]; }
    draw();
  });
  svg.addEventListener("blur", draw);
  svg.addEventListener("keydown", (event) => {
    if (event.target !== svg) return;
    const [[x0, x1], [y0, y1]] = bounds();
    const step = (c.step || (x1 - x0) / 40) * (event.shiftKey ? 5 : 1), stepY = (c.step || (y1 - y0) / 40) * (event.shiftKey ? 5 : 1);
    const d = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, stepY], ArrowDown: [0, -stepY]}[event.key];
    if (d) { event.preventDefault(); cross = clampPt([cross[0] + d[0], cross[1] + d[1]]); draw(); return; }
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); add(cross); return; }
    if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); set(get().slice(0, -1)); }
  });
  return {update: draw};
}
