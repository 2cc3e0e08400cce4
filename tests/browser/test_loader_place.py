"""The loading indicator ("Loading the live figures…", then "The figures are live.", or why they could not start)
covers no figure and no control, wherever the reader has scrolled, at 390 px (touch) and at 1280 px (issue 26)."""

from __future__ import annotations

import pytest

PART3 = "03-how-maml-works.html"
WIDTHS = {"phone": dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True),
          "wide": dict(viewport={"width": 1280, "height": 800})}

# Scroll through the whole page in one go (the indicator of a ready runtime shows for 2.5 s only) and, at every stop,
# list what the indicator's box overlaps: figures, widgets and every control, each clipped by the boxes that clip it
# (a scrolled menu, the sticky top bar that hides what passes under it).
OVERLAPS = """() => {
  const L = document.getElementById("loader");
  if (!L || L.hidden) return null;
  const bar = document.querySelector(".topbar"), out = [];
  const barBottom = bar && getComputedStyle(bar).display !== "none" ? bar.getBoundingClientRect().bottom : 0;
  const clipped = (e) => {
    let r = e.getBoundingClientRect(), box = {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    if (!bar || !bar.contains(e)) box.top = Math.max(box.top, barBottom);
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowY === "visible") continue;
      const c = a.getBoundingClientRect();
      box = {top: Math.max(box.top, c.top), bottom: Math.min(box.bottom, c.bottom),
             left: Math.max(box.left, c.left), right: Math.min(box.right, c.right)};
    }
    return box;
  };
  const stops = [];
  for (let y = 0; y <= document.documentElement.scrollHeight; y += 300) stops.push(y);
  for (const y of stops) {
    scrollTo(0, y);
    const l = L.getBoundingClientRect();
    for (const e of document.querySelectorAll(".figure, .widget, a[href], button, input, select, summary, [tabindex]")) {
      if (L.contains(e) || e.contains(L) || e.id === "main") continue;
      const r = e.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;  // not shown, or visually hidden
      const b = clipped(e);
      const w = Math.min(b.right, l.right) - Math.max(b.left, l.left), h = Math.min(b.bottom, l.bottom) - Math.max(b.top, l.top);
      if (w > 0.5 && h > 0.5) out.push(`at scrollY ${y}: ${e.tagName.toLowerCase()}.${e.className.baseVal ?? e.className} ` +
                                     `(${(e.textContent || "").trim().slice(0, 30)})`);
    }
  }
  return {stops: stops.length, overlaps: out, text: L.textContent.trim()};
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("moment", ["loading", "live", "failed"])
def test_the_indicator_covers_no_figure_and_no_control(open_page, served_site, width, moment):
    pg = open_page(**WIDTHS[width])
    try:
        if moment == "loading":  # the runtime's .wasm never arrives: the indicator stays at its first step
            pg.route("**/pyodide.asm.wasm", lambda route: None)
        if moment == "failed":
            pg.route("**/pyodide.asm.wasm", lambda route: route.abort())
        pg.goto(served_site + PART3)
        expect = {"loading": "Loading the live figures", "live": "The figures are live.", "failed": "could not start"}[moment]
        pg.wait_for_function(f"!document.getElementById('loader').hidden && "
                             f"document.getElementById('loader').textContent.includes({expect!r})", timeout=120_000)
        seen = pg.evaluate(OVERLAPS)
        assert seen is not None and seen["stops"] > 10, seen
        assert expect in seen["text"]
        assert not seen["overlaps"], f"{width}, {moment}: the indicator covers {seen['overlaps'][:8]}"
    finally:
        pg.context.close()
