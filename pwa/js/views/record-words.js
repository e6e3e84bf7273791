// A record's fields and values as a collector reads them: field names from
// the form's labels, codes from the label catalog (server/labels.json),
// times on the account's clock, dates and money in her language with the
// account's currency. Conflict notices and the amendment trail use these,
// so a value reads the same there as on the record itself.

import { t, tv, formatDateTime, formatDay } from '../i18n.js';
import { parseInstant } from '../time.js';
import { money } from './components.js';

// Field names reuse the form's labels; anything else shows as "Another field".
const LABELS = {
  status: 'common.status', scheduled_at: 'plan.time', plan_notes: 'plan.notes', arrived_at: 'common.arrived_at',
  met: 'form.met', met_name: 'form.met_name', redirected_to: 'form.redirected_to', result: 'form.result',
  promise_amount: 'form.promise_amount', promise_date: 'form.promise_date', conduct_confirmed: 'form.conduct_title',
  notes: 'form.notes', delinquency_reason: 'form.reason', amount: 'form.payment', method: 'form.pay_method',
  waited_minutes: 'form.waited_minutes', other_guests_present: 'form.other_guests',
  departed_at: 'visit.departed', checkin_lat: 'fields.position', checkin_lon: 'fields.position',
  checkin_accuracy_m: 'fields.position', checkin_fix_age_s: 'fields.fix_age',
  amendment_reason: 'fields.amendment_reason', collector_id: 'fields.collector',
  account_id: 'fields.account', visit_id: 'fields.visit', collected_at: 'fields.collected_at',
  original_contact_phone: 'fields.phone', address_notes: 'fields.address_notes', flags: 'visit.flags',
  // Contact restrictions (views/restrictions.js).
  do_not_visit: 'restrictions.title', met_relation: 'restrictions.relation',
};

// Fields whose values are codes, and the catalog group that names them, per entity.
const CODE_GROUPS = {
  visit: { status: 'visit_status', met: 'met', result: 'result', delinquency_reason: 'reason', met_relation: 'met_relation' },
  payment: { status: 'payment_status', method: 'method' },
  account: { status: 'account_status', delinquency_reason: 'reason' },
  promise: { status: 'promise_status' },
};
const TIME_FIELDS = new Set(['scheduled_at', 'arrived_at', 'departed_at', 'collected_at']);
const DATE_FIELDS = new Set(['promise_date', 'due_since']);
const MONEY_FIELDS = new Set(['promise_amount', 'amount', 'amount_due', 'principal']);

export function fieldName(field) {
  return LABELS[field] ? t(LABELS[field], { currency: '' }).replace(/[?？]|\(\)|（）/g, '').trim() : t('problem.other_field');
}

/** `value` (its wire form) of `entity.field` in words; `account` gives the clock and currency. */
export function valueText(entity, field, value, account) {
  if (value === null || value === undefined || value === '') return t('problem.empty_value');
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  const group = CODE_GROUPS[entity]?.[field];
  if (group) return tv(group, value);
  if (field === 'flags' && Array.isArray(value)) return value.length ? value.map((f) => tv('flag', f)).join(t('common.separator')) : t('problem.empty_value');
  if (TIME_FIELDS.has(field) && parseInstant(value)) return formatDateTime(parseInstant(value), account?.timezone || undefined);
  if (DATE_FIELDS.has(field)) return formatDay(String(value));
  if (MONEY_FIELDS.has(field) && Number.isFinite(Number(value))) return money(Number(value), account);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
