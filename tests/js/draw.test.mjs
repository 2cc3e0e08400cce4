// The drawing panel's input code (templates/assets/js/widgets/fewshot-logic.js): a reader's strokes become a glyph
// exactly as the generator's drawings do. draw_strokes.json holds the generator's own strokes of 30 game glyphs
// (before quantising) and the glyph text the game shows, written by `.venv/bin/python tests/js/make_draw_fixture.py`.
// Run: node --test tests/js/
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";

const here = new URL(".", import.meta.url);
const source = readFileSync(new URL("../../templates/assets/js/widgets/fewshot-logic.js", here), "utf8");
const logic = await import("data:text/javascript," + encodeURIComponent(source));
const {quantiseStrokes, encodeGlyph, placeDrawing, drawingGlyph, drawingProblem, rasterise, roundHalfEven, pool, decodeGlyph} = logic;
const fixture = JSON.parse(readFileSync(new URL("draw_strokes.json", here), "utf8"));

test("a game glyph's own strokes through the panel's input code give the game's glyph and ink image, bit for bit", () => {
  let placedAsTheyAre = 0;
  for (const g of fixture.glyphs) {
    const q = quantiseStrokes(g.strokes, g.width);
    assert.equal(encodeGlyph(q.strokes, q.wcode), g.text, `class ${g.class}, drawer ${g.drawer}`);
    const placed = placeDrawing(g.strokes, fixture.placement);
    if (placed.scale === 1 && placed.shift[0] === 0 && placed.shift[1] === 0) {
      placedAsTheyAre += 1;
      assert.equal(placed.strokes, g.strokes, "a drawing in range is not touched");
      const text = drawingGlyph(g.strokes, fixture.placement, q.wcode);
      assert.equal(text, g.text);
      assert.deepEqual(rasterise(text), rasterise(g.text));
    }
  }
  assert.ok(placedAsTheyAre >= 0.9 * fixture.glyphs.length, `${placedAsTheyAre} of ${fixture.glyphs.length} in range`);
});

test("rounding halves to even, as numpy's rint and Python's round", () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 3].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3, 3]);
});

test("a drawing out of range is scaled and moved just into the game's range; a small one grows", () => {
  const {placement} = fixture;
  const big = [[[0, 0], [1, 1]], [[0, 1], [1, 0]]];            // an X filling the whole box
  const p = placeDrawing(big, placement);
  const xs = p.strokes.flat().map((v) => v[0]), ys = p.strokes.flat().map((v) => v[1]);
  assert.ok(Math.abs(Math.max(...xs) - Math.min(...xs) - placement.size[1]) < 1e-12);
  assert.ok(Math.abs((Math.max(...ys) + Math.min(...ys)) / 2 - 0.5) < 1e-12);
  const corner = [[[0.02, 0.03], [0.12, 0.1]]];                 // small, in a corner
  const c = placeDrawing(corner, placement);
  const cx = c.strokes.flat().map((v) => v[0]);
  assert.ok(Math.abs(Math.max(...cx) - Math.min(...cx) - placement.size[0]) < 1e-12);
  assert.ok(Math.abs((Math.max(...cx) + Math.min(...cx)) / 2 - placement.centre[0]) < 1e-12);
  const text = drawingGlyph(corner, placement, fixture.width_code);
  const g = decodeGlyph(text);
  assert.equal(g.width, (fixture.width_code + 10) / 10);
  const img = rasterise(text);
  assert.ok(img.some((v) => v > 0.9), "ink in the image");
  assert.equal(pool(img).length, 196);
});

test("bad drawings are named: empty, a dot", () => {
  assert.equal(drawingProblem([]), "empty");
  assert.equal(drawingProblem([[]]), "empty");
  assert.equal(drawingProblem([[[0.5, 0.5]]]), "dot");
  assert.equal(drawingProblem([[[0.5, 0.5], [0.51, 0.52]]]), "dot");
  assert.equal(drawingProblem([[[0.2, 0.5], [0.8, 0.5]]]), null);
});

test("2 × 2 block means", () => {
  const img = Float32Array.from({length: 784}, (_, k) => (k % 28) / 28);
  const p = pool(img);
  assert.ok(Math.abs(p[0] - (0 + 1 / 28) / 2) < 1e-7 && Math.abs(p[13] - (26 / 28 + 27 / 28) / 2) < 1e-7);
});
