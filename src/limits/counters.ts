// Counters behind one interface: budget reservations and rate limits, in-process (one
// gateway) or in Redis (several gateways share the same budgets and limits). Every
// check-and-take is atomic: in-process by running synchronously, in Redis by Lua.

/** One budget window a reservation takes from. */
export interface BudgetCharge {
  /** Counter id: the budget id and the window key. */
  key: string;
  limitUnits: number;
  /** Worst-case cost reserved, in 1e-8 USD. */
  units: number;
  /** Soft budgets are counted but never refuse. */
  hard: boolean;
  /** When the window's counter may be dropped (epoch ms); null = never. */
  expiresAt: number | null;
}

/** A counter's starting value, read from the store the first time a window is used. */
export interface BudgetSeed {
  settledUnits: number;
  reservedUnits: number;
}

export type Seeder = (charge: BudgetCharge) => Promise<BudgetSeed>;

export type BudgetOutcome =
  | { ok: true }
  | { ok: false; index: number; settledUnits: number; reservedUnits: number };

export interface RateCharge {
  key: string;
  kind: 'requests' | 'tokens';
  limit: number;
  windowMs: number;
  amount: number;
}

export interface SlotCharge {
  key: string;
  limit: number;
}

export interface RateState {
  limit: number;
  remaining: number;
  resetMs: number;
}

export type RateOutcome =
  | { ok: true; states: RateState[] }
  | { ok: false; index: number; kind: 'rate' | 'slot'; retryAfterMs: number; states: RateState[] };

/**
 * What admission does when the counters (Redis) cannot be reached, per concern: refuse
 * the request (fail_closed) or let it through uncounted (fail_open), logged and counted.
 */
export interface OutagePolicy {
  budgets: 'fail_closed' | 'fail_open';
  rateLimits: 'fail_closed' | 'fail_open';
}

export const DEFAULT_OUTAGE_POLICY: OutagePolicy = { budgets: 'fail_closed', rateLimits: 'fail_open' };

/**
 * A value, or a promise of it: in-process counters answer at once (no promise, no tick on
 * every request), Redis over the network.
 */
export type MaybePromise<T> = T | Promise<T>;

export interface Counters {
  /** True when other processes see the same counters (Redis). */
  readonly shared: boolean;
  /** Where the counters live, for messages ("Redis at 127.0.0.1:6379"); never with credentials. */
  readonly location?: string;
  /** Whether the counters answer now (a bounded round trip), for readiness. */
  reachable?(): Promise<boolean>;
  /** Reserve every charge or none; refuses when a hard charge would pass its limit. */
  reserve(charges: BudgetCharge[], seed: Seeder): MaybePromise<BudgetOutcome>;
  /**
   * Turn a reservation into spend: each charge's reserved units are replaced by
   * `actualUnits` (0 to release). Applied at most once per reservation id; returns the
   * settled totals after, or null when this reservation was already settled.
   */
  settle(reservationId: string, charges: BudgetCharge[], actualUnits: number): MaybePromise<number[] | null>;
  /** Take rate-limit room and concurrency slots, all or none. `states` follow the order of `rates`. */
  take(slotId: string, rates: RateCharge[], slots: SlotCharge[], now: number): MaybePromise<RateOutcome>;
  /** Correct charges taken at time `takenAt` (e.g. estimated tokens → real usage). */
  adjust(rates: RateCharge[], takenAt: number, deltas: number[]): MaybePromise<void>;
  freeSlots(slotId: string, slots: SlotCharge[]): MaybePromise<void>;
  close(): Promise<void>;
}

/** The fixed window an instant falls in, for a window length. */
export function windowIndex(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}
