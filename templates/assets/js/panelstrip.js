// Panels too many to hold in view on a phone (three upright, two or more sideways) become a strip, one panel wide,
// that the reader swipes across (figures.css); the strip stays in view under the top bar while the controls move.
// Under it a row of buttons, one per panel, named by the panel's title: a tap (or a key) brings that panel into
// the strip, and the button of the panel in view is marked current. Elsewhere the row is not shown (CSS).
// Also keeps --strip-h, the strip's height, where the row is held (just under the strip).
const SMOOTH = matchMedia("(prefers-reduced-motion: no-preference)");

function panelsOf(box) { return [...box.children].filter((c) => c.matches(".panel")); }

// The panel nearest the middle of the strip's visible width.
function inView(box) {
  const mid = box.scrollLeft + box.clientWidth / 2;
  let best = 0, dist = Infinity;
  panelsOf(box).forEach((p, i) => {
    const d = Math.abs(p.offsetLeft + p.offsetWidth / 2 - mid);
    if (d < dist) { dist = d; best = i; }
  });
  return best;
}

function mark(box, row) {
  const current = inView(box);
  [...row.children].forEach((b, i) => {
    if (i === current) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  });
}

// A button's text: its panel's title without the words all the titles begin with ("MSE after own procedure, by
// meta-updates" and "…, by seconds": "by meta-updates", "by seconds"), which would fill a narrow button alike.
function shortNames(names) {
  const words = names.map((n) => n.split(" "));
  let k = 0;
  while (names.length > 1 && words.every((w) => k < w.length - 1 && w[k] === words[0][k])) k++;
  if (k > 0 && /^[a-z]{1,3}$/.test(words[0][k - 1])) k--;  // keep a short joining word ("by seconds")
  return words.map((w) => w.slice(k).join(" "));
}

function label(row, box) {
  const panels = panelsOf(box);
  row.dataset.count = panels.length;
  const names = panels.map((p, i) => p.querySelector("svg")?.getAttribute("aria-label") || `Panel ${i + 1}`);
  if ([...row.children].map((b) => b.getAttribute("aria-label")).join("\n") === names.join("\n")) return;
  const texts = shortNames(names);
  // retitled panels keep their buttons (and a focused one its focus); another count gets new ones
  if (row.children.length !== names.length) row.replaceChildren(...names.map((_, i) => button(box, i)));
  [...row.children].forEach((b, i) => {
    b.textContent = texts[i];
    b.setAttribute("aria-label", names[i]);  // the whole title
  });
  mark(box, row);
}

function button(box, i) {
  const b = document.createElement("button");
  b.type = "button";
  b.addEventListener("click", () => {
    const p = panelsOf(box)[i];
    if (!p) return;
    // only the strip scrolls, sideways (scrollIntoView would move the page too)
    box.scrollTo({left: p.offsetLeft - (box.clientWidth - p.offsetWidth) / 2, behavior: SMOOTH.matches ? "smooth" : "auto"});
  });
  return b;
}

// Where the panels are a strip, the strip takes focus (arrow keys scroll it), named like its row of buttons.
function focusable(box, row) {
  if (box.scrollWidth > box.clientWidth + 1) {
    box.tabIndex = 0;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", row.getAttribute("aria-label"));
  } else if (box.hasAttribute("tabindex")) {
    for (const a of ["tabindex", "role", "aria-label"]) box.removeAttribute(a);
  }
}

let watched = [];  // [observer, box]: those of an article swapped out (navigate.js) are let go

export function watchStrips(root = document) {
  watched = watched.filter(([o, box]) => box.isConnected || o.disconnect());
  for (const box of root.querySelectorAll(".figure > .panels")) {
    if (box.nextElementSibling?.matches(".panel-tabs")) continue;
    const row = document.createElement("div");
    row.className = "panel-tabs";
    row.setAttribute("role", "group");
    const number = box.closest(".figure").querySelector(".figure-number")?.textContent.trim();
    row.setAttribute("aria-label", number ? `Panels of ${number.replace(/[.:]$/, "")}` : "Panels of this figure");
    box.after(row);
    label(row, box);
    let queued = false;
    box.addEventListener("scroll", () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; mark(box, row); });
    }, {passive: true});
    // a scene with another panel count rebuilds the panels; a new frame may retitle them
    const relabel = new MutationObserver(() => label(row, box));
    relabel.observe(box, {childList: true});
    relabel.observe(box, {subtree: true, attributeFilter: ["aria-label"]});
    watched.push([relabel, box]);
    if (typeof ResizeObserver !== "undefined") {
      const resize = new ResizeObserver(() => {
        box.parentElement?.style.setProperty("--strip-h", box.offsetHeight + "px");
        focusable(box, row);
      });
      resize.observe(box);
      watched.push([resize, box]);
    }
  }
}
