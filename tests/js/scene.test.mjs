// The renderer's geometry (templates/assets/js/scene.js), checked against known functions: a heat map shows its
// minimum where the data put it (the PNG decoded here with node's zlib, its darkest pixel mapped back through the
// scale), a contour of x² + y² = r² lies on the circle of radius r, ticks are nice and cover the domain, colour maps
// have the right ends and monotone lightness, scales invert. Run: node --test tests/js/
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {inflateSync} from "node:zlib";

const here = new URL(".", import.meta.url);
const source = readFileSync(new URL("../../templates/assets/js/scene.js", here), "utf8");
const scene = await import("data:text/javascript," + encodeURIComponent(source));
const {makeScale, ticks, fmtTick, cmap, encodePNG, crc32, contourSegments, layersSVG, layerParts, heatmapDataURL, M, W,
  H} = scene;

const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const grid = (lo, hi, n) => Array.from({length: n}, (_, k) => lo + k * (hi - lo) / (n - 1));
// z[i][j] = f(x_j, y_i) with row i at y0 + i·dy: the scene format's convention (docs/architecture.md)
const sample = (f, [x0, x1, y0, y1], nx, ny) => grid(y0, y1, ny).map((y) => grid(x0, x1, nx).map((x) => f(x, y)));

// ---- a small PNG reader, independent of the encoder: chunks, CRCs, zlib (which checks Adler-32), filter 0 rows
function decodePNG(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8, width, height;
  const idat = [];
  while (p < bytes.length) {
    const len = view.getUint32(p), type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    const body = bytes.subarray(p + 4, p + 8 + len);
    assert.equal(view.getUint32(p + 8 + len), crc32(body), `CRC of ${type}`);
    assert.equal(view.getUint32(p + 8 + len), crc32Reference(body), `CRC of ${type} (reference)`);
    if (type === "IHDR") {
      width = view.getUint32(p + 8); height = view.getUint32(p + 12);
      assert.deepEqual([...bytes.subarray(p + 16, p + 21)], [8, 6, 0, 0, 0], "8-bit RGBA, no interlace");
    }
    if (type === "IDAT") idat.push(body.subarray(4));
    p += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (4 * width + 1));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (4 * width + 1)], 0, "filter type none");
    rgba.set(raw.subarray(y * (4 * width + 1) + 1, (y + 1) * (4 * width + 1)), y * width * 4);
  }
  return {width, height, rgba};
}

function crc32Reference(bytes) {  // bit by bit, no table
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

const attr = (text, name) => Number(new RegExp(`\\s${name}="([^"]*)"`).exec(text)[1]);

// Render one heat-map layer through layersSVG and return the decoded image with where it sits in the SVG.
function drawHeatmap(panel, layer) {
  const s = makeScale(panel);
  const svg = layersSVG({...panel, layers: [layer]}, s);
  const img = /<image [^>]*>/.exec(svg)[0];
  const href = /href="data:image\/png;base64,([^"]*)"/.exec(img)[1];
  const png = decodePNG(new Uint8Array(Buffer.from(href, "base64")));
  return {s, png, x: attr(img, "x"), y: attr(img, "y"), w: attr(img, "width"), h: attr(img, "height")};
}

// Relative luminance (sRGB), the reader's "darkness".
const luminance = ([r, g, b]) => {
  const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};
const lightnessL = (rgb) => { const Y = luminance(rgb); return Y > 0.008856 ? 116 * Math.cbrt(Y) - 16 : 903.3 * Y; };

// The data point under pixel (px, py) of the drawn image: pixel centre → SVG coordinates → the scale's inverse.
function pixelToData(d, px, py) {
  const X = d.x + (px + 0.5) * d.w / d.png.width, Y = d.y + (py + 0.5) * d.h / d.png.height;
  return [d.s.ix(X), d.s.iy(Y)];
}

// The centre of the pixels of the darkest (or lightest) colour: near a quadratic's minimum several neighbouring
// values fall on one colour, so take them all.
function extremeCentre(png, pick) {
  const lum = Array.from({length: png.width * png.height}, (_, k) => luminance(png.rgba.subarray(4 * k, 4 * k + 3)));
  const best = lum.reduce((u, v) => (pick(v, u) ? v : u));
  const at = lum.flatMap((v, k) => (v === best ? [[k % png.width, Math.floor(k / png.width)]] : []));
  return [0, 1].map((c) => at.reduce((sum, p) => sum + p[c], 0) / at.length);
}

for (const aspect of [undefined, "equal"]) {
  test(`heat map of (x−a)² + (y−b)² shows its minimum at (a, b), its maximum in the far corner (aspect ${aspect ?? "free"})`, () => {
    const extent = [-2, 3, 1, 2];                         // asymmetric: 5 wide, 1 high, not centred on 0
    const [a, b] = [2.6, 1.85];                           // top right
    const nx = 41, ny = 13;
    const layer = {kind: "heatmap", z: sample((x, y) => (x - a) ** 2 + (y - b) ** 2, extent, nx, ny), extent, cmap: "viridis"};
    const d = drawHeatmap({xlim: [-2, 3], ylim: [1, 2], aspect}, layer);
    assert.equal(d.png.width, nx); assert.equal(d.png.height, ny);
    const dx = (extent[1] - extent[0]) / (nx - 1), dy = (extent[3] - extent[2]) / (ny - 1);
    const [xm, ym] = pixelToData(d, ...extremeCentre(d.png, (v, w) => v < w));
    close(xm, a, dx, "minimum's x"); close(ym, b, dy, "minimum's y");
    const [xM, yM] = pixelToData(d, ...extremeCentre(d.png, (v, w) => v > w));
    close(xM, -2, dx, "maximum's x (far left)"); close(yM, 1, dy, "maximum's y (bottom)");
    // the image covers exactly the extent
    close(d.s.ix(d.x), extent[0], 1e-2, "left edge"); close(d.s.ix(d.x + d.w), extent[1], 1e-2, "right edge");
    close(d.s.iy(d.y), extent[3], 1e-2, "top edge"); close(d.s.iy(d.y + d.h), extent[2], 1e-2, "bottom edge");
  });
}

test("heat map: every pixel has the colour of its value, rows bottom-up; null is transparent", () => {
  const extent = [0, 1, 0, 2], nx = 5, ny = 4;
  const z = sample((x, y) => x + 10 * y, extent, nx, ny);
  z[0][4] = null;                                         // x = 1, y = 0: the bottom-right pixel
  const d = drawHeatmap({xlim: [0, 1], ylim: [0, 2]}, {kind: "heatmap", z, extent, cmap: "viridis", zmin: 0, zmax: 21});
  for (let py = 0; py < ny; py++) for (let px = 0; px < nx; px++) {
    const k = 4 * (py * nx + px), i = ny - 1 - py;        // the top image row is the last data row
    if (z[i][px] === null) { assert.equal(d.png.rgba[k + 3], 0); continue; }
    assert.deepEqual([...d.png.rgba.subarray(k, k + 4)], [...cmap("viridis", z[i][px] / 21), 255], `pixel ${px},${py}`);
  }
  assert.equal(d.png.rgba[4 * ((ny - 1) * nx + nx - 1) + 3], 0, "the null sits bottom right");
});

test("PNG encoder: images larger than one stored deflate block decode to the same pixels", () => {
  const width = 150, height = 130, rgba = new Uint8Array(width * height * 4);
  for (let k = 0; k < rgba.length; k++) rgba[k] = (k * 7919) % 251;
  const png = decodePNG(encodePNG(width, height, rgba));     // 130 rows × 601 bytes > 65535: two blocks
  assert.equal(png.width, width); assert.equal(png.height, height);
  assert.deepEqual(png.rgba, rgba);
});

test("heat-map images are remembered by their data: the same map gives the same image, any change a new one", () => {
  const z = sample((x, y) => x + 2 * y, [0, 1, 0, 1], 9, 7);
  const L = {kind: "heatmap", z, extent: [0, 1, 0, 1], zmin: 0, zmax: 3, cmap: "viridis"};
  const url = heatmapDataURL(L);
  assert.equal(heatmapDataURL({...L, z: JSON.parse(JSON.stringify(z))}), url);   // equal data, another object
  const decode = (u) => decodePNG(new Uint8Array(Buffer.from(u.split(",")[1], "base64")));
  const changed = JSON.parse(JSON.stringify(z));
  changed[0][0] = 3;   // the bottom-left pixel (row 0 is drawn at the bottom) becomes the top colour
  const png = decode(heatmapDataURL({...L, z: changed}));
  assert.deepEqual([...png.rgba.subarray((png.height - 1) * png.width * 4, (png.height - 1) * png.width * 4 + 4)],
    [...cmap("viridis", 1), 255]);
  assert.notEqual(heatmapDataURL({...L, zmax: 4}), url);
  assert.notEqual(heatmapDataURL({...L, cmap: "diverging"}), url);
  for (let k = 0; k < 12; k++) heatmapDataURL({...L, zmin: -k - 1});   // push the first out of the memory
  assert.equal(heatmapDataURL(L), url);
  assert.deepEqual(decode(url).rgba, decode(heatmapDataURL({...L, z: z.map((row) => [...row])})).rgba);
});

test("layerParts: one <g> per known layer, in order; joined, the layers group of layersSVG", () => {
  const panel = {xlim: [0, 1], ylim: [0, 1], layers: [{kind: "points", x: [0.5], y: [0.5]}, {kind: "nonsense"},
    {kind: "line", x: [0, 1], y: [0, 1]}, {kind: "label", at: [0.2, 0.2], text: "a < b"}]};
  const s = makeScale(panel), parts = layerParts(panel, s);
  assert.equal(parts.length, 3);
  assert.deepEqual(parts.map((p) => /^<g class="layer layer-(\w+)">/.exec(p)[1]), ["points", "line", "label"]);
  assert.equal(parts.join(""), layersSVG(panel, s));
});

for (const [extent, r, nx, ny] of [[[-1.5, 2, -1.2, 1.4], 1, 71, 53], [[-3, 3, -3, 3], 2.5, 40, 40]]) {
  test(`contour of x² + y² at r² = ${r * r} lies on the circle of radius ${r} (extent ${extent})`, () => {
    const panel = {xlim: extent.slice(0, 2), ylim: extent.slice(2), aspect: "equal"};
    const z = sample((x, y) => x * x + y * y, extent, nx, ny);
    const s = makeScale(panel);
    const svg = layersSVG({...panel, layers: [{kind: "contour", z, extent, levels: [r * r]}]}, s);
    const d = /<path d="([^"]*)"/.exec(svg)[1];
    const pts = [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [s.ix(Number(m[1])), s.iy(Number(m[2]))]);
    assert.ok(pts.length > 40, `${pts.length} points`);
    // linear interpolation of r² along a cell edge of size h misses the circle by at most ~h²/(8r); SVG keeps 0.1 px
    const h = Math.max((extent[1] - extent[0]) / (nx - 1), (extent[3] - extent[2]) / (ny - 1));
    const tol = h * h / (4 * r) + 0.1 / (s.pw / (extent[1] - extent[0]));
    for (const [x, y] of pts) close(Math.hypot(x, y), r, tol, `‖(${x.toFixed(3)}, ${y.toFixed(3)})‖`);
    // all the way round: no angular gap wider than two cells
    const angles = pts.map(([x, y]) => Math.atan2(y, x)).sort((u, v) => u - v);
    const gaps = angles.slice(1).map((t, k) => t - angles[k]).concat(2 * Math.PI + angles[0] - angles.at(-1));
    assert.ok(Math.max(...gaps) < 2 * h / r, `largest gap ${Math.max(...gaps)}`);
  });
}

test("marching squares: a plane's level set is the exact straight line, in grid units (j, i)", () => {
  const z = Array.from({length: 6}, (_, i) => Array.from({length: 8}, (_, j) => 2 * j - i));  // 2j − i = 5
  const segs = contourSegments(z, 5);
  assert.ok(segs.length >= 5);
  for (const seg of segs) for (const [j, i] of seg) close(2 * j - i, 5, 1e-12, `point (${j}, ${i})`);
  // the four cells around a null corner (i = 2, j = 3) draw nothing; the others still do
  z[2][3] = null;
  const mid = ([[ja, ia], [jb, ib]]) => [(ja + jb) / 2, (ia + ib) / 2];
  const left = contourSegments(z, 5);
  assert.ok(left.length > 0);
  for (const [j, i] of left.map(mid)) assert.ok(!(j > 2 && j < 4 && i > 1 && i < 3), `a segment at (${j}, ${i})`);
  assert.ok(contourSegments(z, 5).length < segs.length);
});

for (const [xlim, ylim, aspect] of [[[0, 1], [0, 1], undefined], [[-2, 3], [1, 2], undefined], [[-2, 3], [1, 2], "equal"],
  [[0, 1], [-5, 5], "equal"], [[1e-3, 2e-3], [-7e4, 3e5], undefined]]) {
  test(`scale: data → SVG → data is the identity, y points up, the panel fills its box (${xlim} × ${ylim}, ${aspect ?? "free"})`, () => {
    const s = makeScale({xlim, ylim, aspect});
    for (const x of grid(...xlim, 7)) close(s.ix(s.sx(x)), x, 1e-9 * (Math.abs(x) + xlim[1] - xlim[0]), "ix∘sx");
    for (const y of grid(...ylim, 7)) close(s.iy(s.sy(y)), y, 1e-9 * (Math.abs(y) + ylim[1] - ylim[0]), "iy∘sy");
    for (const px of [M.left, 100, W - M.right]) close(s.sx(s.ix(px)), px, 1e-9, "sx∘ix");
    close(s.sx(xlim[0]), s.left, 1e-9, "x0 at the left"); close(s.sx(xlim[1]), s.left + s.pw, 1e-9, "x1 at the right");
    close(s.sy(ylim[0]), s.top + s.ph, 1e-9, "y0 at the bottom"); close(s.sy(ylim[1]), s.top, 1e-9, "y1 at the top");
    const box = {w: W - M.left - M.right, h: H - M.top - M.bottom};
    if (aspect === "equal") {
      close(s.pw / (xlim[1] - xlim[0]), s.ph / (ylim[1] - ylim[0]), 1e-9, "same pixels per unit on both axes");
      assert.ok(Math.abs(s.pw - box.w) < 1e-9 || Math.abs(s.ph - box.h) < 1e-9, "fills one direction");
      close(s.left + s.pw / 2, M.left + box.w / 2, 1e-9, "centred across"); close(s.top + s.ph / 2, M.top + box.h / 2, 1e-9, "centred down");
    } else {
      assert.deepEqual([s.left, s.top, s.pw, s.ph], [M.left, M.top, box.w, box.h]);
    }
  });
}

for (const [lo, hi, n] of [[0, 1, 5], [-2, 3, 5], [1, 2, 5], [-1.2, 1.4, 5], [0.001, 0.002, 5], [-70000, 300000, 5],
  [3.7, 3.9, 5], [-5, -1, 4], [0, 100, 10], [1e-9, 3e-9, 5], [0.1, 0.7, 3]]) {
  test(`ticks(${lo}, ${hi}, ${n}): steps of 1, 2 or 5 × 10ⁿ, within and covering the domain`, () => {
    const t = ticks(lo, hi, n), step = t[1] - t[0];
    assert.ok(t.length >= 2 && t.length <= n + 1, `${t.length} ticks`);
    const mag = 10 ** Math.floor(Math.log10(step) + 1e-9), m = step / mag;
    assert.ok([1, 2, 5].some((k) => Math.abs(m - k) < 1e-6), `step ${step}`);
    for (let k = 1; k < t.length; k++) close(t[k] - t[k - 1], step, step * 1e-6, "even spacing");
    for (const v of t) {
      assert.ok(v >= lo - step * 1e-6 && v <= hi + step * 1e-6, `${v} inside [${lo}, ${hi}]`);
      close(v / step, Math.round(v / step), 1e-6, `${v} a multiple of the step`);
    }
    assert.ok(t[0] - lo < step && hi - t.at(-1) < step, "no gap of a whole step at either end");
    assert.ok((hi - lo) / step <= n + 1e-9, "at most n intervals");
    if (lo < 0 && hi > 0) assert.ok(t.includes(0), "zero exactly, not −1e−17");
  });
}

test("ticks: degenerate domains; tick labels keep 6 digits and a true minus", () => {
  assert.deepEqual(ticks(2, 2), [2]);
  assert.deepEqual(ticks(3, 1), [3]);
  assert.deepEqual(ticks(NaN, 1), []);
  assert.ok(ticks(1, 1 + 1e-15).length <= 50);
  assert.equal(fmtTick(-0.5), "−0.5");
  assert.equal(fmtTick(0.1 + 0.2), "0.3");
  assert.equal(fmtTick(300000), "300000");
  // no log scales: the scene format has none (losses are drawn as log₁₀ values on linear axes)
  assert.ok(!/log/i.test(JSON.stringify(Object.keys(makeScale({xlim: [0, 1], ylim: [0, 1]})))));
});

test("colour maps: the ends are the stops; viridis gets lighter all the way, diverging is lightest in the middle", () => {
  assert.deepEqual(cmap("viridis", 0), [68, 1, 84]);
  assert.deepEqual(cmap("viridis", 1), [253, 231, 37]);
  assert.deepEqual(cmap("diverging", 0), [33, 102, 172]);
  assert.deepEqual(cmap("diverging", 1), [178, 24, 43]);
  assert.deepEqual(cmap("diverging", 0.5), [247, 247, 247]);
  assert.deepEqual(cmap("viridis", -3), cmap("viridis", 0), "clamped below");
  assert.deepEqual(cmap("viridis", 7), cmap("viridis", 1), "clamped above");
  assert.deepEqual(cmap("viridis", NaN), cmap("viridis", 0), "NaN as 0");
  const L = (name) => grid(0, 1, 201).map((t) => lightnessL(cmap(name, t)));
  const v = L("viridis");
  for (let k = 1; k < v.length; k++) assert.ok(v[k] >= v[k - 1] - 1e-9, `viridis lightness drops at t = ${k / 200}`);
  assert.ok(v.at(-1) - v[0] > 60, "a wide range of lightness");
  const dv = L("diverging");
  for (let k = 1; k <= 100; k++) assert.ok(dv[k] >= dv[k - 1] - 1e-9, `diverging lightness drops at t = ${k / 200}`);
  for (let k = 101; k < dv.length; k++) assert.ok(dv[k] <= dv[k - 1] + 1e-9, `diverging lightness rises at t = ${k / 200}`);
  // continuous: no jump between neighbouring t larger than a few units of each channel
  for (const name of ["viridis", "diverging"]) for (const t of grid(0, 0.999, 300)) {
    const [c0, c1] = [cmap(name, t), cmap(name, t + 0.001)];
    assert.ok(c0.every((c, k) => Math.abs(c - c1[k]) <= 2), `${name} jumps at ${t}`);
  }
});

test("arrows ending together get their labels on separate lines, clear of the panel's labels", () => {
  const panel = {xlim: [0, 1], ylim: [0, 1], layers: [
    {kind: "label", at: [0.52, 0.5], text: "τ₁"},
    ...["MAML", "FOMAML", "Reptile"].map((m) => ({kind: "arrow", from: [0.2, 0.2], to: [0.5, 0.5], label: m})),
    {kind: "arrow", from: [0.9, 0.1], to: [0.9, 0.2], label: "alone"}]};
  const svg = layersSVG(panel, makeScale(panel));
  const at = Object.fromEntries([...svg.matchAll(/<text x="([-\d.]+)" y="([-\d.]+)" class="arrow-label">([^<]+)</g)]
    .map((m) => [m[3], [Number(m[1]), Number(m[2])]]));
  assert.equal(Object.keys(at).length, 4);
  const ys = ["MAML", "FOMAML", "Reptile"].map((m) => at[m][1]);
  assert.equal(new Set(ys).size, 3, `labels at ${ys}`);
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) assert.ok(Math.abs(ys[i] - ys[j]) >= 19 - 1e-9);
  const s = makeScale(panel), tip = [s.sx(0.9), s.sy(0.2)];
  close(at.alone[0], tip[0] + 0, 0.01, "an arrow alone keeps its label's x");   // pointing up: ux = 0
  close(at.alone[1], tip[1] - 6 + 4, 0.01, "and its y (tip + 6 units along the arrow)");
});
