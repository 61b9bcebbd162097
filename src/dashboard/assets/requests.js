// The request log: filters (key, model, route, tier, status, time), newest first, paged
// with the admin API's cursor; and one request's detail — every attempt, the route and
// its reason, cost and tokens by kind, the cache, the bodies its key's policy kept, and
// whether its context length explains its latency (against the window's bins, diagnosis.js).
// Filters also come from the URL hash: #/requests?from=…&to=…&model=…&tier=… (the
// Diagnosis page's spike links), replacing the ones kept from before.
import { api } from './api.js';
import { h, show, table, facts } from './dom.js';
import { usd, int, ms, time, prettyJson } from './format.js';
import { contextVerdict, windowFor } from './diagnosis.js';

const TIERS = ['nano', 'mini', 'default', 'frontier', 'pro'];
const PAGE_SIZE = 25;
/** The filters the request log takes (the admin API's names), in the form and from the URL hash. */
const FILTERS = ['key_id', 'model', 'route', 'tier', 'status', 'from', 'to'];

/** Kept while the page is open: going to a detail and back shows the same filters and page. */
const view = { filters: {}, cursors: [null] };

export async function requestsPage({ main, query }) {
  const given = FILTERS.filter((name) => query?.get(name));
  if (given.length > 0) {
    view.filters = Object.fromEntries(given.map((name) => [name, query.get(name)]));
    view.cursors = [null];
  }
  const results = h('div', { id: 'request-results' });
  show(main, h('section', {}, h('h1', {}, 'Request log'), filterForm(results), results));
  await load(results);
}

function filterForm(results) {
  const f = view.filters;
  const text = (name, label, placeholder) => h('label', {}, label, h('input', { name, value: f[name] ?? '', placeholder }));
  const local = (iso) => (iso ? new Date(new Date(iso).getTime() - new Date(iso).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');
  const form = h('form', { class: 'filters', id: 'request-filters' },
    text('key_id', 'Key id', 'key_…'),
    text('model', 'Model', 'gpt-5.4-mini'),
    text('route', 'Route', 'auto'),
    h('label', {}, 'Tier', h('select', { name: 'tier' }, h('option', { value: '' }, 'any'), TIERS.map((t) => h('option', { value: t, selected: f.tier === t }, t)))),
    h('label', {}, 'Status', h('input', { name: 'status', value: f.status ?? '', placeholder: '429 or errors', list: 'status-choices' })),
    h('datalist', { id: 'status-choices' }, ['errors', '200', '400', '401', '403', '429', '500', '502', '503'].map((s) => h('option', { value: s }))),
    h('label', {}, 'From', h('input', { name: 'from', type: 'datetime-local', value: local(f.from) })),
    h('label', {}, 'To', h('input', { name: 'to', type: 'datetime-local', value: local(f.to) })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply'), h('button', { type: 'reset', class: 'secondary' }, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    view.filters = {};
    for (const [name, value] of data) {
      const v = String(value).trim();
      if (!v) continue;
      view.filters[name] = name === 'from' || name === 'to' ? new Date(v).toISOString() : v;
    }
    view.cursors = [null];
    linkFilters();
    load(results);
  });
  form.addEventListener('reset', () => {
    view.filters = {};
    view.cursors = [null];
    linkFilters();
    setTimeout(() => load(results));
  });
  return form;
}

/** The address follows the filters (no re-render: replaceState fires no hashchange), so a reload or a shared link shows the same rows. */
function linkFilters() {
  const query = new URLSearchParams(view.filters).toString();
  history.replaceState(null, '', `#/requests${query ? `?${query}` : ''}`);
}

async function load(results) {
  const cursor = view.cursors[view.cursors.length - 1];
  const query = new URLSearchParams({ ...view.filters, attempts: 'false', limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  let page;
  try {
    page = await api('GET', `/admin/requests?${query}`);
  } catch (error) {
    show(results, h('p', { class: 'notice error', role: 'alert' }, error.message));
    return;
  }
  const pageNo = view.cursors.length;
  show(results,
    table([
      { label: 'Time', cell: (r) => time(r.time) },
      { label: 'Request', field: 'request_id', cell: (r) => h('a', { href: `#/requests/${encodeURIComponent(r.request_id)}` }, r.request_id) },
      { label: 'Key', field: 'key_id', cell: (r) => r.key_id },
      { label: 'Model', field: 'model', cell: (r) => (r.model_used && r.model_used !== r.model_requested ? `${r.model_requested} → ${r.model_used}` : r.model_requested) },
      { label: 'Route', cell: (r) => r.route_name ?? '—' },
      { label: 'Tier', cell: (r) => r.tier ?? '—' },
      { label: 'Status', field: 'status', cell: (r) => h('span', { class: r.status >= 400 ? 'bad' : 'good' }, r.error_code ? `${r.status} ${r.error_code}` : String(r.status)) },
      { label: 'In', field: 'input_tokens', cell: (r) => int(r.input_tokens) },
      { label: 'Out', field: 'output_tokens', cell: (r) => int(r.output_tokens) },
      { label: 'Cost', field: 'cost_usd', cell: (r) => usd(r.cost_usd) },
      { label: 'Latency', cell: (r) => ms(r.latency_ms) },
    ], page.data, { class: 'requests', empty: 'No requests match.', rowAttrs: (r) => ({ dataset: { requestId: r.request_id } }) }),
    h('div', { class: 'pager' },
      h('button', { type: 'button', class: 'secondary', id: 'newer', disabled: pageNo === 1, onclick: () => { view.cursors.pop(); load(results); } }, '← Newer'),
      h('span', { class: 'muted' }, `Page ${pageNo}`),
      h('button', { type: 'button', class: 'secondary', id: 'older', disabled: !page.next_cursor, onclick: () => { view.cursors.push(page.next_cursor); load(results); } }, 'Older →')));
}

/** The detail's context-length line: fetched after the detail shows, so it never delays it. */
async function contextLine(el, r) {
  const window = windowFor(r.time);
  if (!window) return show(el, 'Older than the last month: no window to compare its context length with.');
  try {
    const verdict = contextVerdict(r.input_tokens, await api('GET', `/admin/stats/context?window=${window}`));
    el.dataset.kind = verdict.kind;
    el.className = `card context-verdict ${verdict.kind}`;
    show(el, verdict.text);
  } catch (error) {
    show(el, `Could not compare with the window: ${error.message}`);
  }
}

export async function requestDetailPage({ main }, id) {
  const detail = await api('GET', `/admin/requests/${encodeURIComponent(id)}`);
  const [first, ...attempts] = detail.rows;
  const r = first.attempt === 0 ? first : detail.rows.find((row) => row.attempt === 0) ?? first;
  const bodies = detail.bodies;
  const verdict = h('p', { class: 'card context-verdict', id: 'context-verdict' }, 'Comparing its context length with the window…');
  contextLine(verdict, r);
  show(main, h('section', { id: 'request-detail' },
    h('p', {}, h('a', { href: '#/requests' }, '← Request log')),
    h('h1', {}, 'Request ', h('code', { dataset: { field: 'request_id' } }, detail.request_id)),
    verdict,
    h('div', { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, 'Call'), facts([
        ['Time', time(r.time)],
        ['Key', r.key_id, 'key_id'],
        ['Project', r.project_id],
        ['Endpoint', r.endpoint],
        ['Model requested', r.model_requested, 'model_requested'],
        ['Model used', r.model_used, 'model_used'],
        ['Provider / deployment', [r.provider, r.deployment_id].filter(Boolean).join(' / ') || null],
        ['Tier', r.tier, 'tier'],
        ['Auto route', r.route_name, 'route_name'],
        ['Route and reason', r.route, 'route'],
        ['Stream', r.stream ? 'yes' : 'no'],
        ['Status', r.error_code ? `${r.status} ${r.error_code}` : String(r.status), 'status'],
        ['Latency', ms(r.latency_ms), 'latency_ms'],
        ['Time to first token', ms(r.ttft_ms), 'ttft_ms'],
      ])),
      h('div', { class: 'card' }, h('h2', {}, 'Cost and tokens'), facts([
        ['Cost', usd(r.cost_usd), 'cost_usd'],
        ['Input tokens', int(r.input_tokens), 'input_tokens'],
        ['Cached input tokens', int(r.cached_input_tokens), 'cached_input_tokens'],
        ['Cache write tokens', int(r.cache_write_tokens), 'cache_write_tokens'],
        ['Output tokens', int(r.output_tokens), 'output_tokens'],
        ['Reasoning tokens', int(r.reasoning_tokens), 'reasoning_tokens'],
        ...(r.cache ? [['Response cache', r.cache, 'cache'], ['Saved by the cache', usd(r.saved_usd), 'saved_usd']] : []),
      ]))),
    h('h2', {}, `Attempts (${attempts.length})`),
    attempts.length === 0
      ? h('p', { class: 'muted' }, 'One upstream call, shown above (no retries, fallbacks or cascade steps).')
      : table([
        { label: '#', field: 'attempt', cell: (a) => String(a.attempt) },
        { label: 'Model', cell: (a) => a.model_used ?? '—' },
        { label: 'Deployment', cell: (a) => a.deployment_id ?? '—' },
        { label: 'Tier', cell: (a) => a.tier ?? '—' },
        { label: 'Step / reason', cell: (a) => a.route ?? '—' },
        { label: 'Status', cell: (a) => (a.error_code ? `${a.status} ${a.error_code}` : String(a.status)) },
        { label: 'In', cell: (a) => int(a.input_tokens) },
        { label: 'Out', cell: (a) => int(a.output_tokens) },
        { label: 'Cost', cell: (a) => usd(a.cost_usd) },
        { label: 'Latency', cell: (a) => ms(a.latency_ms) },
      ], attempts, { class: 'attempts' }),
    h('h2', {}, 'Bodies'),
    bodies
      ? h('div', { id: 'bodies' },
        h('p', { class: 'muted' }, `Stored under the key's '${bodies.policy}' policy${bodies.truncated ? ', truncated' : ''}.`,
          bodies.redactions && Object.keys(bodies.redactions).length ? ` Redacted: ${Object.entries(bodies.redactions).map(([k, n]) => `${k} ×${n}`).join(', ')}.` : ''),
        h('h3', {}, 'Request'), h('pre', { class: 'body', id: 'body-request' }, prettyJson(bodies.request)),
        h('h3', {}, 'Response'), h('pre', { class: 'body', id: 'body-response' }, prettyJson(bodies.response)))
      : h('p', { class: 'muted', id: 'bodies' }, "No bodies stored: this key's log.bodies policy is none.")));
}
