// The one owner of IndexedDB; other modules use the functions exported here.
// Stores: `device` survives logout (session, client ids, seq counters, HLCs,
// guidance). `meta` (cursor, rules, plans, drafts) and the record stores are
// cleared on logout; each record is the server's copy (`_server`, `version`)
// with this phone's unsent edits laid over it. `outbox` holds every local
// change as a mutation keyed [client_id, seq]; an entry leaves "pending" only
// by a push result and is never deleted by logout, reload or an app update.
// `blobs` holds the bytes of photos and signatures until they are uploaded.

export const DB_NAME = 'fieldvisit';
export const DB_VERSION = 2;
export const RECORD_STORES = {
  account: 'accounts', visit: 'visits', payment: 'payments', promise: 'promises', attachment: 'attachments',
};

// Each step upgrades from version N-1 to N. Add steps, never edit old ones:
// a phone may jump several versions at once after weeks offline.
const MIGRATIONS = [
  null,
  (db) => {
    db.createObjectStore('device', { keyPath: 'key' });
    db.createObjectStore('meta', { keyPath: 'key' });
    db.createObjectStore('accounts', { keyPath: 'id' });
    const visits = db.createObjectStore('visits', { keyPath: 'id' });
    visits.createIndex('by_account', 'account_id');
    const payments = db.createObjectStore('payments', { keyPath: 'id' });
    payments.createIndex('by_account', 'account_id');
    const promises = db.createObjectStore('promises', { keyPath: 'id' });
    promises.createIndex('by_account', 'account_id');
    const outbox = db.createObjectStore('outbox', { keyPath: ['client_id', 'seq'] });
    outbox.createIndex('by_record', ['entity', 'record_id']);
    outbox.createIndex('by_state', 'state');
  },
  (db) => {
    // Photos and signatures (js/uploads.js): `attachments` holds the records
    // like the other record stores; `blobs` their bytes until the server says
    // `uploaded`. Like the outbox, `blobs` survives logout and tombstones.
    const attachments = db.createObjectStore('attachments', { keyPath: 'id' });
    attachments.createIndex('by_account', 'account_id');
    attachments.createIndex('by_visit', 'visit_id');
    const blobs = db.createObjectStore('blobs', { keyPath: 'id' });
    blobs.createIndex('by_visit', 'visit_id');
  },
];

export function upgrade(db, oldVersion, newVersion) {
  for (let v = oldVersion + 1; v <= newVersion; v += 1) MIGRATIONS[v](db);
}

let dbPromise = null;

export function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, event.newVersion);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab opened a newer version after an app update: step aside
        // so its upgrade can run; this tab reloads into the new version.
        db.onversionchange = () => { db.close(); dbPromise = null; location.reload(); };
        resolve(db);
      };
      request.onerror = () => { dbPromise = null; reject(request.error); };
      request.onblocked = () => console.warn('fieldvisit: database upgrade waits for other tabs to close');
    });
  }
  return dbPromise;
}

/** An IDBRequest as a promise. Safe to await inside a transaction. */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run `work(stores)` in one transaction and resolve with its result once the
 * transaction has committed. `work` may await only IndexedDB requests (via
 * req): awaiting anything else — above all the network — would let the
 * transaction commit early and split a change from its outbox entry.
 */
export async function transact(storeNames, mode, work) {
  const db = await openDb();
  const names = Array.isArray(storeNames) ? storeNames : [storeNames];
  const tx = db.transaction(names, mode);
  const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await work(stores, tx);
  } catch (error) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return result;
}

export const get = (store, key) => transact(store, 'readonly', (s) => req(s[store].get(key)));
export const getAll = (store) => transact(store, 'readonly', (s) => req(s[store].getAll()));

export async function getValue(store, key, fallback = null) {
  const row = await get(store, key);
  return row ? row.value : fallback;
}

export const setValue = (store, key, value) =>
  transact(store, 'readwrite', (s) => req(s[store].put({ key, value })));

export const deleteKey = (store, key) =>
  transact(store, 'readwrite', (s) => req(s[store].delete(key)));

/** Drop the signed-in user's cached records and sync state. The outbox and device stay. */
export function clearUserData() {
  const names = ['meta', ...Object.values(RECORD_STORES)];
  return transact(names, 'readwrite', async (s) => {
    for (const n of names) await req(s[n].clear());
  });
}

/** Key range of one client's outbox entries, in seq order. */
export function outboxRange(clientId) {
  return IDBKeyRange.bound([clientId, 0], [clientId, Number.MAX_SAFE_INTEGER]);
}
