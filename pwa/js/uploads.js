// Photos and signatures: their bytes wait in IndexedDB (`blobs`, js/db.js)
// beside the record that describes them, and go to the server after the
// record itself has been pushed (docs/protocol.md 1.1 "Attachments"), in chunks
// of at most 1 MiB. Every upload starts by asking the server what it holds
// (`/content/status`), so one cut by a dead link or a closed app resumes at
// the first missing byte. A failure fails the sync round, which backs off
// with jitter like a push (js/sync.js). The bytes are dropped only when the
// server says `uploaded` (or, 410, that it will never take them: redacted),
// never because a pull said the record left this phone.

import { transact, req, RECORD_STORES } from './db.js';
import { API_BASE, ApiError } from './api.js';
import { emit } from './events.js';
import { isoLocal } from './time.js';

export const CHUNK_BYTES = 512 * 1024; // ≤ 1 MiB (the protocol's limit); small enough for a weak link
const TIMEOUT_MS = 60_000;

/** States a collector sees: waiting, uploading (with received bytes), sent, refused, removed. */
export const UPLOAD_STATES = ['waiting', 'uploading', 'sent', 'refused', 'removed'];

/** SHA-256 of a Blob as 64 lower-case hex digits. */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function blobsOfVisit(visitId) {
  return transact('blobs', 'readonly', (s) => req(s.blobs.index('by_visit').getAll(visitId)));
}

export function allBlobs() {
  return transact('blobs', 'readonly', (s) => req(s.blobs.getAll()));
}

/** Bytes on this phone that the server has not got yet. */
export function bytesWaiting(blobs) {
  return blobs.filter((b) => b.blob && b.state !== 'sent').reduce((sum, b) => sum + b.byte_size, 0);
}

function update(id, patch) {
  return transact('blobs', 'readwrite', async (s) => {
    const row = await req(s.blobs.get(id));
    if (!row) return null;
    Object.assign(row, patch, { updated_at: isoLocal() });
    await req(s.blobs.put(row));
    return row;
  });
}

/** The server has the file: drop the bytes, keep the small preview, mark the record. */
function markSent(id) {
  const store = RECORD_STORES.attachment;
  return transact(['blobs', store], 'readwrite', async (s) => {
    const row = await req(s.blobs.get(id));
    if (row) {
      delete row.blob;
      row.state = 'sent';
      row.received = row.byte_size;
      row.sent_at = isoLocal();
      await req(s.blobs.put(row));
    }
    const record = await req(s[store].get(id));
    if (record && !record.uploaded) {
      record.uploaded = true;
      if (record._server) record._server.uploaded = true;
      await req(s[store].put(record));
    }
  });
}

async function call(path, { method = 'GET', token, body, range } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (range) {
    headers['Content-Range'] = range;
    headers['Content-Type'] = 'application/octet-stream';
  }
  let response;
  try {
    response = await fetch(API_BASE + path, { method, headers, body, signal: controller.signal, cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const seconds = Number(response.headers.get('Retry-After'));
    throw new ApiError(response.status, data, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null);
  }
  return data;
}

/** Whether the record describing this attachment has been accepted by the server. */
async function metadataState(row, clientId) {
  const entries = await transact('outbox', 'readonly', (s) => req(s.outbox.index('by_record').getAll(['attachment', row.id])));
  const mine = entries.filter((e) => e.client_id === clientId);
  if (mine.some((e) => e.state === 'pending')) return 'pending';
  if (mine.length && mine.every((e) => e.state === 'rejected')) return 'rejected';
  return 'accepted';
}

/** Upload one attachment from where the server stands. Throws ApiError on a network failure. */
async function uploadOne(row, session) {
  const base = `/attachments/${row.id}/content`;
  let restarts = 0;
  for (let pass = 0; pass < 6; pass += 1) {
    let status;
    try {
      status = await call(`${base}/status`, { token: session.token });
    } catch (error) {
      if (error.status === 410) { await dropRefused(row.id, 'removed'); return true; }
      if (error.status === 404) return false; // not (yet) on the server: the next round tries again
      throw error;
    }
    if (status.uploaded) { await markSent(row.id); return true; }
    await update(row.id, { state: 'uploading', received: status.received });
    emit('upload-progress', { id: row.id, received: status.received, byte_size: row.byte_size });
    try {
      for (const [first, last] of status.missing) {
        for (let at = first; at <= last; at += CHUNK_BYTES) {
          const end = Math.min(last, at + CHUNK_BYTES - 1);
          const answer = await call(base, {
            method: 'PUT', token: session.token, body: row.blob.slice(at, end + 1), range: `bytes ${at}-${end}/${row.byte_size}`,
          });
          if (answer.uploaded) { await markSent(row.id); return true; }
          await update(row.id, { received: answer.received });
          emit('upload-progress', { id: row.id, received: answer.received, byte_size: row.byte_size });
        }
      }
    } catch (error) {
      // 409: what the server holds differs from ours; 422: it discarded a
      // file that failed its check. Ask again from the start, a few times.
      if ((error.status === 409 || error.status === 422) && restarts < 3) { restarts += 1; continue; }
      if (error.status === 410) { await dropRefused(row.id, 'removed'); return true; }
      if (error.status === 415 || error.status === 413 || error.status === 422) { await update(row.id, { state: 'refused', error: error.message }); return true; }
      throw error;
    }
    // Every missing range was sent: the status says whether it is complete.
  }
  return false;
}

async function dropRefused(id, state) {
  await transact('blobs', 'readwrite', async (s) => {
    const row = await req(s.blobs.get(id));
    if (!row) return;
    delete row.blob;
    row.state = state;
    await req(s.blobs.put(row));
  });
}

/**
 * Send every attachment whose record the server has accepted, oldest first.
 * Runs inside a sync round, after push and pull. Resolves with whether
 * anything changed; rejects (failing the round) on a network failure.
 */
export async function uploadWaiting(session) {
  const rows = (await allBlobs())
    .filter((row) => row.blob && (row.state === 'waiting' || row.state === 'uploading') && row.user_id === session.user.id)
    .sort((a, b) => (a.created_ms ?? 0) - (b.created_ms ?? 0));
  let changed = false;
  for (const row of rows) {
    const metadata = await metadataState(row, session.client_id);
    if (metadata === 'pending') continue;
    if (metadata === 'rejected') { await update(row.id, { state: 'refused' }); changed = true; continue; }
    if (await uploadOne(row, session)) changed = true;
  }
  if (changed) emit('upload-progress', {});
  return changed;
}
