// Registers the service worker and turns a waiting new version into an offer
// ("new version — reload") rather than a surprise. Accepting is safe at any
// moment: unsent records live in IndexedDB, which an update never touches.

import { emit } from './events.js';

let waitingWorker = null;

export function updateWaiting() { return !!waitingWorker; }

function offer(worker) {
  waitingWorker = worker;
  emit('update-available');
}

export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return null;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !waitingWorker) return; // first install: nothing to reload
    reloading = true;
    location.reload();
  });
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  // Look for a new version now and then while the app stays open.
  setInterval(() => registration.update().catch(() => {}), 30 * 60_000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') registration.update().catch(() => {});
  });
  return registration;
}

export function acceptUpdate() {
  waitingWorker?.postMessage({ type: 'SKIP_WAITING' });
}
