// The checks the phone can make offline, with the thresholds the server sends
// in every pull (`rules`). The server computes the authoritative flags when a
// visit arrives; these are early warnings so the collector can plan better.

import { zonedParts, dateInZone, daysBetween, minutesOfDay, parseInstant } from './time.js';
import { windowAt } from './restrictions.js';

export const DEFAULT_RULES = {
  contact_hours: { start: '08:00', end: '21:00' },
  preferred_windows: [['09:30', '11:30'], ['14:00', '16:00']],
  attempt_limit: { max: 5, window_days: 7 },
  geofence_m: 200,
  early_margin_minutes: 15,
  arrived_late_grace_minutes: 10,
  missed_after_minutes: 30,
  travel: { detour_factor: 1.3, speed_kmh: 25 },
};

export function withDefaults(rules) {
  return { ...DEFAULT_RULES, ...(rules || {}) };
}

/**
 * The rules of `account`: its jurisdiction's contact hours, attempt limit and
 * way of counting attempts (the pull's `rules.jurisdictions`, docs/protocol.md 1.1),
 * else the top-level ones — as the server judges its visits.
 */
export function rulesFor(rules, account) {
  const r = withDefaults(rules);
  const own = account?.jurisdiction ? r.jurisdictions?.[account.jurisdiction] : null;
  return own ? { ...r, ...own } : r;
}

/**
 * Whom an attempt reached (server/rules/attempts.py): the original contact
 * when met or when nobody was (the visit sought them), else the person met
 * by name, with case, width and spacing ignored.
 */
export function attemptPerson(visit) {
  if (visit?.met !== 'other_person') return 'original_contact';
  return `other:${String(visit.met_name || '').normalize('NFKC').toLowerCase().split(/\s+/).filter(Boolean).join(' ')}`;
}

/** Whole days past due in the account's zone, from the phone's own date (PROTOCOL: the phone recomputes). */
export function daysPastDue(account, now = new Date()) {
  if (!account?.due_since) return account?.days_past_due ?? 0;
  return Math.max(0, daysBetween(account.due_since, dateInZone(now, account.timezone || 'UTC')));
}

const BUCKETS = [[0, 'current'], [30, '1-30'], [60, '31-60'], [90, '61-90'], [180, '91-180'], [360, '181-360'], [720, '361-720']];

export function agingBucket(days) {
  for (const [limit, name] of BUCKETS) if (days <= limit) return name;
  return '721+';
}

/** Morning before 12:00, afternoon 12:00–17:00, evening after (PROTOCOL same_slot_repeat). */
export function partOfDay(minutes) {
  if (minutes < 12 * 60) return 'morning';
  if (minutes < 17 * 60) return 'afternoon';
  return 'evening';
}

function minutesInZone(date, timeZone) {
  const p = zonedParts(date, timeZone);
  return p.hour * 60 + p.minute;
}

const attemptTime = (v) => parseInstant(v.arrived_at);

/** Done visits of the account, oldest first. */
export function attemptsOf(visits) {
  return visits.filter((v) => v.status === 'done' && attemptTime(v)).sort((a, b) => attemptTime(a) - attemptTime(b));
}

/**
 * Warnings for a visit planned at `when` (a Date) on `account`, by the rules
 * of the account's jurisdiction. Returns keys: outside_contact_hours,
 * outside_preferred_window, attempt_limit, same_slot_repeat, do_not_visit.
 */
export function planWarnings({ when, account, visitsOfAccount, rules, visitId = null }) {
  if (!when) return [];
  const r = rulesFor(rules, account);
  const zone = account?.timezone || 'UTC';
  const minute = minutesInZone(when, zone);
  const warnings = [];
  const start = minutesOfDay(r.contact_hours.start);
  const end = minutesOfDay(r.contact_hours.end);
  if (minute < start || minute > end) warnings.push('outside_contact_hours');
  else if (!r.preferred_windows.some(([a, b]) => minute >= minutesOfDay(a) && minute <= minutesOfDay(b))) {
    warnings.push('outside_preferred_window');
  }
  const earlier = attemptsOf(visitsOfAccount || []).filter((v) => v.id !== visitId && attemptTime(v) < when);
  const windowStart = when.getTime() - r.attempt_limit.window_days * 86400_000;
  // A planned visit seeks the original contact; where attempts count per
  // person, only those that reached them count.
  const counted = r.attempts_per === 'person' ? earlier.filter((v) => attemptPerson(v) === 'original_contact') : earlier;
  const recent = counted.filter((v) => attemptTime(v).getTime() > windowStart);
  if (recent.length >= r.attempt_limit.max) warnings.push('attempt_limit');
  const last = earlier[earlier.length - 1];
  if (last && partOfDay(minutesInZone(attemptTime(last), zone)) === partOfDay(minute)) {
    warnings.push('same_slot_repeat');
  }
  if (windowAt(account, when)) warnings.push('do_not_visit');
  return warnings;
}

/** Geodesic distance on a sphere (haversine) — close enough for travel estimates. */
export function distanceKm(a, b) {
  if (![a?.lat, a?.lon, b?.lat, b?.lon].every((x) => Number.isFinite(Number(x)))) return null;
  const rad = (d) => (Number(d) * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
}

/** DESIGN: road distance ≈ 1.3 × straight line, at 25 km/h in town (rules.travel), rounded up as the server does. */
export function travelMinutes(km, rules) {
  const { detour_factor: detour, speed_kmh: speed } = withDefaults(rules).travel;
  return km === null ? 0 : Math.ceil((km * detour * 60) / speed - 1e-9);
}

const MINUTE = 60_000;

/**
 * Where a stop of the day stands at `now`, for Today:
 * - `done`, `cancelled`: as recorded;
 * - `in_progress`: checked in, the record not finished yet;
 * - `missed`: recorded as missed, or planned with no check-in more than
 *   `missed_after_minutes` after the appointment (offered a new time);
 * - `open`: the appointment has passed, but not by that much: still possible;
 * - `late`: not there yet and leaving now arrives after the appointment
 *   (`lateBy` minutes; `flagged` once past the late-arrival grace);
 * - `leave_now`: the leave-by time has come, the appointment can still be made;
 * - `upcoming`: `leaveIn` minutes until the leave-by time.
 * Only `upcoming`, `leave_now` and `late` stops can be the next stop.
 */
export function stopState({ visit, scheduled, leaveBy, travelMinutes: travel = 0, now = new Date(), rules }) {
  const r = withDefaults(rules);
  if (visit.status === 'done' || visit.status === 'cancelled') return { state: visit.status };
  if (visit.status === 'missed') return { state: 'missed' };
  if (visit.arrived_at) return { state: 'in_progress' };
  if (!scheduled) return { state: 'upcoming', leaveIn: null };
  const sinceAppointment = (now - scheduled) / MINUTE;
  if (sinceAppointment >= r.missed_after_minutes) return { state: 'missed', derived: true };
  if (sinceAppointment >= 0) return { state: 'open', overdue: Math.floor(sinceAppointment) };
  const leave = leaveBy || new Date(scheduled.getTime() - (travel + r.early_margin_minutes) * MINUTE);
  if (now < leave) return { state: 'upcoming', leaveIn: Math.ceil((leave - now) / MINUTE) };
  const lateBy = Math.ceil((now.getTime() + (travel || 0) * MINUTE - scheduled.getTime()) / MINUTE);
  if (lateBy > 0) return { state: 'late', lateBy, flagged: lateBy > r.arrived_late_grace_minutes };
  return { state: 'leave_now' };
}

export const NEXT_STATES = new Set(['upcoming', 'leave_now', 'late']);
