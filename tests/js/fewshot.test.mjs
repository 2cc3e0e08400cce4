// The Part 1 game's logic (templates/assets/js/widgets/fewshot-logic.js): trials, the naive machines, the tallies.
// Reference images from Python (mamlviz.glyphs.glyph_image, glyphtasks.blur_matrix) are in glyph_rasters.json,
// written by `.venv/bin/python tests/js/make_glyph_fixture.py`. Run: node --test tests/js/
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";

const here = new URL(".", import.meta.url);
const source = readFileSync(new URL("../../templates/assets/js/widgets/fewshot-logic.js", here), "utf8");
const game = await import("data:text/javascript," + encodeURIComponent(source));
const {makeTrial, rasterise, blur, nearest, machineChoice, recordAnswer, recordSkip, cleanScores, RASTER} = game;
const fixture = JSON.parse(readFileSync(new URL("glyph_rasters.json", here), "utf8"));

// A stand-in for the game's data: what makeTrial reads (the seed, the alphabets, the number of drawers).
const alphabets = (sizes) => sizes.map((count, k) => ({name: `A${k}`, count, start: sizes.slice(0, k).reduce((a, b) => a + b, 0)}));

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

for (const [mode, nDrawers] of [[5, 20], [20, 20], [5, 6], [20, 3], [5, 2]]) {
  test(`trials (${mode}-way, ${nDrawers} drawers): the query's drawer is never its exemplar's; classes distinct, from one alphabet`, () => {
    const data = {seed: 20170309, n_drawers: nDrawers, alphabets: alphabets([22, 30, 4, 25])};
    for (let round = 0; round < 500; round++) {
      const t = makeTrial(data, mode, round);
      assert.deepEqual(t, makeTrial(data, mode, round), "a round is the same trial every time");
      assert.equal(t.mode, mode); assert.equal(t.round, round);
      assert.ok(Number.isInteger(t.answer) && t.answer >= 0 && t.answer < mode);
      assert.ok(t.queryDrawer >= 0 && t.queryDrawer < nDrawers && Number.isInteger(t.queryDrawer));
      assert.notEqual(t.queryDrawer, t.drawers[t.answer], `round ${round}: the query is the exemplar's own drawing`);
      assert.equal(t.classes.length, mode); assert.equal(new Set(t.classes).size, mode, "distinct classes");
      const a = data.alphabets.find((x) => x.name === t.alphabet);
      assert.ok(a.count >= mode, "an alphabet with enough characters");
      for (const c of t.classes) assert.ok(c >= a.start && c < a.start + a.count, `class ${c} from ${t.alphabet}`);
      assert.equal(t.drawers.length, mode);
      for (const d of t.drawers) assert.ok(Number.isInteger(d) && d >= 0 && d < nDrawers);
      if (nDrawers >= mode) assert.equal(new Set(t.drawers).size, mode, "each exemplar by a different drawer");
    }
  });
}

test("trials: the answer's position and the query's drawer are spread (not always the same)", () => {
  const data = {seed: 1, n_drawers: 20, alphabets: alphabets([22, 22])};
  const trials = Array.from({length: 400}, (_, r) => makeTrial(data, 5, r));
  const count = (f) => Object.values(trials.reduce((h, t) => ({...h, [f(t)]: (h[f(t)] || 0) + 1}), {}));
  assert.equal(count((t) => t.answer).length, 5);
  assert.ok(Math.min(...count((t) => t.answer)) > 40, "every position answers about a fifth of the time");
  assert.equal(count((t) => t.queryDrawer).length, 20);
});

test("the raster equals mamlviz.glyphs.glyph_image for the same glyph (30 glyphs of the game's set)", () => {
  let worst = 0, ink = 0;
  fixture.texts.forEach((row, c) => row.forEach((text, d) => {
    const img = rasterise(text);
    assert.equal(img.length, RASTER * RASTER);
    worst = Math.max(worst, maxDiff(img, fixture.raw[c][d]));
    ink += fixture.raw[c][d].filter((v) => v > 0.5).length;
  }));
  assert.ok(worst < 1e-4, `largest pixel difference ${worst}`);
  assert.ok(ink > 30 * 40, "the glyphs have ink (the comparison is not of empty images)");
});

test("the blur equals B·img·Bᵀ of mamlviz.glyphtasks.blur_matrix", () => {
  fixture.blurred.forEach((row, c) => row.forEach((ref, d) => {
    const got = blur(rasterise(fixture.texts[c][d]));
    assert.ok(maxDiff(got, ref) < 1e-4, `glyph ${c}/${d}: ${maxDiff(got, ref)}`);
    assert.ok(maxDiff(got, fixture.raw[c][d]) > 0.05, "it does blur");
  }));
});

test("the naive machine picks the exemplar nearest the query (numpy's argmin), also where that is wrong", () => {
  const image = (c, d) => rasterise(fixture.texts[c][d]);
  const wrong = fixture.trials.filter((t) => t.nearest !== t.answer);
  assert.ok(wrong.length >= 3 && wrong.length < fixture.trials.length);
  for (const t of fixture.trials) assert.equal(machineChoice({...t, mode: 5}, image), t.nearest, JSON.stringify(t));
});

// Hand-made glyphs (the game's encoding: pen-width character, then x, y, … one base64url character each, 0..63).
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const glyph = (width, ...strokes) => B64[width] + strokes.map((s) => s.map((v) => B64[v]).join("")).join(" ");

test("the naive machine on a hand-made trial: a bar nearly where the query's is wins, whatever the answer", () => {
  const texts = {
    vertical: glyph(20, [32, 10, 32, 50]),
    horizontal: glyph(20, [10, 30, 50, 30]),
    diagonal: glyph(20, [10, 10, 50, 50]),
    query: glyph(20, [10, 32, 50, 32]),                 // the horizontal bar two units lower
  };
  const names = ["vertical", "horizontal", "diagonal"];
  const image = (c, d) => rasterise(d === 1 ? texts.query : texts[names[c]]);
  for (const answer of [0, 1, 2]) {
    const t = {mode: 3, classes: [0, 1, 2], drawers: [0, 0, 0], answer, queryDrawer: 1};
    // the query is the answer's class drawn by drawer 1: here always the lowered horizontal bar
    assert.equal(machineChoice(t, image), 1, `answer ${answer}`);
  }
  // nearest itself: smallest squared distance, the first on ties
  assert.equal(nearest([0, 0], [[1, 1], [0, 1], [5, 0]]), 1);
  assert.equal(nearest([0, 0], [[1, 0], [0, 1], [-1, 0]]), 0);
  assert.equal(nearest([3, 4], [[0, 0], [3, 4.5], [3, 3.4]]), 1);
});

function freshState(modes = [5, 20]) {
  const st = {scores: cleanScores(null, modes), machine: cleanScores(null, modes), blur: cleanScores(null, modes),
              rounds: Object.fromEntries(modes.map((m) => [String(m), 0]))};
  return st;
}

test("a skipped trial counts for nothing; the round moves on", () => {
  const st = freshState(), before = JSON.parse(JSON.stringify(st));
  const t = makeTrial({seed: 3, n_drawers: 20, alphabets: alphabets([22])}, 5, 0);
  recordSkip(st, t);
  for (const k of ["scores", "machine", "blur"]) assert.deepEqual(st[k], before[k], `${k} unchanged`);
  assert.deepEqual(st.rounds, {5: 1, 20: 0});
});

test("an answered trial counts once in each tally of its mode: right where the pick is the answer", () => {
  const st = freshState();
  const data = {seed: 3, n_drawers: 20, alphabets: alphabets([22])};
  const t = makeTrial(data, 20, 7), other = (t.answer + 1) % 20;
  recordAnswer(st, t, t.answer, {machine: other, blur: t.answer});
  assert.deepEqual(st.scores, {5: {right: 0, total: 0}, 20: {right: 1, total: 1}});
  assert.deepEqual(st.machine, {5: {right: 0, total: 0}, 20: {right: 0, total: 1}});
  assert.deepEqual(st.blur, {5: {right: 0, total: 0}, 20: {right: 1, total: 1}});
  assert.deepEqual(st.rounds, {5: 0, 20: 8});
  recordAnswer(st, makeTrial(data, 20, 8), other === 0 ? 1 : 0, {machine: 0, blur: 0});
  assert.equal(st.scores["20"].total, 2); assert.ok(st.scores["20"].right <= 2);
});

test("stored scores are cleaned: garbage becomes zero, right never exceeds total", () => {
  assert.deepEqual(cleanScores({5: {right: "3", total: 2}, 20: "x"}, [5, 20]), {5: {right: 3, total: 3}, 20: {right: 0, total: 0}});
  assert.deepEqual(cleanScores({5: {right: -4, total: 1e400}}, [5]), {5: {right: 0, total: 0}});
  assert.deepEqual(cleanScores(null, [5]), {5: {right: 0, total: 0}});
});
