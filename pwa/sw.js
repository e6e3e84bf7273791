// Service worker: the app shell under a versioned cache, served cache first so
// the app opens with no network. /api/, other origins and non-GET requests go
// to the network; records live in IndexedDB, never here, so an update cannot
// lose them. A new version waits until the collector accepts the reload.

const VERSION = '1.0.0'; // keep equal to js/version.js; bump on every shell change
const SHELL_CACHE = `fieldvisit-shell-${VERSION}`;
const CACHE_PREFIX = 'fieldvisit-shell-';

const SHELL = [
  '/',
  '/index.html',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon.svg',
  '/icons/icon-maskable.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
  '/icons/apple-touch-icon.png',
  '/js/app.js',
  '/js/api.js',
  '/js/day-plan.js',
  '/js/db.js',
  '/js/dom.js',
  '/js/events.js',
  '/js/geo.js',
  '/js/guidance.js',
  '/js/hlc.js',
  '/js/i18n.js',
  '/js/ids.js',
  '/js/install.js',
  '/js/money.js',
  '/js/outbox.js',
  '/js/router.js',
  '/js/rules.js',
  '/js/session.js',
  '/js/snapshot.js',
  '/js/storage.js',
  '/js/sw-client.js',
  '/js/sync.js',
  '/js/time.js',
  '/js/version.js',
  '/js/strings/en.js',
  '/js/strings/zh-TW.js',
  '/js/views/account.js',
  '/js/views/accounts.js',
  '/js/views/components.js',
  '/js/views/login.js',
  '/js/views/plan-form.js',
  '/js/views/problems.js',
  '/js/views/sync-status.js',
  '/js/views/today.js',
  '/js/views/visit.js',
];

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

/** Every navigation gets the one HTML page; routing happens in the page. */
async function appShell() {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match('/index.html');
  if (hit) return hit;
  return fetch('/index.html');
}

// ---- lifecycle ----

self.addEventListener('install', (event) => {
  // `cache: 'reload'` skips the HTTP cache so a new version never precaches stale files.
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) =>
    cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))));
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
    if (url.pathname === '/' || url.pathname === '/index.html') event.respondWith(appShell());
    return;
  }
  if (SHELL.includes(url.pathname)) event.respondWith(cacheFirst(request));
});
