// Sign-in: the key goes to POST /dashboard/session once and is cleared from the form;
// the page keeps only the CSRF token it answers (the session id is an HttpOnly cookie).
import { api } from './api.js';
import { h, notice } from './dom.js';

export function signInPage({ message, onSignedIn }) {
  const status = h('p', { class: message ? 'notice' : 'notice hidden', role: 'status' }, message ?? '');
  const input = h('input', { type: 'password', name: 'key', id: 'key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h('form', { class: 'card signin', id: 'sign-in' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Use the master key or a virtual key with a role (admin, reviewer or viewer). The key is not stored in this browser.'),
    h('label', { for: 'key' }, 'Admin key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { key: input.value };
    form.reset();
    try {
      onSignedIn(await api('POST', '/dashboard/session', body));
    } catch (error) {
      notice(status, error.message, 'error');
    }
    body.key = '';
  });
  return form;
}
