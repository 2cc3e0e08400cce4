// The generic scene renderer: panels of typed layers, one small draw function per kind, each into its own <g>.
// Colours come from CSS classes; figures never name colours. Heat maps go through a canvas (as an SVG <image>).
const SVG = "http://www.w3.org/2000/svg";
export const W = 420, H = 340;
const M = {left: 62, right: 14, top: 30, bottom: 44};

export function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

// Data ↔ SVG coordinates for one panel.
export function makeScale(panel) {
  const [x0, x1] = panel.xlim, [y0, y1] = panel.ylim;
  let pw = W - M.left - M.right, ph = H - M.top - M.bottom, left = M.left, top = M.top;
  if (panel.aspect === "equal") {
    const k = Math.min(pw / (x1 - x0), ph / (y1 - y0));
    left += (pw - k * (x1 - x0)) / 2; top += (ph - k * (y1 - y0)) / 2;
    pw = k * (x1 - x0); ph = k * (y1 - y0);
  }
  const sx = (x) => left + (x - x0) / (x1 - x0) * pw;
  const sy = (y) => top + ph - (y - y0) / (y1 - y0) * ph;
  const ix = (px) => x0 + (px - left) / pw * (x1 - x0);
  const iy = (py) => y0 + (top + ph - py) / ph * (y1 - y0);
  return {sx, sy, ix, iy, left, top, pw, ph, xlim: [x0, x1], ylim: [y0, y1]};
}

function ticks(lo, hi, n = 5) {
  const span = hi - lo;
  if (!(span > 0) || !isFinite(span)) return isFinite(lo) ? [lo] : [];
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const out = [];
  // at most a few dozen ticks, even where the step is below the limits' precision (t + step === t)
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && out.length < 50; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function fmtTick(t) { return Number(t.toPrecision(6)).toString().replace("-", "−"); }

function drawAxes(g, panel, s) {
  // the frame rect is kept across redraws (tests and pointer code may hold on to it); the rest is redrawn
  const frame = g.querySelector(":scope > rect.frame") || el("rect", {class: "frame"});
  g.replaceChildren(frame);
  for (const [k, v] of Object.entries({x: s.left, y: s.top, width: s.pw, height: s.ph})) frame.setAttribute(k, v);
  for (const t of ticks(...s.xlim)) {
    el("line", {x1: s.sx(t), x2: s.sx(t), y1: s.top + s.ph, y2: s.top + s.ph + 5, class: "tick"}, g);
    el("text", {x: s.sx(t), y: s.top + s.ph + 17, class: "tick-label", "text-anchor": "middle"}, g).textContent = fmtTick(t);
  }
  for (const t of ticks(...s.ylim)) {
    el("line", {x1: s.left - 5, x2: s.left, y1: s.sy(t), y2: s.sy(t), class: "tick"}, g);
    el("text", {x: s.left - 8, y: s.sy(t) + 4, class: "tick-label", "text-anchor": "end"}, g).textContent = fmtTick(t);
  }
  if (panel.title) el("text", {x: s.left + s.pw / 2, y: 18, class: "panel-title", "text-anchor": "middle"}, g).textContent = panel.title;
  if (panel.xlabel) el("text", {x: s.left + s.pw / 2, y: H - 8, class: "axis-label", "text-anchor": "middle"}, g).textContent = panel.xlabel;
  if (panel.ylabel) {
    el("text", {x: 0, y: 0, class: "axis-label", "text-anchor": "middle",
      transform: `translate(13 ${s.top + s.ph / 2}) rotate(-90)`}, g).textContent = panel.ylabel;
  }
}

// ---- colour maps (heat maps)
const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
  [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
const DIVERGING = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];
function cmap(name, t) {
  const stops = name === "diverging" ? DIVERGING : VIRIDIS;
  t = Math.min(Math.max(isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(t), stops.length - 2), f = t - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

const draw = {
  heatmap(g, L, s) {
    const ny = L.z.length, nx = L.z[0].length;
    const canvas = document.createElement("canvas");
    canvas.width = nx; canvas.height = ny;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(nx, ny);
    const lo = L.zmin ?? Math.min(...L.z.flat()), hi = L.zmax ?? Math.max(...L.z.flat());
    for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
      const v = L.z[i][j], [r, gg, b] = cmap(L.cmap, (v - lo) / (hi - lo || 1));
      const o = ((ny - 1 - i) * nx + j) * 4;  // row i is at y0 + i·dy: flip for the canvas (y grows downwards)
      img.data.set([r, gg, b, v === null ? 0 : 255], o);
    }
    ctx.putImageData(img, 0, 0);
    const [x0, x1, y0, y1] = L.extent;
    el("image", {href: canvas.toDataURL(), x: s.sx(x0), y: s.sy(y1), width: s.sx(x1) - s.sx(x0),
      height: s.sy(y0) - s.sy(y1), preserveAspectRatio: "none", class: "heatmap"}, g);
  },
  contour(g, L, s) {
    const [x0, x1, y0, y1] = L.extent, ny = L.z.length, nx = L.z[0].length;
    const X = (j) => s.sx(x0 + j * (x1 - x0) / (nx - 1)), Y = (i) => s.sy(y0 + i * (y1 - y0) / (ny - 1));
    for (const level of L.levels) {
      let d = "";
      for (let i = 0; i < ny - 1; i++) for (let j = 0; j < nx - 1; j++) {
        // marching squares on the cell (i, j)…(i+1, j+1): crossing points on its four edges
        const c = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];
        const v = c.map(([a, b]) => L.z[a][b]);
        if (v.some((u) => u === null)) continue;
        const pts = [];
        for (let e = 0; e < 4; e++) {
          const a = v[e], b = v[(e + 1) % 4];
          if ((a < level) !== (b < level)) {
            const t = (level - a) / (b - a), [ia, ja] = c[e], [ib, jb] = c[(e + 1) % 4];
            pts.push([X(ja + t * (jb - ja)), Y(ia + t * (ib - ia))]);
          }
        }
        for (let k = 0; k + 1 < pts.length; k += 2) d += `M${pts[k][0].toFixed(1)},${pts[k][1].toFixed(1)}L${pts[k + 1][0].toFixed(1)},${pts[k + 1][1].toFixed(1)}`;
      }
      if (d) el("path", {d, class: "contour " + (L.class || "")}, g);
    }
  },
  line(g, L, s) {
    let d = "", pen = false;
    for (let k = 0; k < L.x.length; k++) {
      if (L.x[k] === null || L.y[k] === null) { pen = false; continue; }
      d += (pen ? "L" : "M") + s.sx(L.x[k]).toFixed(1) + "," + s.sy(L.y[k]).toFixed(1);
      pen = true;
    }
    if (d) el("path", {d, class: "line " + (L.class || "")}, g);
  },
  points(g, L, s) {
    for (let k = 0; k < L.x.length; k++) {
      if (L.x[k] === null || L.y[k] === null) continue;
      el("circle", {cx: s.sx(L.x[k]), cy: s.sy(L.y[k]), r: L.r || 3.5, class: "point " + (L.class || "")}, g);
    }
  },
  arrow(g, L, s) {
    const [ax, ay] = [s.sx(L.from[0]), s.sy(L.from[1])], [bx, by] = [s.sx(L.to[0]), s.sy(L.to[1])];
    const len = Math.hypot(bx - ax, by - ay);
    if (!(len > 0.5)) return;
    const ux = (bx - ax) / len, uy = (by - ay) / len, h = Math.min(10, len / 2);
    const g2 = el("g", {class: "arrow " + (L.class || "")}, g);
    el("line", {x1: ax, y1: ay, x2: bx - ux * h * 0.8, y2: by - uy * h * 0.8}, g2);
    el("polygon", {points: `${bx},${by} ${bx - ux * h - uy * h / 2},${by - uy * h + ux * h / 2} ${bx - ux * h + uy * h / 2},${by - uy * h - ux * h / 2}`}, g2);
    if (L.label) el("text", {x: bx + ux * 6, y: by + uy * 6 + 4, class: "arrow-label"}, g2).textContent = L.label;
  },
  label(g, L, s) {
    el("text", {x: s.sx(L.at[0]), y: s.sy(L.at[1]), class: "label " + (L.class || ""), "text-anchor": L.anchor || "middle"}, g).textContent = L.text;
  },
};

// One panel: persistent <svg> with groups for axes, layers, input (points) and handles.
export function makePanel(container) {
  const svg = el("svg", {viewBox: `0 0 ${W} ${H}`, class: "plot", role: "group"});
  const defs = el("defs", {}, svg);
  const clipId = "clip-" + Math.random().toString(36).slice(2);
  const clipRect = el("rect", {}, el("clipPath", {id: clipId}, defs));
  const axes = el("g", {class: "axes"}, svg);
  const layers = el("g", {class: "layers", "clip-path": `url(#${clipId})`}, svg);
  const input = el("g", {class: "input"}, svg);
  const handles = el("g", {class: "handles"}, svg);
  const wrap = document.createElement("div");
  wrap.className = "panel";
  wrap.append(svg);
  container.append(wrap);
  return {wrap, svg, axes, layers, input, handles, clipRect, scale: null, spec: null};
}

export function drawPanel(P, panel) {
  P.spec = panel;
  P.scale = makeScale(panel);
  const s = P.scale;
  for (const [k, v] of Object.entries({x: s.left, y: s.top, width: s.pw, height: s.ph})) P.clipRect.setAttribute(k, v);
  P.svg.setAttribute("aria-label", panel.title || "plot");
  drawAxes(P.axes, panel, s);
  P.layers.replaceChildren();
  for (const L of panel.layers || []) {
    const f = draw[L.kind];
    if (!f) continue;
    f(el("g", {class: "layer layer-" + L.kind}, P.layers), L, s);
  }
}

export function formatValue(value, format) {
  if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) return "—";
  if (typeof value !== "number") return String(value);
  const m = /^\.?(\d*)([fedg%])?$/.exec(format || "") || [];
  const digits = m[1] === "" || m[1] === undefined ? 3 : Number(m[1]);
  let text;
  switch (m[2]) {
    case "d": text = Math.round(value).toString(); break;
    case "e": text = value.toExponential(digits); break;
    case "%": text = (100 * value).toFixed(digits) + " %"; break;
    case "g": text = Number(value.toPrecision(digits || 3)).toString(); break;
    default: text = value.toFixed(digits);
  }
  return text.replace(/^-/, "−");
}

// Readouts, legend, message and description: plain HTML beside the panels.
export function drawExtras(F, scene) {
  F.readouts.replaceChildren();
  for (const r of scene.readouts || []) {
    const div = document.createElement("div");
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = r.label;
    dd.textContent = formatValue(r.value, r.format);
    dd.dataset.readout = r.label;
    div.append(dt, dd);
    F.readouts.append(div);
  }
  F.legend.replaceChildren();
  for (const item of scene.legend || []) {
    const li = document.createElement("li");
    li.className = item.class || "";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.setAttribute("aria-hidden", "true");
    const text = document.createElement("span");
    text.className = "legend-label";
    text.textContent = item.label;
    li.append(sw, text);
    F.legend.append(li);
  }
  F.message.hidden = !scene.message;
  F.message.textContent = scene.message || "";
  const desc = scene.description || "";
  if (F.live.textContent !== desc) F.live.textContent = desc;
  F.describe.textContent = desc;
}
