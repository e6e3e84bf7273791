// How a refused or conflicting change is explained to the collector. These
// stay on screen until they press "Seen" — nothing disappears unread.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { acknowledge, isDecided } from '../outbox.js';
import { emit } from '../events.js';
import { fieldName } from './record-words.js';
import { conflictLines, accountOfEntry } from './conflict-words.js';

/** What kind of change an entry is, read from the fields it carries. */
function kindOf({ entity, fields }) {
  if (entity !== 'visit') return entity;
  if (fields.amendment_reason) return 'amend';
  if (fields.status === 'done') return 'outcome';
  if (fields.account_id) return 'new';
  if (fields.arrived_at || fields.checkin_lat !== undefined) return 'check_in';
  return fields.status === 'cancelled' ? 'cancel' : 'edit';
}

export function describeEntry(entry) {
  const s = entry.summary || {};
  const what = t(`change.${kindOf(entry)}`);
  const name = s.account ? ` — ${s.account}` : '';
  return `${what}${name} (#${entry.seq})`;
}

export function problemCard(entry, { onSeen, snapshot } = {}) {
  const result = entry.result || {};
  const details = [];
  if (entry.state === 'conflict') {
    const account = accountOfEntry(entry, snapshot);
    for (const c of result.conflicts || []) {
      // An answer from before the sides were named says nothing of them: the lost value was this phone's.
      details.push(h('li', { 'data-conflict-id': c.id || null }, conflictLines(c, {
        entity: entry.entity, account, keptBy: c.kept_by || 'office', lostBy: c.lost_by || 'this_device',
        decision: c.id ? entry.resolutions?.[c.id] : null,
      })));
    }
  } else {
    for (const [field, messages] of Object.entries(result.errors || {})) {
      const list = Array.isArray(messages) ? messages : [messages];
      details.push(h('li', null, h('strong', null, fieldName(field)), ': ', list.map((m) => String(m)).join('; ')));
    }
  }
  const decided = entry.state === 'conflict' && isDecided(entry);
  const title = decided ? t('conflict.decided_title') : t(`problem.${entry.state}_title`);
  const seen = h('button', {
    class: 'btn btn-small', type: 'button', 'data-testid': 'problem-seen',
    onclick: async () => {
      await acknowledge(entry.client_id, entry.seq);
      emit('data-changed', {}, { broadcast: true });
      onSeen?.();
    },
  }, t('problem.seen'));
  return h('div', { class: `problem problem-${entry.state}`, role: 'alert', 'data-problem': entry.state, 'data-record-id': entry.record_id },
    h('p', { class: 'problem-title' }, h('strong', null, title), ' ', describeEntry(entry)),
    h('p', null, decided ? t('conflict.decided_explain') : t(`problem.${entry.state}_explain`)),
    details.length ? h('ul', null, details) : null,
    seen);
}
