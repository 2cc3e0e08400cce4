// The loading indicator: steps runtime → NumPy → mamlviz → ready, with an accessible status; a clear failure message.
const el = () => document.getElementById("loader");

export const loader = {
  show() {
    const e = el();
    if (!e) return;
    e.hidden = false;
    e.querySelector(".loader-text").textContent = "Loading the live figures: starting…";
  },
  progress(step, total, label) {
    const e = el();
    if (!e) return;
    const bar = e.querySelector("progress");
    bar.max = total;
    bar.value = step - 1;
    e.querySelector(".loader-text").textContent =
      `Loading the live figures: ${label} (${step}/${total})…`;
  },
  ready() {
    const e = el();
    if (!e) return;
    const bar = e.querySelector("progress");
    bar.value = bar.max;
    e.querySelector(".loader-text").textContent = "The figures are live.";
    e.classList.add("done");
    setTimeout(() => { e.hidden = true; }, 2500);
  },
  fail(message) {
    const e = el();
    if (!e) return;
    e.hidden = false;
    e.classList.add("failed");
    e.setAttribute("role", "alert");
    e.querySelector("progress").hidden = true;
    e.querySelector(".loader-text").textContent = message;
  },
};
