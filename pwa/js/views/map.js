// A map of the day's stops in route order, or of one account. Leaflet and
// the tile server come from the server's client configuration (Leaflet is
// served by our own server, server/maps.py); the module is loaded only when
// a map is opened. Whenever the map cannot show — offline, Leaflet or the
// tiles not loading — the same stops stay below as a list in route order,
// each with directions, and a notice says why there is no map.

import { h } from '../dom.js';
import { t, formatTime, formatDay } from '../i18n.js';
import { getValue } from '../db.js';
import { dateInZone } from '../time.js';
import { visitsOnDay, buildDayPlan } from '../day-plan.js';
import { stopState } from '../rules.js';
import { backLink, addressLine, statusBadge, emptyState } from './components.js';

const TILE_TIMEOUT_MS = 8000;
let leafletPromise = null;
let shownMap = null; // one map at a time: the previous one is taken down with its listeners

/** Load Leaflet's script and style once; resolves with window.L. */
function loadLeaflet(config) {
  if (window.L) return Promise.resolve(window.L);
  if (!leafletPromise) {
    leafletPromise = new Promise((resolve, reject) => {
      const css = h('link', { rel: 'stylesheet', href: config.leaflet_css });
      const script = h('script', { src: config.leaflet_js });
      script.addEventListener('load', () => (window.L ? resolve(window.L) : reject(new Error('no Leaflet'))));
      script.addEventListener('error', () => reject(new Error('Leaflet did not load')));
      document.head.append(css, script);
    }).catch((error) => { leafletPromise = null; throw error; });
  }
  return leafletPromise;
}

const positioned = (a) => a && Number.isFinite(Number(a.lat)) && Number.isFinite(Number(a.lon)) && a.lat !== null && a.lon !== null;

function escapeText(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span.innerHTML;
}

export async function mapView(ctx) {
  const { snapshot, params } = ctx;
  const config = await getValue('device', 'clientConfig', null);
  let stops;
  let title;
  let back;
  if (params.accountId) {
    const account = snapshot.accountsById.get(params.accountId);
    if (!account) return h('section', { class: 'view' }, backLink('#/accounts', t('nav.accounts')), emptyState(t('account.not_found')));
    stops = [{ account, order: 1, visit: null }];
    title = account.customer_name;
    back = backLink(`#/account/${account.id}`, t('visit.account_link'));
  } else {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(params.date || '') ? params.date : dateInZone(new Date());
    const visits = visitsOnDay(snapshot.visits, snapshot.accountsById, date);
    stops = buildDayPlan({ visits, accountsById: snapshot.accountsById, serverPlan: snapshot.meta[`plan:${date}`], rules: snapshot.rules });
    title = t('map.day_title', { date: formatDay(date) });
    back = backLink(`#/today?date=${date}`, t('nav.today'));
  }

  const notice = h('p', { class: 'notice', role: 'status', 'data-testid': 'map-notice' }, t('map.loading'));
  const box = h('div', { class: 'map-box', 'data-testid': 'map-box', role: 'region', 'aria-label': t('map.region') });
  const list = h('ol', { class: 'map-list', 'data-testid': 'map-list' }, stops.map((s) => stopItem(s, snapshot)));
  const missing = stops.filter((s) => !positioned(s.account)).length;
  const section = h('section', { class: 'view view-map', 'data-testid': 'map', 'data-map-state': 'loading' },
    back, h('h1', null, title), notice, box,
    missing ? h('p', { class: 'muted' }, t('map.without_position', { count: missing })) : null,
    h('h2', null, params.accountId ? t('map.address') : t('map.in_order')),
    stops.length ? list : emptyState(t('today.empty')));

  const fallback = (reason) => {
    if (section.dataset.mapState === 'fallback') return;
    section.dataset.mapState = 'fallback';
    box.hidden = true;
    notice.textContent = t(`map.fallback_${reason}`);
    notice.dataset.testid = 'map-fallback';
  };
  const placed = stops.filter((s) => positioned(s.account));
  if (!placed.length) fallback('no_positions');
  else if (!navigator.onLine) fallback('offline');
  else if (!config?.tiles_url) fallback('no_config');
  else requestAnimationFrame(() => drawMap({ section, box, notice, placed, config, fallback }));
  return section;
}

async function drawMap({ section, box, notice, placed, config, fallback }) {
  let L;
  try {
    L = await loadLeaflet(config);
  } catch {
    fallback('tiles');
    return;
  }
  if (!section.isConnected || section.dataset.mapState === 'fallback') return;
  // No tile fade-in: it is timed with Date.now(), and a phone whose clock is held (or a test's) would keep tiles invisible.
  shownMap?.remove();
  const map = L.map(box, { zoomControl: true, attributionControl: true, fadeAnimation: false });
  shownMap = map;
  const tiles = L.tileLayer(config.tiles_url, { maxZoom: config.max_zoom || 19, attribution: escapeText(config.attribution || '') });
  let loaded = 0;
  let failed = 0;
  tiles.on('tileload', () => {
    loaded += 1;
    if (section.dataset.mapState === 'loading') {
      section.dataset.mapState = 'ready';
      notice.className = 'muted';
      notice.textContent = t('map.ready', { count: placed.length });
    }
  });
  tiles.on('tileerror', () => { failed += 1; if (!loaded && failed >= 2) fallback('tiles'); });
  setTimeout(() => { if (!loaded) fallback('tiles'); }, TILE_TIMEOUT_MS);
  const goneOffline = () => { if (!loaded) fallback('offline'); };
  addEventListener('offline', goneOffline, { once: true });
  tiles.addTo(map);

  const points = placed.map((s) => [Number(s.account.lat), Number(s.account.lon)]);
  placed.forEach((s, i) => {
    const label = `${s.order}. ${s.account.customer_name}`;
    const icon = L.divIcon({ className: `map-pin map-pin-${s.visit?.status || 'account'}`, html: `<span>${Number(s.order)}</span>`, iconSize: [34, 34], iconAnchor: [17, 17] });
    L.marker(points[i], { icon, title: label, alt: label, keyboard: true, riseOnHover: true })
      .bindPopup(() => popup(s))
      .addTo(map);
  });
  if (points.length > 1) {
    L.polyline(points, { color: '#0b2a5b', weight: 3, opacity: 0.7, dashArray: '6 8' }).addTo(map);
    map.fitBounds(points, { padding: [36, 36], maxZoom: 17 });
  } else {
    map.setView(points[0], 16);
  }
}

function popup(stop) {
  return h('div', { class: 'map-popup' },
    h('strong', null, `${stop.order}. ${stop.account.customer_name}`),
    stop.scheduled ? h('div', null, formatTime(stop.scheduled, stop.account.timezone)) : null,
    addressLine(stop.account));
}

function stopItem(stop, snapshot) {
  const { account, visit } = stop;
  const timing = visit ? stopState({ ...stop, rules: snapshot.rules }) : null;
  return h('li', { class: 'map-stop', 'data-visit-id': visit?.id || null },
    h('div', { class: 'stop-head' },
      h('span', { class: 'stop-number', 'aria-hidden': 'true' }, String(stop.order)),
      stop.scheduled ? h('span', { class: 'stop-time' }, formatTime(stop.scheduled, account?.timezone)) : null,
      timing && (timing.state === 'done' || timing.state === 'missed') ? statusBadge(timing.state) : null),
    account ? [h('strong', null, account.customer_name), addressLine(account)] : h('p', { class: 'muted' }, t('today.account_missing')),
    visit ? h('a', { class: 'btn btn-secondary', href: `#/visit/${visit.id}` },
      visit.status === 'done' ? t('today.view_record') : t('today.open_visit')) : null);
}
