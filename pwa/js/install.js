// Installing the app matters beyond convenience: Safari clears a site's
// storage after seven days without a visit, but not an installed web app's.
// Chromium offers a prompt we can trigger; iOS needs "Add to Home Screen".

import { emit } from './events.js';

let deferredPrompt = null;

addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  deferredPrompt = event;
  emit('install-available');
});

addEventListener('appinstalled', () => { deferredPrompt = null; emit('install-available'); });

export function isInstalled() {
  return matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
}

export function canPromptInstall() { return !!deferredPrompt; }

export function isIos() { return /iphone|ipad|ipod/i.test(navigator.userAgent); }

export async function promptInstall() {
  if (!deferredPrompt) return false;
  deferredPrompt.prompt();
  const choice = await deferredPrompt.userChoice.catch(() => null);
  deferredPrompt = null;
  return choice?.outcome === 'accepted';
}
