// How a refused or conflicting change is explained to the collector. These
// stay on screen until they press "Seen" — nothing disappears unread.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { acknowledge } from '../outbox.js';
import { emit } from '../events.js';

// Field names reuse the form's labels; anything else shows as written.
const LABELS = {
  status: 'common.status', scheduled_at: 'plan.time', plan_notes: 'plan.notes', arrived_at: 'common.arrived_at',
  met: 'form.met', met_name: 'form.met_name', redirected_to: 'form.redirected_to', result: 'form.result',
  promise_amount: 'form.promise', promise_date: 'form.promise_date', conduct_confirmed: 'form.conduct_title',
  notes: 'form.notes', delinquency_reason: 'form.reason', amount: 'form.payment', method: 'form.pay_method',
  waited_minutes: 'form.waited_minutes', other_guests_present: 'form.other_guests',
};

function fieldName(field) {
  return LABELS[field] ? t(LABELS[field], { currency: '' }).replace(/[?？]|\(\)|（）/g, '').trim() : field.replace(/_/g, ' ');
}

function shown(value) {
  if (value === null || value === undefined || value === '') return t('problem.empty_value');
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
      details.push(h('li', null, t('problem.conflict_line', { field: fieldName(c.field), kept: shown(c.kept), lost: shown(c.lost) })));
    }
  } else {
    for (const [field, messages] of Object.entries(result.errors || {})) {
      const list = Array.isArray(messages) ? messages : [messages];
      details.push(h('li', null, h('strong', null, fieldName(field)), ': ', list.map(shown).join('; ')));
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
