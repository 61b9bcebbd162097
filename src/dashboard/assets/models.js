// Models: every model and auto route the gateway serves — exact id with a copy button,
// context window, max output, prices, reasoning levels, tier — and a ready snippet
// (curl, Python openai, Node openai) with this gateway's base URL and the chosen model.
import { api, copyText } from './api.js';
import { h, show, table, notice } from './dom.js';

const view = { chosen: null, lang: 'curl' };

export async function modelsPage({ main }) {
  const models = (await api('GET', '/admin/models')).data;
  const status = h('p', { class: 'notice hidden', role: 'status', id: 'copy-status' });
  const snippet = h('div', { id: 'snippet', class: 'card' });
  if (!view.chosen || !models.some((m) => m.id === view.chosen)) view.chosen = models[0]?.id ?? null;
  const copy = async (text, what) => {
    try {
      await copyText(text);
      notice(status, `Copied ${what}: ${text.length > 80 ? `${text.slice(0, 77)}…` : text}`, 'ok');
      status.dataset.copied = text;
    } catch {
      notice(status, `Copying failed: select the ${what} and copy it by hand.`, 'error');
    }
  };
  const choose = (id) => {
    view.chosen = id;
    renderSnippet(snippet, copy);
    for (const row of main.querySelectorAll('tr[data-model-id]')) row.classList.toggle('chosen', row.dataset.modelId === id);
  };
  const price = (m, kind) => (m.pricing && m.pricing[kind] !== undefined ? `$${m.pricing[kind]}` : '—');
  show(main, h('section', {},
    h('h1', {}, 'Models'),
    h('p', { class: 'muted' }, `Base URL ${baseUrl()} · prices in USD per 1M tokens · ${models.length} models and routes.`),
    status,
    table([
      { label: 'Id', field: 'id', cell: (m) => h('div', { class: 'copy-row' }, h('code', {}, m.id), h('button', { type: 'button', class: 'secondary small', dataset: { copy: m.id }, title: `Copy ${m.id}`, onclick: () => copy(m.id, 'model id') }, 'Copy')) },
      { label: 'Kind', cell: (m) => (m.kind === 'route' ? 'auto route' : m.owned_by) },
      { label: 'Tier', field: 'tier', cell: (m) => m.tier ?? (m.tiers ? Object.keys(m.tiers).join(', ') : '—') },
      { label: 'Context', field: 'context_window', cell: (m) => (m.context_window ? String(m.context_window) : '—') },
      { label: 'Max output', field: 'max_output_tokens', cell: (m) => (m.max_output_tokens ? String(m.max_output_tokens) : '—') },
      { label: 'Input', cell: (m) => price(m, 'input') },
      { label: 'Cached input', cell: (m) => price(m, 'cached_input') },
      { label: 'Output', cell: (m) => price(m, 'output') },
      { label: 'Reasoning', cell: (m) => (m.reasoning_levels?.length ? m.reasoning_levels.join(', ') : '—') },
      { label: '', cell: (m) => h('button', { type: 'button', class: 'small', dataset: { snippet: m.id }, onclick: () => choose(m.id) }, 'Snippet') },
    ], models, { class: 'models', rowAttrs: (m) => ({ dataset: { modelId: m.id }, class: m.id === view.chosen ? 'chosen' : '' }) }),
    snippet));
  renderSnippet(snippet, copy);
}

function baseUrl() {
  return `${location.origin}/v1`;
}

function snippets(model) {
  const base = baseUrl();
  const js = JSON.stringify;
  return {
    curl: `curl ${base}/chat/completions \\\n  -H "Authorization: Bearer $SWITCHYARD_API_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '${JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] })}'`,
    python: `import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=${js(base)}, api_key=os.environ["SWITCHYARD_API_KEY"])\nreply = client.chat.completions.create(\n    model=${js(model)},\n    messages=[{"role": "user", "content": "Hello!"}],\n)\nprint(reply.choices[0].message.content)`,
    node: `import OpenAI from 'openai';\n\nconst client = new OpenAI({ baseURL: ${js(base)}, apiKey: process.env.SWITCHYARD_API_KEY });\nconst reply = await client.chat.completions.create({\n  model: ${js(model)},\n  messages: [{ role: 'user', content: 'Hello!' }],\n});\nconsole.log(reply.choices[0].message.content);`,
  };
}

function renderSnippet(panel, copy) {
  if (!view.chosen) return show(panel, h('p', { class: 'muted' }, 'No model is served.'));
  const all = snippets(view.chosen);
  const text = all[view.lang];
  const tab = (lang, label) => h('button', { type: 'button', class: lang === view.lang ? 'tab active' : 'tab', dataset: { lang }, onclick: () => { view.lang = lang; renderSnippet(panel, copy); } }, label);
  show(panel,
    h('h2', {}, 'Use ', h('code', { id: 'snippet-model' }, view.chosen)),
    h('div', { class: 'tabs' }, tab('curl', 'curl'), tab('python', 'Python (openai)'), tab('node', 'Node (openai)')),
    h('pre', { class: 'body', id: 'snippet-text' }, text),
    h('button', { type: 'button', class: 'secondary', id: 'copy-snippet', onclick: () => copy(text, 'snippet') }, 'Copy snippet'));
}
