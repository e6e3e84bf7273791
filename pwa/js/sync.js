// Push the outbox, then pull the change feed (docs/protocol.md): on open, on the
// `online` event, when the tab becomes visible, every minute, and on demand.
// Failures back off exponentially with jitter (phones returning online
// together do not retry in step) and honour Retry-After.
// One tab at a time: a round runs under a Web Lock, and entries leave
// "pending" in the transaction that stores the server's answer, so the next
// tab to get the lock finds nothing left to send.

import { transact, req, RECORD_STORES, getValue, setValue, outboxRange } from './db.js';
import { apiFetch, ApiError } from './api.js';
import { currentSession, markTokenRejected } from './session.js';
import { rebuildRecord } from './outbox.js';
import { noteConflictOutcomes } from './conflict-outcomes.js';
import * as hlc from './hlc.js';
import { isoLocal, dateInZone } from './time.js';
import { emit, on } from './events.js';
import { deviceHeaders, noteServerTime } from './device-report.js';

const LOCK_NAME = 'fieldvisit-sync';
const PERIOD_MS = 60_000;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;
const PUSH_BATCH = 100;
const PULL_LIMIT = 500;
const GUIDANCE_MAX_AGE_MS = 6 * 3600_000;
const KEEP_SETTLED_DAYS = 30;

const state = { running: false, failures: 0, lastError: null, nextAt: null, lastAttemptAt: 0 };
let inFlight = null;
let runAgain = false;
let timer = null;

export function syncState() { return { ...state, online: navigator.onLine }; }

function setState(patch) {
  Object.assign(state, patch);
  emit('sync-state', syncState());
}

/** Backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(failures, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

async function withSyncLock(work) {
  if (navigator.locks?.request) return navigator.locks.request(LOCK_NAME, work);
  return work(); // no Web Locks: the server's seq check still prevents doubles
}

/** Run one sync round now (or right after the current one). Resolves with {ok, error?}. */
export function syncNow({ reason = 'manual' } = {}) {
  if (reason === 'manual') state.failures = 0;
  if (inFlight) {
    runAgain = true;
    return inFlight;
  }
  inFlight = (async () => {
    let outcome;
    do {
      runAgain = false;
      outcome = await runRound(reason);
    } while (runAgain && outcome.ok);
    return outcome;
  })().finally(() => { inFlight = null; scheduleNext(); });
  return inFlight;
}

async function runRound(reason) {
  const session = await currentSession();
  if (!session) return { ok: false, error: 'signed-out' };
  if (!session.token_ok) return { ok: false, error: 'auth' };
  if (!navigator.onLine) { // the browser knows there is no network: do not count it as a failure
    setState({ lastError: 'offline' });
    return { ok: false, error: 'offline' };
  }
  setState({ running: true, lastAttemptAt: Date.now() });
  try {
    const changed = await withSyncLock(async () => {
      const pushed = await pushAll(session);
      const pulled = await pullAll(session);
      // Photos' bytes, after their records. Loaded when a round first runs,
      // not with the first screen (the service worker holds it offline).
      const { uploadWaiting } = await import('./uploads.js');
      const uploaded = await uploadWaiting(session);
      return pushed || pulled || uploaded;
    });
    await refreshExtras(session);
    await pruneSettled(session.client_id);
    await setValue('meta', 'lastSync', { ok_at: isoLocal(), reason });
    setState({ running: false, failures: 0, lastError: null });
    emit('data-changed', { changed }, { broadcast: true });
    return { ok: true };
  } catch (error) {
    const failures = state.failures + 1;
    let message = error instanceof ApiError ? (error.offline ? 'offline' : error.message) : String(error?.message || error);
    if (error instanceof ApiError && error.status === 401) {
      await markTokenRejected();
      message = 'auth';
    }
    setState({ running: false, failures, lastError: message, retryAfterMs: error?.retryAfterMs || null });
    emit('data-changed', { changed: true }, { broadcast: true });
    return { ok: false, error: message };
  }
}

// ---- push -----------------------------------------------------------------

async function pushAll(session) {
  const clientId = session.client_id;
  let sentSomething = false;
  for (let guard = 0; guard < 1000; guard += 1) {
    const batch = await takeBatch(clientId, PUSH_BATCH);
    if (batch.length === 0) return sentSomething;
    const headers = await deviceHeaders(clientId);
    const body = {
      client_id: clientId,
      sent_at: isoLocal(), // this phone's clock, for the server to compare (docs/protocol.md 1.1)
      mutations: batch.map((e) => ({
        seq: e.seq, hlc: e.hlc, entity: e.entity, id: e.record_id, base_version: e.base_version, fields: e.fields,
      })),
    };
    let answer;
    const sentAtMs = Date.now();
    try {
      answer = await apiFetch('/sync/push', { method: 'POST', body, token: session.token, headers });
    } catch (error) {
      const expected = error.body?.error?.expected_seq;
      if (error.status === 409 && Number.isInteger(expected)) {
        // The server is missing seqs before ours (e.g. restored from a backup):
        // renumber to continue where it stands.
        await renumberPending(clientId, expected);
        continue;
      }
      // Anything else (offline, 5xx, even a 400 that would mean a client bug)
      // keeps the entries pending and visible; the round fails and backs off.
      throw error;
    }
    await noteServerTime(answer?.server_time, sentAtMs, Date.now());
    await applyPushAnswer(session, answer);
    sentSomething = true;
  }
  return sentSomething;
}

/** The next pending entries, with their attempt count raised before they leave. */
function takeBatch(clientId, limit) {
  return transact('outbox', 'readwrite', async (s) => {
    const all = await req(s.outbox.getAll(outboxRange(clientId)));
    const batch = all.filter((e) => e.state === 'pending').slice(0, limit);
    for (const e of batch) {
      e.attempts = (e.attempts || 0) + 1;
      e.last_attempt_at = isoLocal();
      await req(s.outbox.put(e));
    }
    return batch;
  });
}

const RESULT_STATE = { applied: 'sent', merged: 'sent', duplicate: 'sent', conflict: 'conflict', rejected: 'rejected' };

function applyPushAnswer(session, answer) {
  const clientId = session.client_id;
  const names = ['device', 'outbox', ...Object.values(RECORD_STORES)];
  return transact(names, 'readwrite', async (s) => {
    for (const result of answer.results || []) {
      const entry = await req(s.outbox.get([clientId, result.seq]));
      if (!entry || entry.state !== 'pending') continue;
      entry.state = RESULT_STATE[result.status] || 'rejected';
      entry.result = result;
      entry.sent_at = isoLocal();
      entry.seen = entry.state === 'sent';
      await req(s.outbox.put(entry));
      // Our edit did not (fully) stand: show the record without it. The pull
      // that follows brings the value the server kept.
      if (entry.state !== 'sent') await rebuildRecord(s, entry.entity, entry.record_id, clientId);
    }
    await mergeServerClock(s, clientId, answer.server_hlc);
    if (Number.isInteger(answer.last_seq)) {
      await req(s.device.put({ key: `acked:${clientId}`, value: answer.last_seq }));
    }
  });
}

async function mergeServerClock(s, clientId, serverHlc) {
  if (!serverHlc) return;
  const current = (await req(s.device.get(`hlc:${clientId}`)))?.value || null;
  await req(s.device.put({ key: `hlc:${clientId}`, value: hlc.receive(current, serverHlc, clientId) }));
}

function renumberPending(clientId, expectedSeq) {
  // Everything from expectedSeq on is unknown to the server now (even what it
  // once acknowledged), so all of it goes out again, numbered from there.
  return transact(['device', 'outbox'], 'readwrite', async (s) => {
    const all = await req(s.outbox.getAll(outboxRange(clientId)));
    const resend = all.filter((e) => e.seq >= expectedSeq || e.state === 'pending');
    for (const e of resend) await req(s.outbox.delete([clientId, e.seq]));
    let seq = expectedSeq - 1;
    for (const e of resend) {
      seq += 1;
      await req(s.outbox.put({ ...e, seq, state: 'pending', seen: true, renumbered_from: e.renumbered_from ?? e.seq }));
    }
    await req(s.device.put({ key: `seq:${clientId}`, value: seq }));
  });
}

// ---- pull -----------------------------------------------------------------

async function pullAll(session) {
  let changedAny = false;
  for (let guard = 0; guard < 10000; guard += 1) {
    const cursor = await getValue('meta', 'cursor', null);
    const query = new URLSearchParams({ limit: String(PULL_LIMIT) });
    if (cursor) query.set('cursor', cursor);
    let page;
    const headers = await deviceHeaders(session.client_id);
    const sentAtMs = Date.now();
    try {
      page = await apiFetch(`/sync/pull?${query}`, { token: session.token, headers });
    } catch (error) {
      if (error instanceof ApiError && error.status === 410 && cursor) {
        await setValue('meta', 'cursor', null); // start over; the outbox is untouched
        continue;
      }
      throw error;
    }
    await noteServerTime(page?.server_time, sentAtMs, Date.now());
    if (await applyPullPage(session, page)) changedAny = true;
    if (!page.has_more) return changedAny;
  }
  return changedAny;
}

function applyPullPage(session, page) {
  const clientId = session.client_id;
  const names = ['device', 'meta', 'outbox', ...Object.values(RECORD_STORES)];
  return transact(names, 'readwrite', async (s) => {
    let changed = false;
    for (const change of page.changes || []) {
      const storeName = RECORD_STORES[change.entity];
      if (!storeName) continue;
      const store = s[storeName];
      const current = await req(store.get(change.id));
      if (current && current.version > change.version) continue;
      const pending = (await req(s.outbox.index('by_record').getAll([change.entity, change.id])))
        .filter((e) => e.state === 'pending' && e.client_id === clientId);
      if (change.deleted) {
        // Out of scope now. Something still to push keeps it until it is sent.
        if (pending.length === 0 && current) await req(store.delete(change.id));
        changed = true;
        continue;
      }
      await req(store.put({ ...change.data, id: change.id, version: change.version, _server: change.data }));
      if (pending.length) await rebuildRecord(s, change.entity, change.id, clientId);
      // The office decided a conflict this phone was told of (conflict-outcomes.js).
      await noteConflictOutcomes(s, change, clientId);
      changed = true;
    }
    await req(s.meta.put({ key: 'cursor', value: page.cursor ?? null }));
    if (page.rules) await req(s.meta.put({ key: 'rules', value: page.rules }));
    await mergeServerClock(s, clientId, page.server_hlc);
    return changed;
  });
}

// ---- guidance and day plan (best effort: the app has fallbacks) -----------

async function refreshExtras(session) {
  const cached = await getValue('device', 'guidance', null);
  if (!cached || Date.now() - Date.parse(cached.fetched_at) > GUIDANCE_MAX_AGE_MS) {
    try {
      const data = await apiFetch('/guidance', { token: session.token });
      if (data && (data.reasons || data.conduct_rules)) {
        await setValue('device', 'guidance', { fetched_at: new Date().toISOString(), data });
      }
    } catch { /* keep the cached or built-in texts */ }
  }
  try {
    const config = await apiFetch('/client-config', { token: session.token });
    if (config?.map) await setValue('device', 'clientConfig', config.map);
  } catch { /* keep the last one: without it the map shows its list */ }
  const today = dateInZone(new Date());
  try {
    const plan = await apiFetch(`/plan?date=${today}`, { token: session.token });
    if (plan && Array.isArray(plan.stops)) {
      await setValue('meta', `plan:${today}`, { fetched_at: isoLocal(), stops: plan.stops });
    }
  } catch { /* no plan endpoint or offline: the app orders visits itself */ }
}

/** Forget sent (and seen) entries after a month so the outbox does not grow for ever. */
function pruneSettled(clientId) {
  const cutoff = Date.now() - KEEP_SETTLED_DAYS * 86400_000;
  return transact('outbox', 'readwrite', async (s) => {
    const all = await req(s.outbox.getAll(outboxRange(clientId)));
    for (const e of all) {
      const settled = e.state !== 'pending' && e.seen;
      if (settled && e.sent_at && Date.parse(e.sent_at) < cutoff) await req(s.outbox.delete([clientId, e.seq]));
    }
  });
}

// ---- scheduling -------------------------------------------------------------

function scheduleNext() {
  clearTimeout(timer);
  let delay = PERIOD_MS;
  if (state.failures > 0) {
    delay = Math.max(backoffDelay(state.failures), state.retryAfterMs || 0);
  }
  setState({ nextAt: Date.now() + delay });
  timer = setTimeout(() => {
    if (navigator.onLine) syncNow({ reason: 'timer' });
    else scheduleNext();
  }, delay);
}

let started = false;

export function startAutoSync() {
  if (started) return;
  started = true;
  addEventListener('online', () => { state.failures = 0; syncNow({ reason: 'online' }); });
  addEventListener('offline', () => setState({}));
  // A new record leaves the phone within seconds when there is a connection:
  // the phone should hold the only copy no longer than it must.
  let soon = null;
  on('outbox-changed', () => {
    clearTimeout(soon);
    soon = setTimeout(() => syncNow({ reason: 'change' }), 1500);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && Date.now() - state.lastAttemptAt > 10_000) {
      syncNow({ reason: 'visible' });
    }
  });
  syncNow({ reason: 'open' });
}
