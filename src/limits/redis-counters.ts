// Counters in Redis, shared by every gateway process. Each check-and-take is one Lua
// script, so it is atomic across processes. Keys (under a configurable prefix):
//   b:<budget>:<window>  hash {s: settled units, r: reserved units}
//   d:<reservation>      marker: this reservation is settled (makes settle idempotent)
//   r:<limit>:<window#>  fixed-window count (requests or tokens)
//   c:<limit>            sorted set of held concurrency slots, scored by lease expiry
// Scripts use only declared keys. When Redis is unreachable a command fails at once
// (no offline queue, a bounded command timeout) and admission applies its outage policy
// (src/budget/admission.ts). ioredis reconnects by itself; on reconnecting, the budget
// counters are dropped, so each is seeded again from the store: spend settled while
// Redis was away (or lost with it) is not forgotten.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { errorText, type Logger } from '../ledger/logger.ts';
import type {
  BudgetCharge, BudgetOutcome, BudgetSeed, Counters, RateCharge, RateOutcome, RateState, Seeder, SlotCharge,
} from './counters.ts';
import { windowIndex } from './counters.ts';
import { judgeWindow } from './window.ts';

const RESERVE = `
for i = 1, #KEYS do
  local b = (i - 1) * 6
  if redis.call('EXISTS', KEYS[i]) == 0 then
    if ARGV[b + 5] == '' then return {-1, i} end
    redis.call('HSET', KEYS[i], 's', ARGV[b + 5], 'r', ARGV[b + 6])
  end
end
for i = 1, #KEYS do
  local b = (i - 1) * 6
  if ARGV[b + 3] == '1' then
    local s = tonumber(redis.call('HGET', KEYS[i], 's') or '0')
    local r = tonumber(redis.call('HGET', KEYS[i], 'r') or '0')
    if s + r + tonumber(ARGV[b + 2]) > tonumber(ARGV[b + 1]) then return {0, i, s, r} end
  end
end
for i = 1, #KEYS do
  local b = (i - 1) * 6
  redis.call('HINCRBY', KEYS[i], 'r', ARGV[b + 2])
  if ARGV[b + 4] ~= '0' then redis.call('PEXPIREAT', KEYS[i], ARGV[b + 4]) end
end
return {1}`;

// ARGV: actual units, marker ttl ms, then each charge's reserved units negated (as text:
// Lua would print large numbers in exponent form).
const SETTLE = `
local n = #KEYS - 1
if not redis.call('SET', KEYS[n + 1], '1', 'NX', 'PX', ARGV[2]) then return false end
local out = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[i], 'r', ARGV[2 + i])
    out[i] = redis.call('HINCRBY', KEYS[i], 's', ARGV[1])
  else
    out[i] = tonumber(ARGV[1])
  end
end
return out`;

// KEYS: per rate (current window, previous window), then per slot set.
// ARGV: now, slot id, lease ms, rate count, then per rate (limit, window ms, amount), then per slot limit.
const TAKE = `
local now = tonumber(ARGV[1])
local nr = tonumber(ARGV[4])
local counts = {}
local failed = 0
local kind = 0
for i = 1, nr do
  local b = 4 + (i - 1) * 3
  local limit = tonumber(ARGV[b + 1]); local win = tonumber(ARGV[b + 2]); local amount = tonumber(ARGV[b + 3])
  local cur = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  counts[2 * i - 1] = cur
  counts[2 * i] = prev
  local elapsed = now % win
  if failed == 0 and prev * (win - elapsed) / win + cur + amount > limit then failed = i; kind = 1 end
end
local ns = #KEYS - 2 * nr
for j = 1, ns do
  local key = KEYS[2 * nr + j]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if failed == 0 and redis.call('ZCARD', key) >= tonumber(ARGV[4 + 3 * nr + j]) then failed = j; kind = 2 end
end
if failed == 0 then
  for i = 1, nr do
    local b = 4 + (i - 1) * 3
    redis.call('INCRBY', KEYS[2 * i - 1], ARGV[b + 3])
    redis.call('PEXPIRE', KEYS[2 * i - 1], 2 * tonumber(ARGV[b + 2]) + 1000)
  end
  for j = 1, ns do
    local key = KEYS[2 * nr + j]
    redis.call('ZADD', key, now + tonumber(ARGV[3]), ARGV[2])
    redis.call('PEXPIRE', key, tonumber(ARGV[3]) + 1000)
  end
end
local out = {failed, kind}
for i = 1, #counts do out[i + 2] = counts[i] end
return out`;

// Correct a window count only while it still exists (never resurrect it without a TTL).
const ADJUST = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return 0`;

interface Scripts {
  syReserve(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  sySettle(numKeys: number, ...args: Array<string | number>): Promise<number[] | null>;
  syTake(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  syAdjust(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

export interface RedisCountersOptions {
  url: string;
  /** Prefix of every key, so several deployments (or test runs) can share one Redis. */
  prefix?: string;
  /** How long a concurrency slot is held when its process dies without freeing it. */
  slotLeaseMs?: number;
  /** A command's longest wait for its answer; past it the command fails (default 1000 ms). */
  commandTimeoutMs?: number;
  /** The first connection's longest wait before commands fail (default 2000 ms). */
  connectTimeoutMs?: number;
  log?: Logger;
}

const SETTLED_MARKER_TTL_MS = 7 * 24 * 3600 * 1000;

/** Errors of the store read that seeds a counter: not Redis's fault, so its counters stay trusted. */
const seedFailures = new WeakSet<object>();

export class RedisCounters implements Counters {
  readonly shared = true;
  readonly redis: Redis;
  private readonly scripts: Scripts;
  private readonly prefix: string;
  private readonly leaseMs: number;

  readonly location: string;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;
  private everReady = false;
  private closing = false;
  /** A command failed or the connection broke: budget counters may have missed settlements. */
  private stale = false;
  /** Budget counters being dropped before they are used again; commands wait for it. */
  private reseeding: Promise<void> | undefined;

  constructor(options: RedisCountersOptions) {
    this.prefix = options.prefix ?? 'switchyard:';
    this.leaseMs = options.slotLeaseMs ?? 15 * 60_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.log = options.log ?? (() => {});
    this.location = redisLocation(options.url);
    this.redis = new Redis(options.url, {
      enableAutoPipelining: true,
      // Down means down: a command fails at once instead of queueing until Redis returns,
      // and one sent before a connection broke is not replayed on the next (a reserve
      // replayed unseen would hold units nobody releases).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.redis.on('error', () => { /* reported by the failing command */ });
    this.redis.on('close', () => {
      if (!this.everReady || this.closing || this.stale) return;
      this.stale = true;
      this.log('warn', `lost the connection to ${this.location}; reconnecting`);
    });
    this.redis.on('ready', () => {
      this.everReady = true;
      this.reseedIfStale()?.catch(() => { /* logged; the next command tries again */ });
    });
    this.redis.defineCommand('syReserve', { lua: RESERVE });
    this.redis.defineCommand('sySettle', { lua: SETTLE });
    this.redis.defineCommand('syTake', { lua: TAKE });
    this.redis.defineCommand('syAdjust', { lua: ADJUST });
    this.scripts = this.redis as unknown as Scripts;
  }

  /** A PING, bounded by the command timeout: a hung Redis is not reported as up. */
  async reachable(): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    return this.redis.ping().then(() => true, () => false);
  }

  reserve(charges: BudgetCharge[], seed: Seeder): Promise<BudgetOutcome> {
    return this.run(() => this.reserveNow(charges, seed));
  }

  private async reserveNow(charges: BudgetCharge[], seed: Seeder): Promise<BudgetOutcome> {
    let seeds: (BudgetSeed | undefined)[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const keys = charges.map((c) => this.budgetKey(c.key));
      const args: Array<string | number> = [];
      charges.forEach((c, i) => {
        const s = seeds[i];
        args.push(c.limitUnits, c.units, c.hard ? '1' : '0', c.expiresAt ?? 0, s ? s.settledUnits : '', s ? s.reservedUnits : '');
      });
      const reply = await this.scripts.syReserve(keys.length, ...keys, ...args);
      if (reply[0] === 1) return { ok: true };
      if (reply[0] === 0) return { ok: false, index: reply[1] - 1, settledUnits: reply[2], reservedUnits: reply[3] };
      // A window counter does not exist yet: read its starting value from the store.
      seeds = await Promise.all(charges.map((c) => seed(c))).catch((error) => {
        if (typeof error === 'object' && error !== null) seedFailures.add(error);
        throw error;
      });
    }
    throw new Error('budget counters could not be seeded');
  }

  settle(reservationId: string, charges: BudgetCharge[], actualUnits: number): Promise<number[] | null> {
    return this.run(async () => {
      const keys = [...charges.map((c) => this.budgetKey(c.key)), `${this.prefix}d:${reservationId}`];
      const reply = await this.scripts.sySettle(keys.length, ...keys, actualUnits, SETTLED_MARKER_TTL_MS, ...charges.map((c) => `-${c.units}`));
      return reply ? reply.map(Number) : null;
    });
  }

  take(slotId: string, rates: RateCharge[], slots: SlotCharge[], now: number): Promise<RateOutcome> {
    return this.run(() => this.takeNow(slotId, rates, slots, now));
  }

  private async takeNow(slotId: string, rates: RateCharge[], slots: SlotCharge[], now: number): Promise<RateOutcome> {
    const keys: string[] = [];
    const args: Array<string | number> = [now, slotId, this.leaseMs, rates.length];
    for (const rate of rates) {
      const index = windowIndex(now, rate.windowMs);
      keys.push(this.rateKey(rate.key, index), this.rateKey(rate.key, index - 1));
      args.push(rate.limit, rate.windowMs, rate.amount);
    }
    for (const slot of slots) {
      keys.push(`${this.prefix}c:${slot.key}`);
      args.push(slot.limit);
    }
    const reply = await this.scripts.syTake(keys.length, ...keys, ...args);
    const [failed, kind] = reply;
    const states: RateState[] = [];
    let retryAfterMs = 1000;
    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i];
      const cur = reply[2 + 2 * i];
      const prev = reply[3 + 2 * i];
      const verdict = judgeWindow(prev, cur, now % rate.windowMs, rate.windowMs, rate.limit, rate.amount);
      const after = failed === 0 ? verdict.used + rate.amount : verdict.used;
      states.push({ limit: rate.limit, remaining: Math.max(0, Math.floor(rate.limit - after)), resetMs: verdict.resetMs });
      if (kind === 1 && failed === i + 1) retryAfterMs = verdict.retryAfterMs;
    }
    if (failed === 0) return { ok: true, states };
    return { ok: false, index: failed - 1, kind: kind === 1 ? 'rate' : 'slot', retryAfterMs, states };
  }

  adjust(rates: RateCharge[], takenAt: number, deltas: number[]): Promise<void> {
    return this.run(async () => {
      const pending: Promise<number>[] = [];
      for (let i = 0; i < rates.length; i++) {
        if (deltas[i] === 0) continue;
        pending.push(this.scripts.syAdjust(1, this.rateKey(rates[i].key, windowIndex(takenAt, rates[i].windowMs)), deltas[i]));
      }
      await Promise.all(pending);
    });
  }

  freeSlots(slotId: string, slots: SlotCharge[]): Promise<void> {
    return this.run(async () => {
      await Promise.all(slots.map((slot) => this.redis.zrem(`${this.prefix}c:${slot.key}`, slotId)));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * One command: wait for the first connection (bounded) and for stale budget counters to
   * be dropped; a failure marks them stale. Once connected, a command while Redis is away
   * fails at once (no offline queue) or after the command timeout (Redis hung).
   */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (!this.everReady && this.redis.status !== 'ready') {
      await once(this.redis, 'ready', { signal: AbortSignal.timeout(this.connectTimeoutMs) }).catch(() => {
        throw new Error(`${this.location} is not reachable (no connection within ${this.connectTimeoutMs} ms)`);
      });
    }
    const reseeding = this.reseedIfStale();
    if (reseeding) await reseeding;
    try {
      return await command();
    } catch (error) {
      // A timed-out settle may or may not have been applied: the counters cannot be trusted.
      if (!(typeof error === 'object' && error !== null && seedFailures.has(error))) this.stale = true;
      throw error;
    }
  }

  /**
   * While the counters are stale and Redis is back, drop the budget counters (once, shared
   * by the commands that arrive meanwhile), so each is seeded again from the store.
   */
  private reseedIfStale(): Promise<void> | undefined {
    if (this.reseeding || !this.stale || this.redis.status !== 'ready') return this.reseeding;
    this.stale = false;
    this.reseeding = this.dropBudgetCounters()
      .then((dropped) => this.log('warn', `${this.location} is reachable again; budget counters are seeded again from the store`, { dropped_counters: dropped }))
      .catch((error) => {
        this.stale = true;
        this.log('error', `${this.location} is reachable again but its budget counters could not be reset`, { error: errorText(error) });
        throw error;
      })
      .finally(() => { this.reseeding = undefined; });
    return this.reseeding;
  }

  /**
   * Drop every budget counter, so the next reservation seeds each from the store (settled
   * spend plus open reservations). While Redis was away, settlements could not reach it
   * (or it restarted empty): its counts are stale, the store's are not.
   */
  async dropBudgetCounters(): Promise<number> {
    let cursor = '0';
    let dropped = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}b:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) dropped += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    return dropped;
  }

  private budgetKey(key: string): string {
    return `${this.prefix}b:${key}`;
  }

  private rateKey(key: string, index: number): string {
    return `${this.prefix}r:${key}:${index}`;
  }
}

/** host:port of a Redis URL, without its credentials. */
export function redisLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `Redis at ${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    return 'Redis';
  }
}
