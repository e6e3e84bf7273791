// Contact restrictions on the phone (docs/protocol.md 1.1; docs/rules.md):
// - the account's do-not-visit windows, and a form to add one when the
//   customer asks ("not until after the funeral on the 12th"), offline
//   like every change;
// - the visit screen's warning before check-in when a window is in force;
// - the third-party guard: meeting someone other than the original contact,
//   the form says to reveal nothing about the debt and asks who the person is.

import { h } from '../dom.js';
import { t, tv, formatDateTime, locale } from '../i18n.js';
import { recordChanges } from '../outbox.js';
import { emit } from '../events.js';
import { dateInZone, instantFromZoned, isoInZone, addDays } from '../time.js';
import { currentWindows, unionWindows, windowAt } from '../restrictions.js';
import { rulesFor } from '../rules.js';
import { field } from './components.js';

export const RELATIONS = ['employee', 'family', 'neighbour', 'other'];
const MAX_REASON = 200;

const untilText = (w, zone) => formatDateTime(w.end, zone);

/** The zone's name in the reader's language ("Taipei Standard Time"), never its code. */
function zoneName(zone) {
  try {
    const parts = new Intl.DateTimeFormat(locale(), { timeZone: zone, timeZoneName: 'long' }).formatToParts(new Date());
    return parts.find((p) => p.type === 'timeZoneName')?.value || zone;
  } catch {
    return zone;
  }
}

function windowItem(w, zone, now) {
  const inForce = w.start <= now;
  return h('li', { class: inForce ? 'window window-now' : 'window', 'data-window-from': w.from },
    h('strong', null, inForce
      ? t('restrictions.until', { until: untilText(w, zone) })
      : t('restrictions.from_until', { from: formatDateTime(w.start, zone), until: untilText(w, zone) })),
    ' — ', w.reason);
}

// ---- visit screen -----------------------------------------------------------

/**
 * Before check-in: a window in force now is said plainly (the visit would be
 * flagged for the supervisor); windows still to come are listed.
 */
export function doNotVisitNotice(account, now = new Date()) {
  if (!account) return null;
  const zone = account.timezone || 'UTC';
  const active = windowAt(account, now);
  const coming = currentWindows(account, now).filter((w) => w !== active && w.start > now);
  if (!active && !coming.length) return null;
  return h('div', { class: active ? 'notice notice-stop' : 'notice', 'data-testid': 'do-not-visit', role: active ? 'alert' : null },
    active ? [
      h('p', { class: 'notice-title' }, t('restrictions.now_title')),
      h('p', null, t('restrictions.now_text', { until: untilText(active, zone), reason: active.reason })),
      h('p', { class: 'hint' }, t('restrictions.now_hint')),
    ] : h('p', { class: 'notice-title' }, t('restrictions.coming_title')),
    coming.length ? h('ul', { class: 'plain-list windows' }, coming.map((w) => windowItem(w, zone, now))) : null);
}

/** A link to the account's form, for when the customer asks on the visit. */
export function addWindowLink(account) {
  if (!account) return null;
  return h('a', { class: 'btn btn-secondary wide', href: `#/account/${account.id}?window=add`, 'data-testid': 'add-window-link' },
    t('restrictions.add_open'));
}

// ---- third-party guard on the outcome form ----------------------------------

/**
 * Shown while "someone else" is chosen: what not to say, and who the person
 * is to the customer (`met_relation`). Its select is a named form element,
 * so the visit form's draft keeps it like any other field.
 */
export function thirdPartyPart(account) {
  const relation = h('select', { id: 'f-met_relation', name: 'met_relation' },
    h('option', { value: '' }, t('form.choose')),
    RELATIONS.map((r) => h('option', { value: r }, tv('met_relation', r))));
  const contact = account?.original_contact_name || t('restrictions.the_contact');
  // A choice made answers the form's complaint about it.
  relation.addEventListener('change', () => {
    const error = relation.closest('.field')?.querySelector('[data-error-for=met_relation]');
    if (error && relation.value) error.textContent = '';
  });
  return h('div', { class: 'third-party', 'data-testid': 'third-party' },
    h('div', { class: 'situation guard', 'data-situation': 'third_party' },
      h('strong', null, t('restrictions.guard_title')), ' ',
      t('restrictions.guard_text', { contact })),
    field(t('restrictions.relation'), relation, { id: 'met_relation', hint: t('restrictions.relation_hint') }));
}

/** The relation's problem, if any, for the form's own check. */
export function relationError(values) {
  return values.met === 'other_person' && !RELATIONS.includes(values.met_relation) ? t('restrictions.err_relation') : null;
}

// ---- account screen -----------------------------------------------------------

/** The place's name in the reader's language ("Taiwan", 台灣), never its code. */
function placeName(code) {
  try {
    return new Intl.DisplayNames([locale()], { type: 'region' }).of(code) || code;
  } catch {
    return code;
  }
}

/**
 * The rules this account's visits are judged by, in words: the contact
 * hours (of its jurisdiction when it has one) and the attempt limit.
 */
function placeRules(rules, account) {
  const r = rulesFor(rules, account);
  const own = account.jurisdiction && rules?.jurisdictions?.[account.jurisdiction];
  const hours = { start: r.contact_hours.start, end: r.contact_hours.end };
  const days = t('restrictions.days', { count: r.attempt_limit.window_days });
  return h('div', { class: 'place-rules', 'data-testid': 'place-rules' },
    h('p', null, own ? t('restrictions.hours_of_place', { ...hours, place: placeName(account.jurisdiction) })
      : t('restrictions.hours', hours)),
    h('p', null, t(r.attempts_per === 'person' ? 'restrictions.attempts_person' : 'restrictions.attempts_account',
      { count: r.attempt_limit.max, days })));
}

/**
 * The account's windows not over yet, and the form to add one. The form
 * exists only while open: a screen holding a form is not redrawn by a sync.
 */
export function accountRestrictions(ctx, account, { openForm = false } = {}) {
  const zone = account.timezone || 'UTC';
  const now = new Date();
  const windows = currentWindows(account, now);
  const open = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'add-window', 'aria-expanded': 'false' }, t('restrictions.add_open'));
  const panel = h('div', { class: 'window-box' });
  const close = () => { panel.replaceChildren(); open.setAttribute('aria-expanded', 'false'); open.hidden = false; };
  const show = () => {
    panel.replaceChildren(windowForm(ctx, account, close));
    open.setAttribute('aria-expanded', 'true');
    open.hidden = true;
    panel.querySelector('#w-reason')?.focus();
  };
  open.addEventListener('click', show);
  if (openForm) show();
  return h('section', { class: 'restrictions', 'data-testid': 'restrictions' },
    h('h2', null, t('restrictions.title')),
    placeRules(ctx.snapshot.rules, account),
    windows.length
      ? h('ul', { class: 'plain-list windows' }, windows.map((w) => windowItem(w, zone, now)))
      : h('p', { class: 'muted' }, t('restrictions.none')),
    open, panel);
}

function windowForm(ctx, account, close) {
  const zone = account.timezone || 'UTC';
  const today = dateInZone(new Date(), zone);
  const input = (name, attrs) => h('input', { id: `w-${name}`, name, ...attrs });
  const fromDate = input('from_date', { type: 'date', value: today, required: true });
  const fromTime = input('from_time', { type: 'time', step: 300 });
  const toDate = input('to_date', { type: 'date', min: today, required: true });
  const toTime = input('to_time', { type: 'time', step: 300 });
  const reason = h('textarea', { id: 'w-reason', name: 'reason', rows: 2, maxlength: MAX_REASON, required: true });
  const message = h('p', { class: 'error', role: 'alert' });
  const save = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'window-save' }, t('restrictions.save'));
  const cancel = h('button', { class: 'btn btn-secondary', type: 'button', onclick: close }, t('restrictions.cancel'));
  const form = h('form', { class: 'window-form', novalidate: true },
    h('p', { class: 'hint' }, t('restrictions.form_hint', { zone: zoneName(zone) })),
    h('div', { class: 'two-fields' },
      field(t('restrictions.from_date'), fromDate, { id: 'from_date' }),
      field(t('restrictions.time_optional'), fromTime, { id: 'from_time' })),
    h('div', { class: 'two-fields' },
      field(t('restrictions.to_date'), toDate, { id: 'to_date' }),
      field(t('restrictions.time_optional'), toTime, { id: 'to_time' })),
    field(t('restrictions.reason'), reason, { id: 'reason', hint: t('restrictions.reason_hint') }),
    message, h('div', { class: 'row-actions' }, save, cancel));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!fromDate.value || !toDate.value) { message.textContent = t('restrictions.err_dates'); return; }
    // No time: from the start of the first day, to the end of the last.
    const start = instantFromZoned(fromDate.value, fromTime.value || '00:00', zone);
    const end = toTime.value ? instantFromZoned(toDate.value, toTime.value, zone)
      : instantFromZoned(addDays(toDate.value, 1), '00:00', zone);
    if (!(start < end)) { message.textContent = t('restrictions.err_order'); return; }
    if (end <= new Date()) { message.textContent = t('restrictions.err_past'); return; }
    if (!/[\p{L}\p{N}]/u.test(text)) { message.textContent = t('restrictions.err_reason'); reason.focus(); return; }
    save.disabled = true;
    const window = { from: isoInZone(start, zone), to: isoInZone(end, zone), reason: text };
    await recordChanges(ctx.session, [{
      entity: 'account', id: account.id, summary: { account: account.customer_name },
      fields: { do_not_visit: unionWindows(account.do_not_visit, [window]) },
    }]);
    emit('data-changed', {}, { broadcast: true });
    ctx.navigate(`#/account/${account.id}`); // redrawn without the form (and its ?window=add)
  });
  return form;
}
