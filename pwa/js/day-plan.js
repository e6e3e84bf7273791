// The day's route. The server's /plan (route order, leave-by, distances) is
// used when the phone has it for that day; otherwise — offline, or a server
// without /plan — the phone orders the visits by appointment time and
// estimates leave-by from straight-line distance, and says so.

import { parseInstant, dateInZone } from './time.js';
import { distanceKm, travelMinutes, withDefaults } from './rules.js';

export function visitsOnDay(visits, accountsById, date) {
  return visits.filter((v) => {
    const when = parseInstant(v.scheduled_at);
    if (!when || v.status === 'cancelled') return false;
    const zone = accountsById.get(v.account_id)?.timezone;
    return dateInZone(when, zone) === date;
  });
}

export function buildDayPlan({ visits, accountsById, serverPlan, rules }) {
  const margin = withDefaults(rules).early_margin_minutes;
  const byTime = [...visits].sort((a, b) => parseInstant(a.scheduled_at) - parseInstant(b.scheduled_at));
  const serverStops = new Map((serverPlan?.stops || []).map((s, i) => [s.visit_id, { ...s, order: i }]));
  const planned = byTime.filter((v) => serverStops.has(v.id));
  const ordered = serverStops.size
    ? [...planned.sort((a, b) => serverStops.get(a.id).order - serverStops.get(b.id).order),
       ...byTime.filter((v) => !serverStops.has(v.id))]
    : byTime;
  let previous = null;
  return ordered.map((visit, index) => {
    const account = accountsById.get(visit.account_id) || null;
    const scheduled = parseInstant(visit.scheduled_at);
    const stop = serverStops.get(visit.id);
    let leg;
    if (stop && stop.scheduled_at && parseInstant(stop.scheduled_at)?.getTime() === scheduled?.getTime()) {
      leg = { source: 'server', leaveBy: parseInstant(stop.leave_by), distanceKm: stop.distance_km ?? null,
        travelMinutes: stop.travel_minutes ?? null, serverWarnings: stop.warnings || [] };
    } else {
      // Changed on the phone since the server planned it, or no plan: estimate.
      const km = previous ? distanceKm(previous, account) : null;
      const minutes = travelMinutes(km, rules);
      leg = { source: 'estimate', distanceKm: km, travelMinutes: km === null ? null : minutes,
        leaveBy: scheduled ? new Date(scheduled.getTime() - (minutes + margin) * 60000) : null, serverWarnings: [] };
    }
    if (account) previous = account;
    return { visit, account, scheduled, order: index + 1, ...leg };
  });
}
