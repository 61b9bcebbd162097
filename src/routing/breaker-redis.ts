// Breaker state in Redis, shared by every gateway process (see breaker.ts for how the
// breaker plugs around invoke()). One hash per deployment, under a configurable prefix:
//   <prefix>cb:<deployment id>  {c: failures in a row, o: open until (ms; absent = closed),
//                               p: probe token, pe: probe lease end,
//                               t<n>/f<n>: requests/failures of window bucket n, l: last bucket}
// Each step is one Lua script on that one key, so the open decision and the half-open
// probe claim are atomic across processes: of any number of concurrent callers, exactly
// one gets the probe. A hash idle for a day expires (a removed deployment leaves nothing).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Admission, BreakerPolicy, BreakerSnapshot, BreakerStore } from './breaker.ts';
import { breakerStateAt, PASS } from './breaker.ts';

// ARGV: ok, now, bucket ms, buckets, consecutive threshold, error rate, min requests, cool-down ms, ttl ms.
// Returns open-until (0 = closed).
const RECORD = `
local key = KEYS[1]
local o = tonumber(redis.call('HGET', key, 'o') or '0')
if o > 0 then return o end
local ok = ARGV[1] == '1'
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local idx = math.floor(now / tonumber(ARGV[3]))
local last = tonumber(redis.call('HGET', key, 'l') or tostring(idx))
for i = last - n + 1, math.min(last, idx - n) do redis.call('HDEL', key, 't' .. i, 'f' .. i) end
redis.call('HSET', key, 'l', tostring(math.max(last, idx)))
redis.call('HINCRBY', key, 't' .. idx, 1)
redis.call('PEXPIRE', key, ARGV[9])
if ok then
  redis.call('HSET', key, 'c', '0')
  return 0
end
redis.call('HINCRBY', key, 'f' .. idx, 1)
local c = redis.call('HINCRBY', key, 'c', 1)
local total, failed = 0, 0
for i = idx - n + 1, idx do
  total = total + tonumber(redis.call('HGET', key, 't' .. i) or '0')
  failed = failed + tonumber(redis.call('HGET', key, 'f' .. i) or '0')
end
if c >= tonumber(ARGV[5]) or (total >= tonumber(ARGV[7]) and failed >= tonumber(ARGV[6]) * total) then
  local untilMs = now + tonumber(ARGV[8])
  redis.call('HSET', key, 'o', tostring(untilMs), 'c', '0')
  return untilMs
end
return 0`;

// ARGV: now, probe lease ms, token. Returns {0} pass, {1, open until} open, {2, lease end} probe taken, {3} you probe.
const ADMIT = `
local v = redis.call('HMGET', KEYS[1], 'o', 'pe')
local o = tonumber(v[1] or '0')
if o == 0 then return {0} end
local now = tonumber(ARGV[1])
if o > now then return {1, o} end
local pe = tonumber(v[2] or '0')
if pe > now then return {2, pe} end
redis.call('HSET', KEYS[1], 'p', ARGV[3], 'pe', tostring(now + tonumber(ARGV[2])))
return {3}`;

// ARGV: token, verdict (1 ok, 0 failed, - none), now, cool-down ms. Returns open-until.
const SETTLE = `
local key = KEYS[1]
if redis.call('HGET', key, 'p') ~= ARGV[1] then return tonumber(redis.call('HGET', key, 'o') or '0') end
if ARGV[2] == '1' then
  redis.call('DEL', key)
  return 0
end
redis.call('HDEL', key, 'p', 'pe')
if ARGV[2] == '0' then redis.call('HSET', key, 'o', tostring(tonumber(ARGV[3]) + tonumber(ARGV[4]))) end
return tonumber(redis.call('HGET', key, 'o') or '0')`;

interface Scripts {
  syBreakerRecord(numKeys: number, ...args: Array<string | number>): Promise<number>;
  syBreakerAdmit(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  syBreakerSettle(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

export interface RedisBreakerStoreOptions {
  /** A Redis URL (the store opens and closes its own connection) ... */
  url?: string;
  /** ... or a client shared with other users (left open by close()). */
  redis?: Redis;
  /** Prefix of every key, so several gateways (or test runs) can share one Redis. */
  prefix?: string;
}

const IDLE_TTL_MS = 24 * 3600 * 1000;

export class RedisBreakerStore implements BreakerStore {
  readonly shared = true;
  readonly redis: Redis;
  private readonly scripts: Scripts;
  private readonly prefix: string;
  private readonly ownsClient: boolean;
  /** Probe tokens: this store's id and a count, unique across processes. */
  private readonly instance = randomUUID();
  private admissions = 0;

  constructor(options: RedisBreakerStoreOptions) {
    if (!options.redis && !options.url) throw new Error('RedisBreakerStore needs a url or a client');
    this.prefix = options.prefix ?? 'switchyard:';
    this.ownsClient = !options.redis;
    this.redis = options.redis ?? new Redis(options.url!, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
    if (this.ownsClient) this.redis.on('error', () => { /* reported by the failing command */ });
    this.redis.defineCommand('syBreakerRecord', { lua: RECORD });
    this.redis.defineCommand('syBreakerAdmit', { lua: ADMIT });
    this.redis.defineCommand('syBreakerSettle', { lua: SETTLE });
    this.scripts = this.redis as unknown as Scripts;
  }

  async admit(id: string, now: number, policy: BreakerPolicy): Promise<Admission> {
    const token = `${this.instance}:${++this.admissions}`;
    const [kind, at] = await this.scripts.syBreakerAdmit(1, this.key(id), now, policy.probeLeaseMs, token);
    switch (kind) {
      case 0: return PASS;
      case 1: return { kind: 'refused', state: 'open', retryAt: at };
      case 2: return { kind: 'refused', state: 'half-open', retryAt: at };
      default: return { kind: 'probe', token };
    }
  }

  async record(id: string, ok: boolean, now: number, policy: BreakerPolicy): Promise<number> {
    return this.scripts.syBreakerRecord(
      1, this.key(id), ok ? '1' : '0', now, policy.windowMs / policy.buckets, policy.buckets,
      policy.consecutiveFailures, policy.errorRate, policy.minRequests, policy.coolDownMs, IDLE_TTL_MS,
    );
  }

  async settleProbe(id: string, token: string, ok: boolean | undefined, now: number, policy: BreakerPolicy): Promise<number> {
    return this.scripts.syBreakerSettle(1, this.key(id), token, ok === undefined ? '-' : ok ? '1' : '0', now, policy.coolDownMs);
  }

  async snapshot(id: string, now: number, policy: BreakerPolicy): Promise<BreakerSnapshot> {
    const hash = await this.redis.hgetall(this.key(id));
    const bucket = Math.floor(now / (policy.windowMs / policy.buckets));
    let windowRequests = 0;
    let windowFailures = 0;
    for (let i = bucket - policy.buckets + 1; i <= bucket; i++) {
      windowRequests += Number(hash[`t${i}`] ?? 0);
      windowFailures += Number(hash[`f${i}`] ?? 0);
    }
    const openUntil = Number(hash.o ?? 0);
    return {
      state: breakerStateAt(openUntil, now),
      openUntil,
      consecutiveFailures: Number(hash.c ?? 0),
      windowRequests,
      windowFailures,
      probeInFlight: Number(hash.pe ?? 0) > now,
    };
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(id: string): string {
    return `${this.prefix}cb:${id}`;
  }
}
