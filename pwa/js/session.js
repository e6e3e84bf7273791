// Sign-in state. The session lives in IndexedDB so the app keeps working
// offline for as long as the collector stays signed in; an expired token only
// pauses syncing until they sign in again, it never touches their data.

import { getValue, setValue, deleteKey, clearUserData, transact, req } from './db.js';
import { apiFetch } from './api.js';
import { uuid } from './ids.js';
import { rebuildFromOutbox } from './outbox.js';
import { emit } from './events.js';

let cached;

export async function currentSession() {
  if (cached === undefined) cached = await getValue('device', 'session', null);
  return cached;
}

export function forgetCachedSession() { cached = undefined; }

/**
 * One client_id per user per device, kept across logins (PROTOCOL "Login"):
 * an outbox left from an expired session keeps its numbering.
 */
async function clientIdFor(userId) {
  return transact('device', 'readwrite', async (s) => {
    const row = await req(s.device.get('clients'));
    const clients = row?.value || {};
    if (!clients[userId]) {
      clients[userId] = uuid();
      await req(s.device.put({ key: 'clients', value: clients }));
    }
    return clients[userId];
  });
}

export async function login(username, password) {
  const answer = await apiFetch('/auth/login', { method: 'POST', body: { username, password } });
  const user = answer.user;
  const clientId = await clientIdFor(user.id);
  const owner = await getValue('device', 'dataOwner', null);
  // Records cached for someone else never stay visible to this user.
  if (owner !== null && owner !== user.id) await clearUserData();
  await setValue('device', 'dataOwner', user.id);
  const session = {
    token: answer.token, expires_at: answer.expires_at, user, client_id: clientId, token_ok: true,
  };
  await setValue('device', 'session', session);
  await rebuildFromOutbox(clientId);
  cached = session;
  emit('session-changed', {}, { broadcast: true });
  return session;
}

/** The server refused the token (401): keep everything, ask for the password when convenient. */
export async function markTokenRejected() {
  const session = await currentSession();
  if (!session || !session.token_ok) return;
  session.token_ok = false;
  await setValue('device', 'session', session);
  cached = session;
  emit('session-changed', {}, { broadcast: true });
}

/**
 * Sign out. Unsent outbox entries stay on the device under this user's
 * client_id and go out at their next sign-in; only the cached copies of
 * server records are removed (a phone holds only its collector's data).
 */
export async function logout() {
  const session = await currentSession();
  if (session?.token_ok) {
    try {
      await apiFetch('/auth/logout', { method: 'POST', token: session.token, timeoutMs: 5000 });
    } catch { /* offline or already expired: the local sign-out still happens */ }
  }
  await clearUserData();
  await deleteKey('device', 'session');
  await setValue('device', 'dataOwner', null);
  cached = null;
  emit('session-changed', {}, { broadcast: true });
}
