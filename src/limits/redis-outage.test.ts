// Redis going away under running counters: commands fail fast (no offline queue, a
// command timeout), the same client recovers when Redis returns, and budget counters
// that may have missed settlements are seeded again from the store.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, ownRedisUnavailable, startOwnRedis, startTcpProxy } from '../../test/support/outages.ts';
import { clearRedisPrefix, redisUnavailable, REDIS_URL, uniqueName } from '../store/testing.ts';
import type { BudgetCharge, BudgetSeed } from './counters.ts';
import { RedisCounters, redisLocation } from './redis-counters.ts';

const ownSkip = ownRedisUnavailable();
const sharedSkip = await redisUnavailable();

const charge = (limitUnits: number, units: number): BudgetCharge => ({ key: 'bud_1:2026-12', limitUnits, units, hard: true, expiresAt: null });
const rpm = { key: 'k:1:rpm', kind: 'requests' as const, limit: 100, windowMs: 60_000, amount: 1 };

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function failsWithin<T>(ms: number, promise: Promise<T>): Promise<void> {
  const started = performance.now();
  await assert.rejects(promise);
  const took = performance.now() - started;
  assert.ok(took < ms, `failed in ${Math.round(took)} ms, within ${ms} ms`);
}

describe('Redis outage under running counters', () => {
  test('a killed Redis fails commands at once; the same client works again once it is back', { skip: ownSkip }, async () => {
    const redis = await startOwnRedis();
    const logs: string[] = [];
    const counters = new RedisCounters({ url: redis.url, prefix: 't:', log: (_level, message) => logs.push(message) });
    try {
      assert.equal((await counters.take('s1', [rpm], [], Date.now())).ok, true);
      assert.equal((counters.redis.status === 'ready'), true);
      await redis.stop('SIGKILL');
      await until('the client sees Redis gone', () => !(counters.redis.status === 'ready'));
      await failsWithin(300, counters.take('s2', [rpm], [], Date.now()));
      await failsWithin(300, counters.reserve([charge(10_000, 100)], async () => ({ settledUnits: 0, reservedUnits: 0 })));
      assert.ok(logs.some((m) => m.includes(`lost the connection to Redis at 127.0.0.1:${redis.port}`)), logs.join('\n'));

      await redis.start();
      await until('the client reconnected', () => (counters.redis.status === 'ready'));
      assert.equal((await counters.take('s3', [rpm], [], Date.now())).ok, true);
      let seeded = 0;
      const outcome = await counters.reserve([charge(10_000, 100)], async () => { seeded++; return { settledUnits: 9_950, reservedUnits: 0 }; });
      assert.deepEqual(outcome, { ok: false, index: 0, settledUnits: 9_950, reservedUnits: 0 }, 'the restarted (empty) Redis was seeded from the store');
      assert.equal(seeded, 1);
    } finally {
      await counters.close();
      await redis.stop('SIGTERM');
    }
  });

  test('counters that kept their data through a cut link are seeded again: spend settled meanwhile is not forgotten', { skip: sharedSkip }, async () => {
    const target = new URL(REDIS_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const prefix = `${uniqueName('outage')}:`;
    const counters = new RedisCounters({ url: `redis://127.0.0.1:${proxy.port}`, prefix, commandTimeoutMs: 300 });
    // What the store knows: 4000 units settled before the outage, 5000 more while Redis was cut off.
    let store: BudgetSeed = { settledUnits: 4000, reservedUnits: 0 };
    let seeded = 0;
    const seed = async () => { seeded++; return store; };
    try {
      assert.deepEqual(await counters.reserve([charge(10_000, 1000)], seed), { ok: true });
      assert.equal(seeded, 1);
      await proxy.cut();
      await until('the client sees the link down', () => !(counters.redis.status === 'ready'));
      // That reservation's settlement cannot reach Redis; the store books it.
      await assert.rejects(counters.settle('res_1', [charge(10_000, 1000)], 1000));
      store = { settledUnits: 4000 + 1000 + 5000, reservedUnits: 0 };
      await proxy.restore();
      await until('the client reconnected', () => (counters.redis.status === 'ready'));
      const outcome = await counters.reserve([charge(10_000, 1000)], seed);
      assert.equal(seeded, 2, 'the counter was dropped on reconnecting and seeded again');
      assert.deepEqual(outcome, { ok: false, index: 0, settledUnits: 10_000, reservedUnits: 0 }, 'Redis alone still believed 4000 settled + 1000 reserved');
    } finally {
      await counters.close();
      await proxy.close();
      await clearRedisPrefix(prefix);
    }
  });

  test('a hung Redis is bounded by the command timeout, and readiness sees it', { skip: sharedSkip }, async () => {
    const target = new URL(REDIS_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const prefix = `${uniqueName('outage')}:`;
    const counters = new RedisCounters({ url: `redis://127.0.0.1:${proxy.port}`, prefix, commandTimeoutMs: 300 });
    try {
      assert.equal((await counters.take('s1', [rpm], [], Date.now())).ok, true);
      assert.equal(await counters.reachable(), true);
      proxy.hang();
      await failsWithin(800, counters.take('s2', [rpm], [], Date.now()));
      assert.equal((counters.redis.status === 'ready'), true, 'connected as far as the socket knows');
      assert.equal(await counters.reachable(), false, 'but readiness sees it does not answer');
    } finally {
      await counters.close();
      await proxy.close();
      await clearRedisPrefix(prefix);
    }
  });

  test('a Redis that never answered fails the first commands after the connect timeout', async () => {
    const port = await freePort();
    const counters = new RedisCounters({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    try {
      await failsWithin(1000, counters.take('s1', [rpm], [], Date.now()));
      assert.equal((counters.redis.status === 'ready'), false);
    } finally {
      await counters.close();
    }
  });
});

test('Redis is named by host and port, never by its credentials', () => {
  assert.equal(redisLocation('redis://default:s3cret@cache.internal:6380/2'), 'Redis at cache.internal:6380');
  assert.equal(redisLocation('rediss://:pw@10.0.0.5'), 'Redis at 10.0.0.5:6379');
});
