// Today: the next stop on top, highlighted, with its leave-by countdown;
// then the rest of the day in route order; then what is behind — done,
// missed (with a new time two taps away) or still open. Each card carries
// what the collector needs at the door: when to leave, whom to ask for,
// where (with directions), what is owed, what happened last time, how to
// approach it, and what the rules warn about.

import { h } from '../dom.js';
import { t, tv, formatTime, formatDay, formatNumber } from '../i18n.js';
import { dateInZone, addDays } from '../time.js';
import { planWarnings, stopState, NEXT_STATES, withDefaults } from '../rules.js';
import { visitsOnDay, buildDayPlan } from '../day-plan.js';
import {
  syncBadge, warningList, dueFacts, contactLine, historyLine, approach, emptyState, addressLine, statusBadge, duration,
} from './components.js';
import { rescheduleControl } from './appointment.js';

export async function todayView(ctx) {
  const { snapshot, params } = ctx;
  const now = new Date();
  const today = dateInZone(now);
  const date = /^\d{4}-\d{2}-\d{2}$/.test(params.date || '') ? params.date : today;
  const visits = visitsOnDay(snapshot.visits, snapshot.accountsById, date);
  const serverPlan = snapshot.meta[`plan:${date}`] || null;
  const stops = buildDayPlan({ visits, accountsById: snapshot.accountsById, serverPlan, rules: snapshot.rules })
    .map((stop) => ({ ...stop, timing: stopState({ ...stop, now, rules: snapshot.rules }) }));

  const current = stops.filter((s) => s.timing.state === 'in_progress');
  // Only today has a next stop and countdowns; another day is a list in route order.
  const next = date === today ? stops.find((s) => NEXT_STATES.has(s.timing.state)) || null : null;
  const later = stops.filter((s) => NEXT_STATES.has(s.timing.state) && s !== next);
  const behind = stops.filter((s) => ['done', 'missed', 'open'].includes(s.timing.state))
    .sort((a, b) => (a.scheduled || 0) - (b.scheduled || 0));
  const counts = { open: current.length + (next ? 1 : 0) + later.length, done: 0, missed: 0 };
  for (const s of behind) counts[s.timing.state === 'open' ? 'open' : s.timing.state] += 1;

  const title = date === today ? t('today.title') : formatDay(date);
  const card = (stop, role) => stopCard(ctx, stop, role, date === today);
  return h('section', { class: 'view view-today', 'data-testid': 'today' },
    h('div', { class: 'day-nav' },
      h('a', { class: 'btn btn-ghost', href: `#/today?date=${addDays(date, -1)}`, 'aria-label': t('today.previous') }, '‹'),
      h('h1', null, title, h('small', null, formatDay(date))),
      h('a', { class: 'btn btn-ghost', href: `#/today?date=${addDays(date, 1)}`, 'aria-label': t('today.next') }, '›')),
    h('p', { class: 'summary', 'data-testid': 'day-summary' }, [
      t('today.summary_open', { count: counts.open }),
      t('today.summary_done', { count: counts.done }),
      counts.missed ? t('today.summary_missed', { count: counts.missed }) : null,
    ].filter(Boolean).join(t('common.separator')),
    stops.length && !serverPlan ? h('span', { class: 'muted' }, `${t('common.separator')}${t('today.order_by_time')}`) : null),
    stops.length ? h('a', { class: 'btn btn-secondary wide', href: `#/map?date=${date}`, 'data-testid': 'day-map' }, t('map.day_link')) : null,
    stops.length === 0
      ? emptyState(t('today.empty'), h('a', { class: 'btn', href: '#/accounts' }, t('today.plan_one')))
      : [
        current.length ? h('ol', { class: 'stops', 'aria-label': t('today.in_progress') }, current.map((s) => card(s, 'current'))) : null,
        next ? [h('h2', { class: 'section-title' }, t('today.next_stop')),
          h('ol', { class: 'stops', 'aria-label': t('today.next_stop') }, card(next, 'next'))] : null,
        later.length ? [h('h2', { class: 'section-title' }, t('today.later')),
          h('ol', { class: 'stops' }, later.map((s) => card(s, 'later')))] : null,
        behind.length ? [h('h2', { class: 'section-title' }, date === today ? t('today.earlier') : t('today.past')),
          h('ol', { class: 'stops' }, behind.map((s) => card(s, 'behind')))] : null,
      ],
    stops.length ? h('a', { class: 'btn btn-secondary wide', href: '#/accounts' }, t('today.plan_another')) : null);
}

/** The line under the time: leave-by countdown, late warning, or what became of it. */
export function timingLine(stop, rules, zone) {
  const { timing } = stop;
  const leaveBy = stop.leaveBy ? formatTime(stop.leaveBy, zone) : null;
  switch (timing.state) {
    case 'upcoming':
      return timing.leaveIn === null || !leaveBy ? null : h('p', { class: 'countdown', 'data-timing': 'upcoming' },
        t('today.leave_in', { duration: duration(timing.leaveIn), time: leaveBy }));
    case 'leave_now':
      return h('p', { class: 'countdown countdown-now', 'data-timing': 'leave_now' }, t('today.leave_now', { time: leaveBy || '—' }));
    case 'late':
      return h('p', { class: 'countdown countdown-late', role: 'status', 'data-timing': 'late' },
        t('today.will_be_late', { duration: duration(timing.lateBy) }),
        timing.flagged ? ` ${t('today.late_flag', { count: withDefaults(rules).arrived_late_grace_minutes })}` : '');
    case 'open':
      return h('p', { class: 'countdown countdown-late', 'data-timing': 'open' }, t('today.overdue', { duration: duration(timing.overdue) }));
    case 'missed':
      return h('p', { class: 'countdown countdown-missed', 'data-timing': 'missed' }, t('today.missed_explain'));
    case 'in_progress':
      return h('p', { class: 'countdown', 'data-timing': 'in_progress' }, t('today.in_progress_explain'));
    default:
      return null;
  }
}

function stateBadge(stop) {
  const { state } = stop.timing;
  if (state === 'done') return statusBadge('done');
  if (state === 'missed') return statusBadge('missed');
  if (state === 'open') return h('span', { class: 'badge badge-open' }, t('today.state_open'));
  if (state === 'in_progress') return h('span', { class: 'badge badge-open' }, t('today.in_progress'));
  if (state === 'late') return h('span', { class: 'badge badge-late' }, t('today.state_late'));
  return null;
}

function stopCard(ctx, stop, role, isToday) {
  const { snapshot } = ctx;
  const { visit, account } = stop;
  const zone = account?.timezone;
  const accountVisits = snapshot.visitsByAccount.get(visit.account_id) || [];
  const ahead = role === 'next' || role === 'later' || role === 'current';
  const warnings = visit.status === 'planned' && stop.timing.state !== 'missed'
    ? [...new Set([...planWarnings({ when: stop.scheduled, account, visitsOfAccount: accountVisits, rules: snapshot.rules, visitId: visit.id }),
      ...stop.serverWarnings])]
    : [];
  const leg = [];
  // The countdown line names the leave-by time; on another day, or without a countdown, the leg does.
  if (ahead && stop.leaveBy && (!isToday || !['upcoming', 'leave_now', 'late', 'in_progress'].includes(stop.timing.state))) {
    leg.push(t('today.leave_by', { time: formatTime(stop.leaveBy, zone) }));
  }
  if (ahead && stop.distanceKm !== null && stop.distanceKm !== undefined) {
    leg.push(t('today.distance', { km: formatNumber(stop.distanceKm), minutes: stop.travelMinutes ?? '—' }));
  }
  if (ahead && stop.source === 'estimate' && leg.length) leg.push(t('today.estimate'));
  const sep = t('common.separator');
  const detailed = role === 'next' || role === 'current';
  const missed = stop.timing.state === 'missed';
  const action = visit.status === 'done' ? t('today.view_record')
    : (visit.arrived_at ? t('today.continue_visit') : t('today.open_visit'));

  return h('li', {
    class: `stop stop-${visit.status} stop-${role}`, 'data-visit-id': visit.id, 'data-state': stop.timing.state,
    'aria-current': role === 'next' ? 'step' : null,
  },
  h('div', { class: 'stop-head' },
    h('span', { class: `stop-number${visit.status === 'done' ? ' done' : ''}`, 'aria-hidden': 'true' }, visit.status === 'done' ? '✓' : String(stop.order)),
    h('span', { class: 'stop-time' }, h('span', { class: 'visually-hidden' }, t('today.stop_number', { n: stop.order }), ' '), formatTime(stop.scheduled, zone)),
    stateBadge(stop),
    syncBadge(snapshot.states.get(visit.id))),
  isToday || !['upcoming', 'leave_now', 'late'].includes(stop.timing.state) ? timingLine(stop, snapshot.rules, zone) : null,
  leg.length ? h('p', { class: 'leg' }, leg.join(sep)) : null,
  account ? [
    h('h3', { class: 'customer' }, account.customer_name),
    visit.status === 'done' ? h('p', { class: 'muted' }, tv('result', visit.result)) : null,
    ahead || stop.timing.state === 'open' ? contactLine(account) : null,
    addressLine(account),
    detailed ? [dueFacts(account), historyLine(account, accountVisits, snapshot.promisesByAccount.get(account.id)),
      approach(account.delinquency_reason, { key: `today-${visit.id}` })] : null,
  ] : h('p', { class: 'muted' }, t('today.account_missing')),
  visit.plan_notes && visit.status !== 'done' ? h('p', { class: 'notes' }, visit.plan_notes) : null,
  warningList(warnings),
  missed && account ? rescheduleControl({ visit, account, snapshot, session: ctx.session, onSaved: () => ctx.rerender() }) : null,
  h('a', { class: `btn wide${missed || visit.status === 'done' ? ' btn-secondary' : ''}`, href: `#/visit/${visit.id}`, 'data-testid': 'open-visit' }, action));
}
