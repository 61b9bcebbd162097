// The running gateway's parts, built once at start and shared by every request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from './config/load.ts';
import { Catalog } from './catalog/catalog.ts';
import type { ModelInfo, ProviderKind } from './catalog/types.ts';
import type { ProviderAdapter } from './providers/types.ts';
import type { Admission, Authenticator, Ledger, Principal } from './services.ts';
import { createAccessServices } from './admin/access.ts';
import { providerAdapters } from './providers/registry.ts';
import { discoverModels } from './providers/discover.ts';
import { verifyDiscoveredModels } from './config/routing.ts';
import { secretMaskerFor, type SecretMasker } from './providers/secrets.ts';
import { RefusalCounts } from './ledger/refusals.ts';
import { resilienceFor, type Resilience } from './resilience.ts';
import { listDeployments } from './admin/deployments.ts';
import { GatewayMetrics } from './observability/metrics.ts';
import { tracingFromEnv, type Tracing } from './observability/tracing.ts';
import { BodyKeeper } from './observability/bodies.ts';
import type { RouterConfig } from './router/config.ts';
import { shippedScorer, type RouterScorer } from './router/scorer.ts';
import { ReviewService } from './review/service.ts';
import { proCaller } from './review/pro.ts';
import { cacheSettings, type CacheSettings } from './cache/cache.ts';
import { memoryCache, redisCache, type AnswerCache } from './cache/store.ts';
import { modelsFor } from './models-endpoint.ts';
import type { DashboardHandler } from './dashboard/handler.ts';

export interface Gateway {
  config: GatewayConfig;
  catalog: Catalog;
  authenticator: Authenticator;
  admission: Admission;
  ledger: Ledger;
  adapters: Map<ProviderKind, ProviderAdapter>;
  log: Logger;
  /** Masks every configured provider secret in what leaves the gateway. */
  masker: SecretMasker;
  /** Model calls refused before authentication succeeded, by reason code (they write no ledger row). */
  refusals: RefusalCounts;
  /** Balancers, circuit breakers and retry options of every model call (src/resilience.ts). */
  resilience: Resilience;
  /** The auto-router's tiers and routes, and the trained scorer it decides with. */
  router: { config: RouterConfig; scorer: RouterScorer };
  /** Prometheus metrics (GET /metrics), fed by the pipeline's record stage. */
  metrics: GatewayMetrics;
  /** OpenTelemetry traces; undefined (off) unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: Tracing;
  /** Which requests keep their bodies in the request log, and how (log.bodies). */
  bodies: BodyKeeper;
  /** The response cache, when some key or route opted in (src/cache). */
  cache?: { settings: CacheSettings; store: AnswerCache };
  /** Human review: the rules, held requests, expiry (src/review). */
  reviews?: ReviewService;
  /** Open requests, for graceful shutdown. */
  inflight: number;
  shuttingDown: boolean;
  /** Mounted at /admin/. */
  adminHandler?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
  /** Mounted at /dashboard (src/dashboard). */
  dashboardHandler?: DashboardHandler;
  /** Whether a key may see and use a model (allowed models and test-key confinement). */
  isModelAllowed(principal: Principal, model: ModelInfo, route?: string): boolean;
  /** Whether a key may call a named route (its allowed_routes; keys without a list may call all). */
  isRouteAllowed(principal: Principal, route: string): boolean;
  /** What GET /readyz answers: ready, draining, or degraded with what is unreachable (the store, Redis). */
  readiness?(): Promise<Readiness>;
  close(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  body: { status: 'ready' | 'draining' | 'degraded'; store?: string; redis?: string };
}

export interface GatewayOverrides {
  authenticator?: Authenticator;
  admission?: Admission;
  ledger?: Ledger;
  log?: Logger;
  /** The router's scorer (default: the shipped classifier). */
  scorer?: RouterScorer;
  /** Tracing (default: from the OTEL_* environment variables). */
  tracing?: Tracing;
  /** Where the gateway's own logger writes (default stdout); its lines are masked. */
  logDestination?: DestinationStream;
}

export async function createGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const masker = secretMaskerFor(config.providers.values());
  // Every line is masked as it is written: no provider secret reaches a log, whatever logged it.
  const log = overrides.log ?? pino({ level: config.logLevel, base: undefined, hooks: { streamWrite: (line) => masker.mask(line) } }, overrides.logDestination);
  const catalog = new Catalog(config);
  const undiscovered: string[] = [];
  for (const provider of config.providers.values()) {
    if (!provider.discover) continue;
    const found = await discoverModels(provider);
    if (found.ok) catalog.addDiscovered(provider, found.ids);
    else {
      undiscovered.push(provider.name);
      log.warn(`could not list models of provider '${provider.name}' at start: ${found.reason}`);
    }
  }
  // Routing config that names discovered models is checked once they are known.
  for (const warning of verifyDiscoveredModels(config.routing, catalog, undiscovered)) log.warn(warning);
  let reviews: ReviewService | undefined;
  let gateway: Gateway | undefined;
  const resilience = resilienceFor(config.routing, config.fallbacks, { url: config.redisUrl, prefix: config.access.redisPrefix }, log);
  const access = await createAccessServices({
    store: config.postgresUrl ? 'postgres' : 'sqlite',
    sqlitePath: config.dbPath,
    postgresUrl: config.postgresUrl,
    redisUrl: config.redisUrl,
    masterKey: config.masterKey,
    gatewayKeys: config.gatewayKeys,
    timezone: config.timezone,
    ...config.access,
    catalog: () => catalog.available(),
    deployments: () => listDeployments({ resilience, models: () => catalog.available(), deploymentsOf: (model) => catalog.deployments(model) }),
    log: (level, message, fields) => log[level](fields ?? {}, message),
    onReviewDecided: (row) => reviews?.decidedHere(row),
    models: () => modelsFor(gateway!, { keyId: 'master', name: 'master key', prefix: '', env: 'master' }),
  });
  const open = config.gatewayKeys.length === 0 && !config.masterKey;
  const refusals = new RefusalCounts();
  const metrics = new GatewayMetrics({
    refusalsBeforeAuth: () => refusals.snapshot(),
    ledgerQueueDepth: () => access.ledger.queueDepth?.() ?? 0,
    redisFailOpen: () => access.admission.failOpenCounts(),
    storeBufferedWrites: () => access.bufferedWrites(),
    breakers: async () => breakerStates(await listDeployments({ resilience, models: () => catalog.available(), deploymentsOf: (model) => catalog.deployments(model) })),
  });
  reviews = new ReviewService({
    store: access.store, settings: config.review, log, callPro: proCaller(() => gateway!),
    metrics,
    settleAdopted: (reservationId, units) => access.admission.settleAdopted(reservationId, units),
    recordPro: (row, answer, latencyMs) => gateway!.ledger.record({
      requestId: `${row.requestId}.pro`, attempt: 0, time: new Date().toISOString(), keyId: row.keyId, projectId: row.projectId ?? undefined,
      endpoint: row.endpoint, modelRequested: row.model, modelUsed: answer.model, tier: 'pro', stream: false, status: 200,
      usage: answer.usage, costUsd: answer.costUsd, latencyMs, route: `review ${row.id} timed out: answered by the pro tier`,
    }),
  });
  const ledger = overrides.ledger ?? access.ledger;
  const tracing = overrides.tracing ?? (await tracingFromEnv());
  const secrets = [...config.providers.values()].flatMap((p) => (p.apiKey ? [p.apiKey] : [])).concat(config.masterKey ? [config.masterKey] : [], config.gatewayKeys);
  const bodies = await BodyKeeper.create(config.file, (text) => masker.mask(text), secrets);
  const cachedBy = cacheSettings(config.file);
  const cache = cachedBy && {
    settings: cachedBy,
    store: config.redisUrl ? await redisCache(config.redisUrl, config.access.redisPrefix ?? 'switchyard:') : memoryCache(cachedBy.maxBytes),
  };
  gateway = {
    config,
    catalog,
    authenticator: overrides.authenticator ?? (open ? new OpenAuthenticator(access.authenticator) : access.authenticator),
    admission: overrides.admission ?? access.admission,
    ledger,
    adapters: providerAdapters(),
    log,
    masker,
    refusals,
    metrics,
    tracing,
    bodies,
    cache,
    reviews,
    resilience,
    inflight: 0,
    shuttingDown: false,
    adminHandler: access.adminHandler,
    dashboardHandler: access.dashboardHandler,
    router: { config: config.router, scorer: overrides.scorer ?? shippedScorer() },
    isModelAllowed: (principal, model, route) => access.admission.isModelAllowed(principal, model, route),
    isRouteAllowed: (principal, route) => access.admission.isRouteAllowed(principal, route),
    async readiness() {
      if (gateway!.shuttingDown) return { ready: false, body: { status: 'draining' } };
      const parts = await access.readiness();
      const ready = parts.store === 'ok' && parts.redis !== 'unavailable';
      return { ready, body: { status: ready ? 'ready' : 'degraded', ...parts } };
    },
    async close() {
      await reviews?.close();
      await cache?.store.close();
      if (ledger !== access.ledger) await ledger.close();
      await access.close();
      await resilience.close();
      await tracing?.shutdown().catch(() => {});
    },
  };
  return gateway;
}

/**
 * With no key configured the gateway is open (the CLI allows that on loopback only):
 * a virtual key that is presented still counts, with its budgets; no key is anonymous.
 */
class OpenAuthenticator implements Authenticator {
  private readonly inner: Authenticator;
  constructor(inner: Authenticator) {
    this.inner = inner;
  }
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token) {
      try {
        return await this.inner.authenticate(token);
      } catch {
        // unknown key on an open gateway: treated as no key
      }
    }
    return { keyId: 'anonymous', name: 'anonymous (open gateway)', prefix: '', env: 'config' };
  }
}

/** The breaker of each guarded deployment, as the metrics gauge reads it. */
function breakerStates(rows: object[]): Array<{ deployment: string; model: string; state: string }> {
  const out: Array<{ deployment: string; model: string; state: string }> = [];
  for (const row of rows as Array<{ id: string; model: string; breaker: { state: string } }>) {
    if (row.breaker.state !== 'not_guarded') out.push({ deployment: row.id, model: row.model, state: row.breaker.state });
  }
  return out;
}
