// English and Traditional Chinese. The language comes from the browser the
// first time and then from the collector's own choice (kept in localStorage:
// it is a display preference, not data that must sync).

import en from './strings/en.js';
import zhTW from './strings/zh-TW.js';
import catalog from './labels.js';
import { emit } from './events.js';

export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'zh-TW', label: '繁體中文' },
];
const DICTIONARIES = { en, 'zh-TW': zhTW };
const STORAGE_KEY = 'fieldvisit.language';

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('zh')) return 'zh-TW';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = (() => {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && DICTIONARIES[saved]) return saved;
  } catch { /* storage blocked: use the browser's language */ }
  return fromBrowser();
})();

export function language() { return current; }

/** Locale for Intl formatting: the browser's own English variant, or zh-TW. */
export function locale() {
  if (current === 'zh-TW') return 'zh-TW';
  const english = (navigator.languages || []).find((l) => l.toLowerCase().startsWith('en'));
  return english || 'en';
}

export function setLanguage(code) {
  if (!DICTIONARIES[code]) return;
  current = code;
  try { localStorage.setItem(STORAGE_KEY, code); } catch { /* display-only preference */ }
  document.documentElement.lang = code;
  emit('language-changed', { code });
}

const lookup = (dict, key) => key.split('.').reduce((node, part) => node?.[part], dict);

const pluralRules = new Map();
function pluralCategory(count) {
  const loc = locale();
  if (!pluralRules.has(loc)) pluralRules.set(loc, new Intl.PluralRules(loc));
  return pluralRules.get(loc).select(Number(count));
}

/**
 * Look up a text by its dotted key; {name} placeholders are filled from
 * params. A counted text is an object of plural forms ({one, other}) and
 * takes the form Intl.PluralRules gives for params.count ("1 account",
 * "2 accounts"; Chinese has one form).
 */
export function t(key, params = {}) {
  let text = lookup(DICTIONARIES[current], key) ?? lookup(en, key) ?? key;
  if (typeof text === 'object') text = text[pluralCategory(params.count ?? 0)] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}

/**
 * The label of a stored code, e.g. tv('result', 'paid_full'), from the one
 * catalog the server shares (server/labels.json). A code this version does
 * not know yet shows as "Other", never as the code itself.
 */
export function tv(group, value) {
  if (value === null || value === undefined || value === '') return '—';
  const entry = catalog.labels[group]?.[String(value)];
  if (!entry) return t('common.unlabelled');
  return entry[current] || entry.en;
}

// Date and time in the collector's language; times always on a 24-hour clock.
const dateFormat = (options) => (date, timeZone) => (date
  ? new Intl.DateTimeFormat(locale(), { ...options, timeZone }).format(date) : '—');
const HM = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
export const formatTime = dateFormat(HM);
export const formatDate = dateFormat({ weekday: 'short', month: 'short', day: 'numeric' });
export const formatDateTime = dateFormat({ month: 'short', day: 'numeric', ...HM });

/** A YYYY-MM-DD date shown in the collector's language. */
export function formatDay(dateStr) {
  if (!dateStr) return '—';
  const [y, m, d] = dateStr.split('-').map(Number);
  return formatDate(new Date(Date.UTC(y, m - 1, d, 12)), 'UTC');
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

document.documentElement.lang = current;
