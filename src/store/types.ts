// The store behind keys, projects, budgets, reservations and the request log. Two
// implementations: SQLite (embedded, one process) and PostgreSQL (shared by several).
// Writes on the request path (reservations, settlements, ledger rows) go through a
// group-commit queue: many requests share one transaction; `reserve` resolves only
// once its row is committed, the others are fire-and-forget.
import type { LedgerEntry } from '../services.ts';
import type { Period } from '../budget/periods.ts';
import type { KeyRole, ReviewStore } from '../review/types.ts';
import type { ContextStatsQuery, ContextStatsResult, StatsQuery, StatsResult } from './stats.ts';

export type KeyEnv = 'live' | 'test';

export interface RateLimits {
  rpm?: number;
  tpm?: number;
  concurrent?: number;
}

export interface KeyRateLimits extends RateLimits {
  /** Per-model limits within the key, by model id or glob. */
  models?: Record<string, RateLimits>;
}

export interface OutputCapPolicy {
  default?: number;
  max?: number;
  /** What a request above `max` gets: clamped to `max` (default) or refused with 400. */
  on_exceed?: 'clamp' | 'refuse';
}

export interface KeyRow {
  id: string;
  name: string;
  env: KeyEnv;
  /** The first characters of the secret, safe to show. */
  prefix: string;
  hash: string;
  /** The hash of the secret before the last rotation, kept to say "rotated" instead of "unknown". */
  previousHash: string | null;
  status: 'active' | 'revoked';
  projectId: string | null;
  owner: string | null;
  allowedModels: string[] | null;
  allowedRoutes: string[] | null;
  maxOutputTokens: OutputCapPolicy | null;
  rateLimits: KeyRateLimits | null;
  expiresAt: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
  rotatedAt: string | null;
  /** What the key may do on the admin API; null: nothing (a data-plane key). */
  role: KeyRole | null;
}

export interface ProjectRow {
  id: string;
  name: string;
  metadata: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export type BudgetScope = 'key' | 'project' | 'global';

export interface BudgetRow {
  id: string;
  scope: BudgetScope;
  /** The key or project id; null for global budgets. */
  scopeId: string | null;
  /** Model id or glob the budget is limited to; null = every model. */
  model: string | null;
  period: Period;
  limitUsd: number;
  /** Hard budgets refuse; soft ones only alert. */
  hard: boolean;
  /** Spend at which the alert webhook fires; soft budgets default to their limit. */
  alertUsd: number | null;
  createdAt: string;
}

/** One budget window a reservation is charged to. */
export interface Charge {
  budgetId: string;
  /** The window key (its first local day, or "total"). */
  window: string;
  units: number;
}

export type ReservationStatus = 'open' | 'settled' | 'released' | 'reconciled';

export interface ReservationRow {
  id: string;
  requestId: string | null;
  /** The process instance holding the reservation. */
  owner: string;
  keyId: string;
  projectId: string | null;
  model: string;
  endpoint: string | null;
  /** Local day (budget time zone) the spend is booked on. */
  day: string;
  createdAt: string;
  /** Worst-case cost reserved, in 1e-8 USD. */
  reservedUnits: number;
  inputTokens: number;
  maxOutputTokens: number;
  charges: Charge[];
  status: ReservationStatus;
}

export interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  seenAt: string;
}

/** Which rows spend is summed over. */
export interface SpendScope {
  scope: BudgetScope;
  scopeId: string | null;
  /** Model id or glob. */
  model: string | null;
  /** Local days [fromDay, toDay); null = unbounded. */
  fromDay: string | null;
  toDay: string | null;
}

export type UsageGroup = 'key' | 'model' | 'project' | 'day';

export interface UsageQuery {
  from: string;
  to: string;
  groupBy: UsageGroup[];
  keyId?: string;
  projectId?: string;
}

export interface UsageRow {
  key_id?: string;
  key_name?: string | null;
  model?: string;
  project_id?: string | null;
  day?: string;
  requests: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
}

/** Status classes the request log filters on; `errors` is status >= 400. */
export type StatusClass = 'errors';

/** A page of the request log, newest first. Every filter is exact; they combine with AND. */
export interface RequestQuery {
  keyId?: string;
  projectId?: string;
  /** The model used (model_used). */
  model?: string;
  /** The auto route that chose the model, e.g. `auto:balanced`. */
  routeName?: string;
  tier?: string;
  status?: number;
  statusClass?: StatusClass;
  /** Time range [from, to), ISO times. */
  from?: string;
  to?: string;
  /** Include the per-attempt rows (attempt > 0) next to the request rows; default true. */
  attempts?: boolean;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A request's stored bodies (request_bodies), already redacted or masked. */
export interface StoredBodiesRow {
  policy: string;
  request: string;
  response: string;
  truncated: boolean;
  redactions: Record<string, number> | null;
}

export interface RequestRow {
  request_id: string;
  attempt: number;
  time: string;
  key_id: string;
  project_id: string | null;
  endpoint: string;
  model_requested: string;
  model_used: string | null;
  provider: string | null;
  deployment_id: string | null;
  route: string | null;
  /** The auto route that chose the model (`auto:balanced`); null when the caller named a model. */
  route_name: string | null;
  /** The tier of the model used (nano, mini, default, frontier, pro). */
  tier: string | null;
  stream: boolean;
  status: number;
  error_code: string | null;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  /** The response cache: hit (cost 0), miss, refresh; null when the request was not cached. */
  cache: 'hit' | 'miss' | 'refresh' | null;
  /** What a cache hit saved. */
  saved_usd: number | null;
}

export interface RequestPage {
  rows: RequestRow[];
  nextCursor: string | null;
}

export type KeyPatch = Partial<Omit<KeyRow, 'id' | 'createdAt'>>;
export type ProjectPatch = Partial<Pick<ProjectRow, 'name' | 'metadata' | 'updatedAt'>>;
export type BudgetPatch = Partial<Pick<BudgetRow, 'model' | 'period' | 'limitUsd' | 'hard' | 'alertUsd'>>;

export interface Store extends ReviewStore {
  readonly kind: 'sqlite' | 'postgres';

  insertKey(row: KeyRow): Promise<void>;
  /** The key whose current or previous hash is `hash`, and which of the two matched. */
  keyByHash(hash: string): Promise<{ row: KeyRow; rotated: boolean } | undefined>;
  getKey(id: string): Promise<KeyRow | undefined>;
  listKeys(): Promise<KeyRow[]>;
  updateKey(id: string, patch: KeyPatch): Promise<KeyRow | undefined>;

  insertProject(row: ProjectRow): Promise<void>;
  getProject(idOrName: string): Promise<ProjectRow | undefined>;
  listProjects(): Promise<ProjectRow[]>;
  updateProject(id: string, patch: ProjectPatch): Promise<ProjectRow | undefined>;

  /** Budgets of a scope; without arguments, all budgets. */
  listBudgets(scope?: BudgetScope, scopeId?: string | null): Promise<BudgetRow[]>;
  /** Every budget that can apply to a request by this key: the key's, its project's, and global ones. */
  budgetsFor(keyId: string, projectId: string | null): Promise<BudgetRow[]>;
  getBudget(id: string): Promise<BudgetRow | undefined>;
  insertBudget(row: BudgetRow): Promise<void>;
  updateBudget(id: string, patch: BudgetPatch): Promise<BudgetRow | undefined>;
  deleteBudget(id: string): Promise<boolean>;
  /** Replace all budgets of a scope in one transaction. */
  replaceBudgets(scope: BudgetScope, scopeId: string, rows: BudgetRow[]): Promise<void>;

  /** Settled spend, in 1e-8 USD, over the rows a budget covers. */
  spentUnits(scope: SpendScope): Promise<number>;

  /** Queue a reservation; resolves once it is committed (durable). */
  reserve(row: ReservationRow): Promise<void>;
  /**
   * Queue closing a reservation: settled (real cost), released (0) or reconciled (after a
   * crash). Only an open reservation changes, so calling twice bills once. Resolves
   * true when this call closed it.
   */
  finishReservation(id: string, status: Exclude<ReservationStatus, 'open'>, costUnits: number): Promise<boolean>;
  openReservations(): Promise<ReservationRow[]>;
  /**
   * Commit the writes dead processes left in their journals (SQLite; see journal.ts), so
   * their open reservations are rows reconciliation sees. Returns the lines replayed;
   * 0 for a store without journals.
   */
  recoverJournals(): Promise<number>;

  /** Writes queued for the next batch, not yet committed. */
  queueDepth(): number;
  /** Queue request-log rows (duplicates of request id + attempt are ignored). */
  appendLedger(entries: LedgerEntry[]): Promise<void>;
  usage(query: UsageQuery): Promise<UsageRow[]>;
  requests(query: RequestQuery): Promise<RequestPage>;
  /** The dashboard's numbers over a window, aggregated in the database (stats.ts). */
  stats(query: StatsQuery): Promise<StatsResult>;
  /** Latency and time to first token per log2 bin of input tokens over a window (stats.ts). */
  contextStats(query: ContextStatsQuery): Promise<ContextStatsResult>;
  /** One request: its rows (attempt 0 first) and the bodies its policy kept, if any. */
  requestDetail(requestId: string): Promise<{ rows: RequestRow[]; bodies: StoredBodiesRow | null }>;
  /** Delete up to `batchSize` request rows older than `before`; returns how many. */
  pruneRequests(before: string, batchSize: number): Promise<number>;
  /** Delete closed reservations older than `before`. */
  pruneReservations(before: string): Promise<number>;

  /** Record an alert as sent; false if it already was (at most once per window, across processes). */
  claimAlert(alertKey: string): Promise<boolean>;

  /**
   * Hold a lock that lives exactly as long as this process: the sign that instance `id`
   * is alive (PostgreSQL: a session advisory lock; SQLite: a lock on a per-instance file).
   * Claimed at start, before the instance reserves anything; released by close().
   */
  claimInstance(id: string): Promise<void>;
  /** Whether the process that claimed `id` still holds its lock. Never pid-based: pids are reused, zombies look alive. */
  instanceAlive(id: string): Promise<boolean>;
  heartbeat(instance: InstanceRow): Promise<void>;
  instances(): Promise<InstanceRow[]>;
  removeInstance(id: string): Promise<void>;

  /** Commit everything queued. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
