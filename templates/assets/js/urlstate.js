// A figure's state in the URL: #demo-descent:a=0.3;x0=0.2,0.4;starts=0.1,0.2,0.3,0.4 (figures joined by "&").
// Values are validated against the control declarations: numbers clamped, invalid values ignored with a notice.
// (Python validates again in mamlviz.figures, so the worker never sees garbage either.)

// A malformed escape ("%%") must not stop the page: such a hash is read as it stands.
function decode(text) {
  try { return decodeURIComponent(text); } catch (e) { return text; }
}

export function parseHash(hash) {
  const out = {};
  for (const part of decode(hash.replace(/^#/, "")).split("&")) {
    const i = part.indexOf(":");
    if (i < 1) continue;
    const entries = {};
    for (const kv of part.slice(i + 1).split(";")) {
      const j = kv.indexOf("=");
      if (j > 0) entries[kv.slice(0, j)] = kv.slice(j + 1);
    }
    out[part.slice(0, i)] = entries;
  }
  return out;
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
const nums = (text) => text.split(",").map((t) => (t.trim() === "" ? NaN : Number(t)));

// Returns {state, ignored: [key, …]} with the valid entries applied over `state`.
export function applyEntries(controls, state, entries) {
  const next = {...state}, ignored = [];
  for (const [key, text] of Object.entries(entries)) {
    const c = controls.find((c) => c.name === key);
    let ok = false;
    if (!c || c.kind === "button") { ignored.push(key); continue; }
    if (c.kind === "slider") {
      const v = Number(text);
      if (text !== "" && isFinite(v)) { next[key] = c.integer ? Math.round(clamp(v, c.min, c.max)) : clamp(v, c.min, c.max); ok = true; }
    } else if (c.kind === "select") {
      if (Object.prototype.hasOwnProperty.call(c.options, text)) { next[key] = text; ok = true; }
    } else if (c.kind === "toggle") {
      if (["1", "true", "on"].includes(text)) { next[key] = true; ok = true; }
      if (["0", "false", "off"].includes(text)) { next[key] = false; ok = true; }
    } else if (c.kind === "handle") {
      const v = nums(text);
      if (v.length === 2 && v.every(isFinite)) {
        next[key] = [clamp(v[0], ...c.bounds[0]), clamp(v[1], ...c.bounds[1])]; ok = true;
      }
    } else if (c.kind === "points") {
      const v = text === "" ? [] : nums(text);
      if (v.length % 2 === 0 && v.every(isFinite)) {
        const pts = [];
        for (let k = 0; k < v.length && pts.length < c.max_points; k += 2) {
          pts.push(c.bounds ? [clamp(v[k], ...c.bounds[0]), clamp(v[k + 1], ...c.bounds[1])] : [v[k], v[k + 1]]);
        }
        next[key] = pts; ok = true;
      }
    }
    if (!ok) ignored.push(key);
  }
  return {state: next, ignored};
}

function encodeValue(c, v) {
  if (c.kind === "toggle") return v ? "1" : "0";
  if (c.kind === "handle") return v.map((x) => +x.toFixed(4)).join(",");
  if (c.kind === "points") return v.flat().map((x) => +x.toFixed(4)).join(",");
  if (typeof v === "number") return String(+v.toFixed(6));
  return String(v);
}

// The figure's entry: only values that differ from the defaults.
export function encodeFigure(id, controls, state, defaults) {
  const parts = [];
  for (const c of controls) {
    if (c.kind === "button" || !(c.name in state)) continue;
    if (JSON.stringify(state[c.name]) === JSON.stringify(defaults[c.name])) continue;
    parts.push(`${c.name}=${encodeValue(c, state[c.name])}`);
  }
  return `${id}:${parts.join(";")}`;
}

// The current hash with this figure's entry replaced.
export function hashWith(id, entry) {
  const kept = location.hash.replace(/^#/, "").split("&").filter((p) => p && !decode(p).startsWith(id + ":"));
  return "#" + [...kept, entry].join("&");
}
