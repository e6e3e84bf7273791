// How a refused or conflicting change is explained to the collector. These
// stay on screen until they press "Seen" — nothing disappears unread.

import { h } from '../dom.js';
import { t, tv, formatDateTime } from '../i18n.js';
import { parseInstant } from '../time.js';
import { acknowledge } from '../outbox.js';
import { emit } from '../events.js';

// Field names reuse the form's labels; anything else shows as written.
const LABELS = {
  status: 'common.status', scheduled_at: 'plan.time', plan_notes: 'plan.notes', arrived_at: 'common.arrived_at',
  met: 'form.met', met_name: 'form.met_name', redirected_to: 'form.redirected_to', result: 'form.result',
  promise_amount: 'form.promise', promise_date: 'form.promise_date', conduct_confirmed: 'form.conduct_title',
  notes: 'form.notes', delinquency_reason: 'form.reason', amount: 'form.payment', method: 'form.pay_method',
  waited_minutes: 'form.waited_minutes', other_guests_present: 'form.other_guests',
  departed_at: 'visit.departed', checkin_lat: 'fields.position', checkin_lon: 'fields.position',
  checkin_accuracy_m: 'fields.position', amendment_reason: 'fields.amendment_reason', collector_id: 'fields.collector',
  account_id: 'fields.account', visit_id: 'fields.visit', collected_at: 'fields.collected_at',
  original_contact_phone: 'fields.phone', address_notes: 'fields.address_notes',
};

// Fields whose values are codes, and the catalog group that names them.
const CODE_GROUPS = {
  status: 'visit_status', met: 'met', result: 'result', delinquency_reason: 'reason', method: 'method',
};
const TIME_FIELDS = new Set(['scheduled_at', 'arrived_at', 'departed_at', 'collected_at']);
// Contact restrictions (views/restrictions.js).
Object.assign(LABELS, { do_not_visit: 'restrictions.title', met_relation: 'restrictions.relation' });
CODE_GROUPS.met_relation = 'met_relation';

function fieldName(field) {
  return LABELS[field] ? t(LABELS[field], { currency: '' }).replace(/[?？]|\(\)|（）/g, '').trim() : t('problem.other_field');
}

function shown(value, field) {
  if (value === null || value === undefined || value === '') return t('problem.empty_value');
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (CODE_GROUPS[field]) return tv(CODE_GROUPS[field], value);
  if (TIME_FIELDS.has(field) && parseInstant(value)) return formatDateTime(parseInstant(value));
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** What kind of change an entry is, read from the fields it carries. */
function kindOf({ entity, fields }) {
  if (entity !== 'visit') return entity;
  if (fields.status === 'done') return 'outcome';
  if (fields.account_id) return 'new';
  if (fields.arrived_at) return 'check_in';
  return fields.status === 'cancelled' ? 'cancel' : 'edit';
}

export function describeEntry(entry) {
  const s = entry.summary || {};
  const what = t(`change.${kindOf(entry)}`);
  const name = s.account ? ` — ${s.account}` : '';
  return `${what}${name} (#${entry.seq})`;
}

export function problemCard(entry, { onSeen } = {}) {
  const result = entry.result || {};
  const details = [];
  if (entry.state === 'conflict') {
    for (const c of result.conflicts || []) {
      details.push(h('li', null, t('problem.conflict_line', { field: fieldName(c.field), kept: shown(c.kept, c.field), lost: shown(c.lost, c.field) })));
    }
  } else {
    for (const [field, messages] of Object.entries(result.errors || {})) {
      const list = Array.isArray(messages) ? messages : [messages];
      details.push(h('li', null, h('strong', null, fieldName(field)), ': ', list.map((m) => shown(m)).join('; ')));
    }
  }
  const seen = h('button', {
    class: 'btn btn-small', type: 'button', 'data-testid': 'problem-seen',
    onclick: async () => {
      await acknowledge(entry.client_id, entry.seq);
      emit('data-changed', {}, { broadcast: true });
      onSeen?.();
    },
  }, t('problem.seen'));
  return h('div', { class: `problem problem-${entry.state}`, role: 'alert', 'data-problem': entry.state, 'data-record-id': entry.record_id },
    h('p', { class: 'problem-title' }, h('strong', null, t(`problem.${entry.state}_title`)), ' ', describeEntry(entry)),
    h('p', null, t(`problem.${entry.state}_explain`)),
    details.length ? h('ul', null, details) : null,
    seen);
}
