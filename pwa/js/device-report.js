// What this phone tells the server about itself on every push and pull
// (docs/protocol.md 1.1 "Device clock and device report"): its client id, the
// app's version, the changes waiting in the outbox and the oldest one's
// time, and whether the browser promised to keep its data. And what the
// phone learns of its own clock from the server's `server_time`, so the
// collector can be told when it is wrong (visit times from a wrong clock are
// flagged for the supervisor).

import { transact, req, outboxRange, setValue } from './db.js';
import { APP_VERSION } from './version.js';

/** Beyond this the collector is told (the server's default limit too). */
export const CLOCK_OFF_MS = 5 * 60_000;

/** The four request headers; any part the browser cannot say is left out. */
export async function deviceHeaders(clientId) {
  const headers = { 'Fieldvisit-Client': clientId, 'Fieldvisit-App-Version': APP_VERSION };
  try {
    const pending = await transact('outbox', 'readonly', async (s) =>
      (await req(s.outbox.getAll(outboxRange(clientId)))).filter((e) => e.state === 'pending'));
    let oldest = null;
    for (const entry of pending) {
      const at = Date.parse(entry.created_at);
      if (!Number.isNaN(at) && (oldest === null || at < oldest)) oldest = at;
    }
    headers['Fieldvisit-Outbox'] = oldest === null
      ? String(pending.length)
      : `${pending.length}; oldest=${new Date(oldest).toISOString()}`;
  } catch { /* the outbox could not be read now: say nothing of it */ }
  try {
    if (navigator.storage?.persisted) {
      headers['Fieldvisit-Storage'] = (await navigator.storage.persisted()) ? 'persisted' : 'best-effort';
    }
  } catch { /* not said */ }
  return headers;
}

/**
 * Remember how far this phone's clock is from the server's. The server read
 * its clock somewhere between our request leaving and its answer arriving:
 * the middle of the two is the fair guess (a round trip is seconds, the
 * limit minutes).
 */
export async function noteServerTime(serverTime, sentAtMs, answeredAtMs) {
  const server = Date.parse(serverTime || '');
  if (Number.isNaN(server)) return;
  const offsetMs = Math.round((sentAtMs + answeredAtMs) / 2 - server);
  await setValue('meta', 'clock', { offset_ms: offsetMs, at: new Date(answeredAtMs).toISOString() });
}

/** {fast, minutes} when the clock is off beyond the limit, else null. */
export function clockOff(clock) {
  if (!clock || !Number.isFinite(clock.offset_ms) || Math.abs(clock.offset_ms) <= CLOCK_OFF_MS) return null;
  return { fast: clock.offset_ms > 0, minutes: Math.round(Math.abs(clock.offset_ms) / 60_000) };
}
