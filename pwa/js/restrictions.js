// An account's do-not-visit windows (docs/protocol.md 1.1 "Account contact
// restrictions"): times the debtor asked not to be visited, or the office
// set. A window covers `from` up to, not including, `to`, as on the server
// (server/rules/restrictions.py). The list is one field sent whole; a
// collector only ever adds to it, so this phone's pending list and the
// server's copy are merged by union (the server merges item by item too).

import { parseInstant } from './time.js';

/** The account's windows with their instants, soonest first. */
export function windowsOf(account) {
  return (account?.do_not_visit || [])
    .map((w) => ({ ...w, start: parseInstant(w.from), end: parseInstant(w.to) }))
    .filter((w) => w.start && w.end)
    .sort((a, b) => a.start - b.start);
}

/** The first window covering `moment` (a Date), or null. */
export function windowAt(account, moment) {
  if (!moment) return null;
  return windowsOf(account).find((w) => w.start <= moment && moment < w.end) || null;
}

/** Windows not over at `now`: in force, or still to come. */
export function currentWindows(account, now = new Date()) {
  return windowsOf(account).filter((w) => w.end > now);
}

// Two writers' copies of one window differ in how the times are written
// (an offset here, UTC from the server): compare instants.
const windowKey = (w) => `${Date.parse(w.from)}|${Date.parse(w.to)}|${String(w.reason || '').trim()}`;

/** Both lists, each window once. */
export function unionWindows(a, b) {
  const seen = new Map();
  for (const w of [...(a || []), ...(b || [])]) {
    const key = windowKey(w);
    if (!seen.has(key)) seen.set(key, { from: w.from, to: w.to, reason: w.reason });
  }
  return [...seen.values()];
}

/**
 * The fields of a pending change as they apply over the server's copy
 * `record` (outbox.js rebuildRecord): a window list adds to the server's
 * instead of hiding a window the office set since.
 */
export function overPending(entity, record, fields) {
  if (entity !== 'account' || !Array.isArray(fields.do_not_visit)) return fields;
  return { ...fields, do_not_visit: unionWindows(record?.do_not_visit, fields.do_not_visit) };
}
