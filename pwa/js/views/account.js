// One account: who and where, what is owed, the approach, promises, money
// received and every visit — with the sync state of anything sent from here.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatDay } from '../i18n.js';
import { parseInstant } from '../time.js';
import {
  syncBadge, dueFacts, contactLine, approach, money, emptyState, backLink, warningList, addressLine, statusBadge,
} from './components.js';
import { paymentStatus } from './payment-status.js';
import { accountRestrictions } from './restrictions.js';

export async function accountView(ctx) {
  const { snapshot, params } = ctx;
  const account = snapshot.accountsById.get(params.id);
  if (!account) return h('section', { class: 'view' }, backLink('#/accounts', t('nav.accounts')), emptyState(t('account.not_found')));
  const visits = [...(snapshot.visitsByAccount.get(account.id) || [])]
    .sort((a, b) => (parseInstant(b.arrived_at || b.scheduled_at) || 0) - (parseInstant(a.arrived_at || a.scheduled_at) || 0));
  const promises = [...(snapshot.promisesByAccount.get(account.id) || [])];
  const payments = [...(snapshot.paymentsByAccount.get(account.id) || [])];
  // Promises made on this phone show at once; the server derives the real
  // promise record when the visit arrives.
  const knownPromiseVisits = new Set(promises.map((p) => p.visit_id));
  const unsentPromises = visits.filter((v) => v.result === 'promise_to_pay' && v.promise_amount && !knownPromiseVisits.has(v.id));

  return h('section', { class: 'view view-account', 'data-testid': 'account' },
    backLink('#/accounts', t('nav.accounts')),
    h('h1', null, account.customer_name),
    h('p', { class: 'muted' }, `${account.ref || ''} · ${tv('account_status', account.status)}`),
    contactLine(account),
    addressLine(account),
    dueFacts(account),
    h('p', null, h('span', { class: 'label' }, t('account.reason')), ' ', tv('reason', account.delinquency_reason || 'unknown')),
    approach(account.delinquency_reason, { open: true }),
    h('div', { class: 'row-actions' },
      h('a', { class: 'btn', href: `#/plan/${account.id}`, 'data-testid': 'plan-visit' }, t('account.plan_visit')),
      h('a', { class: 'btn btn-secondary', href: `#/map/account/${account.id}`, 'data-testid': 'account-map' }, t('map.account_link'))),

    // Do-not-visit windows and the form to add one (views/restrictions.js).
    accountRestrictions(ctx, account, { openForm: params.window === 'add' }),

    h('h2', null, t('account.promises')),
    promises.length || unsentPromises.length
      ? h('ul', { class: 'plain-list' },
        promises.map((p) => h('li', { 'data-promise-id': p.id },
          h('strong', null, money(p.amount, account)), ' ', t('account.by_date', { date: formatDay(p.promise_date) }), ' ',
          h('span', { class: `badge badge-promise-${p.status}` }, tv('promise_status', p.status)))),
        unsentPromises.map((v) => h('li', null,
          h('strong', null, money(v.promise_amount, account)), ' ', t('account.by_date', { date: formatDay(v.promise_date) }), ' ',
          syncBadge(snapshot.states.get(v.id)))))
      : h('p', { class: 'muted' }, t('account.no_promises')),

    h('h2', null, t('account.payments')),
    payments.length
      ? h('ul', { class: 'plain-list' }, payments.map((p) => h('li', { 'data-payment-id': p.id },
        h('strong', null, money(p.amount, account)), ' · ', tv('method', p.method), ' · ',
        formatDateTime(parseInstant(p.collected_at), account.timezone), ' ',
        paymentStatus(p), ' ',
        syncBadge(snapshot.states.get(p.id)))))
      : h('p', { class: 'muted' }, t('account.no_payments')),

    h('h2', null, t('account.history')),
    visits.length
      ? h('ul', { class: 'history' }, visits.map((v) => historyItem(v, account, snapshot)))
      : h('p', { class: 'muted' }, t('account.no_visits')));
}

function historyItem(visit, account, snapshot) {
  const when = parseInstant(visit.arrived_at || visit.scheduled_at);
  return h('li', { class: 'history-item', 'data-visit-id': visit.id },
    h('a', { href: `#/visit/${visit.id}` },
      h('span', { class: 'row-title' }, formatDateTime(when, account.timezone), ' ',
        statusBadge(visit.status), ' ',
        syncBadge(snapshot.states.get(visit.id))),
      visit.status === 'done'
        ? h('span', null, `${tv('result', visit.result)} · ${t('visit.met_short', { who: tv('met', visit.met) })}`)
        : (visit.plan_notes ? h('span', { class: 'muted' }, visit.plan_notes) : null),
      warningList(visit.status === 'done' ? visit.flags : [], 'flag')));
}
