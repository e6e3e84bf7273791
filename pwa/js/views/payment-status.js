// Where money the collector recorded stands with the office: waiting to be
// confirmed, confirmed, or rejected with the office's reason (the payment's
// `review_note`, written by the supervisor who reviewed it).

import { h } from '../dom.js';
import { t, tv } from '../i18n.js';

const WORDS = { recorded: 'payment.recorded', deposited: 'payment.deposited', confirmed: 'payment.confirmed' };

export function paymentStatus(payment) {
  const status = payment.status || 'recorded';
  const note = (payment.review_note || '').trim();
  let text;
  if (status === 'rejected') text = note ? t('payment.rejected', { note }) : t('payment.rejected_no_note');
  else text = WORDS[status] ? t(WORDS[status]) : tv('payment_status', status);
  return h('span', { class: `payment-status payment-${status}`, 'data-payment-status': status },
    h('span', { class: `badge badge-payment-${status}` }, tv('payment_status', status)), ' ',
    h('span', { class: status === 'rejected' ? 'warning-text' : 'muted' }, text),
    status !== 'rejected' && note ? [' ', h('span', { class: 'muted' }, t('payment.note', { note }))] : null);
}
