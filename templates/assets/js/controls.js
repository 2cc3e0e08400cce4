// Controls declared beside the figure in Python (Slider, Select, Toggle, Button) become native form controls.
import {formatValue} from "./render.js";

function decimals(step) {
  const s = String(step);
  return s.includes(".") ? s.split(".")[1].length : 0;
}

export function sliderText(c, v) { return formatValue(Number(v), "." + decimals(c.step) + "f"); }

// Returns {element, set(value)}; onChange(name, value) or onAction(name) is called on input.
export function makeControl(c, value, figureId, onChange, onAction) {
  const id = `ctl-${figureId}-${c.name}`;
  const wrap = document.createElement("div");
  wrap.className = "control control-" + c.kind;
  wrap.dataset.control = c.name;
  if (c.kind === "slider") {
    wrap.innerHTML = `<label for="${id}"></label><input type="range" id="${id}"><output for="${id}"></output>`;
    wrap.querySelector("label").textContent = c.label;
    const input = wrap.querySelector("input"), out = wrap.querySelector("output");
    Object.assign(input, {min: c.min, max: c.max, step: c.step});
    const set = (v) => { input.value = v; out.textContent = sliderText(c, v); input.setAttribute("aria-valuetext", out.textContent); };
    set(value);
    input.addEventListener("input", () => {
      const v = c.integer ? Math.round(Number(input.value)) : Number(input.value);
      set(v);
      onChange(c.name, v);
    });
    return {element: wrap, set};
  }
  if (c.kind === "select") {
    wrap.innerHTML = `<label for="${id}"></label><select id="${id}"></select>`;
    wrap.querySelector("label").textContent = c.label;
    const select = wrap.querySelector("select");
    for (const [v, label] of Object.entries(c.options)) select.append(new Option(label, v));
    const set = (v) => { select.value = v; };
    set(value);
    select.addEventListener("change", () => onChange(c.name, select.value));
    return {element: wrap, set};
  }
  if (c.kind === "toggle") {
    wrap.innerHTML = `<input type="checkbox" id="${id}"><label for="${id}"></label>`;
    wrap.querySelector("label").textContent = c.label;
    const box = wrap.querySelector("input");
    const set = (v) => { box.checked = Boolean(v); };
    set(value);
    box.addEventListener("change", () => onChange(c.name, box.checked));
    return {element: wrap, set};
  }
  if (c.kind === "button") {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = c.label;
    button.addEventListener("click", () => onAction(c.name));
    wrap.append(button);
    return {element: wrap, set: () => {}};
  }
  return null;
}

// Controls declared with a group (a method's settings) are laid out together and folded: the group's toggle stays
// visible, then a <details> whose summary lists the current values opens the other controls. Returns
// place(c, widget), which puts a widget into `box` (or its group) and keeps the group's summary current.
export function controlGroups(box) {
  const groups = new Map();
  const refresh = (g) => {
    g.values.textContent = g.sliders.map(({c, short, w}) => `${short} ${w.text()}`).join(" · ");
  };
  return (c, w) => {
    if (!c.group) { box.append(w.element); return; }
    let g = groups.get(c.group);
    if (!g) {
      const row = document.createElement("div");
      row.className = "control-group";
      row.dataset.group = c.group;
      row.innerHTML = `<details><summary><span class="visually-hidden"></span>settings: <span class="group-values"></span></summary><div class="group-controls"></div></details>`;
      box.append(row);
      g = {row, details: row.querySelector("details"), inner: row.querySelector(".group-controls"),
        name: row.querySelector("summary .visually-hidden"), values: row.querySelector(".group-values"),
        prefix: c.group, sliders: []};
      g.name.textContent = c.group + " ";
      groups.set(c.group, g);
    }
    if (c.kind === "toggle") {          // the switch stays visible, before the fold; it names the group
      g.row.insertBefore(w.element, g.details);
      g.prefix = c.label;
      g.name.textContent = c.label + " ";
    } else {
      g.inner.append(w.element);
    }
    if (c.kind === "slider") {
      const short = c.label.startsWith(g.prefix + " ") ? c.label.slice(g.prefix.length + 1) : c.label;
      const out = w.element.querySelector("output");
      g.sliders.push({c, short, w: {text: () => out.textContent}});
      const set = w.set;
      w.set = (v) => { set(v); refresh(g); };
    }
    refresh(g);
  };
}
