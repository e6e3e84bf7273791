// Sign in. Needs the network once; after that the app works offline until
// the collector signs out. A collector whose token expired signs in here
// again and finds everything as they left it.

import { h } from '../dom.js';
import { t, LANGUAGES, language, setLanguage } from '../i18n.js';
import { login, currentSession } from '../session.js';
import { ApiError } from '../api.js';
import { field } from './components.js';
import { requestPersistence } from '../storage.js';

export async function loginView(ctx) {
  const previous = await currentSession();
  const username = h('input', { id: 'login-username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, value: previous?.user?.username || '' });
  const password = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { class: 'btn wide btn-primary', type: 'submit', 'data-testid': 'login-submit' }, t('login.submit'));

  async function onSubmit(event) {
    event.preventDefault();
    message.textContent = '';
    if (!username.value.trim() || !password.value) { message.textContent = t('login.missing'); return; }
    submit.disabled = true;
    submit.textContent = t('login.working');
    try {
      await login(username.value.trim(), password.value);
      requestPersistence(); // ask once we know the phone is really in use
      ctx.onLoggedIn();
    } catch (error) {
      const status = error instanceof ApiError ? error.status : -1;
      message.textContent = status === 401 ? t('login.wrong')
        : status === 429 ? t('login.too_many')
          : status === 0 ? t('login.offline') : t('login.failed', { message: error.message });
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  }

  const languages = h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('settings.language') },
    LANGUAGES.map((l) => h('button', {
      type: 'button', class: `btn btn-small ${l.code === language() ? 'btn-primary' : 'btn-secondary'}`,
      'aria-pressed': String(l.code === language()), onclick: () => setLanguage(l.code),
    }, l.label)));

  return h('section', { class: 'view view-login', 'data-testid': 'login' },
    h('img', { class: 'login-logo', src: new URL('../../icons/icon.svg', import.meta.url).pathname, alt: '', width: 72, height: 72 }),
    h('h1', null, t('app.name')),
    h('p', { class: 'muted' }, t('login.intro')),
    previous && previous.token_ok === false ? h('p', { class: 'notice' }, t('login.expired')) : null,
    h('form', { onsubmit: onSubmit, novalidate: true },
      field(t('login.username'), username, { id: 'username' }),
      field(t('login.password'), password, { id: 'password' }),
      message,
      submit),
    h('p', { class: 'muted small' }, t('login.offline_note')),
    languages);
}
