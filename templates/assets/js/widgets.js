// Widgets: `<div class="widget" data-widget=ID data-module=…>` → import(module).mount(element, data).
export async function initWidgets() {
  for (const el of document.querySelectorAll(".widget[data-widget]")) {
    try {
      let data = null;
      const inline = el.querySelector("script.widget-data");
      if (inline) data = JSON.parse(inline.textContent);
      else if (el.dataset.src) data = await (await fetch(new URL(el.dataset.src, document.baseURI))).json();
      const module = await import(new URL(el.dataset.module, document.baseURI).href);
      await module.mount(el, data);
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
