// Choosing a new appointment — for a missed visit (two taps: "Plan a new
// time", then save the suggested one) and for "new appointment agreed" on
// the visit form — with the rule warnings updating as the time changes.

import { h } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { uuid } from '../ids.js';
import { recordChanges } from '../outbox.js';
import { emit } from '../events.js';
import { instantFromZoned, dateInZone, hhmmInZone, isoInZone, addDays, parseInstant } from '../time.js';
import { planWarnings } from '../rules.js';
import { warningList, field } from './components.js';

/** The same time of day on the next day after both today and the old appointment. */
export function suggestedTime(previous, zone, now = new Date()) {
  const base = previous || now;
  const day = addDays([dateInZone(now, zone), dateInZone(base, zone)].sort()[1], 1);
  return { date: day, time: previous ? hhmmInZone(previous, zone) : '10:00' };
}

/** Date and time inputs on the account's clock, with live warnings. */
export function appointmentFields({ account, snapshot, date, time, idPrefix, visitId = null }) {
  const zone = account?.timezone || 'UTC';
  const dateInput = h('input', { id: `${idPrefix}-date`, name: `${idPrefix}_date`, type: 'date', required: true, min: dateInZone(new Date(), zone), value: date || '' });
  const timeInput = h('input', { id: `${idPrefix}-time`, name: `${idPrefix}_time`, type: 'time', required: true, step: 300, value: time || '' });
  const warningsBox = h('div', { class: 'live-warnings', 'aria-live': 'polite' });
  const instant = () => (dateInput.value && timeInput.value ? instantFromZoned(dateInput.value, timeInput.value, zone) : null);
  const refresh = () => warningsBox.replaceChildren(warningList(planWarnings({
    when: instant(), account, visitsOfAccount: snapshot.visitsByAccount.get(account?.id) || [], rules: snapshot.rules, visitId,
  })) || '');
  dateInput.addEventListener('input', refresh);
  timeInput.addEventListener('input', refresh);
  refresh();
  const node = h('div', { class: 'appointment-fields' },
    h('div', { class: 'two-fields' },
      field(t('plan.date'), dateInput, { id: `${idPrefix}_date` }),
      field(t('plan.time_short'), timeInput, { id: `${idPrefix}_time` })),
    warningsBox);
  return { node, dateInput, timeInput, instant, zone };
}

/** A planned visit on `account` at `instant`, as an outbox change. */
export function newVisitChange({ account, session, instant, notes }) {
  return {
    entity: 'visit', id: uuid(), summary: { account: account.customer_name },
    fields: {
      account_id: account.id, collector_id: session.user.id, scheduled_at: isoInZone(instant, account.timezone || 'UTC'),
      status: 'planned', ...(notes ? { plan_notes: notes } : {}),
    },
  };
}

/**
 * "Plan a new time" for a missed visit. Saving records the old visit as
 * missed and plans the new one in one local transaction (two outbox entries),
 * so neither can reach the office without the other.
 */
export function rescheduleControl({ visit, account, snapshot, session, onSaved }) {
  const zone = account?.timezone || 'UTC';
  const box = h('div', { class: 'reschedule' });
  const open = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'reschedule' }, t('reschedule.open'));
  open.addEventListener('click', () => {
    const previous = parseInstant(visit.scheduled_at);
    const suggestion = suggestedTime(previous, zone);
    const fields = appointmentFields({ account, snapshot, ...suggestion, idPrefix: `re-${visit.id.slice(0, 8)}` });
    const message = h('p', { class: 'error', role: 'alert' });
    const save = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'reschedule-save' }, t('reschedule.save'));
    const cancel = h('button', { class: 'btn btn-secondary', type: 'button' }, t('reschedule.keep'));
    const form = h('form', { class: 'reschedule-form', novalidate: true },
      h('p', { class: 'hint' }, t('reschedule.explain', { when: formatDateTime(previous, zone) })),
      fields.node, message, h('div', { class: 'row-actions' }, save, cancel));
    cancel.addEventListener('click', () => box.replaceChildren(open));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const instant = fields.instant();
      if (!instant) { message.textContent = t('plan.need_date_time'); return; }
      if (instant <= new Date()) { message.textContent = t('plan.need_future'); return; }
      save.disabled = true;
      const notes = [visit.plan_notes, t('reschedule.note', { when: formatDateTime(previous, zone) })].filter(Boolean).join('\n');
      const changes = [];
      if (visit.status === 'planned') {
        changes.push({ entity: 'visit', id: visit.id, fields: { status: 'missed' }, summary: { account: account?.customer_name } });
      }
      changes.push(newVisitChange({ account, session, instant, notes }));
      await recordChanges(session, changes);
      emit('data-changed', {}, { broadcast: true });
      onSaved?.(changes[changes.length - 1].id);
    });
    box.replaceChildren(form);
    save.focus();
  });
  box.append(open);
  return box;
}
