// The Overview: spend, requests, latency (p50/p95), time to first token and error rate
// over the last hour / day / week / month, split by model, tier, key or project, and the
// savings against sending the same tokens to the frontier model. Everything is
// aggregated by the store (GET /admin/stats); the page only draws it. Spend spikes (a
// bucket over 3× the median bucket) are marked on the spend chart and listed as text.
// Also the chart helper the Router page uses (uPlot, served from node_modules).
import uPlot from './uPlot.esm.js';
import { api } from './api.js';
import { h, show, table } from './dom.js';
import { usd, int, ms, time } from './format.js';

const WINDOWS = ['hour', 'day', 'week', 'month'];
const GROUPS = [['model', 'Model'], ['tier', 'Tier'], ['key', 'Key'], ['project', 'Project']];
const COLORS = ['#1f4f8a', '#d9730d', '#1a7f37', '#8250df', '#b42318', '#0a7f8a', '#9a6700', '#57606a', '#bf3989', '#0550ae'];
/** Series beyond these (the groups with fewest requests) are summed into "other". */
const MAX_SERIES = 6;

const view = { window: 'day', group: 'model' };

export async function overviewPage({ main }) {
  const body = h('div', { id: 'overview-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const groupSelect = h('select', { name: 'group_by', id: 'overview-group' }, GROUPS.map(([g, label]) => h('option', { value: g, selected: view.group === g }, label)));
  groupSelect.addEventListener('change', () => { view.group = groupSelect.value; load(body); });
  show(main, h('section', { id: 'overview' },
    h('h1', {}, 'Overview'),
    h('div', { class: 'controls' }, h('label', {}, 'Window', windowSelect('overview-window', view, () => load(body))), h('label', {}, 'Split by', groupSelect)),
    body));
  await load(body);
}

async function load(body) {
  const stats = await api('GET', `/admin/stats?window=${view.window}&group_by=${view.group}`);
  const t = stats.totals;
  const groupLabel = GROUPS.find(([g]) => g === view.group)[1];
  const spend = h('div', { class: 'chart', id: 'chart-spend' });
  const requests = h('div', { class: 'chart', id: 'chart-requests' });
  const latency = h('div', { class: 'chart', id: 'chart-latency' });
  const errors = h('div', { class: 'chart', id: 'chart-errors' });
  show(body,
    h('div', { class: 'kpis', id: 'overview-totals' },
      kpi('Spend', usd(t.cost_usd), 'cost_usd'),
      kpi('Requests', int(t.requests), 'requests'),
      kpi('Error rate', percent(t.error_rate), 'error_rate'),
      kpi('Latency p50', ms(t.p50_latency_ms), 'p50_latency_ms'),
      kpi('Latency p95', ms(t.p95_latency_ms), 'p95_latency_ms'),
      kpi('Time to first token p50', ms(t.p50_ttft_ms), 'p50_ttft_ms')),
    h('div', { class: 'card savings', id: 'overview-savings' },
      h('h2', {}, 'Savings'),
      h('p', {}, 'The same tokens sent to ', h('code', { dataset: { field: 'frontier_model' } }, stats.frontier_model),
        ` at its catalog price ($${stats.frontier_pricing.input} in / $${stats.frontier_pricing.output} out per 1M tokens) would have cost `,
        h('strong', { dataset: { field: 'frontier_cost_usd' } }, usd(t.frontier_cost_usd)), '; they cost ',
        h('strong', { dataset: { field: 'spent_usd' } }, usd(t.cost_usd)), '. Saved: ',
        h('strong', { class: t.savings_usd >= 0 ? 'good' : 'bad', dataset: { field: 'savings_usd' } }, usd(t.savings_usd)),
        t.frontier_cost_usd > 0 ? ` (${percent(t.savings_usd / t.frontier_cost_usd)}).` : '.')),
    h('p', { class: 'muted small' }, `${stats.buckets.length} buckets of ${duration(stats.bucket_seconds)}, ${time(stats.from)} to ${time(stats.to)}.`),
    h('div', { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, `Spend by ${groupLabel.toLowerCase()}`), spend, spikeList(stats)),
      h('div', { class: 'card' }, h('h2', {}, `Requests by ${groupLabel.toLowerCase()}`), requests),
      h('div', { class: 'card' }, h('h2', {}, 'Latency'), latency),
      h('div', { class: 'card' }, h('h2', {}, 'Error rate'), errors)),
    h('h2', {}, `By ${groupLabel.toLowerCase()}`),
    table([
      { label: groupLabel, field: 'group', cell: (g) => g.key ?? '(none)' },
      { label: 'Requests', field: 'requests', cell: (g) => int(g.totals.requests) },
      { label: 'Spend', field: 'cost_usd', cell: (g) => usd(g.totals.cost_usd) },
      { label: 'Error rate', field: 'error_rate', cell: (g) => percent(g.totals.error_rate) },
      { label: 'p50', cell: (g) => ms(g.totals.p50_latency_ms) },
      { label: 'p95', cell: (g) => ms(g.totals.p95_latency_ms) },
      { label: 'TTFT p50', cell: (g) => ms(g.totals.p50_ttft_ms) },
      { label: `At ${stats.frontier_model}`, cell: (g) => usd(g.totals.frontier_cost_usd) },
      { label: 'Saved', field: 'savings_usd', cell: (g) => usd(g.totals.savings_usd) },
    ], stats.groups, { class: 'groups', empty: 'No requests in this window.', rowAttrs: (g) => ({ dataset: { group: g.key ?? '' } }) }),
    stats.groups_total > stats.groups.length ? h('p', { class: 'muted small' }, `The ${stats.groups.length} busiest of ${stats.groups_total}.`) : null);

  const x = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const split = splitSeries(stats.groups, stats.buckets);
  lineChart(spend, x, split.map((s) => ({ label: s.label, values: s.buckets.map((b) => b.cost_usd) })), { money: true, spikes: stats.spikes.map((s) => s.bucket), bars: true });
  lineChart(requests, x, split.map((s) => ({ label: s.label, values: s.buckets.map((b) => b.requests) })), { bars: true });
  lineChart(latency, x, [
    { label: 'p50 ms', values: stats.buckets.map((b) => b.p50_latency_ms) },
    { label: 'p95 ms', values: stats.buckets.map((b) => b.p95_latency_ms) },
    { label: 'TTFT p50 ms', values: stats.buckets.map((b) => b.p50_ttft_ms) },
  ]);
  lineChart(errors, x, [{ label: 'error rate %', values: stats.buckets.map((b) => (b.requests ? (100 * b.errors) / b.requests : null)) }]);
}

/** The window selector of every stats page (last hour, day, week, month), kept in `view.window`. */
export function windowSelect(id, view, onChange) {
  const select = h('select', { name: 'window', id }, WINDOWS.map((w) => h('option', { value: w, selected: view.window === w }, `Last ${w}`)));
  select.addEventListener('change', () => { view.window = select.value; onChange(); });
  return select;
}

/** One headline number, with the field name tests and readers find it by. */
export function kpi(label, value, field) {
  return h('div', { class: 'kpi' }, h('span', { class: 'muted small' }, label), h('strong', { dataset: { field } }, value));
}

function spikeList(stats) {
  if (stats.spikes.length === 0) return h('p', { class: 'muted small', id: 'spikes' }, 'No spend spikes (no bucket over 3× the median bucket).');
  return h('ul', { class: 'spikes', id: 'spikes' }, stats.spikes.map((s) => h('li', { dataset: { start: s.start } },
    h('strong', { class: 'bad' }, 'Spike '), `${time(s.start)}: ${usd(s.cost_usd)} (median bucket ${usd(s.median_usd)})`,
    s.top_group ? `, mostly ${s.top_group.key ?? '(none)'} (${usd(s.top_group.cost_usd)})` : '')));
}

/** The busiest groups as their own series, the rest as "other", so a chart stays readable. */
function splitSeries(groups, buckets) {
  if (groups.length === 0) return [{ label: 'all', buckets }];
  const shown = groups.slice(0, MAX_SERIES).map((g) => ({ label: g.key ?? '(none)', buckets: g.buckets }));
  const rest = buckets.map((b, i) => {
    let requests = b.requests;
    let cost = b.cost_usd;
    for (const s of shown) { requests -= s.buckets[i].requests; cost -= s.buckets[i].cost_usd; }
    return { requests, cost_usd: Math.max(0, Math.round(cost * 1e8) / 1e8) };
  });
  if (rest.some((b) => b.requests > 0)) shown.push({ label: 'other', buckets: rest });
  return shown;
}

/**
 * A uPlot chart in `el`: x in unix seconds, one series per entry. `spikes`: bucket indexes
 * marked with a red line and triangle. The element's data-series says how many series it
 * drew and data-drawn that it has drawn (the tests read them).
 */
export function lineChart(el, x, series, options = {}) {
  const width = Math.max(280, el.clientWidth || el.parentElement?.clientWidth || 600);
  const bars = options.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
  const stacked = options.bars && series.length > 1 ? stack(series) : series.map((s) => s.values);
  const spikes = options.spikes ?? [];
  const plot = new uPlot({
    width, height: 220,
    scales: { x: { time: true } },
    axes: [{}, { size: 60, values: options.money ? (u, ticks) => ticks.map((v) => `$${+v.toPrecision(3)}`) : undefined }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5,
      fill: options.bars ? `${COLORS[i % COLORS.length]}cc` : undefined,
      paths: bars, points: { show: !options.bars },
      value: (u, v, si, idx) => {
        const raw = idx === null || idx === undefined ? null : series[si - 1].values[idx];
        return raw === null || raw === undefined ? '—' : options.money ? usd(raw) : String(+Number(raw).toFixed(2));
      },
    }))],
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#b42318';
        ctx.fillStyle = '#b42318';
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const i of spikes) {
          const px = u.valToPos(x[i], 'x', true);
          ctx.beginPath();
          ctx.moveTo(px, u.bbox.top);
          ctx.lineTo(px, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.beginPath();
          ctx.moveTo(px - 7 * devicePixelRatio, u.bbox.top);
          ctx.lineTo(px + 7 * devicePixelRatio, u.bbox.top);
          ctx.lineTo(px, u.bbox.top + 10 * devicePixelRatio);
          ctx.fill();
        }
        ctx.restore();
        el.dataset.series = String(u.series.length - 1);
        el.dataset.spikes = String(spikes.length);
        el.dataset.drawn = 'true';
      }],
    },
  }, [x, ...stacked], el);
  // Follow the card's width (a phone turned, a window resized); stop once the chart left the page.
  const resize = new ResizeObserver(() => {
    if (!el.isConnected) return resize.disconnect();
    const w = Math.max(280, el.clientWidth);
    if (w !== plot.width) plot.setSize({ width: w, height: 220 });
  });
  resize.observe(el);
  return plot;
}

/** Stacked bars: each series drawn as the sum of itself and those after it, so the first is the tallest. */
function stack(series) {
  const out = series.map((s) => s.values.map((v) => v ?? 0));
  for (let i = out.length - 2; i >= 0; i--) out[i] = out[i].map((v, j) => v + out[i + 1][j]);
  return out;
}

export function percent(rate) {
  return rate === null || rate === undefined || Number.isNaN(rate) ? '—' : `${(rate * 100).toFixed(2)}%`;
}

function duration(seconds) {
  return seconds >= 3600 ? `${seconds / 3600} h` : `${seconds / 60} min`;
}
