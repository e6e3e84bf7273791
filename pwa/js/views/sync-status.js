// The honest sync screen: connection, last successful sync, what is waiting,
// what the server refused or decided against us, whether the browser promised
// to keep our storage — and sign-out, which never throws unsent work away.

import { h } from '../dom.js';
import { t, formatDateTime, LANGUAGES, language, setLanguage } from '../i18n.js';
import { syncNow, syncState } from '../sync.js';
import { persistenceAnswer, requestPersistence } from '../storage.js';
import { canPromptInstall, promptInstall, isInstalled, isIos } from '../install.js';
import { logout } from '../session.js';
import { parseInstant } from '../time.js';
import { APP_VERSION } from '../version.js';
import { problemCard, describeEntry } from './problems.js';
import { uploadsPart } from './sync-uploads.js';
import { clockOff } from '../device-report.js';
import { clockShort } from './clock-words.js';

export async function syncStatusView(ctx) {
  const { snapshot, session } = ctx;
  const { waiting, problems } = snapshot.queue;
  const state = syncState();
  const lastOk = snapshot.meta.lastSync?.ok_at ? parseInstant(snapshot.meta.lastSync.ok_at) : null;
  const sent = snapshot.entries.filter((e) => e.state === 'sent').slice(-10).reverse();
  const persist = await persistenceAnswer();

  const syncButton = h('button', { class: 'btn wide btn-primary', type: 'button', 'data-testid': 'sync-now', disabled: state.running },
    state.running ? t('sync.running') : t('sync.now'));
  syncButton.addEventListener('click', async () => {
    syncButton.disabled = true;
    syncButton.textContent = t('sync.running');
    await syncNow({ reason: 'manual' });
    ctx.rerender();
  });

  const overall = h('dl', { class: 'record status-card', 'data-testid': 'sync-overall' },
    kv(t('sync.connection'), navigator.onLine ? t('sync.online') : t('sync.offline'), 'connection'),
    kv(t('sync.last_ok'), lastOk ? formatDateTime(lastOk) : t('sync.never'), 'last-ok'),
    kv(t('sync.waiting'), String(waiting.length), 'waiting-count'),
    kv(t('sync.attention'), String(problems.length), 'problem-count'),
    state.lastError ? kv(t('sync.last_error'), errorText(state.lastError), 'last-error') : null,
    snapshot.meta.clock ? kv(t('clock.label'), clockShort(clockOff(snapshot.meta.clock)), 'phone-clock') : null);

  return h('section', { class: 'view view-sync', 'data-testid': 'sync' },
    h('h1', null, t('sync.title')),
    overall,
    session?.token_ok === false ? h('p', { class: 'problem' }, t('sync.need_login'), ' ', h('a', { href: '#/login' }, t('sync.sign_in_again'))) : null,
    syncButton,

    h('h2', { id: 'problems' }, t('sync.problems_title', { count: problems.length })),
    problems.length
      ? h('div', { class: 'problems', 'data-testid': 'problems' }, problems.map((p) => problemCard(p, { onSeen: ctx.rerender, snapshot })))
      : h('p', { class: 'muted' }, t('sync.no_problems')),

    h('h2', null, t('sync.waiting_title', { count: waiting.length })),
    waiting.length
      ? h('ul', { class: 'plain-list', 'data-testid': 'waiting-list' }, waiting.map((e) => h('li', { 'data-seq': e.seq },
        describeEntry(e), h('span', { class: 'muted' }, ` · ${formatDateTime(parseInstant(e.created_at))}`),
        e.attempts ? h('span', { class: 'muted' }, ` · ${t('sync.attempts', { count: e.attempts })}`) : null)))
      : h('p', { class: 'muted' }, t('sync.nothing_waiting')),

    sent.length ? [h('h2', null, t('sync.sent_title')),
      h('ul', { class: 'plain-list' }, sent.map((e) => h('li', null, describeEntry(e), ' ',
        h('span', { class: 'badge badge-sent' }, t(`sync.result.${e.result?.status || 'applied'}`)))))] : null,

    h('h2', null, t('storage.title')),
    storagePart(persist, ctx),
    await uploadsPart(), // photos' bytes waiting, storage estimate (sync-uploads.js)
    installPart(),

    h('h2', null, t('settings.title')),
    h('label', { class: 'field' }, h('span', null, t('settings.language')),
      languageSelect()),
    h('p', { class: 'muted' }, t('settings.signed_in_as', { name: session?.user?.name || '', username: session?.user?.username || '' })),
    logoutButton(ctx, waiting.length, problems.length),
    h('p', { class: 'muted small' }, t('settings.version', { version: APP_VERSION })));
}

function kv(label, value, id) {
  return h('div', { class: 'kv', 'data-testid': id }, h('dt', null, label), h('dd', null, value));
}

function errorText(code) {
  if (code === 'offline') return t('sync.err_offline');
  if (code === 'auth') return t('sync.err_auth');
  return t('sync.err_other', { message: code });
}

function storagePart(persist, ctx) {
  let text;
  if (!persist) text = t('storage.unknown');
  else if (!persist.supported) text = t('storage.unsupported');
  else text = persist.persisted ? t('storage.persisted') : t('storage.not_persisted');
  const ask = persist?.supported && !persist.persisted
    ? h('button', { class: 'btn btn-secondary', type: 'button', onclick: async () => { await requestPersistence(); ctx.rerender(); } }, t('storage.ask_again'))
    : null;
  return h('div', { 'data-testid': 'storage' }, h('p', { class: persist?.persisted ? '' : 'warning-text' }, text), ask);
}

function installPart() {
  if (isInstalled()) return h('p', { class: 'muted' }, t('install.installed'));
  const why = h('p', null, t('install.why'));
  if (canPromptInstall()) return h('div', null, why, h('button', { class: 'btn btn-secondary', type: 'button', onclick: () => promptInstall() }, t('install.button')));
  return h('div', null, why, h('p', { class: 'muted' }, isIos() ? t('install.ios') : t('install.menu')));
}

function languageSelect() {
  const select = h('select', { id: 'language-select', 'data-testid': 'language' },
    LANGUAGES.map((l) => h('option', { value: l.code }, l.label)));
  select.value = language();
  select.addEventListener('change', () => setLanguage(select.value));
  return select;
}

function logoutButton(ctx, waitingCount, problemCount) {
  const button = h('button', { class: 'btn btn-danger wide', type: 'button', 'data-testid': 'logout' }, t('settings.logout'));
  button.addEventListener('click', async () => {
    const message = waitingCount
      ? t('settings.logout_unsent', { count: waitingCount })
      : (problemCount ? t('settings.logout_problems', { count: problemCount }) : t('settings.logout_confirm'));
    if (!confirm(message)) return;
    await logout();
    ctx.navigate('#/login');
  });
  return button;
}
