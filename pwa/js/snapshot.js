// One read of everything the screens need. A collector's portfolio is small
// (tens of accounts, hundreds of visits), so reading it whole is simpler and
// fast enough, and every screen sees one consistent state.

import { transact, req, outboxRange } from './db.js';
import { recordStates, summarise } from './outbox.js';
import { withDefaults } from './rules.js';

export async function loadSnapshot(session) {
  const names = ['accounts', 'visits', 'payments', 'promises', 'outbox', 'meta'];
  const raw = await transact(names, 'readonly', async (s) => ({
    accounts: await req(s.accounts.getAll()),
    visits: await req(s.visits.getAll()),
    payments: await req(s.payments.getAll()),
    promises: await req(s.promises.getAll()),
    entries: session ? await req(s.outbox.getAll(outboxRange(session.client_id))) : [],
    meta: Object.fromEntries((await req(s.meta.getAll())).map((row) => [row.key, row.value])),
  }));
  const accountsById = new Map(raw.accounts.map((a) => [a.id, a]));
  const visitsByAccount = groupBy(raw.visits, 'account_id');
  return {
    ...raw,
    accountsById,
    visitsByAccount,
    paymentsByAccount: groupBy(raw.payments, 'account_id'),
    promisesByAccount: groupBy(raw.promises, 'account_id'),
    states: recordStates(raw.entries),
    queue: summarise(raw.entries),
    rules: withDefaults(raw.meta.rules),
  };
}

function groupBy(rows, key) {
  const map = new Map();
  for (const row of rows) {
    if (!map.has(row[key])) map.set(row[key], []);
    map.get(row[key]).push(row);
  }
  return map;
}
