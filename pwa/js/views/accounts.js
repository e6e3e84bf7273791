// The collector's accounts, most valuable to work first (the server's
// priority: amount due × chance of recovery at that age).

import { h } from '../dom.js';
import { t, tv, formatDateTime } from '../i18n.js';
import { parseInstant } from '../time.js';
import { syncBadge, dueFacts, emptyState } from './components.js';

export async function accountsView({ snapshot }) {
  const accounts = [...snapshot.accounts].sort((a, b) => (b.priority ?? b.amount_due ?? 0) - (a.priority ?? a.amount_due ?? 0));
  return h('section', { class: 'view view-accounts', 'data-testid': 'accounts' },
    h('h1', null, t('accounts.title')),
    h('p', { class: 'summary' }, t('accounts.summary', { count: accounts.length })),
    accounts.length === 0
      ? emptyState(t('accounts.empty'))
      : h('ul', { class: 'account-list' }, accounts.map((a) => accountRow(a, snapshot))));
}

function accountRow(account, snapshot) {
  const next = (snapshot.visitsByAccount.get(account.id) || [])
    .filter((v) => v.status === 'planned' && parseInstant(v.scheduled_at))
    .sort((a, b) => parseInstant(a.scheduled_at) - parseInstant(b.scheduled_at))[0];
  return h('li', { class: 'account-row' },
    h('a', { href: `#/account/${account.id}`, 'data-account-id': account.id },
      h('span', { class: 'row-title' }, account.customer_name, ' ', syncBadge(snapshot.states.get(account.id))),
      h('span', { class: 'muted' }, `${account.ref || ''} · ${tv('account_status', account.status)}`),
      dueFacts(account),
      h('span', { class: 'muted' }, next
        ? t('accounts.next_visit', { when: formatDateTime(parseInstant(next.scheduled_at), account.timezone) })
        : t('accounts.no_visit_planned'))));
}
