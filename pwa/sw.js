// Service worker: the app shell under a versioned cache, served cache first so
// the app opens with no network. /api/, other origins (map tiles) and non-GET
// requests go to the network; records live in IndexedDB, never here, so an
// update cannot lose them. A new version waits until the collector accepts
// the reload.
//
// The version and the file list are filled in by the server from the shell's
// own files (server/shell.py: a content hash), never by hand.
const VERSION = '__SHELL_VERSION__';
const SHELL = ['__SHELL_FILES__'];

const SHELL_CACHE = `fieldvisit-shell-${VERSION}`;
const CACHE_PREFIX = 'fieldvisit-shell-';
const PAGE = SHELL[0]; // the versioned index.html
const SHELL_PATHS = new Set(SHELL);

// ---- strategies ----

/** Cache first, then network (and remember what the network gave). */
async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') cache.put(request, response.clone());
  return response;
}

/** Every navigation to the app gets its one HTML page; routing happens in the page. */
async function appShell(request) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(PAGE);
  if (hit) return hit;
  return fetch(request);
}

// ---- lifecycle ----

self.addEventListener('install', (event) => {
  // The versioned URLs never change content, so the browser's HTTP cache may
  // answer: on a first visit the files the page has just loaded are reused,
  // not downloaded a second time.
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== SHELL_CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    // Only the app's own page: supervisor pages on this origin stay server-rendered.
    if (url.pathname === '/' || url.pathname === '/index.html') event.respondWith(appShell(request));
    return;
  }
  if (SHELL_PATHS.has(url.pathname)) event.respondWith(cacheFirst(request));
});
