// The offline copy of the site: a service worker at the site's root (its scope is the whole site, whatever the
// sub-path). The build writes VERSION (a hash of offline.json, the manifest of every file and its sha256).
// install:  every file of the manifest goes into a new cache named after VERSION, each checked against its sha256;
//           any failure deletes that cache and fails the install, so the previous version stays whole.
// activate: (when no page of the old version is open, or a page asks for it) delete the older caches of this scope.
// fetch:    a file of the site is answered from this version's cache; anything else goes to the network.
// Pages hear {type: "offline", state: "saving" | "ready" | "failed", percent, error} (see assets/js/offline.js).
"use strict";
const VERSION = "__VERSION__";
const SCOPE = self.registration.scope;            // ends with "/"
const PREFIX = `mamlviz ${SCOPE} `;               // caches are per origin: name ours by scope and version
const CACHE = PREFIX + VERSION;
const PARALLEL = 4;

async function tell(message) {
  for (const client of await self.clients.matchAll({includeUncontrolled: true, type: "window"})) {
    client.postMessage({type: "offline", version: VERSION, ...message});
  }
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const urlOf = (name) => SCOPE + name.split("/").map(encodeURIComponent).join("/");

async function save(cache, name, expected) {
  const response = await fetch(urlOf(name), {cache: "no-cache"});
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  const body = await response.arrayBuffer();
  if (hex(await crypto.subtle.digest("SHA-256", body)) !== expected) {
    throw new Error(`${name} is not the file of this version (the site changed while it was being saved)`);
  }
  // the body is decoded: keep only its type, and the policy header (a worker's policy comes from its response)
  const headers = {"Content-Type": response.headers.get("Content-Type") || "application/octet-stream"};
  const policy = response.headers.get("Content-Security-Policy");
  if (policy) headers["Content-Security-Policy"] = policy;
  await cache.put(urlOf(name), new Response(body, {headers}));
}

async function fill() {
  await caches.delete(CACHE);  // what an interrupted earlier attempt left is never trusted
  try {
    const response = await fetch(SCOPE + "offline.json", {cache: "no-store"});
    if (!response.ok) throw new Error(`offline.json: HTTP ${response.status}`);
    const manifest = await response.json();
    if (manifest.version !== VERSION) throw new Error("the site changed while it was being saved");
    const cache = await caches.open(CACHE);
    const queue = Object.entries(manifest.files);
    let done = 0, broken = false;
    const next = async () => {  // PARALLEL of these share the queue; the first failure stops them all
      for (let item = queue.shift(); item && !broken; item = queue.shift()) {
        try { await save(cache, item[0], item[1].sha256); } catch (e) { broken = true; throw e; }
        done += item[1].bytes;
        if (!broken) tell({state: "saving", percent: Math.floor(100 * done / Math.max(1, manifest.bytes))});
      }
    };
    await Promise.all(Array.from({length: PARALLEL}, next));
  } catch (e) {
    await caches.delete(CACHE);
    await tell({state: "failed", error: String(e && e.message || e)});
    throw e;
  }
}

async function switchOver() {
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
  }
  await self.clients.claim();
  await tell({state: "ready"});
}

self.addEventListener("install", (event) => event.waitUntil(fill()));
self.addEventListener("activate", (event) => event.waitUntil(switchOver()));
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();  // the reader chose the new version
});

async function answer(request, key) {
  const hit = await (await caches.open(CACHE)).match(key);
  if (!hit) return fetch(request);
  return request.method === "HEAD" ? new Response(null, {headers: hit.headers}) : hit;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if ((request.method !== "GET" && request.method !== "HEAD") || !url.href.startsWith(SCOPE)) return;
  const path = url.origin + url.pathname;  // the query and fragment do not name another file
  event.respondWith(answer(request, path === SCOPE ? SCOPE + "index.html" : path));
});
