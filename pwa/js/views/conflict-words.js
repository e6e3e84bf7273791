// Conflict notices in words, from this phone's point of view: whose value
// was kept and whose was set aside ("yours, from this phone", "from the
// office", "yours, from another device"), never calling the value that lost
// "yours" when someone else wrote it; the values as the collector reads
// them; and, once the office has decided, what it decided.
//
// A push result names the sides relative to this device already
// (`kept_by`/`lost_by`); a pulled record names them relative to the user,
// with the device beside "me" (the OpenAPI description, "Choice:").

import { h } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { parseInstant } from '../time.js';
import { fieldName, valueText } from './record-words.js';

const KINDS = new Set(['this_device', 'my_other_device', 'me', 'office', 'other_collector']);

/** A pulled side (`me` + device) as a push result names it. */
export function sideOf(by, device, clientId) {
  if (by === 'me') {
    if (device && device === clientId) return 'this_device';
    return device ? 'my_other_device' : 'me';
  }
  return KINDS.has(by) ? by : 'other_collector';
}

function who(side) {
  return t(`conflict.who.${KINDS.has(side) ? side : 'other_collector'}`);
}

/**
 * The lines of one conflict: what was kept, what was set aside, and the
 * office's decision when there is one (`decision`: {resolution, resolved_at}).
 */
export function conflictLines(conflict, { entity, account, keptBy, lostBy, decision = null }) {
  const value = (v) => valueText(entity, conflict.field, v, account);
  const lines = [
    h('span', { class: 'conflict-kept', 'data-side': keptBy }, t('conflict.kept', { field: fieldName(conflict.field), value: value(conflict.kept), who: who(keptBy) })),
    ' ',
    h('span', { class: 'conflict-lost', 'data-side': lostBy }, t('conflict.lost', { value: value(conflict.lost), who: who(lostBy) })),
  ];
  if (decision?.resolution) {
    const restored = decision.resolution === 'restored';
    const at = parseInstant(decision.resolved_at);
    lines.push(' ', h('strong', { class: 'conflict-decision', 'data-resolution': decision.resolution },
      t(restored ? 'conflict.decided_restored' : 'conflict.decided_kept', { value: value(restored ? conflict.lost : conflict.kept) }),
      at ? ` (${formatDateTime(at, account?.timezone || undefined)})` : ''));
  }
  return lines;
}

/** The account an outbox entry's record belongs to, for its clock and currency. */
export function accountOfEntry(entry, snapshot) {
  if (!snapshot) return null;
  if (entry.entity === 'account') return snapshot.accountsById.get(entry.record_id) || null;
  const stores = { visit: snapshot.visits, payment: snapshot.payments, promise: snapshot.promises };
  const record = (stores[entry.entity] || []).find((r) => r.id === entry.record_id);
  const accountId = record?.account_id || entry.fields?.account_id;
  return accountId ? snapshot.accountsById.get(accountId) || null : null;
}

/**
 * Every conflict a pulled record carries, open and decided, in words —
 * except those an unread notice above already shows (`shownIds`).
 */
export function recordConflicts({ entity, record, account, clientId, shownIds = new Set() }) {
  const conflicts = (record?.conflicts || []).filter((c) => !shownIds.has(c.id));
  if (!conflicts.length) return null;
  return h('section', { class: 'record-conflicts', 'data-testid': 'record-conflicts' },
    h('h2', null, t('conflict.section')),
    h('ul', { class: 'plain-list' }, conflicts.map((c) => h('li', { 'data-conflict-id': c.id, 'data-resolution': c.resolution || 'open' },
      conflictLines(c, {
        entity, account, keptBy: sideOf(c.kept_by, c.kept_device, clientId), lostBy: sideOf(c.lost_by, c.lost_device, clientId),
        decision: c.resolution ? c : null,
      }),
      c.resolution ? null : [' ', h('span', { class: 'muted' }, t('conflict.waiting'))]))));
}
