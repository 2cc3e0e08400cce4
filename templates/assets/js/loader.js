// The loading indicator: steps runtime → NumPy → mamlviz → ready, with an accessible status; a clear failure message.
// The runtime may start before the indicator's element is parsed (boot.js, from <head>): the indicator keeps its
// state and shows it whenever the element is there (render).
const el = () => document.getElementById("loader");
let state = null;  // {kind: "progress" | "ready" | "failed", text, step, total}

// Where the indicator covers nothing (issue 26): on a phone inside the sticky top bar (in its flow), on a wide screen
// in the menu's column under the menu, which is shortened while it shows (figures.css, .figures-loading).
const PHONE = matchMedia("(max-width: 59.99em)");   // no permanent menu column (site.css)
function place(e) {
  const bar = PHONE.matches && document.querySelector(".topbar");
  const home = bar || document.body;
  if (e.parentElement !== home) home.append(e);
  document.documentElement.classList.toggle("figures-loading", !e.hidden);
  if (!bar && !e.hidden) document.documentElement.style.setProperty("--loader-space", `${e.offsetHeight + 32}px`);
}
PHONE.addEventListener("change", () => { const e = el(); if (e) place(e); });

function render() {
  const e = el();
  if (!e || !state) return;
  const bar = e.querySelector("progress");
  e.querySelector(".loader-text").textContent = state.text;
  if (state.kind === "progress") {
    e.hidden = false;
    bar.max = state.total;
    bar.value = state.step;
  } else if (state.kind === "ready") {
    bar.value = bar.max;
    e.classList.add("done");
    setTimeout(() => { e.hidden = true; place(e); }, 2500);
  } else {
    e.hidden = false;
    e.classList.add("failed");
    e.setAttribute("role", "alert");
    bar.hidden = true;
  }
  place(e);
}

export const loader = {
  render,
  show() {
    state = {kind: "progress", text: "Loading the live figures: starting…", step: 0, total: 4};
    render();
  },
  progress(step, total, label) {
    state = {kind: "progress", text: `Loading the live figures: ${label} (${step}/${total})…`, step: step - 1, total};
    render();
  },
  ready() {
    state = {kind: "ready", text: "The figures are live."};
    render();
  },
  fail(message) {
    state = {kind: "failed", text: message};
    render();
  },
};
