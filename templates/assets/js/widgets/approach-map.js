// Part 2: a map of few-shot meta-learning approaches (metric-, model-, optimisation-based).
//
// mount(element, data): data.families = [{id, name, idea, methods: [{id, name, year, cite}]}].
// Each method is a link to its paragraph in the prose: the paragraph whose first bold text starts with the
// method's name (written "**Siamese networks** ..." in content/02-where-maml-sits.md). Focusing or hovering a
// method highlights that paragraph; hovering a paragraph highlights its method on the map.


// The prose paragraph describing a method: first <strong> of a <p> (or <li>) whose text starts with its name.
import {el} from "./dom.js";

function findParagraph(scope, name) {
  const want = name.toLowerCase();
  for (const p of scope.querySelectorAll("p, li")) {
    const strong = p.querySelector("strong");
    if (!strong || p.closest(".am-map")) continue;
    const before = p.textContent.slice(0, p.textContent.indexOf(strong.textContent)).trim();
    if (before === "" && strong.textContent.trim().toLowerCase().startsWith(want)) return p;
  }
  return null;
}

export function mount(root, data) {
  const scope = root.closest("main, article") || document.body;
  const families = data.families || [];
  const methods = families.flatMap((f) => f.methods.map((m) => ({ ...m, family: f })));
  const links = new Map();
  const paragraphs = new Map();
  const st = { hover: null, focus: null, para: null };

  for (const m of methods) {
    const p = findParagraph(scope, m.name);
    if (!p) continue;
    if (!p.id) p.id = `method-${m.id}`;
    p.classList.add("am-described");
    p.dataset.method = m.id;
    if (!p.hasAttribute("tabindex")) p.setAttribute("tabindex", "-1");      // a link target that can take focus
    paragraphs.set(m.id, p);
    p.addEventListener("mouseenter", () => { st.para = m.id; update(); });
    p.addEventListener("mouseleave", () => { if (st.para === m.id) st.para = null; update(); });
  }

  const description = el("p", { class: "widget-description am-description", "aria-live": "polite",
                                "data-testid": "approach-map-description" });
  root.classList.add("am-map");
  root.replaceChildren(
    el("div", { class: "am-root", text: "Few-shot meta-learning" }),
    el("div", { class: "am-families" }, ...families.map((f) => el("section", {
      class: "am-family", "data-family": f.id, "aria-label": `${f.name} methods`,
    },
      el("p", { class: "am-family-name" }, el("strong", { text: f.name })),
      el("p", { class: "am-idea", text: f.idea }),
      el("ul", { class: "am-methods" }, ...f.methods.map((m) => {
        const p = paragraphs.get(m.id);
        const a = el("a", {
          class: "am-method", "data-method": m.id, href: p ? `#${p.id}` : null,
          role: p ? null : "button", tabindex: p ? null : "0",
          "aria-describedby": p ? p.id : null,
        }, el("span", { class: "am-name", text: m.name }), el("span", { class: "am-year", text: m.year }));
        a.addEventListener("mouseenter", () => { st.hover = m.id; update(); });
        a.addEventListener("mouseleave", () => { if (st.hover === m.id) st.hover = null; update(); });
        a.addEventListener("focus", () => { st.focus = m.id; update(); });
        a.addEventListener("blur", () => { if (st.focus === m.id) st.focus = null; update(); });
        links.set(m.id, a);
        return el("li", {}, a);
      })),
    ))),
    el("p", { class: "am-hint", text: "Tap a method to jump to its description below, highlighted; hover over it " +
      "or Tab to it to highlight the description without moving." }),
    el("details", { class: "am-details" }, el("summary", { text: "What the figure shows, in words" }), description),
  );

  function update() {
    const active = st.hover ?? st.focus ?? st.para;
    for (const [id, a] of links) {
      a.classList.toggle("is-active", id === active);
      if (id === active) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    }
    for (const [id, p] of paragraphs) p.classList.toggle("is-highlighted", id === active);
    const fam = families.map((f) => `${f.name} (${f.idea}): ${f.methods.map((m) => `${m.name}, ${m.year}`).join("; ")}.`);
    const m = methods.find((x) => x.id === active);
    description.textContent = "A map of few-shot meta-learning in three families. " + fam.join(" ") +
      (m ? ` Highlighted now: ${m.name} (${m.family.name.toLowerCase()}), whose paragraph in the text is marked.`
         : " Nothing is highlighted now.");
  }
  update();
  return { get state() { return { ...st }; } };
}
