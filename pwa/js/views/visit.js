// One visit: check in, the outcome form, then the record as kept. The form
// offers only combinations the server accepts (PROTOCOL "Entities and
// fields"), and is saved as a draft on every change, so a killed tab loses nothing.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatDay, formatNumber } from '../i18n.js';
import { getValue, setValue, deleteKey } from '../db.js';
import { recordChanges } from '../outbox.js';
import { uuid } from '../ids.js';
import { parseInstant, isoInZone, dateInZone } from '../time.js';
import { parseMajor } from '../money.js';
import { distanceKm, planWarnings } from '../rules.js';
import { getPosition } from '../geo.js';
import { conductRules, situationGuidance, REASONS } from '../guidance.js';
import { emit } from '../events.js';
import {
  syncBadge, warningList, dueFacts, contactLine, approach, money, field, backLink, emptyState, historyLine, addressLine,
} from './components.js';
import { problemCard } from './problems.js';

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
  if (visit.status === 'done') body = doneSummary(visit, account, snapshot);
  else if (visit.status !== 'planned') body = h('p', { class: 'muted' }, t('visit.closed', { status: tv('status', visit.status) }));
  else if (!visit.arrived_at) body = beforeVisit(ctx, visit, account);
  else body = await outcomeForm(ctx, visit, account);

  return h('section', { class: 'view view-visit', 'data-testid': 'visit', 'data-visit-status': visit.status },
    account ? backLink(`#/account/${account.id}`, t('visit.account_link')) : backLink('#/today', t('nav.today')),
    h('h1', null, account?.customer_name || t('visit.unknown_account')),
    h('p', { class: 'visit-meta' },
      h('span', null, formatDateTime(parseInstant(visit.scheduled_at), zone)), ' ',
      h('span', { class: `badge badge-status-${visit.status}` }, tv('status', visit.status)), ' ',
      syncBadge(snapshot.states.get(visit.id))),
    problems.map((p) => problemCard(p)),
    body);
}

// ---- before: brief and check in ------------------------------------------

function beforeVisit(ctx, visit, account) {
  const { snapshot, session } = ctx;
  const zone = account?.timezone || 'UTC';
  const status = h('p', { class: 'hint', 'aria-live': 'polite' });
  const warnings = account ? planWarnings({
    when: parseInstant(visit.scheduled_at), account, visitsOfAccount: snapshot.visitsByAccount.get(account.id) || [],
    rules: snapshot.rules, visitId: visit.id,
  }) : [];

  const checkInButton = h('button', { class: 'btn wide btn-primary', type: 'button', 'data-testid': 'check-in' }, t('visit.check_in'));
  checkInButton.addEventListener('click', async () => {
    checkInButton.disabled = true;
    const arrivedAt = new Date(); // the moment they pressed: GPS may take a while
    status.textContent = t('visit.locating');
    const pos = await getPosition();
    const fields = { arrived_at: isoInZone(arrivedAt, zone) };
    if (pos.ok) {
      fields.checkin_lat = Number(pos.lat.toFixed(6));
      fields.checkin_lon = Number(pos.lon.toFixed(6));
      fields.checkin_accuracy_m = Math.round(pos.accuracy);
    } else {
      await setValue('meta', `draft:${visit.id}`, { notes: t('visit.no_position_note', { reason: t(`geo.${pos.reason}`) }) });
    }
    await recordChanges(session, [{ entity: 'visit', id: visit.id, fields, summary: { account: account?.customer_name } }]);
    emit('data-changed', {}, { broadcast: true });
    ctx.rerender();
  });

  const cancelButton = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'cancel-visit' }, t('visit.cancel'));
  cancelButton.addEventListener('click', async () => {
    if (!confirm(t('visit.cancel_confirm'))) return;
    await recordChanges(session, [{ entity: 'visit', id: visit.id, fields: { status: 'cancelled' }, summary: { account: account?.customer_name } }]);
    ctx.navigate('#/today');
  });

  // The action first, within thumb reach; the briefing follows.
  return h('div', { class: 'before' },
    visit.plan_notes ? h('p', { class: 'notes' }, visit.plan_notes) : null,
    warningList(warnings),
    checkInButton, status,
    account ? [contactLine(account),
      addressLine(account),
      dueFacts(account),
      historyLine(account, snapshot.visitsByAccount.get(account.id), snapshot.promisesByAccount.get(account.id)),
      approach(account.delinquency_reason, { open: true })] : null,
    situationHint('arrive_early'),
    h('div', { class: 'row-actions' },
      h('a', { class: 'btn btn-secondary', href: `#/plan/${visit.account_id}/${visit.id}`, 'data-testid': 'edit-plan' }, t('visit.edit_plan')),
      cancelButton));
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
  const amount = { type: 'text', inputmode: 'decimal' };

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
    field(t('form.met_name'), metName, { id: 'met_name', hint: t('form.met_name_hint') }),
    field(t('form.redirected_to'), input('redirected_to', { type: 'text', maxlength: 200 }), { id: 'redirected_to', hint: t('form.redirected_hint') }),
    situationHint('redirected'));
  const waitedPart = h('div', { class: 'subform' }, field(t('form.waited_minutes'), waited, { id: 'waited_minutes' }), situationHint('other_guests_present'));
  const guestsPart = h('div', null, check(guests, t('form.other_guests')), waitedPart);
  const promisePart = h('div', { class: 'subform' },
    field(t('form.promise_amount', { currency }), promiseAmount, { id: 'promise_amount' }),
    field(t('form.promise_date'), promiseDate, { id: 'promise_date', hint: t('form.promise_date_hint', { date: formatDay(arrivalDate) }) }));
  const payDetails = h('div', { class: 'subform' },
    field(t('form.pay_amount', { currency }), payAmount, { id: 'pay_amount', hint: t('form.pay_hint') }),
    field(t('form.pay_method'), payMethod, { id: 'pay_method' }));
  const payPart = h('div', null, check(paid, t('form.paid')), payDetails);
  const formError = h('p', { class: 'error form-error', role: 'alert' });
  const saveButton = h('button', { class: 'btn wide btn-primary', type: 'submit', 'data-testid': 'save-visit' }, t('form.save'));

  const form = h('form', { class: 'outcome', novalidate: true },
    h('h2', null, t('form.title')),
    metGroup, h('p', { class: 'error', 'data-error-for': 'met' }),
    otherPersonPart, guestsPart,
    field(t('form.reason'), reason, { id: 'delinquency_reason' }),
    field(t('form.result'), result, { id: 'result' }),
    promisePart, payPart,
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
    else if (el.name !== 'result') el.value = draft[el.name];
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
    const minutes = Number(v.waited_minutes);
    if (!guestsPart.hidden && v.other_guests_present && v.waited_minutes !== '' && !(Number.isInteger(minutes) && minutes >= 0 && minutes <= 720)) {
      errors.waited_minutes = t('form.err_waited');
    }
    if (!allowedResults(m).includes(v.result)) errors.result = t('form.err_result');
    const promiseMinor = parseMajor(v.promise_amount, currency);
    if (v.result === 'promise_to_pay') {
      if (!promiseMinor) errors.promise_amount = t('form.err_amount');
      if (!v.promise_date) errors.promise_date = t('form.err_promise_date');
      else if (v.promise_date < arrivalDate) errors.promise_date = t('form.err_promise_past', { date: formatDay(arrivalDate) });
    }
    const payMinor = !payPart.hidden && paid.checked ? parseMajor(v.pay_amount, currency) : null;
    if (!payPart.hidden && paid.checked && !payMinor) errors.pay_amount = t('form.err_amount');
    if (!conduct.checked) errors.conduct = t('form.err_conduct');
    return { errors, promiseMinor, payMinor };
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
    const { errors, promiseMinor, payMinor } = validate(v);
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
    account ? [contactLine(account), dueFacts(account), approach(reason.value)] : null,
    form);
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
      row(t('form.redirected_to'), visit.redirected_to),
      row(t('form.other_guests'), visit.other_guests_present ? t('common.yes') : t('common.no')),
      row(t('form.waited_minutes'), visit.waited_minutes),
      row(t('form.reason'), tv('reason', visit.delinquency_reason)),
      row(t('form.result'), tv('result', visit.result)),
      visit.promise_amount ? row(t('form.promise'), `${money(visit.promise_amount, account)} · ${formatDay(visit.promise_date)}`) : null,
      payments.map((p) => row(t('form.payment'), `${money(p.amount, account)} · ${tv('method', p.method)}`)),
      row(t('form.notes'), visit.notes),
      row(t('form.conduct_title'), visit.conduct_confirmed ? `✓ ${t('form.conduct_done')}` : null),
      row(t('visit.departed'), visit.departed_at ? formatDateTime(parseInstant(visit.departed_at), zone) : null)),
    visit.flags?.length ? [h('h2', null, t('visit.flags')), warningList(visit.flags)] : null,
    h('p', { class: 'muted' }, t('visit.final_note')));
}

