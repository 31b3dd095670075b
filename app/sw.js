// Livret's service worker: keeps the app itself (page, script, wasm, style) on the device,
// so it opens with the network cut — the dossiers are in IndexedDB already. Online, every
// request goes to the relay first (always the current app) and refreshes the copy; offline,
// the copy answers. Nothing of the dossiers passes here: they travel over the WebSocket,
// sealed, and the API is never cached.
const VERSION = "__LIVRET_APP_VERSION__";
const CACHE = "livret-app-" + VERSION;
// The PDF module and the fonts it embeds are kept too, so a livret can be exported offline,
// and the built-in référentiels (their list written by scripts/build-app.sh).
const SHELL = ["/", "/index.html", "/style.css", "/livret_app.js", "/livret_app_bg.wasm",
  "/idb-worker.js",
  "/pdf/livret_pdf.js", "/pdf/livret_pdf_bg.wasm",
  "/fonts/DejaVuSans.ttf", "/fonts/DejaVuSans-Bold.ttf", "__LIVRET_REFERENTIELS__"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("livret-app-") && n !== CACHE).map((n) => caches.delete(n)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin
      || url.pathname.startsWith("/api/")) {
    return;
  }
  // Client-side routes are the page itself.
  const key = request.mode === "navigate" ? "/index.html" : url.pathname;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(() => caches.open(CACHE)
        .then((cache) => cache.match(key))
        .then((cached) => cached || Response.error())),
  );
});
