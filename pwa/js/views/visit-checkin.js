// Checking in, with the evidence a supervisor can weigh: the position, its
// accuracy and the age of the fix. A check-in farther from the address on
// file than the geofence asks first ("You are 6 km from the address on file
// — check in anyway?"); nothing is recorded unless the collector says yes.
// Before the visit is recorded a check-in can be redone to take a better
// position: the arrival time stays, and the server keeps the earlier
// position in the visit's history.

import { h } from '../dom.js';
import { t, locale } from '../i18n.js';
import { getValue, setValue } from '../db.js';
import { recordChanges } from '../outbox.js';
import { isoInZone } from '../time.js';
import { distanceKm } from '../rules.js';
import { getPosition } from '../geo.js';
import { emit } from '../events.js';

/** A distance in the reader's units and language: "850 m", "6.2 km", "12 km" (公尺, 公里 in Chinese). */
export function distanceText(km) {
  const metres = km * 1000;
  const unit = (value, name, digits) => new Intl.NumberFormat(locale(), {
    style: 'unit', unit: name, unitDisplay: 'short', maximumFractionDigits: digits,
  }).format(value);
  if (metres < 1000) return unit(Math.round(metres / 10) * 10, 'meter', 0);
  return unit(km, 'kilometer', km < 10 ? 1 : 0);
}

/** An accuracy radius in whole metres: "35 m" ("35 公尺"). */
function metresText(metres) {
  return new Intl.NumberFormat(locale(), { style: 'unit', unit: 'meter', unitDisplay: 'short', maximumFractionDigits: 0 })
    .format(Math.round(metres));
}

/** "fix 3 s old", when the visit kept the age of its fix. */
export function fixAgeText(visit) {
  return Number.isInteger(visit.checkin_fix_age_s) ? t('checkin.fix_age', { seconds: visit.checkin_fix_age_s }) : null;
}

/**
 * Ask whether to check in this far away; resolves true or false. The
 * question is a form, so a sync finishing meanwhile does not redraw it away.
 */
function askFar(host, km, accuracy) {
  return new Promise((resolve) => {
    const yes = h('button', { class: 'btn btn-danger', type: 'submit', 'data-testid': 'checkin-anyway' }, t('checkin.anyway'));
    const no = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'checkin-not-now' }, t('checkin.not_now'));
    const form = h('form', { class: 'notice far-checkin', role: 'alertdialog', 'data-testid': 'far-checkin', 'aria-live': 'assertive' },
      h('p', null, h('strong', null, t('checkin.far_confirm', { distance: distanceText(km) }))),
      h('p', { class: 'hint' }, t('checkin.far_hint', { accuracy: metresText(accuracy) })),
      h('div', { class: 'row-actions' }, yes, no));
    const answer = (value) => { form.remove(); resolve(value); };
    form.addEventListener('submit', (event) => { event.preventDefault(); answer(true); });
    no.addEventListener('click', () => answer(false));
    host.replaceChildren(form);
    yes.focus();
  });
}

/**
 * The check-in button (or, with `redo`, the "Check in again" one) with its
 * status line and the place where the far question appears.
 */
export function checkInControl(ctx, visit, account, { redo = false } = {}) {
  const { session, snapshot } = ctx;
  const zone = account?.timezone || 'UTC';
  const status = h('p', { class: 'hint', 'aria-live': 'polite' });
  const question = h('div', { class: 'checkin-question' });
  const button = redo
    ? h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'check-in-again' }, t('checkin.redo'))
    : h('button', { class: 'btn wide btn-primary', type: 'button', 'data-testid': 'check-in' }, t('visit.check_in'));

  button.addEventListener('click', async () => {
    button.disabled = true;
    const pressedAt = new Date(); // the moment they pressed: GPS may take a while
    status.textContent = t('visit.locating');
    const pos = await getPosition();
    status.textContent = '';
    if (!pos.ok && redo) {
      status.textContent = t('checkin.redo_failed', { reason: t(`geo.${pos.reason}`) });
      button.disabled = false;
      return;
    }
    if (pos.ok && account) {
      const km = distanceKm({ lat: pos.lat, lon: pos.lon }, account);
      if (km !== null && km * 1000 > snapshot.rules.geofence_m && !(await askFar(question, km, pos.accuracy))) {
        status.textContent = t(redo ? 'checkin.redo_declined' : 'checkin.not_recorded');
        button.disabled = false;
        return;
      }
    }
    const fields = redo ? {} : { arrived_at: isoInZone(pressedAt, zone) };
    if (pos.ok) {
      fields.checkin_lat = Number(pos.lat.toFixed(6));
      fields.checkin_lon = Number(pos.lon.toFixed(6));
      fields.checkin_accuracy_m = Math.round(pos.accuracy);
      fields.checkin_fix_age_s = pos.ageS;
    } else {
      const draft = (await getValue('meta', `draft:${visit.id}`, null)) || {};
      await setValue('meta', `draft:${visit.id}`, { ...draft, notes: t('visit.no_position_note', { reason: t(`geo.${pos.reason}`) }) });
    }
    await recordChanges(session, [{ entity: 'visit', id: visit.id, fields, summary: { account: account?.customer_name } }]);
    emit('data-changed', {}, { broadcast: true });
    ctx.rerender();
  });

  return redo
    ? h('div', { class: 'checkin-redo' }, button, h('p', { class: 'hint' }, t('checkin.redo_hint')), status, question)
    : h('div', { class: 'checkin' }, button, status, question);
}
