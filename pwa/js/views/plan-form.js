// Plan a visit (or move a planned one): date, time and notes, with the
// rule warnings updating as the collector picks a time.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { uuid } from '../ids.js';
import { recordChanges } from '../outbox.js';
import { instantFromZoned, dateInZone, hhmmInZone, isoInZone, parseInstant } from '../time.js';
import { planWarnings } from '../rules.js';
import { warningList, field, backLink, emptyState } from './components.js';

export async function planFormView({ snapshot, params, session, navigate }) {
  const account = snapshot.accountsById.get(params.accountId);
  if (!account) return h('section', { class: 'view' }, emptyState(t('account.not_found')));
  const zone = account.timezone || 'UTC';
  const existing = params.visitId ? snapshot.visits.find((v) => v.id === params.visitId) : null;
  const when = existing ? parseInstant(existing.scheduled_at) : null;
  const today = dateInZone(new Date(), zone);

  const dateInput = h('input', { id: 'plan-date', type: 'date', required: true, min: existing ? null : today, value: when ? dateInZone(when, zone) : today });
  const timeInput = h('input', { id: 'plan-time', type: 'time', required: true, step: 300, value: when ? hhmmInZone(when, zone) : suggestTime(snapshot.rules) });
  const notesInput = h('textarea', { id: 'plan-notes', rows: 3, maxlength: 2000, value: existing?.plan_notes || '' });
  const warningsBox = h('div', { class: 'live-warnings', 'aria-live': 'polite' });
  const message = h('p', { class: 'error', role: 'alert' });

  const chosenInstant = () => (dateInput.value && timeInput.value ? instantFromZoned(dateInput.value, timeInput.value, zone) : null);
  const refreshWarnings = () => {
    warningsBox.replaceChildren(warningList(planWarnings({
      when: chosenInstant(), account, visitsOfAccount: snapshot.visitsByAccount.get(account.id) || [], rules: snapshot.rules, visitId: existing?.id,
    })) || '');
  };
  dateInput.addEventListener('input', refreshWarnings);
  timeInput.addEventListener('input', refreshWarnings);
  refreshWarnings();

  async function save(event) {
    event.preventDefault();
    const instant = chosenInstant();
    if (!instant) { message.textContent = t('plan.need_date_time'); return; }
    const scheduledAt = isoInZone(instant, zone);
    const notes = notesInput.value.trim();
    let change;
    if (existing) {
      const fields = {};
      if (parseInstant(existing.scheduled_at)?.getTime() !== instant.getTime()) fields.scheduled_at = scheduledAt;
      if ((existing.plan_notes || '') !== notes) fields.plan_notes = notes;
      if (Object.keys(fields).length === 0) { navigate(`#/visit/${existing.id}`); return; }
      change = { entity: 'visit', id: existing.id, fields, summary: { account: account.customer_name } };
    } else {
      change = {
        entity: 'visit', id: uuid(),
        fields: { account_id: account.id, collector_id: session.user.id, scheduled_at: scheduledAt, status: 'planned', ...(notes ? { plan_notes: notes } : {}) },
        summary: { account: account.customer_name },
      };
    }
    await recordChanges(session, [change]);
    navigate(`#/visit/${change.id}`);
  }

  return h('section', { class: 'view view-plan', 'data-testid': 'plan-form' },
    backLink(existing ? `#/visit/${existing.id}` : `#/account/${account.id}`, account.customer_name),
    h('h1', null, existing ? t('plan.edit_title') : t('plan.new_title')),
    h('p', { class: 'muted' }, account.customer_name, ' · ', t('plan.zone', { zone })),
    h('form', { onsubmit: save, novalidate: true },
      field(t('plan.date'), dateInput, { id: 'date' }),
      field(t('plan.time'), timeInput, { id: 'time', hint: t('plan.time_hint') }),
      warningsBox,
      field(t('plan.notes'), notesInput, { id: 'notes', hint: t('plan.notes_hint') }),
      message,
      h('button', { class: 'btn wide', type: 'submit', 'data-testid': 'save-plan' }, existing ? t('plan.save_changes') : t('plan.save_new'))));
}

/** The start of the first preferred window: people are at their desks then. */
function suggestTime(rules) {
  return rules.preferred_windows?.[0]?.[0] || '10:00';
}
