// Keys and budgets (admin): the list with each budget as spent vs limit and its reset
// time; create, revoke and rotate. A new secret is shown once, with a copy button, and
// is gone from the page when dismissed.
import { api, copyText } from './api.js';
import { h, show, table, notice } from './dom.js';
import { usd, time } from './format.js';

export async function keysPage({ main }) {
  const secret = h('div', { id: 'secret-panel', class: 'hidden' });
  const status = h('p', { class: 'notice hidden', role: 'status', id: 'keys-status' });
  const list = h('div', { id: 'key-list' });
  const reload = () => loadKeys(list, secret, status);
  show(main, h('section', {}, h('h1', {}, 'Keys and budgets'), secret, status, createForm(secret, status, reload), h('h2', {}, 'Keys'), list));
  await reload();
}

function createForm(secret, status, reload) {
  const form = h('form', { class: 'card filters', id: 'create-key' },
    h('h2', { class: 'wide' }, 'Create a key'),
    h('label', {}, 'Name', h('input', { name: 'name', required: true, maxlength: 200 })),
    h('label', {}, 'Environment', h('select', { name: 'env' }, h('option', { value: 'live' }, 'live'), h('option', { value: 'test' }, 'test'))),
    h('label', {}, 'Admin role', h('select', { name: 'role' }, h('option', { value: '' }, 'none (data plane only)'), ['viewer', 'reviewer', 'admin'].map((r) => h('option', { value: r }, r)))),
    h('label', {}, 'Budget (USD)', h('input', { name: 'limit_usd', type: 'number', min: '0', step: 'any', placeholder: 'no budget' })),
    h('label', {}, 'Per', h('select', { name: 'period' }, ['day', 'week', 'month', 'total'].map((p) => h('option', { value: p, selected: p === 'month' }, p)))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create key')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { name: String(data.name).trim(), env: data.env };
    if (data.role) body.role = data.role;
    if (String(data.limit_usd).trim() !== '') body.budgets = [{ limit_usd: Number(data.limit_usd), period: data.period, hard: true }];
    try {
      const created = await api('POST', '/admin/keys', body);
      form.reset();
      showSecret(secret, created, 'created');
      status.className = 'notice hidden';
      await reload();
    } catch (error) {
      notice(status, error.message, 'error');
    }
  });
  return form;
}

/** The secret, this once: shown with a copy button until dismissed. */
function showSecret(panel, record, verb) {
  const copied = h('span', { class: 'muted', role: 'status', id: 'secret-copied' });
  const value = h('code', { id: 'secret-value', class: 'secret' }, record.key);
  panel.className = 'card secret-panel';
  show(panel,
    h('h2', {}, `Key '${record.name}' ${verb}`),
    h('p', {}, 'Copy the secret now: it is shown only this once and is stored only as a hash.'),
    h('div', { class: 'copy-row' }, value,
      h('button', { type: 'button', id: 'copy-secret', onclick: async () => {
        try {
          await copyText(record.key);
          copied.textContent = 'Copied.';
        } catch {
          copied.textContent = 'Copying failed: select the secret and copy it by hand.';
        }
      } }, 'Copy')),
    copied,
    h('button', { type: 'button', class: 'secondary', id: 'dismiss-secret', onclick: () => { show(panel); panel.className = 'hidden'; } }, 'I have saved it'));
}

async function loadKeys(list, secret, status) {
  const keys = (await api('GET', '/admin/keys')).data;
  const act = (label, id, run) => {
    const button = h('button', { type: 'button', class: 'secondary small', dataset: { action: label.toLowerCase() } }, label);
    // A second click confirms: no dialog, nothing done by a stray click.
    button.addEventListener('click', async () => {
      if (button.dataset.armed !== 'yes') {
        button.dataset.armed = 'yes';
        button.textContent = `Confirm ${label.toLowerCase()}`;
        return;
      }
      try {
        await run(id);
        await loadKeys(list, secret, status);
      } catch (error) {
        notice(status, error.message, 'error');
      }
    });
    return button;
  };
  show(list, table([
    { label: 'Name', field: 'name', cell: (k) => k.name },
    { label: 'Id', field: 'id', cell: (k) => h('code', {}, k.id) },
    { label: 'Prefix', cell: (k) => h('code', {}, k.prefix) },
    { label: 'Env', cell: (k) => k.env },
    { label: 'Role', cell: (k) => k.role ?? '—' },
    { label: 'Status', field: 'status', cell: (k) => h('span', { class: k.status === 'active' ? 'good' : 'bad' }, k.status) },
    { label: 'Budgets', cell: (k) => budgets(k.budgets) },
    { label: 'Created', cell: (k) => time(k.created_at) },
    { label: '', cell: (k) => (k.status === 'active'
      ? h('div', { class: 'row-actions' },
        act('Rotate', k.id, async (id) => showSecret(secret, await api('POST', `/admin/keys/${encodeURIComponent(id)}/rotate`), 'rotated')),
        act('Revoke', k.id, (id) => api('POST', `/admin/keys/${encodeURIComponent(id)}/revoke`)))
      : '') },
  ], keys, { class: 'keys', empty: 'No virtual keys yet.', rowAttrs: (k) => ({ dataset: { keyId: k.id, keyName: k.name } }) }));
}

function budgets(list) {
  if (!list || list.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'budgets' }, list.map((b) => h('li', { dataset: { budgetId: b.id } },
    h('div', {}, h('span', { dataset: { field: 'spent_usd' } }, usd(b.spent_usd)), ' of ', h('span', { dataset: { field: 'limit_usd' } }, usd(b.limit_usd)),
      ` per ${b.period}`, b.model ? ` on ${b.model}` : '', b.hard ? ' (hard)' : ' (soft)'),
    h('progress', { max: String(b.limit_usd || 1), value: String(Math.min(b.spent_usd + b.reserved_usd, b.limit_usd || 1)) }),
    h('div', { class: 'muted small' }, b.resets_at ? `resets ${time(b.resets_at)}` : 'never resets'))));
}
