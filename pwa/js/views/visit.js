// One visit: check in, the outcome form, then the record as kept. The form
// offers only combinations the server accepts (PROTOCOL "Entities and
// fields"), and is saved as a draft on every change, so a killed tab loses nothing.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatDay, formatNumber, locale } from '../i18n.js';
import { getValue, setValue, deleteKey } from '../db.js';
import { recordChanges } from '../outbox.js';
import { uuid } from '../ids.js';
import { parseInstant, isoInZone, dateInZone } from '../time.js';
import { parseMajor, displayDigits, currencySymbol } from '../money.js';
import { distanceKm, planWarnings, stopState } from '../rules.js';
import { conductRules, situationGuidance, REASONS } from '../guidance.js';
import { emit } from '../events.js';
import {
  syncBadge, warningList, dueFacts, contactLine, approach, money, field, backLink, emptyState, historyLine, addressLine,
  statusBadge, duration,
} from './components.js';
import { problemCard } from './problems.js';
import { appointmentFields, newVisitChange, rescheduleControl, suggestedTime } from './appointment.js';
import { timingLine } from './today.js';
import { visitsOnDay, buildDayPlan } from '../day-plan.js';
import { visitPhotos } from './visit-photos.js';
// Trust: check-in evidence, conflicts in words, payment status, amendments.
import { checkInControl, fixAgeText } from './visit-checkin.js';
import { recordConflicts } from './conflict-words.js';
import { paymentStatus } from './payment-status.js';
import { amendSection } from './visit-amend.js';
import { doNotVisitNotice, addWindowLink, thirdPartyPart, relationError } from './restrictions.js';

export const MET = ['original_contact', 'other_person', 'nobody'];
export const METHODS = ['cash', 'transfer', 'cheque', 'other'];
const RESULTS_BY_MET = {
  original_contact: ['paid_full', 'paid_partial', 'promise_to_pay', 'refused', 'dispute', 'rescheduled', 'other'],
  other_person: ['paid_full', 'paid_partial', 'promise_to_pay', 'refused', 'dispute', 'not_present', 'rescheduled', 'other'],
  nobody: ['not_present', 'premises_closed', 'rescheduled', 'other'],
};
const PAID = ['paid_full', 'paid_partial'];

export function allowedResults(met) { return RESULTS_BY_MET[met] || []; }

export async function visitView(ctx) {
  const { snapshot, params } = ctx;
  const visit = snapshot.visits.find((v) => v.id === params.id);
  if (!visit) return h('section', { class: 'view' }, backLink('#/today', t('nav.today')), emptyState(t('visit.not_found')));
  const account = snapshot.accountsById.get(visit.account_id);
  const zone = account?.timezone || 'UTC';
  const problems = snapshot.queue.problems.filter((e) => e.record_id === visit.id
    || (e.entity === 'payment' && e.fields?.visit_id === visit.id));

  let body;
  if (visit.status === 'done') body = [doneSummary(visit, account, snapshot), amendSection(ctx, visit, account)]; // visit-amend.js
  else if (visit.status !== 'planned') body = closedVisit(ctx, visit, account);
  else if (!visit.arrived_at) body = beforeVisit(ctx, visit, account);
  else body = await outcomeForm(ctx, visit, account);

  return h('section', { class: 'view view-visit', 'data-testid': 'visit', 'data-visit-status': visit.status },
    account ? backLink(`#/account/${account.id}`, t('visit.account_link')) : backLink('#/today', t('nav.today')),
    h('h1', null, account?.customer_name || t('visit.unknown_account')),
    h('p', { class: 'visit-meta' },
      h('span', null, formatDateTime(parseInstant(visit.scheduled_at), zone)), ' ',
      statusBadge(visit.status), ' ',
      syncBadge(snapshot.states.get(visit.id))),
    problems.map((p) => problemCard(p, { snapshot })),
    // Conflicts on this visit and their outcome (conflict-words.js).
    recordConflicts({ entity: 'visit', record: visit, account, clientId: ctx.session?.client_id,
      shownIds: new Set(problems.flatMap((p) => (p.result?.conflicts || []).map((c) => c.id))) }),
    body,
    // Photos and signature (js/views/visit-photos.js), once the collector is there.
    visit.arrived_at && visit.status !== 'cancelled' ? await visitPhotos(ctx, visit, account) : null);
}

// ---- before: brief and check in ------------------------------------------

function beforeVisit(ctx, visit, account) {
  const { snapshot, session } = ctx;
  const zone = account?.timezone || 'UTC';
  const warnings = account ? planWarnings({
    when: parseInstant(visit.scheduled_at), account, visitsOfAccount: snapshot.visitsByAccount.get(account.id) || [],
    rules: snapshot.rules, visitId: visit.id,
  }) : [];

  // Check-in evidence and the far check-in question: visit-checkin.js.
  const checkIn = checkInControl(ctx, visit, account);

  const cancelBox = cancelControl(ctx, visit, account);
  const stop = dayStop(snapshot, visit, account);
  const timing = stopState({ ...stop, rules: snapshot.rules });
  const countdown = ['upcoming', 'leave_now', 'late'].includes(timing.state) ? timingLine({ ...stop, timing }, snapshot.rules, zone) : null;
  const late = timing.state === 'missed' || timing.state === 'open'
    ? h('div', { class: 'notice', 'data-timing': timing.state },
      h('p', null, timing.state === 'missed' ? t('today.missed_explain') : t('today.overdue', { duration: duration(timing.overdue) })),
      account ? rescheduleControl({ visit, account, snapshot, session, onSaved: (id) => ctx.navigate(`#/visit/${id}`) }) : null)
    : null;

  // The action first, within thumb reach; the briefing follows.
  return h('div', { class: 'before' },
    countdown, late,
    visit.plan_notes ? h('p', { class: 'notes' }, visit.plan_notes) : null,
    warningList(warnings),
    doNotVisitNotice(account), // contact restrictions (views/restrictions.js)
    checkIn,
    account ? [contactLine(account),
      addressLine(account),
      dueFacts(account),
      historyLine(account, snapshot.visitsByAccount.get(account.id), snapshot.promisesByAccount.get(account.id)),
      approach(account.delinquency_reason, { open: true })] : null,
    situationHint('arrive_early'),
    account ? h('a', { class: 'btn btn-secondary wide', href: `#/map/account/${account.id}`, 'data-testid': 'account-map' }, t('map.account_link')) : null,
    addWindowLink(account),
    h('div', { class: 'row-actions' },
      h('a', { class: 'btn btn-secondary', href: `#/plan/${visit.account_id}/${visit.id}`, 'data-testid': 'edit-plan' }, t('visit.edit_plan')),
      cancelBox.button),
    cancelBox.panel);
}

/** This visit as a stop of its day's route (leave-by and travel from the stop before). */
function dayStop(snapshot, visit, account) {
  const scheduled = parseInstant(visit.scheduled_at);
  if (!scheduled || !account) return { visit, scheduled };
  const date = dateInZone(scheduled, account.timezone || 'UTC');
  const stops = buildDayPlan({
    visits: visitsOnDay(snapshot.visits, snapshot.accountsById, date), accountsById: snapshot.accountsById,
    serverPlan: snapshot.meta[`plan:${date}`], rules: snapshot.rules,
  });
  return stops.find((s) => s.visit.id === visit.id) || { visit, scheduled };
}

/** Add a line to the plan notes, keeping what was there. */
export function withNote(notes, line) {
  return [notes?.trim(), line].filter(Boolean).join('\n');
}

/**
 * Cancelling asks why. The reason is kept on the record in `plan_notes`
 * (cancelling is a change of plan; docs/protocol.md has no field of its own for
 * it), so the supervisor reads it beside the visit.
 */
function cancelControl(ctx, visit, account) {
  const { session } = ctx;
  const button = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'cancel-visit', 'aria-expanded': 'false' }, t('visit.cancel'));
  // The form exists only while open: a screen holding a form is not redrawn by a sync.
  const panel = h('div', { class: 'cancel-box' });
  const close = () => { panel.replaceChildren(); button.setAttribute('aria-expanded', 'false'); };
  const open = () => {
    const reason = h('textarea', { id: 'cancel-reason', name: 'cancel_reason', rows: 3, maxlength: 500, required: true });
    const message = h('p', { class: 'error', role: 'alert' });
    const confirmButton = h('button', { class: 'btn btn-danger', type: 'submit', 'data-testid': 'cancel-confirm' }, t('visit.cancel_confirm_button'));
    const keep = h('button', { class: 'btn btn-secondary', type: 'button', onclick: close }, t('visit.cancel_keep'));
    const form = h('form', { class: 'cancel-form', novalidate: true },
      field(t('visit.cancel_reason'), reason, { id: 'cancel_reason', hint: t('visit.cancel_hint') }),
      message,
      h('div', { class: 'row-actions' }, confirmButton, keep));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (text.replace(/\s/g, '').length < 3) { message.textContent = t('visit.cancel_need_reason'); reason.focus(); return; }
      confirmButton.disabled = true;
      const plan_notes = withNote(visit.plan_notes, t('visit.cancel_note', { reason: text }));
      await recordChanges(session, [{ entity: 'visit', id: visit.id, fields: { status: 'cancelled', plan_notes }, summary: { account: account?.customer_name } }]);
      emit('data-changed', {}, { broadcast: true });
      ctx.navigate('#/today');
    });
    panel.replaceChildren(form);
    button.setAttribute('aria-expanded', 'true');
    reason.focus();
  };
  button.addEventListener('click', () => (panel.firstChild ? close() : open()));
  return { button, panel };
}

/** A cancelled or missed visit: what it was, why, and (missed) a new time. */
function closedVisit(ctx, visit, account) {
  return h('div', { class: 'closed' },
    h('p', null, t('visit.closed', { status: tv('visit_status', visit.status) })),
    visit.plan_notes ? h('p', { class: 'notes', 'data-testid': 'plan-notes' }, visit.plan_notes) : null,
    visit.status === 'missed' && account
      ? rescheduleControl({ visit, account, snapshot: ctx.snapshot, session: ctx.session, onSaved: (id) => ctx.navigate(`#/visit/${id}`) })
      : null,
    account ? [contactLine(account), addressLine(account)] : null);
}

function situationHint(name) {
  const g = situationGuidance(name);
  return g ? h('p', { class: 'situation', 'data-situation': name }, h('strong', null, g.title), ' — ', g.approach) : null;
}

function checkInFacts(visit, account, rules) {
  const zone = account?.timezone || 'UTC';
  const rows = [h('span', null, t('visit.arrived', { time: formatDateTime(parseInstant(visit.arrived_at), zone) }))];
  if (Number.isFinite(visit.checkin_lat)) {
    rows.push(h('span', null, t('visit.position', { accuracy: formatNumber(visit.checkin_accuracy_m ?? 0, 0) })));
    if (fixAgeText(visit)) rows.push(h('span', null, fixAgeText(visit)));
    const km = distanceKm({ lat: visit.checkin_lat, lon: visit.checkin_lon }, account);
    const far = km !== null && km * 1000 > rules.geofence_m;
    if (km !== null) rows.push(h('span', { class: far ? 'warning-text' : null }, t('visit.distance_from_site', { m: formatNumber(km * 1000, 0) })));
  } else {
    rows.push(h('span', { class: 'warning-text' }, t('visit.no_position')));
  }
  return h('p', { class: 'checkin-facts' }, rows.flatMap((r, i) => (i ? [' · ', r] : [r])));
}

// ---- during: the outcome form ---------------------------------------------

async function outcomeForm(ctx, visit, account) {
  const { session } = ctx;
  const zone = account?.timezone || 'UTC';
  const draftKey = `draft:${visit.id}`;
  const draft = (await getValue('meta', draftKey, null)) || {};
  const arrivalDate = dateInZone(parseInstant(visit.arrived_at), zone);
  const currency = account?.currency || 'TWD';

  const input = (name, attrs) => h('input', { id: `f-${name}`, name, autocomplete: 'off', ...attrs });
  const select = (name, values, group) => h('select', { id: `f-${name}`, name }, values.map((v) => h('option', { value: v }, tv(group, v))));
  const check = (control, label) => h('label', { class: 'check' }, control, h('span', null, label));
  const whole = displayDigits(currency) === 0;
  const amount = { type: 'text', inputmode: whole ? 'numeric' : 'decimal' };
  const amountExample = { example: whole ? '1500' : '1500.50' };

  const metGroup = h('fieldset', { class: 'choices', id: 'f-met' }, h('legend', null, t('form.met')),
    MET.map((m) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'met', value: m }), h('span', null, tv('met', m)))));
  const metName = input('met_name', { type: 'text', maxlength: 200 });
  const guests = input('other_guests_present', { type: 'checkbox' });
  const waited = input('waited_minutes', { type: 'number', inputmode: 'numeric', min: 0, max: 720, step: 1 });
  const reason = select('delinquency_reason', REASONS, 'reason');
  reason.value = account?.delinquency_reason || 'unknown';
  const result = h('select', { id: 'f-result', name: 'result' });
  const promiseAmount = input('promise_amount', amount);
  const promiseDate = input('promise_date', { type: 'date', min: arrivalDate });
  const paid = input('paid', { type: 'checkbox' });
  const payAmount = input('pay_amount', amount);
  const payMethod = select('pay_method', METHODS, 'method');
  const notes = h('textarea', { id: 'f-notes', name: 'notes', rows: 4, maxlength: 4000 });
  const conduct = input('conduct', { type: 'checkbox' });

  const otherPersonPart = h('div', { class: 'subform' },
    thirdPartyPart(account), // reveal nothing; who the person is (views/restrictions.js)
    field(t('form.met_name'), metName, { id: 'met_name', hint: t('form.met_name_hint') }),
    field(t('form.redirected_to'), input('redirected_to', { type: 'text', maxlength: 200 }), { id: 'redirected_to', hint: t('form.redirected_hint') }),
    situationHint('redirected'));
  const waitedPart = h('div', { class: 'subform' }, field(t('form.waited_minutes'), waited, { id: 'waited_minutes' }), situationHint('other_guests_present'));
  const guestsPart = h('div', null, check(guests, t('form.other_guests')), waitedPart);
  const promisePart = h('div', { class: 'subform' },
    field(t('form.promise_amount', { currency: currencySymbol(currency, locale()) }), promiseAmount, { id: 'promise_amount' }),
    field(t('form.promise_date'), promiseDate, { id: 'promise_date', hint: t('form.promise_date_hint', { date: formatDay(arrivalDate) }) }));
  const payDetails = h('div', { class: 'subform' },
    field(t('form.pay_amount', { currency: currencySymbol(currency, locale()) }), payAmount, { id: 'pay_amount', hint: t('form.pay_hint') }),
    field(t('form.pay_method'), payMethod, { id: 'pay_method' }));
  const payPart = h('div', null, check(paid, t('form.paid')), payDetails);
  const suggestion = suggestedTime(null, zone);
  const followUp = appointmentFields({
    account, snapshot: ctx.snapshot, date: draft.follow_date || suggestion.date, time: draft.follow_time || suggestion.time, idPrefix: 'follow',
  });
  const followPart = h('fieldset', { class: 'subform', 'data-testid': 'follow-up' },
    h('legend', null, t('form.follow_up')), h('p', { class: 'hint' }, t('form.follow_up_hint')), followUp.node);
  const formError = h('p', { class: 'error form-error', role: 'alert' });
  const saveButton = h('button', { class: 'btn wide btn-primary', type: 'submit', 'data-testid': 'save-visit' }, t('form.save'));

  const form = h('form', { class: 'outcome', novalidate: true },
    h('h2', null, t('form.title')),
    metGroup, h('p', { class: 'error', 'data-error-for': 'met' }),
    otherPersonPart, guestsPart,
    field(t('form.reason'), reason, { id: 'delinquency_reason' }),
    field(t('form.result'), result, { id: 'result' }),
    promisePart, followPart, payPart,
    field(t('form.notes'), notes, { id: 'notes' }),
    h('fieldset', { class: 'conduct' }, h('legend', null, t('form.conduct_title')),
      h('ul', null, conductRules().map((r) => h('li', { 'data-rule': r.id }, r.text))),
      check(conduct, t('form.conduct_confirm')),
      h('p', { class: 'error', 'data-error-for': 'conduct' })),
    formError, saveButton);

  const met = () => form.elements.met.value || null;
  const values = () => Object.fromEntries([...form.elements].filter((el) => el.name && el.name !== 'conduct' && (el.type !== 'radio' || el.checked))
    .map((el) => [el.name, el.type === 'checkbox' ? el.checked : el.value]));
  // Restore the draft. The conduct confirmation is never restored: it is given afresh.
  for (const el of form.elements) {
    if (!el.name || el.name === 'conduct' || !(el.name in draft)) continue;
    if (el.type === 'checkbox') el.checked = !!draft[el.name];
    else if (el.type === 'radio') el.checked = draft[el.name] === el.value;
    else if (el.name !== 'result' && el.name !== 'follow_date' && el.name !== 'follow_time') el.value = draft[el.name];
  }

  function fillResults() {
    const allowed = allowedResults(met());
    const keep = result.value || draft.result || '';
    result.replaceChildren(h('option', { value: '' }, t('form.choose')), ...allowed.map((r) => h('option', { value: r }, tv('result', r))));
    result.value = allowed.includes(keep) ? keep : '';
    result.disabled = !met();
  }

  // Show only what applies; hidden parts are not sent.
  function arrange() {
    const m = met();
    otherPersonPart.hidden = m !== 'other_person';
    guestsPart.hidden = payPart.hidden = m === 'nobody' || !m;
    waitedPart.hidden = !guests.checked;
    promisePart.hidden = result.value !== 'promise_to_pay';
    followPart.hidden = result.value !== 'rescheduled';
    if (PAID.includes(result.value)) paid.checked = true;
    paid.disabled = PAID.includes(result.value);
    payDetails.hidden = !paid.checked;
  }

  let saveTimer = null;
  const saveDraft = () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => setValue('meta', draftKey, values()), 300);
  };

  function validate(v) {
    const errors = {};
    const m = v.met;
    if (!m) errors.met = t('form.err_met');
    if (m === 'other_person' && !v.met_name.trim()) errors.met_name = t('form.err_met_name');
    if (relationError(v)) errors.met_relation = relationError(v);
    const minutes = Number(v.waited_minutes);
    if (!guestsPart.hidden && v.other_guests_present && v.waited_minutes !== '' && !(Number.isInteger(minutes) && minutes >= 0 && minutes <= 720)) {
      errors.waited_minutes = t('form.err_waited');
    }
    if (!allowedResults(m).includes(v.result)) errors.result = t('form.err_result');
    const promiseMinor = parseMajor(v.promise_amount, currency);
    if (v.result === 'promise_to_pay') {
      if (!promiseMinor) errors.promise_amount = t('form.err_amount', amountExample);
      if (!v.promise_date) errors.promise_date = t('form.err_promise_date');
      else if (v.promise_date < arrivalDate) errors.promise_date = t('form.err_promise_past', { date: formatDay(arrivalDate) });
    }
    let followAt = null;
    if (v.result === 'rescheduled') {
      followAt = followUp.instant();
      if (!followAt) errors.follow_date = t('plan.need_date_time');
      else if (followAt <= new Date()) errors.follow_date = t('plan.need_future');
    }
    const payMinor = !payPart.hidden && paid.checked ? parseMajor(v.pay_amount, currency) : null;
    if (!payPart.hidden && paid.checked && !payMinor) errors.pay_amount = t('form.err_amount', amountExample);
    if (!conduct.checked) errors.conduct = t('form.err_conduct');
    return { errors, promiseMinor, payMinor, followAt };
  }

  function showErrors(errors) {
    for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = errors[el.dataset.errorFor] || '';
    const names = Object.keys(errors);
    formError.textContent = names.length ? t('form.fix_errors', { count: names.length }) : '';
    form.querySelector(`[data-error-for="${names[0]}"]`)?.parentElement.scrollIntoView({ block: 'center' });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = values();
    v.paid = paid.checked; // a disabled checkbox is still what the collector sees
    const { errors, promiseMinor, payMinor, followAt } = validate(v);
    showErrors(errors);
    if (Object.keys(errors).length) return;
    saveButton.disabled = true;
    const now = isoInZone(new Date(), zone);
    const fields = {
      status: 'done', departed_at: now, met: v.met, delinquency_reason: v.delinquency_reason, result: v.result,
      other_guests_present: !guestsPart.hidden && v.other_guests_present, conduct_confirmed: true,
    };
    if (v.met === 'other_person') {
      fields.met_name = v.met_name.trim();
      fields.met_relation = v.met_relation;
      if (v.redirected_to.trim()) fields.redirected_to = v.redirected_to.trim();
    }
    if (fields.other_guests_present && v.waited_minutes !== '') fields.waited_minutes = Number(v.waited_minutes);
    if (v.result === 'promise_to_pay') Object.assign(fields, { promise_amount: promiseMinor, promise_date: v.promise_date });
    if (v.notes.trim()) fields.notes = v.notes.trim();
    const label = { account: account?.customer_name };
    const changes = [{ entity: 'visit', id: visit.id, fields, summary: label }];
    if (payMinor) {
      changes.push({ entity: 'payment', id: uuid(), summary: label,
        fields: { account_id: visit.account_id, visit_id: visit.id, amount: payMinor, method: v.pay_method, collected_at: now } });
    }
    if (followAt && account) {
      // The follow-up is planned in the same local transaction as the record:
      // the office never sees "new appointment agreed" without the appointment.
      changes.push(newVisitChange({
        account, session, instant: followAt, notes: t('form.follow_up_note', { when: formatDateTime(parseInstant(visit.arrived_at), zone) }),
      }));
    }
    if (account && v.delinquency_reason !== (account.delinquency_reason || 'unknown')) {
      changes.push({ entity: 'account', id: account.id, fields: { delinquency_reason: v.delinquency_reason }, summary: label });
    }
    clearTimeout(saveTimer);
    await recordChanges(session, changes);
    await deleteKey('meta', draftKey);
    emit('data-changed', {}, { broadcast: true });
    await ctx.rerender();
    scrollTo(0, 0); // show the record from its top
  });
  form.addEventListener('change', (e) => {
    if (e.target.name === 'met') fillResults();
    arrange();
    saveDraft();
  });
  form.addEventListener('input', saveDraft);
  fillResults();
  arrange();

  return h('div', { class: 'during' },
    checkInFacts(visit, account, ctx.snapshot.rules),
    checkInControl(ctx, visit, account, { redo: true }), // visit-checkin.js
    account ? [contactLine(account), dueFacts(account), approach(reason.value)] : null,
    form,
    addWindowLink(account));
}

// ---- after: the record ------------------------------------------------------

function doneSummary(visit, account, snapshot) {
  const zone = account?.timezone || 'UTC';
  const payments = (snapshot.paymentsByAccount.get(visit.account_id) || []).filter((p) => p.visit_id === visit.id);
  const row = (label, value) => (value === null || value === undefined || value === '' ? null : h('div', { class: 'kv' }, h('dt', null, label), h('dd', null, value)));
  return h('div', { class: 'after' },
    checkInFacts(visit, account, snapshot.rules),
    h('dl', { class: 'record' },
      row(t('form.met'), tv('met', visit.met)),
      row(t('form.met_name'), visit.met_name),
      row(t('restrictions.relation'), visit.met_relation ? tv('met_relation', visit.met_relation) : null),
      row(t('form.redirected_to'), visit.redirected_to),
      row(t('form.other_guests'), visit.other_guests_present ? t('common.yes') : t('common.no')),
      row(t('form.waited_minutes'), visit.waited_minutes),
      row(t('form.reason'), tv('reason', visit.delinquency_reason)),
      row(t('form.result'), tv('result', visit.result)),
      visit.promise_amount ? row(t('form.promise'), `${money(visit.promise_amount, account)} · ${formatDay(visit.promise_date)}`) : null,
      payments.map((p) => row(t('form.payment'), [`${money(p.amount, account)} · ${tv('method', p.method)} `, paymentStatus(p)])),
      row(t('form.notes'), visit.notes),
      row(t('form.conduct_title'), visit.conduct_confirmed ? `✓ ${t('form.conduct_done')}` : null),
      row(t('visit.departed'), visit.departed_at ? formatDateTime(parseInstant(visit.departed_at), zone) : null)),
    followUps(visit, account, snapshot),
    visit.flags?.length ? [h('h2', null, t('visit.flags')), warningList(visit.flags, 'flag')] : null);
}

/** After "new appointment agreed": the visits planned on the account since, one tap away. */
function followUps(visit, account, snapshot) {
  if (visit.result !== 'rescheduled') return null;
  const after = parseInstant(visit.arrived_at);
  const planned = (snapshot.visitsByAccount.get(visit.account_id) || [])
    .filter((v) => v.id !== visit.id && v.status === 'planned' && parseInstant(v.scheduled_at) > after)
    .sort((a, b) => parseInstant(a.scheduled_at) - parseInstant(b.scheduled_at));
  if (!planned.length) return null;
  const zone = account?.timezone || 'UTC';
  return h('p', { class: 'notice', 'data-testid': 'follow-up-planned' }, t('form.follow_up_planned'), ' ',
    planned.map((v) => h('a', { href: `#/visit/${v.id}` }, formatDateTime(parseInstant(v.scheduled_at), zone))));
}
