// Correcting a finished visit from the phone (docs/protocol.md 1.1 "Done visits
// and amendments"): the collector changes an outcome field and says why; the
// change is queued like any other, offline too, and the server keeps the old
// value in the history. The status is not offered: a done visit stays done.
// Below the form, the visit's amendment trail — old and new value, who, when
// and why — as the server read it from the history, with this phone's
// corrections still waiting to be sent.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatDay, locale } from '../i18n.js';
import { recordChanges } from '../outbox.js';
import { emit } from '../events.js';
import { parseInstant, dateInZone } from '../time.js';
import { parseMajor, displayDigits, currencyDigits, currencySymbol } from '../money.js';
import { REASONS } from '../guidance.js';
import { field } from './components.js';
import { fieldName, valueText } from './record-words.js';
import { MET, allowedResults } from './visit.js';

/** Letters and digits, as the server counts them for a reason (white space and invisible characters do not count). */
export function reasonLetters(text) {
  return (String(text || '').match(/[\p{L}\p{N}]/gu) || []).length;
}

/** The trail and the "Correct this record" control of a done visit. */
export function amendSection(ctx, visit, account) {
  return h('section', { class: 'amend', 'data-testid': 'amend' },
    trail(ctx, visit, account),
    amendControl(ctx, visit, account));
}

// ---- the trail --------------------------------------------------------------

function changeLine(c, account) {
  return h('li', { 'data-field': c.field }, t('amend.change', {
    field: fieldName(c.field), old: valueText('visit', c.field, c.old, account), new: valueText('visit', c.field, c.new, account),
  }));
}

/** This phone's corrections not sent yet, each against the value before it. */
function pendingCorrections(ctx, visit) {
  const entries = (ctx.snapshot.entries || [])
    .filter((e) => e.entity === 'visit' && e.record_id === visit.id && e.state === 'pending' && e.fields?.amendment_reason)
    .sort((a, b) => a.seq - b.seq);
  const state = { ...(visit._server || visit) };
  return entries.map((e) => {
    const changes = Object.entries(e.fields).filter(([name]) => name !== 'amendment_reason')
      .map(([name, value]) => ({ field: name, old: state[name] ?? null, new: value }));
    Object.assign(state, e.fields);
    return { entry: e, changes };
  });
}

function trail(ctx, visit, account) {
  const zone = account?.timezone || undefined;
  const sent = (visit._server || visit).amendments || [];
  const pending = pendingCorrections(ctx, visit);
  if (!sent.length && !pending.length) return null;
  return h('div', { class: 'amend-trail', 'data-testid': 'amendment-trail' },
    h('h2', null, t('amend.trail')),
    h('ol', { class: 'plain-list' },
      sent.map((a) => h('li', { 'data-version': a.version },
        h('p', { class: 'muted' }, t('amend.by', {
          version: a.version, when: formatDateTime(parseInstant(a.at), zone),
          who: a.by ? `${a.by.name} (${tv('role', a.by.role)})` : '—',
        })),
        a.reason ? h('p', null, t('amend.why', { reason: a.reason })) : null,
        h('ul', null, (a.changes || []).map((c) => changeLine(c, account))))),
      pending.map(({ entry, changes }) => h('li', { 'data-pending': entry.seq },
        h('p', { class: 'muted' }, `${t('amend.pending')} · ${formatDateTime(parseInstant(entry.created_at), zone)} · ${t('amend.you')}`),
        h('p', null, t('amend.why', { reason: entry.fields.amendment_reason })),
        h('ul', null, changes.map((c) => changeLine(c, account)))))));
}

// ---- the form -----------------------------------------------------------------

function majorText(minor, currency) {
  if (minor === null || minor === undefined || minor === '') return '';
  const digits = currencyDigits(currency);
  const shown = Math.min(digits, displayDigits(currency));
  const major = Number(minor) / 10 ** digits;
  return Number.isInteger(major) ? String(major) : major.toFixed(shown);
}

function amendControl(ctx, visit, account) {
  const button = h('button', { class: 'btn btn-secondary wide', type: 'button', 'data-testid': 'amend-open', 'aria-expanded': 'false' }, t('amend.open'));
  // The form exists only while open: a screen holding a form is not redrawn by a sync.
  const panel = h('div', { class: 'amend-box' });
  const close = () => { panel.replaceChildren(); button.setAttribute('aria-expanded', 'false'); };
  button.addEventListener('click', () => {
    if (panel.firstChild) { close(); return; }
    panel.replaceChildren(amendForm(ctx, visit, account, close));
    button.setAttribute('aria-expanded', 'true');
    panel.querySelector('select, input, textarea')?.focus();
  });
  return [h('p', { class: 'muted' }, t('visit.final_note')), button, panel];
}

function amendForm(ctx, visit, account, close) {
  const zone = account?.timezone || 'UTC';
  const currency = account?.currency || 'TWD';
  const arrivalDate = visit.arrived_at ? dateInZone(parseInstant(visit.arrived_at), zone) : null;
  const control = (tag, name, attrs, children) => h(tag, { id: `a-${name}`, name, ...attrs }, children);
  const options = (values, group, current, blank = false) => [
    blank ? h('option', { value: '' }, '—') : null,
    ...values.map((v) => h('option', { value: v, selected: v === current }, tv(group, v)))];

  const met = control('select', 'met', {}, options(MET, 'met', visit.met));
  const metName = control('input', 'met_name', { type: 'text', maxlength: 200, value: visit.met_name || '' });
  const redirected = control('input', 'redirected_to', { type: 'text', maxlength: 200, value: visit.redirected_to || '' });
  const guests = control('select', 'other_guests_present', {}, [
    h('option', { value: 'no', selected: !visit.other_guests_present }, t('common.no')),
    h('option', { value: 'yes', selected: !!visit.other_guests_present }, t('common.yes'))]);
  const waited = control('input', 'waited_minutes', { type: 'number', inputmode: 'numeric', min: 0, max: 720, step: 1, value: visit.waited_minutes ?? '' });
  const reasonForDelay = control('select', 'delinquency_reason', {}, options(REASONS, 'reason', visit.delinquency_reason, !visit.delinquency_reason));
  const result = control('select', 'result', {});
  const promiseAmount = control('input', 'promise_amount', { type: 'text', inputmode: displayDigits(currency) ? 'decimal' : 'numeric', value: majorText(visit.promise_amount, currency) });
  const promiseDate = control('input', 'promise_date', { type: 'date', min: arrivalDate, value: visit.promise_date || '' });
  const notes = control('textarea', 'notes', { rows: 3, maxlength: 4000 });
  notes.value = visit.notes || '';
  const why = control('textarea', 'amendment_reason', { rows: 2, maxlength: 2000, required: true });
  const formError = h('p', { class: 'error form-error', role: 'alert' });

  function fillResults(keep) {
    const allowed = allowedResults(met.value);
    result.replaceChildren(h('option', { value: '' }, t('form.choose')), ...allowed.map((r) => h('option', { value: r }, tv('result', r))));
    result.value = allowed.includes(keep) ? keep : '';
  }
  fillResults(visit.result);
  const promisePart = h('div', { class: 'subform' },
    field(t('form.promise_amount', { currency: currencySymbol(currency, locale()) }), promiseAmount, { id: 'promise_amount' }),
    field(t('form.promise_date'), promiseDate, { id: 'promise_date', hint: arrivalDate ? t('form.promise_date_hint', { date: formatDay(arrivalDate) }) : null }));
  const arrange = () => { promisePart.hidden = result.value !== 'promise_to_pay'; };
  met.addEventListener('change', () => { fillResults(result.value); arrange(); });
  result.addEventListener('change', arrange);
  arrange();

  const save = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'amend-save' }, t('amend.save'));
  const keep = h('button', { class: 'btn btn-secondary', type: 'button', onclick: close }, t('amend.keep'));
  const form = h('form', { class: 'amend-form', novalidate: true, 'data-testid': 'amend-form' },
    h('h2', null, t('amend.title')),
    h('p', { class: 'hint' }, t('amend.explain')),
    field(t('form.met'), met, { id: 'met' }),
    field(t('form.met_name'), metName, { id: 'met_name' }),
    field(t('form.redirected_to'), redirected, { id: 'redirected_to' }),
    field(t('form.other_guests'), guests, { id: 'other_guests_present' }),
    field(t('form.waited_minutes'), waited, { id: 'waited_minutes' }),
    field(t('form.reason'), reasonForDelay, { id: 'delinquency_reason' }),
    field(t('form.result'), result, { id: 'result' }),
    promisePart,
    field(t('form.notes'), notes, { id: 'notes' }),
    field(t('amend.reason'), why, { id: 'amendment_reason', hint: t('amend.reason_hint') }),
    formError,
    h('div', { class: 'row-actions' }, save, keep));

  /** The wire values the form now holds, and what is wrong with them. */
  function read() {
    const errors = {};
    const values = {
      met: met.value || null,
      met_name: metName.value.trim() || null,
      redirected_to: redirected.value.trim() || null,
      other_guests_present: guests.value === 'yes',
      delinquency_reason: reasonForDelay.value || null,
      result: result.value || null,
      notes: notes.value.trim() || null,
    };
    const minutes = waited.value.trim();
    if (minutes === '') values.waited_minutes = null;
    else if (/^\d+$/.test(minutes) && Number(minutes) <= 720) values.waited_minutes = Number(minutes);
    else errors.waited_minutes = t('form.err_waited');
    if (!allowedResults(values.met).includes(values.result)) errors.result = t('form.err_result');
    if (values.met === 'other_person' && !values.met_name) errors.met_name = t('form.err_met_name');
    if (values.result === 'promise_to_pay') {
      values.promise_amount = parseMajor(promiseAmount.value, currency);
      values.promise_date = promiseDate.value || null;
      if (!values.promise_amount) errors.promise_amount = t('form.err_amount', { example: displayDigits(currency) ? '1500.50' : '1500' });
      if (!values.promise_date) errors.promise_date = t('form.err_promise_date');
      else if (arrivalDate && values.promise_date < arrivalDate) errors.promise_date = t('form.err_promise_past', { date: formatDay(arrivalDate) });
    }
    if (reasonLetters(why.value) < 3) errors.amendment_reason = t('amend.need_reason');
    return { values, errors };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { values, errors } = read();
    const current = (name) => (name === 'other_guests_present' ? !!visit[name] : (visit[name] ?? null));
    const changed = Object.fromEntries(Object.entries(values).filter(([name, value]) => current(name) !== value));
    for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = errors[el.dataset.errorFor] || '';
    const problems = Object.keys(errors);
    formError.textContent = problems.length ? t('form.fix_errors', { count: problems.length }) : '';
    if (problems.length) return;
    if (!Object.keys(changed).length) { formError.textContent = t('amend.nothing'); return; }
    save.disabled = true;
    await recordChanges(ctx.session, [{
      entity: 'visit', id: visit.id, fields: { ...changed, amendment_reason: why.value.trim() },
      summary: { account: account?.customer_name },
    }]);
    emit('data-changed', {}, { broadcast: true });
    await ctx.rerender();
  });
  return form;
}
