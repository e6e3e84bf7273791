// Local changes and their outbox entries. A change to a record and the
// mutation that will carry it to the server are written in ONE transaction,
// so the phone can never show a change it will not send, or send one it
// does not show.

import { transact, req, RECORD_STORES, outboxRange } from './db.js';
import * as hlc from './hlc.js';
import { isoLocal } from './time.js';
import { emit } from './events.js';
import { overPending } from './restrictions.js';

const OUTBOX_AND_RECORDS = ['outbox', ...Object.values(RECORD_STORES)];

/**
 * Apply `changes` locally and queue them for push.
 * changes: [{entity, id, fields, summary?}] — `fields` holds only what changes.
 * Seqs and HLCs are allocated inside the transaction, so two tabs writing at
 * once still get distinct, gap-free seqs (IndexedDB serialises the writers).
 */
export async function recordChanges(session, changes, { blobs = [] } = {}) {
  const clientId = session.client_id;
  // `blobs`: bytes of new attachments (js/uploads.js), kept in the same
  // transaction as the records that describe them and their outbox entries.
  const names = ['device', ...OUTBOX_AND_RECORDS, ...(blobs.length ? ['blobs'] : [])];
  const entries = await transact(names, 'readwrite', async (s) => {
    for (const blob of blobs) await req(s.blobs.put(blob));
    let seq = (await req(s.device.get(`seq:${clientId}`)))?.value || 0;
    let clock = (await req(s.device.get(`hlc:${clientId}`)))?.value || null;
    const entries = [];
    for (const change of changes) {
      const store = s[RECORD_STORES[change.entity]];
      const existing = await req(store.get(change.id));
      const record = existing || { id: change.id, version: 0, _server: null };
      Object.assign(record, change.fields);
      delete record._orphan;
      await req(store.put(record));
      seq += 1;
      clock = hlc.tick(clock, clientId);
      const entry = {
        client_id: clientId, seq, hlc: clock, entity: change.entity, record_id: change.id,
        // The version this phone last saw; 0 while the server has never answered
        // for this record. A stale base only makes the server more careful.
        base_version: existing?.version || 0,
        fields: change.fields, summary: change.summary || null,
        state: 'pending', attempts: 0, seen: true, created_at: isoLocal(), user_id: session.user.id,
      };
      await req(s.outbox.add(entry));
      entries.push(entry);
    }
    await req(s.device.put({ key: `seq:${clientId}`, value: seq }));
    await req(s.device.put({ key: `hlc:${clientId}`, value: clock }));
    return entries;
  });
  emit('outbox-changed'); // committed: sync.js sends it as soon as it can
  return entries;
}

/**
 * Recompute a record from the server's copy plus this client's pending edits.
 * Called inside a caller's transaction (stores must include outbox and the
 * record's store) after a pull or a push result changed either side.
 */
export async function rebuildRecord(s, entity, id, clientId) {
  const store = s[RECORD_STORES[entity]];
  const current = await req(store.get(id));
  const pending = (await req(s.outbox.index('by_record').getAll([entity, id])))
    .filter((e) => e.state === 'pending' && e.client_id === clientId)
    .sort((a, b) => a.seq - b.seq);
  if (!current && pending.length === 0) return null;
  const server = current?._server || null;
  if (!server && pending.length === 0) {
    // Created here and refused by the server: keep it on screen, marked, until
    // the collector has seen why (acknowledge() removes it then).
    const orphan = { ...current, _orphan: true };
    await req(store.put(orphan));
    return orphan;
  }
  const merged = { ...(server || {}), id, version: current?.version || 0, _server: server };
  // A window list adds to the server's (restrictions.js); other fields replace.
  for (const e of pending) Object.assign(merged, overPending(entity, merged, e.fields));
  await req(store.put(merged));
  return merged;
}

/** Lay pending entries back over the records, e.g. after a logout wiped the cached copies. */
export function rebuildFromOutbox(clientId) {
  return transact(OUTBOX_AND_RECORDS, 'readwrite', async (s) => {
    const entries = await req(s.outbox.getAll(outboxRange(clientId)));
    const seen = new Set();
    for (const e of entries) {
      const key = `${e.entity}:${e.record_id}`;
      if (e.state !== 'pending' || seen.has(key)) continue;
      seen.add(key);
      await rebuildRecord(s, e.entity, e.record_id, clientId);
    }
  });
}

export async function entriesOf(clientId) {
  return transact('outbox', 'readonly', (s) => req(s.outbox.getAll(outboxRange(clientId))));
}

/** The collector has read a rejection or conflict: hide it from the alert list. */
export function acknowledge(clientId, seq) {
  return transact(OUTBOX_AND_RECORDS, 'readwrite', async (s) => {
    const entry = await req(s.outbox.get([clientId, seq]));
    if (!entry) return;
    entry.seen = true;
    entry.seen_at = isoLocal();
    await req(s.outbox.put(entry));
    // A refused creation leaves an orphan record; once every problem about it
    // has been seen, it has nothing left to show.
    const store = s[RECORD_STORES[entry.entity]];
    const record = await req(store.get(entry.record_id));
    if (record?._orphan) {
      const others = await req(s.outbox.index('by_record').getAll([entry.entity, entry.record_id]));
      if (!others.some((e) => e.client_id === clientId && (e.state === 'pending' || !e.seen))) {
        await req(store.delete(entry.record_id));
      }
    }
  });
}

/** Whether the office has decided every conflict an entry reported (conflict-outcomes.js). */
export function isDecided(entry) {
  const conflicts = entry.result?.conflicts || [];
  return conflicts.length > 0 && conflicts.every((c) => entry.resolutions?.[c.id]);
}

/** Per-record sync state for badges: problem states win over waiting, waiting over sent. */
export function recordStates(entries) {
  const rank = { sent: 1, pending: 2, decided: 3, conflict: 3, rejected: 4 };
  const states = new Map();
  for (const e of entries) {
    let state = (e.state === 'conflict' || e.state === 'rejected') && e.seen ? 'sent' : e.state;
    // The office has decided every conflict of it (conflict-outcomes.js): no longer open.
    if (state === 'conflict' && isDecided(e)) state = 'decided';
    const key = e.record_id;
    const prev = states.get(key);
    if (!prev || rank[state] > rank[prev.state]) states.set(key, { state, entry: e });
  }
  return states;
}

export function summarise(entries) {
  const waiting = entries.filter((e) => e.state === 'pending');
  const problems = entries.filter((e) => (e.state === 'conflict' || e.state === 'rejected') && !e.seen);
  return { waiting, problems };
}
