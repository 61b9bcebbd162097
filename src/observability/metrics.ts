// Prometheus metrics (prom-client), fed once per request from the pipeline's record
// stage and read from live state at scrape time (breakers, the ledger queue, refusals
// before authentication). Label sets are bounded: models, providers, routes and tiers
// come from config; key ids beyond the first MAX_KEYS seen are counted as "other";
// statuses are HTTP codes. The per-request cost is one Map lookup and a few additions:
// a label set's counts are kept as plain numbers and added to its prom-client children
// when the metrics are read (prom-client hashes the labels on every inc(), even through a
// child), and the latency histograms are our own (histogram.ts).
import { Counter, Gauge, Registry } from 'prom-client';
import { FastHistogram, type HistogramSeries } from './histogram.ts';
import type { Usage } from '../canonical/types.ts';

export const MAX_KEYS = 500;

/** What the record stage knows about one finished request. */
export interface RequestRecord {
  endpoint: string;
  model: string;
  provider: string;
  /** The auto route, or "" for an explicit model. */
  route: string;
  tier: string;
  keyId: string;
  status: number;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  ttftMs?: number;
  errorCode?: string;
}

export interface AttemptRecord {
  model: string;
  provider: string;
  status: number;
}

interface Inc { inc(value?: number): void }

/** The series one request of a label set adds to: counts since the last read, and where they go then. */
interface RequestSeries {
  counts: { requests: number; input: number; cached: number; output: number; reasoning: number; cost: number };
  requests: Inc;
  input: Inc;
  cached: Inc;
  output: Inc;
  reasoning: Inc;
  cost: Inc;
  duration: HistogramSeries;
  ttft: HistogramSeries;
  refusal?: Inc;
}

/** State read at scrape time. */
export interface ScrapeSources {
  refusalsBeforeAuth?: () => Record<string, number>;
  ledgerQueueDepth?: () => number;
  breakers?: () => Promise<Array<{ deployment: string; model: string; state: string }>>;
  /** Requests admitted uncounted while Redis was unreachable (fail_open), per concern, since start. */
  redisFailOpen?: () => Record<string, number>;
  /** Settlements and request rows held in memory while the store is unreachable. */
  storeBufferedWrites?: () => number;
}

const REFUSAL_REASONS: Readonly<Record<string, string>> = {
  insufficient_quota: 'budget',
  rate_limit_exceeded: 'rate_limit',
  concurrency_limit_exceeded: 'rate_limit',
  model_not_allowed: 'model_not_allowed',
  route_not_allowed: 'route_not_allowed',
  max_cost_too_low: 'max_cost',
};

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly tokens: Counter<string>;
  private readonly cost: Counter<string>;
  private readonly duration: FastHistogram;
  private readonly ttft: FastHistogram;
  private readonly upstreamErrors: Counter<string>;
  private readonly refusals: Counter<string>;
  private readonly fallbacks: Counter<string>;
  private readonly escalations: Counter<string>;
  private readonly decisions: Counter<string>;
  private readonly cacheLookups: Counter<string>;
  private readonly cacheSaved: Counter<string>;
  private readonly reviews: Counter<string>;
  private readonly reviewDecisions: Counter<string>;
  private readonly children = new Map<string, unknown>();
  private readonly series = new Map<string, RequestSeries>();
  private readonly keys = new Set<string>();

  constructor(sources: ScrapeSources = {}) {
    const registers = [this.registry];
    // Whichever of the request counters is read first adds every series' counts to them.
    const collect = () => this.addCounts();
    this.requests = new Counter({ name: 'switchyard_requests_total', help: 'Model calls answered, by endpoint, model, provider, route, tier, key and HTTP status.', labelNames: ['endpoint', 'model', 'provider', 'route', 'tier', 'key_id', 'status'], registers, collect });
    this.tokens = new Counter({ name: 'switchyard_tokens_total', help: 'Tokens billed, by kind (input, cached_input, output, reasoning).', labelNames: ['model', 'provider', 'key_id', 'kind'], registers, collect });
    this.cost = new Counter({ name: 'switchyard_cost_usd_total', help: 'Cost billed in US dollars (every attempt of a request included).', labelNames: ['model', 'provider', 'route', 'key_id'], registers, collect });
    this.duration = new FastHistogram({ name: 'switchyard_request_duration_seconds', help: 'Time from the request to the end of the answer.', labelNames: ['endpoint', 'model', 'status_class'], buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers });
    this.ttft = new FastHistogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time from the request to the first streamed token.', labelNames: ['model'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers });
    this.upstreamErrors = new Counter({ name: 'switchyard_upstream_errors_total', help: 'Failed upstream attempts, by provider, model and status.', labelNames: ['provider', 'model', 'status'], registers });
    this.refusals = new Counter({ name: 'switchyard_refusals_total', help: 'Requests refused by the gateway itself, by reason (budget, rate_limit, model_not_allowed, …).', labelNames: ['reason'], registers, collect });
    this.fallbacks = new Counter({ name: 'switchyard_fallbacks_total', help: 'Requests answered by another model than the first one tried.', labelNames: ['from_model', 'to_model'], registers });
    this.escalations = new Counter({ name: 'switchyard_cascade_escalations_total', help: 'Cascade escalations, by route and the tier escalated from.', labelNames: ['route', 'from_tier'], registers });
    this.decisions = new Counter({ name: 'switchyard_router_decisions_total', help: 'Auto-router decisions, by route and the tier chosen.', labelNames: ['route', 'tier'], registers });
    this.cacheLookups = new Counter({ name: 'switchyard_cache_requests_total', help: 'Requests the response cache applied to, by result (hit, miss, refresh).', labelNames: ['result'], registers });
    this.cacheSaved = new Counter({ name: 'switchyard_cache_saved_usd_total', help: 'What cache hits saved: the cost of the answers when they were made, in US dollars.', registers });
    this.reviews = new Counter({ name: 'switchyard_reviews_total', help: 'Requests put under human review, by mode (hold, after) and rule.', labelNames: ['mode', 'rule'], registers });
    this.reviewDecisions = new Counter({ name: 'switchyard_review_decisions_total', help: 'Reviews decided, by outcome (approved, edited, rejected, expired).', labelNames: ['status'], registers });
    new Gauge({
      name: 'switchyard_unauthenticated_refusals', help: 'Requests refused before authentication (no ledger row), by reason code, since start.', labelNames: ['code'], registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(sources.refusalsBeforeAuth?.() ?? {})) this.set({ code }, n);
      },
    });
    new Gauge({
      name: 'switchyard_ledger_queue_depth', help: 'Ledger writes waiting for the store.', registers,
      collect() {
        this.set(sources.ledgerQueueDepth?.() ?? 0);
      },
    });
    new Counter({
      name: 'switchyard_redis_fail_open_total', help: 'Requests let through without their counters while Redis was unreachable (store.redis_outage: fail_open), by concern (budgets, rate_limits).', labelNames: ['concern'], registers,
      collect() {
        this.reset();
        for (const [concern, n] of Object.entries(sources.redisFailOpen?.() ?? {})) this.inc({ concern }, n);
      },
    });
    new Gauge({
      name: 'switchyard_store_buffered_writes', help: 'Settlements and request rows held in memory until the store (PostgreSQL) is reachable again.', registers,
      collect() {
        this.set(sources.storeBufferedWrites?.() ?? 0);
      },
    });
    new Gauge({
      name: 'switchyard_breaker_state', help: 'Circuit breaker state per deployment: 1 for the current state.', labelNames: ['deployment', 'model', 'state'], registers,
      async collect() {
        this.reset();
        for (const b of (await sources.breakers?.()) ?? []) {
          for (const state of BREAKER_STATES) this.set({ deployment: b.deployment, model: b.model, state }, b.state === state ? 1 : 0);
        }
      },
    });
  }

  /** The key id as a label: the first MAX_KEYS distinct ids, then "other" (bounded cardinality). */
  private keyLabel(keyId: string): string {
    if (this.keys.has(keyId)) return keyId;
    if (this.keys.size >= MAX_KEYS) return 'other';
    this.keys.add(keyId);
    return keyId;
  }

  private counter(metric: Counter<string>, cacheKey: string, labels: string[]): { inc(value?: number): void } {
    let found = this.children.get(cacheKey) as { inc(value?: number): void } | undefined;
    if (!found) {
      found = metric.labels(...labels);
      this.children.set(cacheKey, found);
    }
    return found;
  }

  observeRequest(r: RequestRecord): void {
    const key = this.keyLabel(r.keyId);
    // One lookup per request: every series a request of this label set touches, made once.
    const id = `${r.endpoint}\u0001${r.model}\u0001${r.provider}\u0001${r.route}\u0001${r.tier}\u0001${key}\u0001${r.status}\u0001${r.errorCode ?? ''}`;
    let series = this.series.get(id);
    if (!series) {
      series = this.seriesFor(r, key);
      this.series.set(id, series);
    }
    const counts = series.counts;
    counts.requests++;
    const u = r.usage;
    counts.input += u.inputTokens;
    counts.cached += u.cachedInputTokens;
    counts.output += u.outputTokens;
    counts.reasoning += u.reasoningTokens;
    if (r.costUsd > 0) counts.cost += r.costUsd;
    series.duration.observe(r.latencyMs / 1000);
    if (r.ttftMs !== undefined) series.ttft.observe(r.ttftMs / 1000);
  }

  /** Move the counts kept since the last read into prom-client. */
  private addCounts(): void {
    for (const series of this.series.values()) {
      const c = series.counts;
      if (c.requests === 0) continue;
      series.requests.inc(c.requests);
      if (c.input) series.input.inc(c.input);
      if (c.cached) series.cached.inc(c.cached);
      if (c.output) series.output.inc(c.output);
      if (c.reasoning) series.reasoning.inc(c.reasoning);
      if (c.cost) series.cost.inc(c.cost);
      series.refusal?.inc(c.requests);
      c.requests = c.input = c.cached = c.output = c.reasoning = c.cost = 0;
    }
  }

  private seriesFor(r: RequestRecord, key: string): RequestSeries {
    const status = String(r.status);
    const tokens = (kind: string) => this.tokens.labels(r.model, r.provider, key, kind);
    const reason = r.errorCode ? REFUSAL_REASONS[r.errorCode] : undefined;
    return {
      counts: { requests: 0, input: 0, cached: 0, output: 0, reasoning: 0, cost: 0 },
      requests: this.requests.labels(r.endpoint, r.model, r.provider, r.route, r.tier, key, status),
      input: tokens('input'),
      cached: tokens('cached_input'),
      output: tokens('output'),
      reasoning: tokens('reasoning'),
      cost: this.cost.labels(r.model, r.provider, r.route, key),
      duration: this.duration.series(r.endpoint, r.model, `${Math.floor(r.status / 100)}xx`),
      ttft: this.ttft.series(r.model),
      refusal: reason ? this.refusals.labels(reason) : undefined,
    };
  }

  observeUpstreamError(a: AttemptRecord): void {
    const status = String(a.status);
    this.counter(this.upstreamErrors, `u\u0001${a.provider}\u0001${a.model}\u0001${status}`, [a.provider, a.model, status]).inc();
  }

  observeFallback(from: string, to: string): void {
    this.counter(this.fallbacks, `b\u0001${from}\u0001${to}`, [from, to]).inc();
  }

  observeEscalation(route: string, fromTier: string): void {
    this.counter(this.escalations, `e\u0001${route}\u0001${fromTier}`, [route, fromTier]).inc();
  }

  observeCache(result: 'hit' | 'miss' | 'refresh', savedUsd = 0): void {
    this.counter(this.cacheLookups, `c\u0001${result}`, [result]).inc();
    if (result === 'hit' && savedUsd > 0) this.cacheSaved.inc(savedUsd);
  }

  /** A review opened (rule names come from config, plus `metadata`: bounded). */
  observeReview(mode: string, rule: string): void {
    this.counter(this.reviews, `r\u0001${mode}\u0001${rule}`, [mode, rule]).inc();
  }

  observeReviewDecision(status: string): void {
    this.counter(this.reviewDecisions, `d\u0001${status}`, [status]).inc();
  }

  observeDecision(route: string, tier: string): void {
    this.counter(this.decisions, `a\u0001${route}\u0001${tier}`, [route, tier]).inc();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
