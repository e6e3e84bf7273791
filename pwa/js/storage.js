// Ask the browser to keep our data (navigator.storage.persist) and remember
// its answer, so the collector can see whether unsent records are at risk of
// being evicted. The answer may be "no" and that is shown, not hidden.

import { getValue, setValue } from './db.js';

export async function requestPersistence() {
  if (!navigator.storage?.persist) {
    await setValue('device', 'persist', { supported: false, at: new Date().toISOString() });
    return { supported: false, persisted: false };
  }
  let persisted = await navigator.storage.persisted();
  if (!persisted) {
    try { persisted = await navigator.storage.persist(); } catch { persisted = false; }
  }
  const answer = { supported: true, persisted, at: new Date().toISOString() };
  await setValue('device', 'persist', answer);
  return answer;
}

export async function persistenceAnswer() {
  return getValue('device', 'persist', null);
}
