// The Router: what the auto routes decided (requests whose model an auto route chose,
// by tier over time), how often a cascade escalated, the share sent to the strong
// tiers (frontier and pro), and what routing saved against sending every one of those
// requests to the frontier model. From GET /admin/stats?group_by=tier&routed=auto.
import { api } from './api.js';
import { h, show, table } from './dom.js';
import { usd, int } from './format.js';
import { kpi, lineChart, percent, windowSelect } from './overview.js';

const STRONG = ['frontier', 'pro'];
const view = { window: 'day' };

export async function routerPage({ main }) {
  const body = h('div', { id: 'router-body' }, h('p', { class: 'muted' }, 'Loading…'));
  show(main, h('section', { id: 'router' },
    h('h1', {}, 'Router'),
    h('div', { class: 'controls' }, h('label', {}, 'Window', windowSelect('router-window', view, () => load(body)))),
    body));
  await load(body);
}

async function load(body) {
  const stats = await api('GET', `/admin/stats?window=${view.window}&group_by=tier&routed=auto`);
  const t = stats.totals;
  const strong = stats.groups.filter((g) => STRONG.includes(g.key)).reduce((sum, g) => sum + g.totals.requests, 0);
  const chart = h('div', { class: 'chart', id: 'chart-tiers' });
  show(body,
    h('div', { class: 'kpis', id: 'router-totals' },
      kpi('Auto-routed requests', int(t.requests), 'requests'),
      kpi('Strong-model share (frontier + pro)', t.requests ? percent(strong / t.requests) : '—', 'strong_share'),
      kpi('Cascade escalation rate', t.cascades ? percent(t.escalated / t.cascades) : '—', 'escalation_rate'),
      kpi('Cascades / escalated', `${t.cascades} / ${t.escalated}`, 'cascades'),
      kpi('Spend', usd(t.cost_usd), 'cost_usd'),
      kpi(`Saved vs all at ${stats.frontier_model}`, usd(t.savings_usd), 'savings_usd')),
    h('p', { class: 'muted small' }, `All at ${stats.frontier_model} these requests would have cost ${usd(t.frontier_cost_usd)}; routed, they cost ${usd(t.cost_usd)}.`),
    h('div', { class: 'card' }, h('h2', {}, 'Decisions by tier'), chart),
    h('h2', {}, 'Tier split'),
    table([
      { label: 'Tier', field: 'tier', cell: (g) => g.key ?? '(none)' },
      { label: 'Requests', field: 'requests', cell: (g) => int(g.totals.requests) },
      { label: 'Share', field: 'share', cell: (g) => percent(g.totals.requests / t.requests) },
      { label: 'Spend', field: 'cost_usd', cell: (g) => usd(g.totals.cost_usd) },
      { label: 'Reached by escalation', cell: (g) => `${g.totals.escalated} of ${g.totals.cascades} cascades ending here` },
      { label: 'Saved', field: 'savings_usd', cell: (g) => usd(g.totals.savings_usd) },
    ], stats.groups, { class: 'tiers', empty: 'No auto-routed requests in this window (send model "auto" or an auto:… route).', rowAttrs: (g) => ({ dataset: { tier: g.key ?? '' } }) }));
  const x = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const series = stats.groups.length
    ? stats.groups.map((g) => ({ label: g.key ?? '(none)', values: g.buckets.map((b) => b.requests) }))
    : [{ label: 'auto-routed', values: stats.buckets.map((b) => b.requests) }];
  lineChart(chart, x, series, { bars: true });
}

