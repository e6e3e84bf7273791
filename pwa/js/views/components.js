// Pieces shared by several screens.

import { h } from '../dom.js';
import { t, tv, formatDay, formatDateTime, locale } from '../i18n.js';
import { formatMoney } from '../money.js';
import { daysPastDue, agingBucket, attemptsOf } from '../rules.js';
import { reasonGuidance } from '../guidance.js';
import { parseInstant, dateInZone } from '../time.js';
import { directionsUrl } from '../platform.js';

/** The sync state of one record, in words (never colour alone). */
export function syncBadge(recordState) {
  if (!recordState) return null;
  const { state } = recordState;
  return h('span', { class: `badge badge-${state}`, 'data-sync-state': state }, t(`sync.state.${state}`));
}

/** Rule warnings of a plan (group `warning`) or flags of a made visit (group `flag`), in words. */
export function warningList(keys, group = 'warning') {
  if (!keys?.length) return null;
  return h('ul', { class: 'warnings', 'aria-label': t('warnings.title') },
    keys.map((key) => h('li', { class: 'warning', 'data-warning': key }, h('span', { 'aria-hidden': 'true' }, '⚠ '), tv(group, key))));
}

/** A visit's status as a badge with words (never colour alone). */
export function statusBadge(status) {
  return h('span', { class: `badge badge-status-${status}` }, tv('visit_status', status));
}

/** "25 min", "1 h 20 min": how long until something, for countdowns. */
export function duration(minutes) {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return t('time.minutes', { count: m });
  return m % 60 ? t('time.hours_minutes', { h: Math.floor(m / 60), m: m % 60 }) : t('time.hours', { count: m / 60 });
}

export function money(minor, account) {
  return formatMoney(minor, account?.currency || 'TWD', locale());
}

/** Amount due, days past due and aging bucket, recomputed from due_since today. */
export function dueFacts(account) {
  const days = daysPastDue(account);
  return h('p', { class: 'facts' },
    h('strong', { class: 'amount' }, money(account.amount_due, account)),
    h('span', null, t('account.days_past_due', { count: days })),
    h('span', { class: 'bucket' }, t('account.aging', { bucket: tv('bucket', agingBucket(days)) })));
}

export function contactLine(account) {
  const role = account.original_contact_role ? ` (${account.original_contact_role})` : '';
  return h('p', { class: 'contact' },
    h('span', { class: 'label' }, t('account.ask_for')), ' ',
    h('strong', null, `${account.original_contact_name || '—'}${role}`),
    account.original_contact_phone
      ? h('a', { class: 'phone', href: `tel:${account.original_contact_phone}` }, account.original_contact_phone)
      : null);
}

/** The address, as a link that starts directions in the phone's maps app. */
export function addressLine(account) {
  if (!account.address) return null;
  const href = directionsUrl(account);
  return h('p', { class: 'address' },
    h('a', { class: 'directions', href, target: '_blank', rel: 'noopener', 'data-testid': 'directions' },
      h('span', { class: 'address-text' }, account.address),
      h('span', { class: 'directions-cta' }, t('directions.open'))),
    account.address_notes ? h('span', { class: 'muted address-notes' }, account.address_notes) : null);
}

export function lastAttempt(visits) {
  const attempts = attemptsOf(visits || []);
  return attempts[attempts.length - 1] || null;
}

/** The promise to watch: the earliest pending one. */
export function duePromise(promises) {
  return (promises || []).filter((p) => p.status === 'pending')
    .sort((a, b) => String(a.promise_date).localeCompare(String(b.promise_date)))[0] || null;
}

export function historyLine(account, visits, promises) {
  const last = lastAttempt(visits);
  const promise = duePromise(promises);
  const parts = [];
  if (last) {
    parts.push(h('span', null, t('account.last_result', {
      result: tv('result', last.result), when: formatDateTime(parseInstant(last.arrived_at), account.timezone),
    })));
  } else {
    parts.push(h('span', null, t('account.no_attempts')));
  }
  if (promise) {
    const overdue = promise.promise_date < dateInZone(new Date(), account.timezone);
    parts.push(h('span', { class: overdue ? 'promise overdue' : 'promise' }, t(overdue ? 'account.promise_overdue' : 'account.promise_due', {
      amount: money(promise.amount, account), date: formatDay(promise.promise_date),
    })));
  }
  return h('p', { class: 'history-line' }, parts);
}

/** The approach for the reason; `key` keeps it open across the screen's redraws. */
export function approach(reason, { open = false, key = null } = {}) {
  const g = reasonGuidance(reason || 'unknown');
  if (!g) return null;
  return h('details', { class: 'approach', open, 'data-keep-open': key },
    h('summary', null, h('span', { class: 'label' }, t('guidance.approach')), ' ', g.title),
    h('p', null, g.approach));
}

export function emptyState(text, action) {
  return h('div', { class: 'empty' }, h('p', null, text), action || null);
}

export function field(label, control, { hint, error, id } = {}) {
  return h('div', { class: 'field', 'data-field': id || null },
    h('label', { for: control.id || null }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'error', 'aria-live': 'polite', 'data-error-for': id || null }, error || ''));
}

export function backLink(href, label) {
  return h('a', { class: 'back', href }, '‹ ', label);
}
