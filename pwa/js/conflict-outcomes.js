// How the phone learns the office's decision on a conflict it was told of.
// A supervisor's resolution is a new version of the record, so the record
// comes back in the feed carrying its conflicts, each with `resolution`
// (the OpenAPI description, "Choice:"). When one of them is a conflict an
// outbox entry of this phone reported, the decision is written onto that
// entry and the entry shows again as unread: the collector sees the outcome
// even if she pressed "Seen" on the first notice.

import { req } from './db.js';

/** Inside the pull's transaction (stores include `outbox`), after `change` was stored. */
export async function noteConflictOutcomes(s, change, clientId) {
  const decided = (change.data?.conflicts || []).filter((c) => c.resolution);
  if (!decided.length) return false;
  const byId = new Map(decided.map((c) => [c.id, c]));
  const entries = (await req(s.outbox.index('by_record').getAll([change.entity, change.id])))
    .filter((e) => e.client_id === clientId && e.state === 'conflict');
  let noted = false;
  for (const entry of entries) {
    let changed = false;
    for (const c of entry.result?.conflicts || []) {
      const found = c.id && byId.get(c.id);
      if (!found || entry.resolutions?.[c.id]) continue;
      entry.resolutions = { ...(entry.resolutions || {}), [c.id]: { resolution: found.resolution, resolved_at: found.resolved_at } };
      changed = true;
    }
    if (changed) {
      entry.seen = false;
      await req(s.outbox.put(entry));
      noted = true;
    }
  }
  return noted;
}
