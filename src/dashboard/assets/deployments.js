// Deployments (admin: provider settings): every deployment of every model with its
// health as the gateway sees it now (breaker state, calls in flight, EWMA time to first
// byte, recent error rate, from GET /admin/deployments) and, from the request log of the
// last hour (GET /admin/stats?group_by=deployment), the requests it answered with their
// latency and error rate. Refreshed every few seconds while the page is open.
import { api } from './api.js';
import { h, show, table } from './dom.js';
import { int, ms, time } from './format.js';
import { percent } from './overview.js';

const REFRESH_MS = 5000;

export async function deploymentsPage({ main }) {
  const body = h('div', { id: 'deployments-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const stamp = h('span', { class: 'muted small', id: 'deployments-updated' });
  show(main, h('section', { id: 'deployments' },
    h('h1', {}, 'Deployments'),
    h('p', { class: 'muted' }, 'Live health from this gateway process (breaker, in flight, TTFB and recent errors, every call counted); requests, latency and error rate of the last hour from the request log, by the deployment that answered. Refreshed every 5 s. ', stamp),
    body));
  await load(body, stamp);
  // Stop once the user has left the page (its element is no longer in the document).
  const timer = setInterval(() => {
    if (!main.isConnected) return clearInterval(timer);
    load(body, stamp).catch((error) => { stamp.textContent = `Refresh failed: ${error.message}`; });
  }, REFRESH_MS);
}

async function load(body, stamp) {
  const [list, stats] = await Promise.all([api('GET', '/admin/deployments'), api('GET', '/admin/stats?window=hour&group_by=deployment')]);
  const logged = new Map(stats.groups.map((g) => [g.key, g.totals]));
  show(body, table([
    { label: 'Deployment', field: 'id', cell: (d) => h('code', {}, d.id) },
    { label: 'Model', field: 'model', cell: (d) => d.model },
    { label: 'Provider', cell: (d) => d.provider },
    { label: 'Breaker', field: 'breaker', cell: (d) => h('span', { class: breakerClass(d.breaker.state) }, d.breaker.state.replace('_', ' ')) },
    { label: 'In flight', field: 'in_flight', cell: (d) => int(d.in_flight) },
    { label: 'TTFB (EWMA)', cell: (d) => ms(d.ewma_ttfb_ms) },
    { label: 'Recent errors', cell: (d) => (d.recent_calls ? `${percent(d.recent_error_rate)} of ${d.recent_calls}` : '—') },
    { label: 'Requests (1 h)', field: 'requests', cell: (d) => int(logged.get(d.id)?.requests ?? 0) },
    { label: 'p50 / p95 (1 h)', field: 'latency', cell: (d) => (logged.has(d.id) ? `${ms(logged.get(d.id).p50_latency_ms)} / ${ms(logged.get(d.id).p95_latency_ms)}` : '—') },
    { label: 'Error rate (1 h)', field: 'error_rate', cell: (d) => (logged.has(d.id) ? percent(logged.get(d.id).error_rate) : '—') },
  ], list.data, { class: 'deployments', empty: 'No deployments: configure a provider.', rowAttrs: (d) => ({ dataset: { deployment: d.id } }) }));
  stamp.textContent = `Updated ${time(new Date().toISOString())}.`;
}

function breakerClass(state) {
  return state === 'open' ? 'bad' : state === 'half_open' ? 'warn' : state === 'closed' ? 'good' : 'muted';
}
