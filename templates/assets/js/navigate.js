// Client-side navigation between the pages of the site, so that the worker (Pyodide, NumPy, the package: seconds
// to boot) survives a hop from part to part. A click on a link to another page of the site fetches that page,
// swaps the article, the menu and the title, pushes the URL and re-initialises the figures against the same
// worker. Every URL stays a real static page: a reload, a new tab or a failed fetch simply loads it.
// Back/forward: each history entry keeps its scroll position and its figures' states (history.state).

let hooks = null;
let shownPath = location.pathname;  // the page on screen (a hash-only history move keeps it)
let token = 0;

const dir = (path) => path.slice(0, path.lastIndexOf("/") + 1);

// The URL of a same-site page for this link, or null when the browser should follow it itself.
export function pageUrl(a, here = location) {
  if (!a || !a.getAttribute("href") || (a.target && a.target !== "_self") || a.hasAttribute("download")) return null;
  const url = new URL(a.getAttribute("href"), here.href);
  if (url.origin !== here.origin || dir(url.pathname) !== dir(here.pathname)) return null;
  if (!url.pathname.endsWith(".html") && !url.pathname.endsWith("/")) return null;
  if (url.pathname === here.pathname) return null;  // an anchor on this page
  return url;
}

function remember() {
  const state = {...(history.state || {}), scrollY: window.scrollY, figures: hooks.states()};
  history.replaceState(state, "");
}

function swap(doc) {
  document.title = doc.title;
  for (const name of ["description"]) {
    const mine = document.querySelector(`meta[name="${name}"]`), theirs = doc.querySelector(`meta[name="${name}"]`);
    if (mine && theirs) mine.setAttribute("content", theirs.getAttribute("content"));
  }
  const main = document.getElementById("main"), menu = document.getElementById("menu");
  main.replaceChildren(...doc.getElementById("main").childNodes);
  menu.replaceChildren(...doc.getElementById("menu").childNodes);
  menu.classList.remove("open");
  document.querySelector(".menu-toggle")?.setAttribute("aria-expanded", "false");
  document.body.classList.remove("menu-open");
  // the loading indicator belongs to the runtime, which outlives the page: keep ours, take theirs if we have none
  const loader = doc.getElementById("loader");
  if (loader && !document.getElementById("loader")) document.body.append(loader);
}

async function go(url, {push, restore}) {
  const mine = ++token;
  performance.mark("mamlviz:nav-start");  // the marks time a hop for the benchmark: fetch, swap, figures initialised
  let doc;
  try {
    const response = await fetch(url.href, {credentials: "same-origin"});
    if (!response.ok || !/html/.test(response.headers.get("content-type") || "")) throw new Error(response.status);
    doc = new DOMParser().parseFromString(await response.text(), "text/html");
    if (!doc.getElementById("main") || !doc.getElementById("menu")) throw new Error("not a page of this site");
  } catch (e) {
    location.assign(url.href);  // let the browser load it the ordinary way
    return;
  }
  if (mine !== token) return;  // a newer navigation won
  performance.mark("mamlviz:nav-fetched");
  hooks.leave();
  swap(doc);
  if (push) history.pushState({scrollY: 0}, "", url.href);
  shownPath = location.pathname;
  performance.mark("mamlviz:nav-swapped");
  await hooks.enter(restore ? restore.figures : null);
  performance.mark("mamlviz:nav-entered");
  if (restore && typeof restore.scrollY === "number") {
    window.scrollTo(0, restore.scrollY);
  } else {
    let id = url.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* a malformed escape (garbage in a link): the id as written */ }
    const target = id && document.getElementById(id);
    if (target) target.scrollIntoView(); else window.scrollTo(0, 0);
  }
  // screen readers: the new page starts at its heading, as after an ordinary load
  const h1 = document.querySelector("main h1");
  if (h1 && !restore) {
    h1.setAttribute("tabindex", "-1");
    h1.focus({preventScroll: true});
  }
  document.dispatchEvent(new CustomEvent("mamlviz:navigated", {detail: {url: url.href}}));
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = pageUrl(event.target.closest && event.target.closest("a[href]"));
  if (!url) return;
  event.preventDefault();
  remember();
  go(url, {push: true});
}

function onPop(event) {
  if (location.pathname === shownPath) return;  // a move between anchors of the page on screen
  go(new URL(location.href), {push: false, restore: event.state || {}});
}

// hooks: {leave(), enter(savedFigureStates) → Promise, states() → {figureId: state}}
export function installNavigation(h) {
  if (!window.fetch || !window.DOMParser || !history.pushState) return;
  hooks = h;
  history.scrollRestoration = "manual";
  const saved = history.state;
  if (saved && typeof saved.scrollY === "number") window.scrollTo(0, saved.scrollY);  // a reload keeps its place
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", onPop);
  window.addEventListener("pagehide", remember);
}
