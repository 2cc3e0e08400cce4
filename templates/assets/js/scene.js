// The one renderer: scene → SVG and HTML text. Pure functions, no DOM, so the same module draws every frame in the
// page (render.js puts the text in place) and the first frames at build time under node (src/mamlviz/site/
// frames.mjs), and its pieces (scales, ticks, colour maps, marching squares, PNG encoding) are testable alone.
// Colours come from CSS classes; figures never name colours. The scene format is in docs/architecture.md.
export const W = 420, H = 340;
export const M = {left: 62, right: 14, top: 30, bottom: 44};

const ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
export const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ESC[c]);
const num = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

// An element as text; attributes that are null or undefined are left out.
export function tag(name, attrs, inner = null) {
  let s = "<" + name;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    s += ` ${k}="${esc(typeof v === "number" ? num(v) : v)}"`;
  }
  return inner === null ? s + "/>" : `${s}>${inner}</${name}>`;
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

// "Nice" ticks: a step of 1, 2 or 5 × 10^n giving at most n intervals.
export function ticks(lo, hi, n = 5) {
  const span = hi - lo;
  if (!(span > 0) || !isFinite(span)) return isFinite(lo) ? [lo] : [];
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const out = [];
  // at most a few dozen ticks, even where the step is below the limits' precision (t + step === t)
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && out.length < 50; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

export function fmtTick(t) { return Number(t.toPrecision(6)).toString().replace("-", "−"); }

// The axes group's content: ticks, tick labels, title and axis labels.
export function axesSVG(panel, s) {
  let out = "";
  const xt = ticks(...s.xlim);
  for (const t of xt) {
    out += tag("line", {x1: s.sx(t), x2: s.sx(t), y1: s.top + s.ph, y2: s.top + s.ph + 5, class: "tick"});
    // the last label at the frame's right edge: figures.css ends it at its tick on a phone, where the larger plot
    // text would stick out of the drawing
    const edge = t === xt[xt.length - 1] && s.sx(t) > s.left + s.pw - 1 ? {"data-edge": "end"} : {};
    out += tag("text", {x: s.sx(t), y: s.top + s.ph + 17, class: "tick-label", "text-anchor": "middle", ...edge}, esc(fmtTick(t)));
  }
  for (const t of panel.yticks === false ? [] : ticks(...s.ylim)) {  // yticks: false where the y axis is categories
    out += tag("line", {x1: s.left - 5, x2: s.left, y1: s.sy(t), y2: s.sy(t), class: "tick"});
    out += tag("text", {x: s.left - 8, y: s.sy(t) + 4, class: "tick-label", "text-anchor": "end"}, esc(fmtTick(t)));
  }
  if (panel.title) out += tag("text", {x: s.left + s.pw / 2, y: 18, class: "panel-title", "text-anchor": "middle"}, esc(panel.title));
  if (panel.xlabel) out += tag("text", {x: s.left + s.pw / 2, y: H - 8, class: "axis-label", "text-anchor": "middle"}, esc(panel.xlabel));
  if (panel.ylabel) {
    out += tag("text", {x: 0, y: 0, class: "axis-label", "text-anchor": "middle",
      transform: `translate(13 ${num(s.top + s.ph / 2)}) rotate(-90)`}, esc(panel.ylabel));
  }
  return out;
}

// ---- colour maps (heat maps)
const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
  [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
const DIVERGING = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];

// The colour [r, g, b] at t ∈ [0, 1] (clamped; NaN counts as 0), linear between the stops.
export function cmap(name, t) {
  const stops = name === "diverging" ? DIVERGING : VIRIDIS;
  t = Math.min(Math.max(isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(t), stops.length - 2), f = t - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

// ---- PNG encoding (uncompressed deflate: no zlib needed, the same in the page and under node)
const CRC_TABLE = Array.from({length: 256}, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function adler32(bytes) {
  let a = 1, b = 0;
  for (const x of bytes) { a = (a + x) % 65521; b = (b + a) % 65521; }
  return ((b << 16) | a) >>> 0;
}

function u32(v) { return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]; }

// A PNG chunk (length, type, data, CRC of type and data) written into `out` at `o`; returns the offset after it.
function putChunk(out, o, type, data) {
  const n = data.length;
  out.set(u32(n), o);
  for (let k = 0; k < 4; k++) out[o + 4 + k] = type.charCodeAt(k);
  out.set(data, o + 8);
  out.set(u32(crc32(out.subarray(o + 4, o + 8 + n))), o + 8 + n);
  return o + 12 + n;
}

// RGBA pixels (rows top to bottom) → the bytes of a PNG file.
export function encodePNG(width, height, rgba) {
  const row = width * 4 + 1, raw = new Uint8Array(height * row);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0;  // filter: none
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * row + 1);
  }
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));  // stored blocks of at most 65535 bytes
  const z = new Uint8Array(2 + 5 * blocks + raw.length + 4);
  z[0] = 0x78; z[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const i = b * 65535, n = Math.min(65535, raw.length - i);
    z.set([b === blocks - 1 ? 1 : 0, n & 255, n >>> 8, ~n & 255, (~n >>> 8) & 255], o);
    z.set(raw.subarray(i, i + n), o + 5);
    o += 5 + n;
  }
  z.set(u32(adler32(raw)), o);
  const ihdr = new Uint8Array([...u32(width), ...u32(height), 8, 6, 0, 0, 0]);  // 8 bits, RGBA
  const out = new Uint8Array(8 + 12 + ihdr.length + 12 + z.length + 12);
  out.set([137, 80, 78, 71, 13, 10, 26, 10]);
  putChunk(out, putChunk(out, putChunk(out, 8, "IHDR", ihdr), "IDAT", z), "IEND", new Uint8Array(0));
  return out;
}

function base64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// A heat map's pixels: row i of z is at y0 + i·dy, so the image (top row first) takes z's rows bottom-up.
export function heatmapPixels(L) {
  const ny = L.z.length, nx = L.z[0].length, rgba = new Uint8Array(nx * ny * 4);
  const finite = L.z.flat().filter((v) => v !== null && isFinite(v));
  const lo = L.zmin ?? Math.min(...finite), hi = L.zmax ?? Math.max(...finite);
  for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
    const v = L.z[i][j], o = ((ny - 1 - i) * nx + j) * 4;
    const [r, g, b] = cmap(L.cmap, (v - lo) / (hi - lo || 1));
    rgba[o] = r; rgba[o + 1] = g; rgba[o + 2] = b; rgba[o + 3] = v === null ? 0 : 255;
  }
  return {width: nx, height: ny, rgba};
}

// The last few heat maps' images by their data: a figure redrawn for a moved handle sends the same map again.
const IMAGES = new Map();

export function heatmapDataURL(L) {
  const key = JSON.stringify([L.cmap, L.zmin, L.zmax, L.z]);
  let url = IMAGES.get(key);
  if (url === undefined) {
    const {width, height, rgba} = heatmapPixels(L);
    url = "data:image/png;base64," + base64(encodePNG(width, height, rgba));
    if (IMAGES.size >= 8) IMAGES.delete(IMAGES.keys().next().value);
  } else IMAGES.delete(key);
  IMAGES.set(key, url);   // the newest last
  return url;
}

// Marching squares: for each level, the segments [[x, y], [x, y]] (in grid units j, i) where z crosses it.
export function contourSegments(z, level) {
  const ny = z.length, nx = z[0].length, out = [];
  for (let i = 0; i < ny - 1; i++) for (let j = 0; j < nx - 1; j++) {
    // most cells lie wholly on one side of the level: skip them without building anything
    const below = z[i][j] < level;
    if (below === (z[i][j + 1] < level) && below === (z[i + 1][j + 1] < level) && below === (z[i + 1][j] < level)) {
      continue;
    }
    const c = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];  // the cell's corners, around it
    const v = c.map(([a, b]) => z[a][b]);
    if (v.some((u) => u === null)) continue;
    const pts = [];
    for (let e = 0; e < 4; e++) {
      const a = v[e], b = v[(e + 1) % 4];
      if ((a < level) !== (b < level)) {
        const t = (level - a) / (b - a), [ia, ja] = c[e], [ib, jb] = c[(e + 1) % 4];
        pts.push([ja + t * (jb - ja), ia + t * (ib - ia)]);
      }
    }
    for (let k = 0; k + 1 < pts.length; k += 2) out.push([pts[k], pts[k + 1]]);
  }
  return out;
}

const LAYERS = {
  heatmap(L, s) {
    const [x0, x1, y0, y1] = L.extent;
    return tag("image", {href: heatmapDataURL(L), x: s.sx(x0), y: s.sy(y1), width: s.sx(x1) - s.sx(x0),
      height: s.sy(y0) - s.sy(y1), preserveAspectRatio: "none", class: "heatmap"});
  },
  contour(L, s) {
    const [x0, x1, y0, y1] = L.extent, ny = L.z.length, nx = L.z[0].length;
    const X = (j) => s.sx(x0 + j * (x1 - x0) / (nx - 1)).toFixed(1), Y = (i) => s.sy(y0 + i * (y1 - y0) / (ny - 1)).toFixed(1);
    let out = "";
    for (const level of L.levels) {
      const d = contourSegments(L.z, level).map(([[ja, ia], [jb, ib]]) => `M${X(ja)},${Y(ia)}L${X(jb)},${Y(ib)}`).join("");
      if (d) out += tag("path", {d, class: "contour " + (L.class || "")});
    }
    return out;
  },
  line(L, s) {
    let d = "", pen = false;
    for (let k = 0; k < L.x.length; k++) {
      if (L.x[k] === null || L.y[k] === null) { pen = false; continue; }
      d += (pen ? "L" : "M") + s.sx(L.x[k]).toFixed(1) + "," + s.sy(L.y[k]).toFixed(1);
      pen = true;
    }
    return d ? tag("path", {d, class: "line " + (L.class || "")}) : "";
  },
  points(L, s) {
    let out = "";
    for (let k = 0; k < L.x.length; k++) {
      if (L.x[k] === null || L.y[k] === null) continue;
      out += tag("circle", {cx: s.sx(L.x[k]), cy: s.sy(L.y[k]), r: L.r || 3.5, class: "point " + (L.class || "")});
    }
    return out;
  },
  arrow(L, s, placed) {
    const [ax, ay] = [s.sx(L.from[0]), s.sy(L.from[1])], [bx, by] = [s.sx(L.to[0]), s.sy(L.to[1])];
    const len = Math.hypot(bx - ax, by - ay);
    if (!(len > 0.5)) return "";
    const ux = (bx - ax) / len, uy = (by - ay) / len, h = Math.min(10, len / 2);
    const head = [[bx, by], [bx - ux * h - uy * h / 2, by - uy * h + ux * h / 2], [bx - ux * h + uy * h / 2, by - uy * h - ux * h / 2]];
    let inner = tag("line", {x1: ax, y1: ay, x2: bx - ux * h * 0.8, y2: by - uy * h * 0.8});
    inner += tag("polygon", {points: head.map((p) => p.map(num).join(",")).join(" ")});
    if (L.label) {
      const [x, y] = freeSpot(placed, bx + ux * 6, by + uy * 6 + 4, L.label, "start");
      inner += tag("text", {x, y, class: "arrow-label"}, esc(L.label));
    }
    return tag("g", {class: "arrow " + (L.class || "")}, inner);
  },
  label(L, s, placed) {
    const [x, y] = [s.sx(L.at[0]), s.sy(L.at[1])], anchor = L.anchor || "middle";
    placed.push(textBox(x, y, L.text, anchor));   // a label stays where its figure put it; arrows' labels avoid it
    return tag("text", {x, y, class: "label " + (L.class || ""), "text-anchor": anchor}, esc(L.text));
  },
};

// Text boxes in viewBox units, as large as plot text gets (19 units a line on a phone: figures.css), so that arrows'
// labels that would overlap (arrows ending close together) are moved apart in any width.
const LINE = 19, CHAR = 10.5;
function textBox(x, y, text, anchor) {
  const w = CHAR * [...String(text)].length, x0 = anchor === "middle" ? x - w / 2 : anchor === "end" ? x - w : x;
  return [x0, y - 0.8 * LINE, x0 + w, y + 0.2 * LINE];
}

// Where an arrow's label goes: at (x, y) if its box meets no label placed before it in the panel, else a line
// lower or higher, alternately, the nearest free spot (within three lines; else where it was).
function freeSpot(placed, x, y, text, anchor) {
  for (const dy of [0, LINE, -LINE, 2 * LINE, -2 * LINE, 3 * LINE, -3 * LINE]) {
    const box = textBox(x, y + dy, text, anchor);
    if (!placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) {
      placed.push(box);
      return [x, y + dy];
    }
  }
  placed.push(textBox(x, y, text, anchor));
  return [x, y];
}

// The layers group's content: one <g class="layer layer-KIND"> per layer, in order; unknown kinds are skipped.
export function layersSVG(panel, s) { return layerParts(panel, s).join(""); }

// The same, one string per layer (the page replaces only the layers that changed).
export function layerParts(panel, s) {
  const out = [], placed = [];   // the text boxes of the labels drawn so far (arrows' labels avoid them)
  for (const L of panel.layers || []) {
    const f = LAYERS[L.kind];
    if (f) out.push(tag("g", {class: "layer layer-" + L.kind}, f(L, s, placed)));
  }
  return out;
}

export function frameAttrs(s) { return {x: s.left, y: s.top, width: s.pw, height: s.ph}; }

// A whole panel as the page keeps it: clip path, frame, axes, layers, and empty groups for input and handles
// (the page wires those; `extra` may put static markers there for a page without JavaScript).
export function panelHTML(panel, clipId, extra = {}) {
  const s = makeScale(panel);
  const svg = tag("defs", {}, tag("clipPath", {id: clipId}, tag("rect", frameAttrs(s)))) +
    tag("rect", {class: "frame", ...frameAttrs(s)}) +
    tag("g", {class: "axes"}, axesSVG(panel, s)) +
    tag("g", {class: "layers", "clip-path": `url(#${clipId})`}, layersSVG(panel, s)) +
    tag("g", {class: "input"}, extra.input ? extra.input(s) : "") +
    tag("g", {class: "handles"}, extra.handles ? extra.handles(s) : "");
  return tag("div", {class: "panel"}, tag("svg", {viewBox: `0 0 ${W} ${H}`, class: "plot", role: "group",
    "aria-label": panel.title || "plot"}, svg));
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

// A readout's value may wrap between its parts ("3.1 / 2.0 ms", a matrix's entries) but not between a number and
// its unit: the two are kept together in a span (figures.css: no wrap), the text itself unchanged.
export const keepUnits = (html) => html.replace(/[^\s/]*\d [A-Za-zµ%]+/g, (m) => `<span class="keep">${m}</span>`);

export function readoutsHTML(scene) {
  return (scene.readouts || []).map((r) => tag("div", {},
    tag("dt", {}, esc(r.label)) + tag("dd", {"data-readout": r.label}, keepUnits(esc(formatValue(r.value, r.format)))))).join("");
}

export function legendHTML(scene) {
  return (scene.legend || []).map((item) => tag("li", {class: item.class || ""},
    tag("span", {class: "swatch", "aria-hidden": "true"}, "") + tag("span", {class: "legend-label"}, esc(item.label)))).join("");
}

// Static markers of the reader's inputs (handles, points) for the first frame, drawn where the state puts them.
function inputMarkers(controls, state, panelIndex) {
  const mine = (c) => (c.panel || 0) === panelIndex;
  return {
    handles: (s) => controls.filter((c) => c.kind === "handle" && mine(c)).map((c) => {
      const [x, y] = state[c.name];
      return tag("g", {class: "handle " + (c.css || "theta"), transform: `translate(${num(s.sx(x))} ${num(s.sy(y))})`},
        tag("circle", {r: 7, class: "dot"}) + tag("text", {class: "handle-label", x: 10, y: -10}, esc(c.label)));
    }).join(""),
    input: (s) => controls.filter((c) => c.kind === "points" && mine(c)).flatMap((c) => state[c.name].map(([x, y]) =>
      tag("g", {class: "input-point " + (c.css || "support"), transform: `translate(${num(s.sx(x))} ${num(s.sy(y))})`},
        tag("circle", {r: 5, class: "dot"})))).join(""),
  };
}

// A figure's first frame as the build writes it into the page: panels, legend, readouts, message, description.
// figures.js adopts this markup as it is and redraws into it.
export function figureFrameHTML(figureId, scene, controls = [], state = {}) {
  const panels = scene.panels.map((p, i) => panelHTML(p, clipId(figureId, i), inputMarkers(controls, state, i))).join("");
  return tag("div", {class: "panels", "data-count": scene.panels.length}, panels) +
    tag("ul", {class: "legend"}, legendHTML(scene)) +
    tag("dl", {class: "readouts"}, readoutsHTML(scene)) +
    tag("p", {class: "figure-message", role: "status", hidden: scene.message ? null : ""}, esc(scene.message || "")) +
    tag("details", {class: "describe"}, tag("summary", {}, "Describe this figure") + tag("p", {}, esc(scene.description || "")));
}

export function clipId(figureId, i) { return `clip-${figureId}-${i}`; }
