/*
 * GPU Sentinel's service worker. The build (web/vite.config.ts) prepends VERSION and SHELL, the app shell of
 * this build: "/" (index.html) and every hashed asset. A new build changes those lines, so the browser
 * installs the new worker on its next check; it takes over at once and the page offers a reload.
 *
 * - Navigations get the cached shell at once (instant load, and the dashboard still opens, showing
 *   "server unreachable", while the server is down); with no cached shell, the network; with neither,
 *   a page that says the server cannot be reached.
 * - Hashed assets: cache first (a name never changes content).
 * - API, metrics, docs and the live stream: never touched, never cached.
 * - Alert notifications: the page calls registration.showNotification(); a click focuses the dashboard.
 */
/* global VERSION, SHELL */
const CACHE = `gpu-sentinel-shell-${VERSION}`;
const CACHE_PREFIX = 'gpu-sentinel-shell-';
const PASSTHROUGH = ['/api/', '/metrics', '/docs', '/redoc', '/openapi.json'];

const OFFLINE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>GPU Sentinel · server unreachable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<main><h1>GPU Sentinel server unreachable</h1>
<p data-testid="offline-message">The GPU Sentinel server cannot be reached, and this browser has no saved copy of the
dashboard yet. Check that the service is running and that this machine can reach it, then
<a href="">try again</a>.</p></main>
</body></html>`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function passesThrough(url) {
  return url.origin !== self.location.origin || PASSTHROUGH.some((prefix) => url.pathname === prefix || url.pathname.startsWith(prefix));
}

function offlinePage() {
  return new Response(OFFLINE_PAGE, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' } });
}

async function navigate(request) {
  const cache = await caches.open(CACHE);
  const shell = await cache.match('/');
  if (shell) return shell;
  try {
    return await fetch(request);
  } catch {
    return offlinePage();
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (passesThrough(url)) return;
  if (request.mode === 'navigate') event.respondWith(navigate(request));
  else if (url.pathname.startsWith('/assets/')) event.respondWith(asset(request));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      return open ? open.focus() : self.clients.openWindow('/alerts');
    }),
  );
});
