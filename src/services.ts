// The services the request pipeline calls, behind interfaces, so the pipeline
// never knows whether keys live in config or a database, or whether counters are
// in-process or in Redis.
import type { Usage } from './canonical/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { StoredBodies } from './observability/bodies.ts';
import type { KeyRole } from './review/types.ts';

/** Who is calling, as established by authentication. */
export interface Principal {
  keyId: string;
  /** Shown in logs and errors; never the secret. */
  name: string;
  /** The first characters of the key, safe to show (e.g. "sy_live_ab12"). */
  prefix: string;
  env: 'live' | 'test' | 'master' | 'config';
  projectId?: string;
  /** Model ids or globs (`gpt-5.4-*`); undefined = all. */
  allowedModels?: string[];
  maxOutputTokens?: { default?: number; max?: number };
  metadata?: Record<string, unknown>;
  /** The key's admin API role, when it has one (the master key is an admin without one here). */
  role?: KeyRole;
}

export interface Authenticator {
  /** Throws a 401 GatewayError that says which of missing/malformed/unknown/revoked/expired. */
  authenticate(token: string | undefined): Promise<Principal>;
}

/** What a request may cost at most, computed before it is sent. */
export interface CostEstimate {
  inputTokens: number;
  maxOutputTokens: number;
  worstCaseUsd: number;
  /** When one request may make several calls (a cascade, a validation): its worst case at a given output cap. */
  worstCaseFor?: (maxOutputTokens: number) => number;
}

/** A granted admission: rate-limit slots and a budget reservation, held until settled. */
export interface Admitted {
  /** x-ratelimit-* and similar headers for the response. */
  headers: Record<string, string>;
  /** When set, the request's output-token cap becomes this (a key's or model's default/max cap). */
  outputCap?: number;
  /** Notes for the client about what admission changed (e.g. a clamped max_tokens). */
  warnings?: string[];
  /** Settle the reservation to what the call really cost, and free concurrency slots. */
  settle(usage: Usage, costUsd: number): void;
  /** Give back everything reserved (the call did not happen or cost nothing). */
  release(): void;
  /**
   * As settle (usage given) or release (null), except that the store write is left to the
   * request row: the returned settlement goes on it, so one write records both. Undefined
   * when the admission was closed already or holds no reservation.
   */
  settleWithRow?(usage: Usage | null, costUsd: number): RowSettlement | undefined;
}

/** A reservation's close, carried by its request row (LedgerEntry.settles). */
export interface RowSettlement {
  reservationId: string;
  status: 'settled' | 'released';
  /** The cost in 1e-8 USD; null when it could not be trusted (the reservation's worst case is billed). */
  units: number | null;
}

/** What admission may want to know about the request (kept with the reservation). */
export interface AdmitContext {
  requestId?: string;
  endpoint?: string;
  /** The named route the model was chosen by (`auto`, `auto:cheap`), if any. */
  route?: string;
  /** The output cap the client itself asked for; null when it asked for none. */
  requestedMaxOutputTokens?: number | null;
}

export interface Admission {
  /** Throws a 402/429 GatewayError naming the budget or limit. */
  admit(principal: Principal, model: ModelInfo, estimate: CostEstimate, context?: AdmitContext): Promise<Admitted>;
}

/** One row of the request log / usage ledger. */
export interface LedgerEntry {
  requestId: string;
  /** 0 for the request row; 1.. for each upstream attempt. */
  attempt: number;
  time: string;
  keyId: string;
  projectId?: string;
  endpoint: string;
  modelRequested: string;
  modelUsed?: string;
  provider?: string;
  deploymentId?: string;
  route?: string;
  /** The auto route that chose the model (`auto:balanced`), when one did. */
  routeName?: string;
  /** The tier of the model used (nano, mini, default, frontier, pro). */
  tier?: string;
  stream: boolean;
  status: number;
  errorCode?: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  ttftMs?: number;
  /** The response cache: a hit (served from it, cost 0), a miss, or a refresh (no-cache); unset when not cached. */
  cache?: 'hit' | 'miss' | 'refresh';
  /** What a hit saved: the cost of the answer when it was made. */
  savedUsd?: number;
  /** The request's bodies, when its body policy keeps them (request rows only). */
  bodies?: StoredBodies;
  /** The reservation this request row closes (request rows only): the store writes both as one. */
  settles?: RowSettlement;
}

export interface Ledger {
  /** Never blocks the request: writes are batched off the request path. */
  record(entry: LedgerEntry): void;
  /** Rows go to the store that holds the reservations, so a request row may carry its settlement (LedgerEntry.settles). */
  readonly carriesSettlements?: boolean;
  /** Rows (and other writes) waiting for the store's next batch. */
  queueDepth?(): number;
  flush(): Promise<void>;
  close(): Promise<void>;
}
