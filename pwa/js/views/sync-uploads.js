// The Sync screen's word on photos and signatures: how many bytes wait on
// this phone for the server, and how much room the browser says the app
// uses and has (navigator.storage.estimate), so a collector knows what is
// at risk before the phone runs out of space.

import { h } from '../dom.js';
import { t, formatNumber } from '../i18n.js';
import { allBlobs, bytesWaiting } from '../uploads.js';

export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024 * 1024) return t('bytes.gb', { n: formatNumber(bytes / 1024 ** 3, 1) });
  if (bytes >= 1024 * 1024) return t('bytes.mb', { n: formatNumber(bytes / 1024 ** 2, 1) });
  return t('bytes.kb', { n: formatNumber(Math.ceil(bytes / 1024), 0) });
}

async function estimate() {
  try {
    return navigator.storage?.estimate ? await navigator.storage.estimate() : null;
  } catch {
    return null;
  }
}

export async function uploadsPart() {
  const blobs = await allBlobs();
  const waiting = blobs.filter((b) => b.blob && b.state !== 'sent');
  const room = await estimate();
  const rows = [
    h('div', { class: 'kv', 'data-testid': 'bytes-waiting' }, h('dt', null, t('uploads.waiting')),
      h('dd', null, waiting.length ? t('uploads.waiting_value', { count: waiting.length, size: formatBytes(bytesWaiting(blobs)) }) : t('uploads.none_waiting'))),
    h('div', { class: 'kv', 'data-testid': 'storage-estimate' }, h('dt', null, t('uploads.storage')),
      h('dd', null, room && Number.isFinite(room.usage) && Number.isFinite(room.quota)
        ? t('uploads.storage_value', { used: formatBytes(room.usage), free: formatBytes(Math.max(0, room.quota - room.usage)) })
        : t('uploads.storage_unknown'))),
  ];
  const refused = blobs.filter((b) => b.state === 'refused');
  return h('div', { 'data-testid': 'uploads' },
    h('dl', { class: 'record status-card' }, rows),
    refused.length ? h('p', { class: 'warning-text' }, t('uploads.refused', { count: refused.length })) : null);
}
