// A circuit breaker per deployment: closed → open (after N consecutive failures, or an
// error rate over a sliding window once it has enough requests) → half-open after a
// cool-down, where exactly one probe goes through → closed on its success, open again
// on its failure.
//
// How it plugs around invoke(): a breaker interceptor, inside the retry one, admits each
// attempt before any network call and reports how it went —
//
//   const withBreaker = (breaker: CircuitBreaker) => (next: Invoke): Invoke => async (call) => {
//     const admission = await breaker.admit(call.deployment.id);
//     if (admission.kind === 'refused') throw circuitOpenError(call.deployment.id, admission.retryAt, Date.now());  // next deployment
//     try { const outcome = await next(call); void breaker.report(call.deployment.id, admission, true); return outcome; }
//     catch (e) { const f = classifyFailure(e); void breaker.report(call.deployment.id, admission, f.kind === 'client_closed' ? undefined : !f.deploymentFault); throw e; }
//   };
//
// and the balancer orders with `breaker.isAvailable`, so a deployment known to be open is
// not even tried. State lives behind BreakerStore: in-process (here), or in Redis
// (breaker-redis.ts) so several gateway processes share it, each transition one Lua
// script, so opening and claiming the probe are atomic across processes. Times come from
// the injected clock and are compared across processes, so their clocks should agree
// (NTP); a skew shifts the cool-down by the skew. The memory store answers synchronously
// and allocates nothing on the happy path.

import { GatewayError } from '../canonical/errors.ts';

export const CIRCUIT_OPEN_CODE = 'deployment_circuit_open';

/**
 * The refusal of a deployment whose breaker is open (or probing). The retry policy moves
 * to the next deployment on it without spending a retry; when it is the last one the
 * client gets it, with Retry-After for when a probe may go.
 */
export function circuitOpenError(deploymentId: string, retryAt: number, now: number): GatewayError {
  const seconds = Math.max(1, Math.ceil((retryAt - now) / 1000));
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: CIRCUIT_OPEN_CODE,
    message: `Deployment ${deploymentId} is paused by its circuit breaker after repeated failures, so the gateway did not call it. It is probed again in about ${seconds} s; retry then, or configure another deployment or a fallback model. GET /admin/deployments shows its state.`,
    headers: { 'retry-after': String(seconds), 'x-should-retry': 'true' },
  });
}

export interface BreakerPolicy {
  /** Opens after this many failures in a row. */
  consecutiveFailures: number;
  /** Opens when this share of the window's requests failed ... */
  errorRate: number;
  /** ... and the window holds at least this many requests. */
  minRequests: number;
  windowMs: number;
  /** The window's resolution: it slides by windowMs / buckets. */
  buckets: number;
  /** How long an open breaker refuses before letting a probe through. */
  coolDownMs: number;
  /** A probe that never reports (its process died) frees the half-open state after this. */
  probeLeaseMs: number;
}

export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = Object.freeze({
  consecutiveFailures: 5,
  errorRate: 0.5,
  minRequests: 20,
  windowMs: 30_000,
  buckets: 10,
  coolDownMs: 30_000,
  probeLeaseMs: 60_000,
});

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export type Admission =
  | { readonly kind: 'pass' }
  | { readonly kind: 'probe'; readonly token: string }
  /** `retryAt`: when the cool-down ends (open) or the probe's lease lapses (half-open). */
  | { readonly kind: 'refused'; readonly state: 'open' | 'half-open'; readonly retryAt: number };

export const PASS: Admission = Object.freeze({ kind: 'pass' });

export interface BreakerSnapshot {
  state: BreakerStateName;
  /** End of the cool-down (0 when closed). */
  openUntil: number;
  consecutiveFailures: number;
  windowRequests: number;
  windowFailures: number;
  probeInFlight: boolean;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Where breaker state lives. Each call is one atomic step. `record` and `settleProbe`
 * return the open-until time after the step (0 = closed).
 */
export interface BreakerStore {
  /** True when other processes see the same state (Redis). */
  readonly shared: boolean;
  admit(id: string, now: number, policy: BreakerPolicy): MaybePromise<Admission>;
  /** An admitted (not probe) call ended. Ignored while open: late results do not move the state. */
  record(id: string, ok: boolean, now: number, policy: BreakerPolicy): MaybePromise<number>;
  /** The probe ended: close (ok), re-open (failed), or just free the claim (undefined: no verdict). Ignored for a stale token. */
  settleProbe(id: string, token: string, ok: boolean | undefined, now: number, policy: BreakerPolicy): MaybePromise<number>;
  snapshot(id: string, now: number, policy: BreakerPolicy): MaybePromise<BreakerSnapshot>;
  close(): Promise<void>;
}

function shouldOpen(consecutive: number, total: number, failed: number, policy: BreakerPolicy): boolean {
  return consecutive >= policy.consecutiveFailures || (total >= policy.minRequests && failed >= policy.errorRate * total);
}

export function breakerStateAt(openUntil: number, now: number): BreakerStateName {
  return openUntil === 0 ? 'closed' : openUntil > now ? 'open' : 'half-open';
}

class MemoryEntry {
  consecutive = 0;
  openUntil = 0;
  probeToken = '';
  probeExpires = 0;
  readonly totals: Uint32Array;
  readonly failures: Uint32Array;
  /** Which bucket number each slot holds; a slot holding an older one is stale. */
  readonly stamps: Float64Array;

  constructor(buckets: number) {
    this.totals = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
    this.stamps = new Float64Array(buckets).fill(-1);
  }

  reset(): void {
    this.consecutive = 0;
    this.openUntil = 0;
    this.probeToken = '';
    this.probeExpires = 0;
    this.totals.fill(0);
    this.failures.fill(0);
    this.stamps.fill(-1);
  }
}

/** Breaker state in this process only. */
export class MemoryBreakerStore implements BreakerStore {
  readonly shared = false;
  private readonly entries = new Map<string, MemoryEntry>();
  private probes = 0;

  admit(id: string, now: number, policy: BreakerPolicy): Admission {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.openUntil === 0) return PASS;
    if (entry.openUntil > now) return { kind: 'refused', state: 'open', retryAt: entry.openUntil };
    if (entry.probeExpires > now) return { kind: 'refused', state: 'half-open', retryAt: entry.probeExpires };
    entry.probeToken = String(++this.probes);
    entry.probeExpires = now + policy.probeLeaseMs;
    return { kind: 'probe', token: entry.probeToken };
  }

  record(id: string, ok: boolean, now: number, policy: BreakerPolicy): number {
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // Once per deployment: successes count in the error rate too.
      entry = new MemoryEntry(policy.buckets);
      this.entries.set(id, entry);
    }
    if (entry.openUntil !== 0) return entry.openUntil;
    const bucket = Math.floor(now / (policy.windowMs / policy.buckets));
    const slot = bucket % policy.buckets;
    if (entry.stamps[slot] !== bucket) {
      entry.stamps[slot] = bucket;
      entry.totals[slot] = 0;
      entry.failures[slot] = 0;
    }
    entry.totals[slot]++;
    if (ok) {
      entry.consecutive = 0;
      return 0;
    }
    entry.failures[slot]++;
    entry.consecutive++;
    let total = 0;
    let failed = 0;
    for (let i = 0; i < policy.buckets; i++) {
      if (entry.stamps[i] > bucket - policy.buckets && entry.stamps[i] <= bucket) {
        total += entry.totals[i];
        failed += entry.failures[i];
      }
    }
    if (shouldOpen(entry.consecutive, total, failed, policy)) {
      entry.openUntil = now + policy.coolDownMs;
      entry.consecutive = 0;
    }
    return entry.openUntil;
  }

  settleProbe(id: string, token: string, ok: boolean | undefined, now: number, policy: BreakerPolicy): number {
    const entry = this.entries.get(id);
    if (entry === undefined) return 0;
    if (entry.probeToken !== token) return entry.openUntil;
    if (ok === true) entry.reset();
    else {
      if (ok === false) entry.openUntil = now + policy.coolDownMs;
      entry.probeToken = '';
      entry.probeExpires = 0;
    }
    return entry.openUntil;
  }

  snapshot(id: string, now: number, policy: BreakerPolicy): BreakerSnapshot {
    const entry = this.entries.get(id);
    const bucket = Math.floor(now / (policy.windowMs / policy.buckets));
    let windowRequests = 0;
    let windowFailures = 0;
    if (entry) {
      for (let i = 0; i < policy.buckets; i++) {
        if (entry.stamps[i] > bucket - policy.buckets && entry.stamps[i] <= bucket) {
          windowRequests += entry.totals[i];
          windowFailures += entry.failures[i];
        }
      }
    }
    const openUntil = entry?.openUntil ?? 0;
    return {
      state: breakerStateAt(openUntil, now), openUntil, consecutiveFailures: entry?.consecutive ?? 0,
      windowRequests, windowFailures, probeInFlight: entry !== undefined && entry.probeExpires > now,
    };
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export interface CircuitBreakerOptions {
  policy?: Partial<BreakerPolicy>;
  /** Epoch ms; shared stores compare it across processes. Injectable for tests. */
  clock?: () => number;
  /**
   * The store failed (Redis down): the breaker then lets calls through — it protects
   * upstreams, it must not become the outage. Log it here.
   */
  onStoreError?: (error: unknown) => void;
}

/** The breakers of every deployment, over one store. */
export class CircuitBreaker {
  readonly policy: Readonly<BreakerPolicy>;
  readonly store: BreakerStore;
  private readonly clock: () => number;
  private readonly onStoreError: (error: unknown) => void;
  /** Open-until of deployments this process knows to be open: the sync hint for balancing. */
  private readonly knownOpen = new Map<string, number>();

  constructor(store: BreakerStore, options: CircuitBreakerOptions = {}) {
    this.store = store;
    this.policy = Object.freeze({ ...DEFAULT_BREAKER_POLICY, ...options.policy });
    this.clock = options.clock ?? Date.now;
    this.onStoreError = options.onStoreError ?? (() => {});
  }

  /**
   * For a balancer: false while the deployment is known to be cooling down. Half-open
   * counts as available, so the probe can be tried (admit decides who gets it).
   */
  readonly isAvailable = (deployment: { readonly id: string }): boolean => {
    if (this.knownOpen.size === 0) return true;
    const openUntil = this.knownOpen.get(deployment.id);
    return openUntil === undefined || openUntil <= this.clock();
  };

  /** May a call go to this deployment now? A refusal means: skip it, no network call. */
  admit(id: string): MaybePromise<Admission> {
    let result: MaybePromise<Admission>;
    try {
      result = this.store.admit(id, this.clock(), this.policy);
    } catch (error) {
      return this.failOpen(error);
    }
    if (result instanceof Promise) return result.then((admission) => this.learnAdmission(id, admission), (error) => this.failOpen(error));
    return this.learnAdmission(id, result);
  }

  /**
   * How an admitted call went: ok = the deployment did its job (a caller's 4xx included),
   * false = its fault, undefined = no verdict (the client left): a probe's claim is
   * freed, a normal call not counted. Never rejects (store errors go to onStoreError),
   * so the answer need not wait for it.
   */
  report(id: string, admission: Admission, ok: boolean | undefined): MaybePromise<void> {
    let result: MaybePromise<number>;
    try {
      if (admission.kind === 'probe') result = this.store.settleProbe(id, admission.token, ok, this.clock(), this.policy);
      else if (admission.kind === 'pass' && ok !== undefined) result = this.store.record(id, ok, this.clock(), this.policy);
      else return;
    } catch (error) {
      this.onStoreError(error);
      return;
    }
    if (result instanceof Promise) return result.then((openUntil) => this.learnOpenUntil(id, openUntil), this.onStoreError);
    this.learnOpenUntil(id, result);
  }

  snapshot(id: string): MaybePromise<BreakerSnapshot> {
    return this.store.snapshot(id, this.clock(), this.policy);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private learnAdmission(id: string, admission: Admission): Admission {
    if (admission.kind === 'refused') {
      if (admission.state === 'open') this.knownOpen.set(id, admission.retryAt);
    } else if (this.knownOpen.size !== 0) this.knownOpen.delete(id);
    return admission;
  }

  private learnOpenUntil(id: string, openUntil: number): void {
    if (openUntil > 0) this.knownOpen.set(id, openUntil);
    else if (this.knownOpen.size !== 0) this.knownOpen.delete(id);
  }

  private failOpen(error: unknown): Admission {
    this.onStoreError(error);
    return PASS;
  }
}
