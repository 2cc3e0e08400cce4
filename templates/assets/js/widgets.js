// Widgets: `<div class="widget" data-widget=ID data-module=…>` → import(module).mount(element, data, {signal}).
// The signal aborts when the reader leaves the page by client-side navigation (teardownWidgets): a widget passes it
// to every listener it adds outside its own element (window, document) and stops its timers and observers on
// "abort", so that nothing piles up from visit to visit.
let controller = null;

export async function initWidgets() {
  teardownWidgets();
  controller = new AbortController();
  const signal = controller.signal;
  for (const el of document.querySelectorAll(".widget[data-widget]")) {
    try {
      let data = null;
      const inline = el.querySelector("script.widget-data");
      if (inline) data = JSON.parse(inline.textContent);
      else if (el.dataset.src) data = await (await fetch(new URL(el.dataset.src, document.baseURI))).json();
      const module = await import(new URL(el.dataset.module, document.baseURI).href);
      if (signal.aborted) return;  // the reader left while the widget was loading
      await module.mount(el, data, {signal});
      el.dataset.mounted = "true";
    } catch (e) {
      el.dataset.mounted = "failed";
      const p = document.createElement("p");
      p.className = "figure-message";
      p.textContent = "This interactive piece could not start: " + e.message;
      el.append(p);
    }
  }
}

export function teardownWidgets() {
  if (controller) controller.abort();
  controller = null;
}
