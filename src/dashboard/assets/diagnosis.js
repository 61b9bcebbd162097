// Diagnosis: the seed's two questions at a glance.
// "Slow response — long context": latency and time to first token against input size, in
// log2 bins of input tokens (GET /admin/stats/context, aggregated by the store), drawn and
// listed per bin; the request detail reuses contextVerdict() to say whether a request's
// context length explains its latency.
// "Cost spike — overuse of GPT-5.5": spend by tier over the window with the spikes the
// stats detect (GET /admin/stats?group_by=tier), each linking to the request log filtered
// to its bucket (and the tier or model that drove it), and the frontier model's share of spend.
import uPlot from './uPlot.esm.js';
import { api } from './api.js';
import { h, show, table } from './dom.js';
import { usd, int, ms, time } from './format.js';
import { lineChart, percent, windowSelect } from './overview.js';

/** A request is "long context" when at most this share of the window's requests is its size or larger… */
const LONG_SHARE = 0.25;
/** …and requests of its size take at least this many times the window's p50 latency. */
const SLOWER = 1.5;
const COLORS = ['#1f4f8a', '#b42318', '#1a7f37'];

const view = { window: 'day' };

export async function diagnosisPage({ main }) {
  const body = h('div', { id: 'diagnosis-body' }, h('p', { class: 'muted' }, 'Loading…'));
  show(main, h('section', { id: 'diagnosis' },
    h('h1', {}, 'Diagnosis'),
    h('div', { class: 'controls' }, h('label', {}, 'Window', windowSelect('diagnosis-window', view, () => load(body)))),
    body));
  await load(body);
}

async function load(body) {
  const [context, tiers, models] = await Promise.all([
    api('GET', `/admin/stats/context?window=${view.window}`),
    api('GET', `/admin/stats?window=${view.window}&group_by=tier`),
    api('GET', `/admin/stats?window=${view.window}&group_by=model`),
  ]);
  const contextChart = h('div', { class: 'chart', id: 'chart-context' });
  const spendChart = h('div', { class: 'chart', id: 'chart-tier-spend' });
  show(body,
    h('div', { class: 'card', id: 'diagnosis-context' },
      h('h2', {}, 'Slow response — long context'),
      h('p', { class: 'muted small' }, `Latency and time to first token by input size, ${time(context.from)} to ${time(context.to)}: each bin holds the requests from its first to its last token count (log2 steps).`),
      contextSummary(context),
      contextChart,
      table([
        { label: 'Input tokens', field: 'tokens', cell: (b) => `${int(b.min_tokens)}–${int(b.max_tokens)}` },
        { label: 'Requests', field: 'requests', cell: (b) => int(b.requests) },
        { label: 'Share', field: 'share', cell: (b) => percent(b.requests / context.totals.requests) },
        { label: 'Latency p50', field: 'p50_latency_ms', cell: (b) => ms(b.p50_latency_ms) },
        { label: 'Latency p95', field: 'p95_latency_ms', cell: (b) => ms(b.p95_latency_ms) },
        { label: 'TTFT p50', field: 'p50_ttft_ms', cell: (b) => ms(b.p50_ttft_ms) },
      ], context.bins, { class: 'context-bins', empty: 'No requests in this window.', rowAttrs: (b) => ({ dataset: { bin: String(b.bin) } }) })),
    h('div', { class: 'card', id: 'diagnosis-cost' },
      h('h2', {}, `Cost spike — overuse of ${models.frontier_model}`),
      frontierShare(models),
      spendChart,
      spikeList(tiers, models),
      h('h3', {}, 'Spend by tier'),
      table([
        { label: 'Tier', field: 'tier', cell: (g) => g.key ?? '(none)' },
        { label: 'Requests', field: 'requests', cell: (g) => int(g.totals.requests) },
        { label: 'Spend', field: 'cost_usd', cell: (g) => usd(g.totals.cost_usd) },
        { label: 'Share of spend', field: 'share', cell: (g) => (tiers.totals.cost_usd > 0 ? percent(g.totals.cost_usd / tiers.totals.cost_usd) : '—') },
      ], [...tiers.groups].sort((a, b) => b.totals.cost_usd - a.totals.cost_usd), { class: 'tier-spend', empty: 'No requests in this window.', rowAttrs: (g) => ({ dataset: { tier: g.key ?? '' } }) })));

  if (context.bins.length > 0) binChart(contextChart, context.bins);
  else show(contextChart, h('p', { class: 'muted' }, 'Nothing to draw yet.'));
  const x = tiers.buckets.map((b) => Date.parse(b.start) / 1000);
  const series = tiers.groups.length
    ? tiers.groups.map((g) => ({ label: g.key ?? '(none)', values: g.buckets.map((b) => b.cost_usd) }))
    : [{ label: 'spend', values: tiers.buckets.map((b) => b.cost_usd) }];
  lineChart(spendChart, x, series, { money: true, bars: true, spikes: tiers.spikes.map((s) => s.bucket) });
}

/** One sentence on whether size and latency go together in this window: the largest bin against all requests. */
function contextSummary(context) {
  const t = context.totals;
  if (t.requests === 0) return h('p', { id: 'context-summary' }, 'No requests in this window.');
  const largest = context.bins[context.bins.length - 1];
  const ratio = t.p50_latency_ms ? largest.p50_latency_ms / t.p50_latency_ms : null;
  return h('p', { id: 'context-summary' },
    `All ${int(t.requests)} requests: latency p50 `, h('strong', { dataset: { field: 'p50_latency_ms' } }, ms(t.p50_latency_ms)),
    ', p95 ', h('strong', { dataset: { field: 'p95_latency_ms' } }, ms(t.p95_latency_ms)),
    ', time to first token p50 ', h('strong', { dataset: { field: 'p50_ttft_ms' } }, ms(t.p50_ttft_ms)),
    `. The largest (${int(largest.min_tokens)}–${int(largest.max_tokens)} input tokens, ${int(largest.requests)} requests) take p50 ${ms(largest.p50_latency_ms)}`,
    ratio !== null && context.bins.length > 1 ? ` (${ratio.toFixed(1)}× the window's).` : '.');
}

/** Spend on the frontier model (by model) against the rest, as text. */
function frontierShare(models) {
  const total = models.totals.cost_usd;
  const frontier = models.groups.find((g) => g.key === models.frontier_model)?.totals.cost_usd ?? 0;
  const rest = Math.round((total - frontier) * 1e8) / 1e8;
  return h('p', { id: 'frontier-share' },
    h('code', {}, models.frontier_model), ' (the frontier tier): ', h('strong', { dataset: { field: 'frontier_spend' } }, usd(frontier)),
    ' of ', h('strong', { dataset: { field: 'total_spend' } }, usd(total)), ' spent, ',
    h('strong', { class: total > 0 && frontier / total > 0.5 ? 'bad' : '', dataset: { field: 'frontier_share' } }, total > 0 ? percent(frontier / total) : '—'),
    '; every other model: ', h('strong', { dataset: { field: 'rest_spend' } }, usd(rest)),
    total > 0 ? ` (${percent(rest / total)}).` : '.');
}

/** The request log filtered by the URL hash (#/requests?from=…&to=…&tier=…). */
function requestsLink(filters) {
  return `#/requests?${new URLSearchParams(filters)}`;
}

function spikeList(tiers, models) {
  if (tiers.spikes.length === 0) return h('p', { class: 'muted small', id: 'diagnosis-spikes' }, 'No spend spikes in this window (no bucket over 3× the median bucket).');
  const width = tiers.bucket_seconds * 1000;
  return h('ul', { class: 'spikes', id: 'diagnosis-spikes' }, tiers.spikes.map((s) => {
    const range = { from: s.start, to: new Date(Date.parse(s.start) + width).toISOString() };
    const model = models.spikes.find((m) => m.bucket === s.bucket)?.top_group?.key;
    return h('li', { dataset: { start: s.start, end: range.to } },
      h('strong', { class: 'bad' }, 'Spike '), `${time(s.start)}: ${usd(s.cost_usd)} (median bucket ${usd(s.median_usd)})`,
      s.top_group ? `, mostly tier ${s.top_group.key ?? '(none)'} (${usd(s.top_group.cost_usd)})` : '', '. ',
      s.top_group?.key ? h('a', { class: 'spike-tier', href: requestsLink({ ...range, tier: s.top_group.key }) }, `Its ${s.top_group.key} requests`) : null,
      model ? [' · ', h('a', { class: 'spike-model', href: requestsLink({ ...range, model }) }, `its ${model} requests`)] : null,
      ' · ', h('a', { class: 'spike-all', href: requestsLink(range) }, 'every request of the bucket'));
  }));
}

/** Latency and TTFT per token bin: x is log2 of the input tokens, labelled in tokens. */
function binChart(el, bins) {
  const width = Math.max(280, el.clientWidth || el.parentElement?.clientWidth || 600);
  const x = bins.map((b) => b.bin);
  const series = [
    { label: 'latency p50 ms', values: bins.map((b) => b.p50_latency_ms) },
    { label: 'latency p95 ms', values: bins.map((b) => b.p95_latency_ms) },
    { label: 'TTFT p50 ms', values: bins.map((b) => b.p50_ttft_ms) },
  ];
  const plot = new uPlot({
    width, height: 220,
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [
      { splits: () => x, values: (u, ticks) => ticks.map((t) => tokens(2 ** t)), label: 'input tokens (bin start)' },
      { size: 60, values: (u, ticks) => ticks.map((v) => `${v} ms`) },
    ],
    series: [
      { label: 'input tokens', value: (u, v) => (v === null || v === undefined ? '—' : `${tokens(2 ** v)}+`) },
      ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i], width: 1.5, points: { show: true, size: 7 }, spanGaps: true })),
    ],
    hooks: { draw: [() => { el.dataset.series = String(series.length); el.dataset.bins = String(bins.length); el.dataset.drawn = 'true'; }] },
  }, [x, ...series.map((s) => s.values)], el);
  const resize = new ResizeObserver(() => {
    if (!el.isConnected) return resize.disconnect();
    const w = Math.max(280, el.clientWidth);
    if (w !== plot.width) plot.setSize({ width: w, height: 220 });
  });
  resize.observe(el);
}

function tokens(n) {
  return n >= 1024 * 1024 ? `${+(n / (1024 * 1024)).toFixed(1)}M` : n >= 1024 ? `${+(n / 1024).toFixed(1)}k` : String(n);
}

/** The stats window a request made at `iso` falls in, smallest first; null when older than a month. */
export function windowFor(iso) {
  const age = Date.now() - Date.parse(iso);
  if (age < 23 * 3_600_000) return 'day';
  if (age < 6.5 * 86_400_000) return 'week';
  if (age < 29 * 86_400_000) return 'month';
  return null;
}

/**
 * Whether a request's context length explains its latency, against the window's bins:
 * { kind: 'long' | 'large' | 'typical' | 'unknown', text }.
 */
export function contextVerdict(inputTokens, context) {
  const total = context.totals.requests;
  const bin = inputTokens <= 1 ? 0 : Math.floor(Math.log2(inputTokens));
  const own = context.bins.find((b) => b.bin === bin);
  if (!own || total === 0) return { kind: 'unknown', text: `No requests of this size (${int(inputTokens)} input tokens) in the last ${context.window} to compare with.` };
  const atLeast = context.bins.filter((b) => b.bin >= bin).reduce((n, b) => n + b.requests, 0);
  const share = atLeast / total;
  const size = `${int(own.min_tokens)}–${int(own.max_tokens)} tokens`;
  const windowP50 = context.totals.p50_latency_ms;
  const slower = own.p50_latency_ms !== null && windowP50 !== null && own.p50_latency_ms >= SLOWER * Math.max(windowP50, 1);
  if (share <= LONG_SHARE && slower) {
    return { kind: 'long', text: `Long context: ${int(inputTokens)} input tokens, in the top ${percent(share)} of the last ${context.window}; requests of this size (${size}) take p50 ${ms(own.p50_latency_ms)}, time to first token p50 ${ms(own.p50_ttft_ms)}, against p50 ${ms(windowP50)} for all requests: the context length explains the latency.` };
  }
  if (share <= LONG_SHARE) {
    return { kind: 'large', text: `Large context: ${int(inputTokens)} input tokens, in the top ${percent(share)} of the last ${context.window}, but requests of this size (${size}) are not slower (p50 ${ms(own.p50_latency_ms)}, all requests p50 ${ms(windowP50)}): look elsewhere for the latency.` };
  }
  return { kind: 'typical', text: `Context length is typical for the last ${context.window}: ${int(inputTokens)} input tokens (${percent(share)} of requests are this size or larger); requests of this size (${size}) take p50 ${ms(own.p50_latency_ms)}.` };
}
