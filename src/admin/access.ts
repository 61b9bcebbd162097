// createAccessServices: everything between "a request arrived" and "send it upstream"
// that concerns who may spend what — keys, budgets, limits, the ledger, the admin API.
//
//   const access = await createAccessServices({ store: 'sqlite', masterKey, timezone: 'UTC' });
//   const principal = await access.authenticator.authenticate(token);          // 401s say why
//   const admitted = await access.admission.admit(principal, model, estimate,
//     { requestId, endpoint, route, requestedMaxOutputTokens });              // 403 / 400 / 429 / 503
//   request.maxOutputTokens = admitted.outputCap ?? request.maxOutputTokens;    // clamp or key default
//   response headers += admitted.headers (x-ratelimit-*), warnings += admitted.warnings
//   ... call upstream ...  admitted.settle(usage, costUsd)  |  admitted.release()   (idempotent)
//   access.ledger.record(entry)   // right after settle, same tick: both commit in one transaction
//   server: '/admin/' → access.adminHandler(req, res, url)
//   shutdown: await access.close()   // drains settlements, flushes the ledger, closes store/counters
//
// Config (all optional but `store`):
//   store          'sqlite' (embedded, one process) | 'postgres' (several processes)
//   sqlitePath     default SWITCHYARD_DB or ./switchyard.db
//   postgresUrl    default SWITCHYARD_POSTGRES_URL or DATABASE_URL; postgresSchema default "public"
//   redisUrl       shared counters (budgets, rate limits) for several processes; in-process without it
//   redisPrefix    key prefix in Redis, default "switchyard:"
//   redisOutage    while Redis is unreachable: budgets fail_closed (default, a 503) | fail_open,
//                  rate limits fail_open (default: uncounted, logged, in a metric) | fail_closed
//   masterKey      admin key (default env SWITCHYARD_MASTER_KEY); also valid on the data plane
//   gatewayKeys    plain keys from config, no budgets of their own
//   timezone       IANA zone for budget periods and usage days, default UTC
//   testKeyModels  patterns test keys are confined to (e.g. ['tier:nano', 'tier:mini', 'provider:ollama'])
//   modelRateLimits / modelOutputCaps  gateway-wide per-model limits and caps, by model pattern
//   retentionDays  request-log retention, default 30
//   alertWebhook   URL that gets spend alerts
//   catalog        () => models, so a 403 can list the models a key may use
//   log            log sink (default: JSON lines on stderr)
//   onReviewDecided  told of each review decided through this process's admin API
//
// The admin API takes the master key and virtual keys with a role (admin, reviewer,
// viewer), identified through the same authenticator (and its caches) as the data plane.
import { hostname } from 'node:os';
import { GatewayError } from '../canonical/errors.ts';
import { SpendAlerts } from '../budget/alerts.ts';
import { AccessAdmission } from '../budget/admission.ts';
import { assertTimeZone } from '../budget/periods.ts';
import { reconcileReservations } from '../budget/reconcile.ts';
import type { ModelInfo } from '../catalog/types.ts';
import { KeyAuthenticator } from '../keys/authenticator.ts';
import { KeyDirectory } from '../keys/directory.ts';
import { newId } from '../keys/secret.ts';
import type { Counters, OutagePolicy } from '../limits/counters.ts';
import { MemoryCounters } from '../limits/memory-counters.ts';
import type { ModelOutputCap } from '../limits/output-cap.ts';
import { StoreLedger } from '../ledger/ledger.ts';
import { errorText, stderrLogger, type Logger } from '../ledger/logger.ts';
import { startRetention } from '../ledger/retention.ts';
import { openStore } from '../store/open.ts';
import type { InstanceRow, RateLimits, Store } from '../store/types.ts';
import { createReviewDesk } from '../review/desk.ts';
import type { ReviewDesk, ReviewRow } from '../review/types.ts';
import { adminTokenIdentifier, createAdminHandler, type AdminHandler, type AdminIdentity } from './handler.ts';
import { DashboardSessions } from '../dashboard/sessions.ts';
import { createDashboardHandler, type DashboardHandler } from '../dashboard/handler.ts';
import { AdminService } from './service.ts';

export interface AccessConfig {
  store: 'sqlite' | 'postgres';
  sqlitePath?: string;
  postgresUrl?: string;
  postgresSchema?: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** What admission does while Redis is unreachable, per concern (config store.redis_outage). */
  redisOutage?: Partial<OutagePolicy>;
  masterKey?: string;
  gatewayKeys?: string[];
  timezone?: string;
  testKeyModels?: string[];
  modelRateLimits?: Record<string, RateLimits>;
  modelOutputCaps?: Record<string, ModelOutputCap>;
  retentionDays?: number;
  alertWebhook?: string;
  catalog?: () => readonly ModelInfo[];
  log?: Logger;
  /** How long a key lookup is cached (and so how soon a revoke elsewhere applies); default 1000 ms. */
  keyCacheTtlMs?: number;
  /** Largest admin JSON body; default 1 MiB. */
  adminMaxBodyBytes?: number;
  /** GET /admin/deployments' rows (src/admin/deployments.ts). */
  deployments?: () => Promise<object[]>;
  /** Called after each review decided through this process's admin API (wakes the held request, fires the webhook). */
  onReviewDecided?: (row: ReviewRow) => void;
  /** GET /admin/models' rows: what GET /v1/models lists to the master key. */
  models?: () => object[];
}

export interface AccessServices {
  authenticator: KeyAuthenticator;
  admission: AccessAdmission;
  ledger: StoreLedger;
  store: Store;
  counters: Counters;
  admin: AdminService;
  adminHandler: AdminHandler;
  /** Mounted at /dashboard: the web pages, signed in with the same admin keys (sessions shared with the admin API). */
  dashboardHandler: DashboardHandler;
  /** The reviewers' desk the admin API's /admin/reviews routes call. */
  reviews: ReviewDesk;
  /** Settle reservations left open by dead processes (also runs at start and every 15 s). */
  reconcile(): Promise<number>;
  /** Whether the store answers and the shared counters (Redis, when configured) are connected. */
  readiness(): Promise<AccessReadiness>;
  /** Settlements and request rows held in memory while the store is unreachable. */
  bufferedWrites(): number;
  /** Drain settlements, flush the ledger, close the store and counters. */
  close(): Promise<void>;
}

export interface AccessReadiness {
  store: 'ok' | 'unavailable';
  /** Present when Redis is configured. */
  redis?: 'ok' | 'unavailable';
}

/** The optional parts of a store readiness reads (PostgreSQL has them; SQLite is local). */
interface StoreHealth {
  ping?: () => Promise<boolean>;
  bufferedWrites?: () => number;
}

const HEARTBEAT_MS = 5_000;
/** At shutdown, the longest wait for settlements (they cannot finish while the store is down). */
const DRAIN_MS = 10_000;
const RECONCILE_MS = 15_000;

export async function createAccessServices(config: AccessConfig): Promise<AccessServices> {
  const log = config.log ?? stderrLogger;
  const timezone = config.timezone ?? 'UTC';
  assertTimeZone(timezone);
  const masterKey = config.masterKey ?? process.env.SWITCHYARD_MASTER_KEY;
  const onError = (message: string, error: unknown) => log('error', message, { error: errorText(error) });
  const onWarn = (message: string, fields: Record<string, unknown>) => log('warn', message, fields);
  const store = await openStore({ ...config, timezone, onError, onWarn });
  // Redis and PostgreSQL drivers are loaded only when configured (memory, start time).
  const counters: Counters = config.redisUrl
    ? new (await import('../limits/redis-counters.ts')).RedisCounters({ url: config.redisUrl, prefix: config.redisPrefix, log })
    : new MemoryCounters();
  if (config.store === 'postgres' && !config.redisUrl) {
    log('warn', 'PostgreSQL without Redis: budgets and rate limits are counted per process; set redisUrl when running several gateways');
  }
  const directory = new KeyDirectory(store, { ttlMs: config.keyCacheTtlMs });
  const alerts = new SpendAlerts({ store, webhookUrl: config.alertWebhook, log });
  const self: InstanceRow = { id: newId('inst'), host: hostname(), pid: process.pid, seenAt: new Date().toISOString() };
  const admission = new AccessAdmission({
    store, counters, directory, alerts, log, instanceId: self.id, timezone,
    testKeyModels: config.testKeyModels, modelRateLimits: config.modelRateLimits, modelOutputCaps: config.modelOutputCaps, catalog: config.catalog,
    outagePolicy: config.redisOutage,
  });
  const admin = new AdminService({ store, timezone, models: config.catalog, onChange: () => directory.invalidate() });
  const reconcile = async () => {
    const settled = await reconcileReservations({ store, counters, self });
    if (settled > 0) log('warn', 'billed reservations left open by a stopped process at their reserved worst case', { reservations: settled });
    return settled;
  };

  try {
    // The lock that says this process is alive comes first, before anything is reserved;
    // orphans of dead processes are billed before start() returns, so before /readyz says ready.
    await store.claimInstance(self.id);
    await store.heartbeat(self);
    await reconcile();
  } catch (error) {
    await counters.close();
    await store.close();
    throw error;
  }
  const beat = setInterval(() => {
    store.heartbeat({ ...self, seenAt: new Date().toISOString() }).catch((error) => onError('heartbeat failed', error));
  }, HEARTBEAT_MS);
  const sweep = setInterval(() => { reconcile().catch((error) => onError('reconciling reservations failed', error)); }, RECONCILE_MS);
  beat.unref();
  sweep.unref();
  const stopRetention = startRetention(store, config.retentionDays ?? 30, log);

  const authenticator = new KeyAuthenticator({ directory, masterKey, gatewayKeys: config.gatewayKeys });
  const reviews = createReviewDesk({ store, onDecided: config.onReviewDecided });
  const identify = (token: string) => adminIdentity(authenticator, token);
  const sessions = new DashboardSessions({ identify: adminTokenIdentifier(masterKey, identify) });
  let closing: Promise<void> | undefined;
  return {
    authenticator,
    admission,
    ledger: new StoreLedger(store, log),
    store,
    counters,
    admin,
    adminHandler: createAdminHandler({
      service: admin, masterKey, maxBodyBytes: config.adminMaxBodyBytes, log, deployments: config.deployments,
      identify, reviews, models: config.models, session: (req) => sessions.fromRequest(req),
    }),
    dashboardHandler: createDashboardHandler(sessions),
    reviews,
    reconcile,
    readiness: async () => {
      const health = store as Store & StoreHealth;
      const ready: AccessReadiness = { store: !health.ping || (await health.ping()) ? 'ok' : 'unavailable' };
      if (counters.shared) ready.redis = counters.reachable && !(await counters.reachable()) ? 'unavailable' : 'ok';
      return ready;
    },
    bufferedWrites: () => (store as Store & StoreHealth).bufferedWrites?.() ?? 0,
    close: () => {
      closing ??= (async () => {
        clearInterval(beat);
        clearInterval(sweep);
        stopRetention();
        // Settlements waiting for an unreachable store are given up by store.close() (logged).
        await Promise.race([admission.drain(), new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
        await alerts.drain();
        await store.flush().catch((error) => onError('the store could not be flushed before closing', error));
        await store.removeInstance(self.id).catch((error) => onError('removing the instance row failed', error));
        await counters.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Keys whose refusal is answered as the authenticator says it: the key exists, but it no longer works. */
const DEAD_KEY_CODES = new Set(['key_revoked', 'key_expired', 'key_rotated']);

/**
 * A bearer token as the admin API sees it: a virtual key (or a config key) with its role,
 * or undefined for a token that is no key of this gateway. The authenticator remembers
 * verified tokens, so a key is not hashed again on each call.
 */
async function adminIdentity(authenticator: KeyAuthenticator, token: string): Promise<AdminIdentity | undefined> {
  try {
    const principal = await authenticator.authenticate(token);
    return { keyId: principal.keyId, name: principal.name, role: principal.env === 'master' ? 'admin' : principal.role ?? null };
  } catch (error) {
    if (error instanceof GatewayError && DEAD_KEY_CODES.has(error.code)) throw error;
    return undefined;
  }
}
