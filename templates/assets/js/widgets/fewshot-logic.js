// The Part 1 few-shot game's logic, without the DOM (widgets/fewshot-game.js draws it and wires the input): trials
// from a seeded generator, the glyphs' paths and ink images, the two nearest-neighbour machines, and the tallies of
// an answered or a skipped trial. Tested under node (tests/js/fewshot.test.mjs) against mamlviz.glyphs in Python.

export const BLUR_SIGMA = 2;      // pixels, as mamlviz.glyphtasks.BLUR_SIGMA
export const RASTER = 28;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function cleanScores(raw, modes) {
  const out = {};
  for (const m of modes) {
    const s = raw && typeof raw === "object" ? raw[String(m)] : null;
    const right = s && Number.isFinite(+s.right) ? Math.max(0, Math.floor(+s.right)) : 0;
    const total = s && Number.isFinite(+s.total) ? Math.max(right, Math.floor(+s.total)) : 0;
    out[String(m)] = { right, total };
  }
  return out;
}

// mulberry32, seeded by a string hash: one generator per trial, so a round is the same trial on every load.
export function hashString(s) {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}
export function rngFrom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export function sample(rand, n, k) {             // k distinct integers from 0..n-1 (partial Fisher–Yates)
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) { const j = i + Math.floor(rand() * (n - i)); [a[i], a[j]] = [a[j], a[i]]; }
  return a.slice(0, k);
}

// ------------------------------------------------------------------------------------------------ glyphs
export function decodeGlyph(text) {
  const width = (B64.indexOf(text[0]) + 10) / 10;
  const strokes = text.slice(1).split(" ").map((part) => {
    const pts = [];
    for (let i = 0; i + 1 < part.length; i += 2) pts.push([B64.indexOf(part[i]), B64.indexOf(part[i + 1])]);
    return pts;
  });
  return { strokes, width };
}

// Uniform Catmull–Rom through the points, as cubic Béziers (the curve mamlviz.glyphs.catmull_rom samples).
export function segments(pts) {
  const q = [pts[0], ...pts, pts[pts.length - 1]];
  const out = [];
  for (let i = 1; i < q.length - 2; i++) {
    const [p0, p1, p2, p3] = [q[i - 1], q[i], q[i + 1], q[i + 2]];
    out.push([p1, [p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6],
              [p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6], p2]);
  }
  return out;
}

export function glyphPath(glyph) {
  const r = (v) => Math.round(v * 100) / 100;
  return glyph.strokes.map((pts) => `M${pts[0][0]},${pts[0][1]}` + segments(pts).map(
    ([, c1, c2, p2]) => ` C${r(c1[0])},${r(c1[1])} ${r(c2[0])},${r(c2[1])} ${p2[0]},${p2[1]}`).join("")).join(" ");
}

// Ink image (RASTER × RASTER, values 0..1) of a glyph: how far inside the pen each pixel centre is. The same
// rule as mamlviz.glyphs.rasterise, so the naive machine here and the tests in Python see the same pixels.
export function rasterise(text) {
  const g = decodeGlyph(text);
  const n = RASTER, cell = 63 / n, img = new Float32Array(n * n);
  for (const pts of g.strokes) {
    const poly = [pts[0]];
    for (const [p1, c1, c2, p2] of segments(pts)) {
      for (let s = 1; s <= 6; s++) {
        const t = s / 6, u = 1 - t;
        poly.push([u * u * u * p1[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t * t * t * p2[0],
                   u * u * u * p1[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t * t * t * p2[1]]);
      }
    }
    const reach = g.width / 2 + cell;
    for (let k = 0; k + 1 < poly.length; k++) {
      const [ax, ay] = poly[k], [bx, by] = poly[k + 1];
      const abx = bx - ax, aby = by - ay, L2 = Math.max(abx * abx + aby * aby, 1e-12);
      const j0 = Math.max(0, Math.floor((Math.min(ax, bx) - reach) / cell));
      const j1 = Math.min(n - 1, Math.ceil((Math.max(ax, bx) + reach) / cell));
      const i0 = Math.max(0, Math.floor((Math.min(ay, by) - reach) / cell));
      const i1 = Math.min(n - 1, Math.ceil((Math.max(ay, by) + reach) / cell));
      for (let i = i0; i <= i1; i++) {
        const py = (i + 0.5) * cell;
        for (let j = j0; j <= j1; j++) {
          const px = (j + 0.5) * cell;
          const t = Math.min(1, Math.max(0, ((px - ax) * abx + (py - ay) * aby) / L2));
          const dx = px - (ax + t * abx), dy = py - (ay + t * aby);
          const v = Math.min(1, Math.max(0, (g.width / 2 - Math.sqrt(dx * dx + dy * dy)) / cell + 0.5));
          if (v > img[i * n + j]) img[i * n + j] = v;
        }
      }
    }
  }
  return img;
}

// Gaussian blur (σ px, taps to ±3σ normalised to sum 1, zero outside the image), rows then columns: the image
// mamlviz.glyphtasks.blur_matrix gives as B·img·Bᵀ.
export function blur(img, sigma = BLUR_SIGMA) {
  const n = RASTER, r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const pass = (src, di, dj) => {
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (let t = -r; t <= r; t++) {
          const ii = i + t * di, jj = j + t * dj;
          if (ii >= 0 && ii < n && jj >= 0 && jj < n) v += (k[t + r] / sum) * src[ii * n + jj];
        }
        out[i * n + j] = v;
      }
    }
    return out;
  };
  return pass(pass(img, 1, 0), 0, 1);
}

export function nearest(q, exemplars) {            // index of the exemplar with the smallest squared distance (first on ties)
  let best = 0, bestD = Infinity;
  exemplars.forEach((e, i) => {
    let d = 0;
    for (let k = 0; k < q.length; k++) { const x = q[k] - e[k]; d += x * x; }
    if (d < bestD) { bestD = d; best = i; }
  });
  return best;
}

// ------------------------------------------------------------------------------------------------ trials
export function makeTrial(data, mode, round) {
  const rand = rngFrom(hashString(`${data.seed}:${mode}:${round}`));
  const usable = data.alphabets.filter((a) => a.count >= mode);
  const alphabet = usable[Math.floor(rand() * usable.length)];
  const classes = sample(rand, alphabet.count, mode).map((i) => alphabet.start + i);
  const drawers = sample(rand, data.n_drawers, Math.min(mode, data.n_drawers));
  while (drawers.length < mode) drawers.push(Math.floor(rand() * data.n_drawers));
  const answer = Math.floor(rand() * mode);
  let queryDrawer = Math.floor(rand() * (data.n_drawers - 1));
  if (queryDrawer >= drawers[answer]) queryDrawer += 1;           // any drawer but the exemplar's
  return { mode, round, alphabet: alphabet.name, classes, drawers, answer, queryDrawer };
}

// A machine's choice: the exemplar nearest the query in the images `image(class, drawer)` gives (raw or blurred).
export function machineChoice(t, image) {
  return nearest(image(t.classes[t.answer], t.queryDrawer), t.classes.map((c, i) => image(c, t.drawers[i])));
}

// ---------------------------------------------------------------------------------------------- the tallies
// The reader answered trial t with exemplar `choice`; the machines picked `picks` ({machine: index, blur: index}).
// Every tally of the trial's mode counts it once, and the mode's next round follows this one.
export function recordAnswer(st, t, choice, picks) {
  const key = String(t.mode);
  const count = (s, i) => { s.total += 1; if (i === t.answer) s.right += 1; };
  count(st.scores[key], choice);
  count(st.machine[key], picks.machine);
  count(st.blur[key], picks.blur);
  st.rounds[key] = t.round + 1;
}

// The reader skipped trial t: no tally counts it, only the round moves on (a skipped trial is not shown again).
export function recordSkip(st, t) {
  st.rounds[String(t.mode)] = t.round + 1;
}

// ------------------------------------------------------------------------------------ the reader's own drawings
// A reader's drawing (strokes of points in the unit box, y down) becomes a glyph the way a generated drawing
// does: mamlviz.glyphs.quantise (points about 0.08 apart along each stroke, rounded to the 0..63 grid) and
// encode; `rasterise` then gives the game's 28 × 28 ink image. Only the placement is the reader's own, so it is
// first brought into the range of sizes and positions the game's drawings have (`placeDrawing`).
export const GRID = 64;

export function roundHalfEven(x) {                // numpy's rint and Python's round: halves go to the even integer
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// np.linspace(0, total, n) and np.interp along the polyline's arc length: mamlviz.glyphs._resample.
function resample(poly, spacing) {
  const s = [0];
  for (let k = 1; k < poly.length; k++) {
    const dx = poly[k][0] - poly[k - 1][0], dy = poly[k][1] - poly[k - 1][1];
    s.push(s[k - 1] + Math.sqrt(dx * dx + dy * dy));
  }
  const total = s[s.length - 1], n = Math.max(2, Math.ceil(total / spacing) + 1), step = total / (n - 1);
  const out = [];
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = i === n - 1 ? total : i * step;
    if (t >= total) { out.push([...poly[poly.length - 1]]); continue; }
    while (j + 1 < s.length - 1 && s[j + 1] <= t) j += 1;       // the last j with s[j] ≤ t
    const interp = (c) => (poly[j + 1][c] - poly[j][c]) / (s[j + 1] - s[j]) * (t - s[j]) + poly[j][c];
    out.push([interp(0), interp(1)]);
  }
  return out;
}

// Strokes (points in [0, 1]²) and a pen width (same units) → integer strokes on the 0..63 grid and the width
// code, exactly as mamlviz.glyphs.quantise.
export function quantiseStrokes(strokes, width) {
  const q = strokes.map((pts) => {
    const simple = pts.length <= 2 ? pts : resample(pts, 0.08);
    const out = [];
    for (const p of simple) {
      const v = p.map((c) => Math.min(GRID - 1, Math.max(0, roundHalfEven(c * (GRID - 1)))));
      const last = out[out.length - 1];
      if (!last || last[0] !== v[0] || last[1] !== v[1]) out.push(v);
    }
    if (out.length === 1) out.push([Math.min(out[0][0] + 1, GRID - 1), out[0][1]]);
    return out;
  });
  const wcode = Math.min(63, Math.max(0, roundHalfEven(width * (GRID - 1) * 10) - 10));
  return {strokes: q, wcode};
}

export function encodeGlyph(strokes, wcode) {      // mamlviz.glyphs.encode: the inverse of decodeGlyph
  return B64[wcode] + strokes.map((s) => s.map(([x, y]) => B64[x] + B64[y]).join("")).join(" ");
}

// The drawing's box (of its points): its longer side and centre.
export function drawingBox(strokes) {
  const pts = strokes.flat();
  const lo = [0, 1].map((c) => Math.min(...pts.map((p) => p[c]))), hi = [0, 1].map((c) => Math.max(...pts.map((p) => p[c])));
  return {size: Math.max(hi[0] - lo[0], hi[1] - lo[1]), centre: [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2]};
}

// Scale the drawing about its centre and move it only as far as needed to bring its longer side and centre
// into `placement` ({size: [lo, hi], centre: [lo, hi]}: the range of the game's drawings). A drawing already in
// range is returned as it is (so a generated drawing passes unchanged). {strokes, scale, shift}.
export function placeDrawing(strokes, placement) {
  const box = drawingBox(strokes);
  const clamp = (v, [lo, hi]) => Math.min(hi, Math.max(lo, v));
  const size = clamp(box.size, placement.size), centre = box.centre.map((c) => clamp(c, placement.centre));
  if (size === box.size && centre[0] === box.centre[0] && centre[1] === box.centre[1]) {
    return {strokes, scale: 1, shift: [0, 0]};
  }
  const scale = box.size > 0 ? size / box.size : 1;
  return {strokes: strokes.map((pts) => pts.map((p) => [0, 1].map((c) => (p[c] - box.centre[c]) * scale + centre[c]))),
          scale, shift: [centre[0] - box.centre[0], centre[1] - box.centre[1]]};
}

// What is wrong with a drawing (points in [0, 1]²) before the machines can read it, in words; null if nothing.
export function drawingProblem(strokes, minSize = 0.06) {
  if (!strokes.length || !strokes.some((s) => s.length)) return "empty";
  if (drawingBox(strokes).size < minSize) return "dot";
  return null;
}

// A reader's drawing as the game's glyph text: placed, simplified and quantised, with the game's median pen.
export function drawingGlyph(strokes, placement, wcode) {
  const placed = placeDrawing(strokes, placement).strokes;
  return encodeGlyph(quantiseStrokes(placed, 0).strokes, wcode);
}

// What the MAML machine reads: the ink image averaged over 2 × 2 blocks (mamlviz.glyphtasks.features), 14 × 14.
export function pool(img) {
  const n = RASTER / 2, out = new Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = 2 * i * RASTER + 2 * j;
      out[i * n + j] = (img[a] + img[a + 1] + img[a + RASTER] + img[a + RASTER + 1]) / 4;
    }
  }
  return out;
}
