// Today: the day's visits in route order, each with what the collector needs
// at the door — when to leave, whom to ask for, what is owed, what happened
// last time, how to approach it, and what the rules warn about.

import { h } from '../dom.js';
import { t, tv, formatTime, formatDay, formatNumber } from '../i18n.js';
import { dateInZone, addDays } from '../time.js';
import { planWarnings } from '../rules.js';
import { visitsOnDay, buildDayPlan } from '../day-plan.js';
import { syncBadge, warningList, dueFacts, contactLine, historyLine, approach, emptyState, addressLine } from './components.js';

export async function todayView({ snapshot, params }) {
  const today = dateInZone(new Date());
  const date = /^\d{4}-\d{2}-\d{2}$/.test(params.date || '') ? params.date : today;
  const visits = visitsOnDay(snapshot.visits, snapshot.accountsById, date);
  const serverPlan = snapshot.meta[`plan:${date}`] || null;
  const stops = buildDayPlan({ visits, accountsById: snapshot.accountsById, serverPlan, rules: snapshot.rules });
  const open = stops.filter((s) => s.visit.status === 'planned');
  const finished = stops.filter((s) => s.visit.status !== 'planned');

  const title = date === today ? t('today.title') : formatDay(date);
  return h('section', { class: 'view view-today', 'data-testid': 'today' },
    h('div', { class: 'day-nav' },
      h('a', { class: 'btn btn-ghost', href: `#/today?date=${addDays(date, -1)}`, 'aria-label': t('today.previous') }, '‹'),
      h('h1', null, title, h('small', null, formatDay(date))),
      h('a', { class: 'btn btn-ghost', href: `#/today?date=${addDays(date, 1)}`, 'aria-label': t('today.next') }, '›')),
    h('p', { class: 'summary' }, t('today.summary', { open: open.length, done: finished.length }),
      stops.length && !serverPlan ? h('span', { class: 'muted' }, ` · ${t('today.order_by_time')}`) : null),
    stops.length === 0
      ? emptyState(t('today.empty'), h('a', { class: 'btn', href: '#/accounts' }, t('today.plan_one')))
      : h('ol', { class: 'stops' }, open.map((s, i) => stopCard(s, i + 1, snapshot)), finished.map((s) => stopCard(s, null, snapshot))),
    stops.length ? h('a', { class: 'btn btn-secondary wide', href: '#/accounts' }, t('today.plan_another')) : null);
}

function stopCard(stop, number, snapshot) {
  const { visit, account } = stop;
  const zone = account?.timezone;
  const accountVisits = snapshot.visitsByAccount.get(visit.account_id) || [];
  const warnings = visit.status === 'planned'
    ? [...new Set([...planWarnings({ when: stop.scheduled, account, visitsOfAccount: accountVisits, rules: snapshot.rules, visitId: visit.id }),
      ...stop.serverWarnings])]
    : (visit.flags || []);
  const leg = [];
  if (stop.leaveBy) leg.push(t('today.leave_by', { time: formatTime(stop.leaveBy, zone) }));
  if (stop.distanceKm !== null && stop.distanceKm !== undefined) {
    leg.push(t('today.distance', { km: formatNumber(stop.distanceKm), minutes: stop.travelMinutes ?? '—' }));
  }
  if (stop.source === 'estimate') leg.push(t('today.estimate'));
  return h('li', { class: `stop stop-${visit.status}`, 'data-visit-id': visit.id },
    h('div', { class: 'stop-head' },
      number ? h('span', { class: 'stop-number', 'aria-label': t('today.stop_number', { n: number }) }, String(number)) : h('span', { class: 'stop-number done' }, '✓'),
      h('span', { class: 'stop-time' }, formatTime(stop.scheduled, zone)),
      visit.status !== 'planned' ? h('span', { class: `badge badge-status-${visit.status}` }, tv('status', visit.status)) : null,
      syncBadge(snapshot.states.get(visit.id))),
    h('p', { class: 'leg' }, leg.join(' · ')),
    account ? [
      h('h2', { class: 'customer' }, account.customer_name),
      contactLine(account),
      addressLine(account),
      dueFacts(account),
      historyLine(account, accountVisits, snapshot.promisesByAccount.get(account.id)),
      visit.status === 'planned' ? approach(account.delinquency_reason) : null,
    ] : h('p', { class: 'muted' }, t('today.account_missing')),
    visit.plan_notes ? h('p', { class: 'notes' }, visit.plan_notes) : null,
    warningList(warnings),
    h('a', { class: 'btn wide', href: `#/visit/${visit.id}`, 'data-testid': 'open-visit' },
      visit.status === 'planned' ? (visit.arrived_at ? t('today.continue_visit') : t('today.open_visit')) : t('today.view_record')));
}
