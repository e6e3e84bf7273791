// The collector's accounts: search by name, contact, account number, phone
// or address; sort by what the choice says — expected recovery (the
// server's priority: amount due × chance of recovery at that age), amount
// due, days past due, or distance from where the collector stands.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatTime, formatNumber } from '../i18n.js';
import { parseInstant } from '../time.js';
import { daysPastDue, distanceKm, stopState } from '../rules.js';
import { getPosition } from '../geo.js';
import { syncBadge, dueFacts, emptyState, addressLine } from './components.js';

export const SORTS = ['priority', 'amount', 'days', 'distance'];

// Kept across redraws (a sync landing while the collector types) and visits
// to other screens, like a filter left set on paper.
const state = { query: '', sort: 'priority', here: null, hereError: null };

const digits = (text) => String(text || '').replace(/\D/g, '');

/** Fold case, width and accents so "dihua" finds "Dihua" and "ＴＰＥ" finds "TPE". */
function fold(text) {
  return String(text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** The phone's digits, also in the national form (+886-2-5550-1037 → 0225501037). */
function phoneDigits(phone) {
  const all = digits(phone);
  const national = /^886\d/.test(all) ? `0${all.slice(3)}` : all;
  return `${all} ${national}`;
}

/** Does the account match every word of the query? A word of digits also matches the phone number. */
export function matches(account, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const haystack = fold([account.customer_name, account.original_contact_name, account.ref, account.address,
    account.original_contact_phone, account.address_notes].join(' '));
  const phone = phoneDigits(account.original_contact_phone);
  return words.every((w) => haystack.includes(w) || (digits(w).length >= 3 && phone.includes(digits(w))));
}

function sortKey(sort, account) {
  if (sort === 'amount') return account.amount_due ?? 0;
  if (sort === 'days') return daysPastDue(account);
  if (sort === 'distance') {
    const km = state.here ? distanceKm(state.here, account) : null;
    return km === null ? -Infinity : -km; // nearest first; no position last
  }
  return account.priority ?? account.amount_due ?? 0;
}

export async function accountsView(ctx) {
  const { snapshot, params } = ctx;
  if (SORTS.includes(params.sort)) state.sort = params.sort;
  const sort = state.sort === 'distance' && !state.here ? 'priority' : state.sort;
  const accounts = [...snapshot.accounts]
    .sort((a, b) => sortKey(sort, b) - sortKey(sort, a) || String(a.customer_name).localeCompare(String(b.customer_name)));

  const rows = accounts.map((a) => ({ account: a, node: accountRow(a, snapshot) }));
  const list = h('ul', { class: 'account-list', 'data-testid': 'account-list' }, rows.map((r) => r.node));
  const count = h('p', { class: 'summary', 'aria-live': 'polite', 'data-testid': 'accounts-count' });
  const none = h('p', { class: 'empty', hidden: true }, t('accounts.no_match'));
  const search = h('input', {
    id: 'account-search', type: 'search', value: state.query, autocomplete: 'off', enterkeyhint: 'search',
    'data-testid': 'account-search', 'aria-describedby': 'account-search-hint',
  });
  const applyFilter = () => {
    state.query = search.value;
    let shown = 0;
    for (const { account, node } of rows) {
      const ok = matches(account, state.query);
      node.hidden = !ok;
      if (ok) shown += 1;
    }
    none.hidden = shown > 0 || rows.length === 0;
    count.textContent = state.query.trim()
      ? t('accounts.matching', { count: shown, total: rows.length })
      : t('accounts.summary', { count: rows.length });
  };
  search.addEventListener('input', applyFilter);
  applyFilter();

  const sortSelect = h('select', { id: 'account-sort', 'data-testid': 'account-sort' },
    SORTS.map((s) => h('option', { value: s }, t(`accounts.sort_${s}`))));
  sortSelect.value = sort;
  const sortNote = h('p', { class: 'hint', 'aria-live': 'polite' }, sortExplanation(sort));
  sortSelect.addEventListener('change', async () => {
    state.sort = sortSelect.value;
    if (state.sort === 'distance') {
      sortNote.textContent = t('accounts.locating');
      const pos = await getPosition();
      if (pos.ok) { state.here = { lat: pos.lat, lon: pos.lon, accuracy: pos.accuracy, at: new Date() }; state.hereError = null; } else { state.here = null; state.hereError = pos.reason; }
    }
    ctx.rerender();
  });

  return h('section', { class: 'view view-accounts', 'data-testid': 'accounts' },
    h('h1', null, t('accounts.title')),
    h('div', { class: 'field search-field' },
      h('label', { for: 'account-search' }, t('accounts.search')),
      search,
      h('p', { class: 'hint', id: 'account-search-hint' }, t('accounts.search_hint'))),
    h('div', { class: 'field' }, h('label', { for: 'account-sort' }, t('accounts.sort')), sortSelect, sortNote),
    count,
    accounts.length === 0 ? emptyState(t('accounts.empty')) : [list, none]);
}

function sortExplanation(sort) {
  if (state.sort === 'distance' && !state.here) {
    return t('accounts.no_position', { reason: t(`geo.${state.hereError || 'unavailable'}`) });
  }
  if (sort === 'distance') {
    return t('accounts.sorted_distance', { time: formatTime(state.here.at), accuracy: formatNumber(state.here.accuracy, 0) });
  }
  return t(`accounts.explain_${sort}`);
}

function accountRow(account, snapshot) {
  const visits = snapshot.visitsByAccount.get(account.id) || [];
  const planned = visits.filter((v) => v.status === 'planned' && parseInstant(v.scheduled_at))
    .sort((a, b) => parseInstant(a.scheduled_at) - parseInstant(b.scheduled_at));
  const now = new Date();
  const next = planned.find((v) => stopState({ visit: v, scheduled: parseInstant(v.scheduled_at), now, rules: snapshot.rules }).state !== 'missed');
  const missed = planned.filter((v) => v !== next && parseInstant(v.scheduled_at) < now).pop();
  const km = state.here ? distanceKm(state.here, account) : null;
  let visitLine;
  if (next) visitLine = h('span', { class: 'muted' }, t('accounts.next_visit', { when: formatDateTime(parseInstant(next.scheduled_at), account.timezone) }));
  else if (missed) visitLine = h('span', { class: 'warning-text' }, t('accounts.missed_visit', { when: formatDateTime(parseInstant(missed.scheduled_at), account.timezone) }));
  else visitLine = h('span', { class: 'muted' }, t('accounts.no_visit_planned'));
  return h('li', { class: 'account-row', 'data-account-id': account.id },
    h('a', { href: `#/account/${account.id}`, 'data-account-id': account.id },
      h('span', { class: 'row-title' }, account.customer_name, ' ', syncBadge(snapshot.states.get(account.id))),
      h('span', { class: 'muted' }, [account.ref, tv('account_status', account.status)].filter(Boolean).join(' · ')),
      account.original_contact_name || account.original_contact_phone
        ? h('span', null, [account.original_contact_name, account.original_contact_phone].filter(Boolean).join(' · ')) : null,
      dueFacts(account),
      km !== null ? h('span', { class: 'muted' }, t('accounts.distance', { km: formatNumber(km) })) : null,
      visitLine),
    addressLine(account));
}
