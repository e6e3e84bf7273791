// Boot and shell: opens the database, registers the service worker, routes
// between screens, keeps the header's sync state honest and starts syncing.

import { openDb } from './db.js';
import { h, $ } from './dom.js';
import { t, language, setLanguage, formatTime } from './i18n.js';
import { on } from './events.js';
import { parseRoute } from './router.js';
import { currentSession, forgetCachedSession } from './session.js';
import { loadSnapshot } from './snapshot.js';
import { loadGuidance } from './guidance.js';
import { startAutoSync, syncState, syncNow } from './sync.js';
import { registerServiceWorker, acceptUpdate, updateWaiting } from './sw-client.js';
import { requestPersistence, persistenceAnswer } from './storage.js';
import { parseInstant } from './time.js';
import { todayView } from './views/today.js';
import { loginView } from './views/login.js';
import { MODULE_BASE } from './version.js';
import { clockOff } from './device-report.js';
import { clockText } from './views/clock-words.js';

// The first screens (Today, sign-in) come with the page; the others load on
// first use (the service worker has them all, so offline they open as fast).
const lazy = (load, name) => async (ctx) => (await load())[name](ctx);
const VIEWS = {
  today: todayView,
  login: loginView,
  accounts: lazy(() => import('./views/accounts.js'), 'accountsView'),
  account: lazy(() => import('./views/account.js'), 'accountView'),
  plan: lazy(() => import('./views/plan-form.js'), 'planFormView'),
  visit: lazy(() => import('./views/visit.js'), 'visitView'),
  sync: lazy(() => import('./views/sync-status.js'), 'syncStatusView'),
  map: lazy(() => import('./views/map.js'), 'mapView'),
};
// Today's countdowns move on while the screen stays open.
const TICK_MS = 30_000;

const main = $('#main');
let currentRoute = null;
let renderToken = 0;

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render({ keepScroll = false, background = false } = {}) {
  const token = ++renderToken;
  const session = await currentSession();
  let route = parseRoute();
  if (!session && route.name !== 'login') route = { name: 'login', params: {} };
  const snapshot = session ? await loadSnapshot(session) : null;
  const ctx = {
    session, snapshot, params: route.params, navigate,
    rerender: () => render({ keepScroll: true }),
    onLoggedIn: () => { startAutoSync(); syncNow({ reason: 'login' }); navigate('#/today'); },
  };
  const node = await VIEWS[route.name](ctx);
  if (token !== renderToken) return; // a newer render started meanwhile
  // A refresh nobody asked for never replaces a form opened while it was being prepared.
  if (background && main.querySelector('form')) { updateStatus(session, snapshot); return; }
  const scroll = scrollY;
  // A redraw under the collector's thumbs keeps the field she was typing in.
  const active = document.activeElement;
  const focusedId = main.contains(active) && active.id ? active.id : null;
  const selection = focusedId && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
  const opened = new Set([...main.querySelectorAll('details[open][data-keep-open]')].map((d) => d.dataset.keepOpen));
  main.replaceChildren(node);
  if (keepScroll) for (const d of main.querySelectorAll('details[data-keep-open]')) if (opened.has(d.dataset.keepOpen)) d.open = true;
  if (focusedId && keepScroll) {
    const again = document.getElementById(focusedId);
    again?.focus({ preventScroll: true });
    if (selection && again?.setSelectionRange) try { again.setSelectionRange(...selection); } catch { /* not a text field */ }
  }
  main.setAttribute('aria-busy', 'false');
  if (keepScroll && currentRoute?.name === route.name) scrollTo(0, scroll);
  else if (currentRoute && (currentRoute.name !== route.name || JSON.stringify(currentRoute.params) !== JSON.stringify(route.params))) scrollTo(0, 0);
  currentRoute = route;
  document.body.dataset.route = route.name;
  document.body.dataset.signedIn = session ? 'yes' : 'no';
  updateNav(route.name, snapshot);
  updateStatus(session, snapshot);
}

function updateNav(routeName, snapshot) {
  for (const link of document.querySelectorAll('#nav a')) {
    const active = link.dataset.route === routeName || (routeName === 'visit' && link.dataset.route === 'today')
      || ((routeName === 'account' || routeName === 'plan') && link.dataset.route === 'accounts');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
    link.querySelector('.nav-label').textContent = t(`nav.${link.dataset.route}`);
  }
  const count = snapshot ? snapshot.queue.problems.length : 0;
  const badge = $('#nav-sync-badge');
  badge.textContent = count ? String(count) : '';
  badge.hidden = !count;
}

/**
 * Header: one short, true sentence about the connection and what waits to
 * be sent — always — and, beside it (never instead), how many refusals or
 * conflicts wait to be read.
 */
function updateStatus(session, snapshot) {
  const pill = $('#sync-pill');
  const attention = $('#attention-pill');
  if (!session || !snapshot) { pill.hidden = true; attention.hidden = true; return; }
  pill.hidden = false;
  const state = syncState();
  const waiting = snapshot.queue.waiting.length;
  const problems = snapshot.queue.problems.length;
  let text; let tone;
  if (!navigator.onLine) { text = waiting ? t('pill.offline_waiting', { count: waiting }) : t('pill.offline'); tone = 'warn'; }
  else if (session.token_ok === false) { text = waiting ? t('pill.sign_in_waiting', { count: waiting }) : t('pill.sign_in'); tone = 'bad'; }
  else if (state.running) { text = t('pill.syncing'); tone = 'busy'; }
  else if (waiting) { text = state.lastError ? t('pill.failed_waiting', { count: waiting }) : t('pill.waiting', { count: waiting }); tone = 'warn'; }
  else if (state.lastError) { text = t('pill.failed'); tone = 'warn'; }
  else {
    const at = snapshot.meta.lastSync?.ok_at;
    text = at ? t('pill.synced', { time: formatTime(parseInstant(at)) }) : t('pill.not_synced');
    tone = at ? 'ok' : 'warn';
  }
  pill.textContent = text;
  pill.dataset.tone = tone;
  attention.hidden = !problems;
  attention.textContent = problems ? t('pill.problems', { count: problems }) : '';
  document.querySelector('.topbar').classList.toggle('has-attention', !!problems);
  const relogin = $('#relogin-banner');
  relogin.hidden = session.token_ok !== false;
  relogin.querySelector('span').textContent = t('banner.relogin', { count: waiting });
  relogin.querySelector('a').textContent = t('sync.sign_in_again');
  const clock = $('#clock-banner');
  const off = clockOff(snapshot.meta.clock);
  clock.hidden = !off;
  clock.querySelector('span').textContent = off ? clockText(off) : '';
}

async function refreshStatusOnly() {
  const session = await currentSession();
  updateStatus(session, session ? await loadSnapshot(session) : null);
}

function showUpdateBanner() {
  const banner = $('#update-banner');
  banner.hidden = !updateWaiting();
  banner.querySelector('span').textContent = t('banner.update');
  banner.querySelector('button').textContent = t('banner.reload');
}

function wireShell() {
  $('#app-title').textContent = document.title = t('app.name');
  $('#update-banner button').addEventListener('click', () => acceptUpdate());
  addEventListener('hashchange', () => render());
  addEventListener('online', refreshStatusOnly);
  addEventListener('offline', refreshStatusOnly);
  on('sync-state', refreshStatusOnly);
  on('outbox-changed', refreshStatusOnly); // the waiting count moves as soon as something is saved
  on('data-changed', () => {
    // A screen holding a form is not redrawn under the collector's thumbs when
    // a sync lands; the others refresh in place.
    if (currentRoute && !main.querySelector('form')) render({ keepScroll: true, background: true });
    else refreshStatusOnly();
  });
  on('session-changed', ({ remote }) => {
    if (remote) { forgetCachedSession(); render(); }
  });
  on('language-changed', () => {
    $('#app-title').textContent = document.title = t('app.name');
    showUpdateBanner();
    render({ keepScroll: true });
  });
  on('update-available', showUpdateBanner);
  setInterval(() => {
    if (currentRoute?.name === 'today' && !main.querySelector('form') && document.visibilityState === 'visible') {
      render({ keepScroll: true, background: true });
    }
  }, TICK_MS);
}

async function boot() {
  await openDb();
  await loadGuidance();
  on('data-changed', () => loadGuidance());
  wireShell();
  await render();
  registerServiceWorker().catch((error) => console.warn('fieldvisit: service worker not registered', error));
  const session = await currentSession();
  if (session) {
    startAutoSync();
    if (!(await persistenceAnswer())) requestPersistence();
  }
}

boot().catch((error) => {
  console.error(error);
  main.replaceChildren(h('div', { class: 'empty' }, h('p', null, t('app.boot_failed')), h('p', { class: 'muted' }, String(error?.message || error))));
});

// Test and debugging hook: lets the browser tests drive the app's own modules.
window.fieldvisit = { language, setLanguage, moduleBase: MODULE_BASE };
