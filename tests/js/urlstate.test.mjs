// URL state (templates/assets/js/urlstate.js) against the table of cases shared with Python's validation
// (tests/js/urlstate_cases.json, also read by tests/test_urlstate_cases.py). Run: node --test tests/js/
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";

const here = new URL(".", import.meta.url);
const table = JSON.parse(readFileSync(new URL("urlstate_cases.json", here), "utf8"));
// The module is an ES module served as a plain .js file; load its text as one (no package.json needed).
const source = readFileSync(new URL("../../templates/assets/js/urlstate.js", here), "utf8");
const {parseHash, applyEntries, encodeFigure, hashWith} =
  await import("data:text/javascript," + encodeURIComponent(source));

const controls = table.controls;
const defaults = Object.fromEntries(controls.filter((c) => c.kind !== "button").map((c) => [c.name, c.default]));

for (const c of table.cases) {
  const name = `${c.key}=${JSON.stringify(c.text)} → ${JSON.stringify(c.expect)}`;
  const todo = c.differs === "js" ? c.why : undefined;
  test(name, {todo}, () => {
    const {state, ignored} = applyEntries(controls, defaults, {[c.key]: c.text});
    if (c.expect === null) {
      assert.deepEqual(ignored, [c.key]);
      assert.deepEqual(state, defaults);                  // nothing else moved either
    } else {
      assert.deepEqual(ignored, []);
      assert.deepEqual(state[c.key], c.expect);
    }
  });
}

for (const c of table.roundtrip) {
  test(`round trip ${c.key} = ${JSON.stringify(c.value)}`, () => {
    const state = {...defaults, [c.key]: c.value};
    const hash = "#" + encodeFigure("fig", controls, state, defaults);
    const entries = parseHash(hash).fig ?? {};
    const changed = JSON.stringify(c.value) !== JSON.stringify(defaults[c.key]);
    assert.deepEqual(Object.keys(entries), changed ? [c.key] : []);
    const back = applyEntries(controls, defaults, entries);
    assert.deepEqual(back.ignored, []);
    assert.deepEqual(back.state, {...defaults, [c.key]: c.after});
  });
}

test("the hash holds only values that differ from the defaults, buttons never", () => {
  const state = {...defaults, a: -0.35, n: true, go: 1};
  assert.equal(encodeFigure("demo", controls, state, defaults), "demo:a=-0.35;n=1");
  assert.equal(encodeFigure("demo", controls, defaults, defaults), "demo:");
});

test("parseHash splits figures and entries, decodes escapes, survives malformed ones", () => {
  assert.deepEqual(parseHash("#one:a=1;k=2&two:theta=0.1,0.2"), {one: {a: "1", k: "2"}, two: {theta: "0.1,0.2"}});
  assert.deepEqual(parseHash("#one:m=f%6F"), {one: {m: "fo"}});
  assert.deepEqual(parseHash("#%%%;;;=="), {});
  assert.deepEqual(parseHash("#x:a=%E0%A4%A;k=3"), {x: {a: "%E0%A4%A", k: "3"}});
  assert.deepEqual(parseHash("#:a=1&nofigure&y:=3;b"), {y: {}});
  assert.deepEqual(parseHash(""), {});
});

test("several entries at once: the valid ones apply, each invalid one is named", () => {
  const {state, ignored} = applyEntries(controls, defaults, {a: "0.2", k: "zz", theta: "0.1,0.9", bogus: "1"});
  assert.equal(state.a, 0.2);
  assert.equal(state.k, defaults.k);
  assert.deepEqual(state.theta, [0.1, 0.9]);
  assert.deepEqual(ignored.sort(), ["bogus", "k"]);
});

test("hashWith replaces this figure's entry and keeps the others", () => {
  globalThis.location = {hash: "#other:a=1&fig:a=0.1"};
  assert.equal(hashWith("fig", "fig:a=0.2"), "#other:a=1&fig:a=0.2");
  globalThis.location = {hash: "#fi%67:a=0.1&%%"};      // an encoded copy of the same figure, a malformed part
  assert.equal(hashWith("fig", "fig:k=3"), "#%%&fig:k=3");
  globalThis.location = {hash: ""};
  assert.equal(hashWith("fig", "fig:k=3"), "#fig:k=3");
});
