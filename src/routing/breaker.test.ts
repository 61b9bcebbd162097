// The circuit breaker over both stores (in-process and Redis), on an injected clock: no
// test waits for a cool-down. Redis tests use a fresh key prefix per run and skip, saying
// why, when no Redis is reachable.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Balancer } from './strategies.ts';
import { CircuitBreaker, circuitOpenError, MemoryBreakerStore, type Admission, type BreakerPolicy, type BreakerStore } from './breaker.ts';
import { RedisBreakerStore } from './breaker-redis.ts';
import { REDIS_URL, redisUnavailable, uniqueName } from '../store/testing.ts';

const redisSkip = await redisUnavailable();
if (redisSkip) console.log(`# Redis breaker tests skipped: ${redisSkip}`);

const POLICY: Partial<BreakerPolicy> = { consecutiveFailures: 3, errorRate: 0.5, minRequests: 10, windowMs: 10_000, buckets: 10, coolDownMs: 5_000, probeLeaseMs: 20_000 };
const D = 'openai:gpt-5.4#0';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.parse('2026-12-02T07:00:00Z');
  return { now: () => t, advance: (ms) => { t += ms; } };
}

interface Backend {
  name: string;
  skip?: string;
  /** A store; for Redis each call is a separate connection (another "process") on the same prefix. */
  open(prefix: string): BreakerStore;
}

const opened: RedisBreakerStore[] = [];
const prefixes = new Set<string>();
after(async () => {
  const redis = opened[0]?.redis;
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  await Promise.all(opened.map((s) => s.close()));
});

const backends: Backend[] = [
  { name: 'memory', open: () => new MemoryBreakerStore() },
  {
    name: 'redis',
    skip: redisSkip,
    open: (prefix) => {
      const store = new RedisBreakerStore({ url: REDIS_URL, prefix });
      opened.push(store);
      prefixes.add(prefix);
      return store;
    },
  },
];

async function call(breaker: CircuitBreaker, ok: boolean | undefined, id = D): Promise<Admission> {
  const admission = await breaker.admit(id);
  if (admission.kind !== 'refused') await breaker.report(id, admission, ok);
  return admission;
}

async function fail(breaker: CircuitBreaker, times: number, id = D): Promise<void> {
  for (let i = 0; i < times; i++) await call(breaker, false, id);
}

for (const backend of backends) {
  describe(`circuit breaker (${backend.name})`, { skip: backend.skip }, () => {
    function setup(policy: Partial<BreakerPolicy> = POLICY) {
      const clock = fakeClock();
      const prefix = `${uniqueName('breaker')}:`;
      const make = () => new CircuitBreaker(backend.open(prefix), { policy, clock: clock.now });
      return { clock, breaker: make(), make };
    }

    test('opens after N failures in a row, and refuses without a call until the cool-down ends', async () => {
      const { clock, breaker } = setup();
      await fail(breaker, 2);
      assert.equal((await breaker.admit(D)).kind, 'pass');
      assert.equal((await breaker.snapshot(D)).state, 'closed');
      await fail(breaker, 1);
      const refused = await breaker.admit(D);
      assert.deepEqual(refused, { kind: 'refused', state: 'open', retryAt: clock.now() + 5_000 });
      assert.equal(breaker.isAvailable({ id: D }), false, 'the balancer skips it');
      assert.equal(breaker.isAvailable({ id: 'other#0' }), true, 'other deployments are not affected');
      clock.advance(4_999);
      assert.equal((await breaker.admit(D)).kind, 'refused');
      const snapshot = await breaker.snapshot(D);
      assert.deepEqual([snapshot.state, snapshot.windowRequests, snapshot.windowFailures], ['open', 3, 3]);
    });

    test('a success resets the run of failures', async () => {
      const { breaker } = setup();
      await fail(breaker, 2);
      await call(breaker, true);
      await fail(breaker, 2);
      assert.equal((await breaker.admit(D)).kind, 'pass');
      assert.equal((await breaker.snapshot(D)).consecutiveFailures, 2);
    });

    test('opens on the error rate over the window once it holds enough requests', async () => {
      const { breaker } = setup({ ...POLICY, consecutiveFailures: 100 });
      // 4 of 4 failed, but under min requests: still closed.
      await fail(breaker, 4);
      assert.equal((await breaker.snapshot(D)).state, 'closed');
      for (let i = 0; i < 5; i++) await call(breaker, true);
      // 10 requests, 5 failed: 50%.
      await fail(breaker, 1);
      assert.equal((await breaker.snapshot(D)).state, 'open');
    });

    test('successes count in the rate: failures among many successes do not open it', async () => {
      const { breaker } = setup({ ...POLICY, consecutiveFailures: 100 });
      for (let i = 0; i < 20; i++) await call(breaker, true);
      await fail(breaker, 12);
      const snapshot = await breaker.snapshot(D);
      assert.deepEqual([snapshot.state, snapshot.windowRequests, snapshot.windowFailures], ['closed', 32, 12]);
    });

    test('the window slides: failures older than it no longer count', async () => {
      const { clock, breaker } = setup({ ...POLICY, consecutiveFailures: 100 });
      await fail(breaker, 4);
      clock.advance(11_000);
      for (let i = 0; i < 6; i++) await call(breaker, true);
      await fail(breaker, 4);
      // In the window: 10 requests, 4 failed (40%). Counting the old ones it would be 8 of 14.
      let snapshot = await breaker.snapshot(D);
      assert.deepEqual([snapshot.state, snapshot.windowRequests, snapshot.windowFailures], ['closed', 10, 4]);
      await fail(breaker, 2);
      snapshot = await breaker.snapshot(D);
      assert.equal(snapshot.state, 'open', '6 of 12 failed');
    });

    test('half-open lets exactly one probe through; the others are refused; success closes', async () => {
      const { clock, breaker } = setup();
      await fail(breaker, 3);
      clock.advance(5_000);
      assert.equal(breaker.isAvailable({ id: D }), true, 'half-open: the probe may be tried');
      const admissions = await Promise.all(Array.from({ length: 8 }, () => breaker.admit(D)));
      const probes = admissions.filter((a) => a.kind === 'probe');
      assert.equal(probes.length, 1);
      for (const a of admissions) if (a.kind === 'refused') assert.equal(a.state, 'half-open');
      assert.equal((await breaker.snapshot(D)).probeInFlight, true);
      await breaker.report(D, probes[0], true);
      const snapshot = await breaker.snapshot(D);
      assert.deepEqual([snapshot.state, snapshot.consecutiveFailures, snapshot.windowRequests, snapshot.probeInFlight], ['closed', 0, 0, false]);
      assert.equal((await breaker.admit(D)).kind, 'pass');
      // Closed afresh: it takes a full run of failures to open again.
      await fail(breaker, 2);
      assert.equal((await breaker.admit(D)).kind, 'pass');
    });

    test('a failed probe opens the breaker for another cool-down', async () => {
      const { clock, breaker } = setup();
      await fail(breaker, 3);
      clock.advance(5_000);
      const probe = await breaker.admit(D);
      assert.equal(probe.kind, 'probe');
      clock.advance(100);
      await breaker.report(D, probe, false);
      assert.deepEqual(await breaker.admit(D), { kind: 'refused', state: 'open', retryAt: clock.now() + 5_000 });
      assert.equal(breaker.isAvailable({ id: D }), false);
      clock.advance(5_000);
      assert.equal((await breaker.admit(D)).kind, 'probe');
    });

    test('results of calls admitted before it opened do not close it', async () => {
      const { clock, breaker } = setup();
      const early = await breaker.admit(D);
      await fail(breaker, 3);
      await breaker.report(D, early, true);
      assert.equal((await breaker.snapshot(D)).state, 'open');
      clock.advance(5_000);
      assert.equal((await breaker.admit(D)).kind, 'probe', 'and the late success did not take the probe');
    });

    test('a probe without a verdict frees the claim; a lost probe lapses after its lease', async () => {
      const { clock, breaker } = setup();
      await fail(breaker, 3);
      clock.advance(5_000);
      const first = await breaker.admit(D);
      await breaker.report(D, first, undefined);
      const second = await breaker.admit(D);
      assert.equal(second.kind, 'probe', 'the client left mid-probe: the next caller probes');
      // The second prober never reports (its process died): after the lease another may probe.
      clock.advance(19_999);
      assert.equal((await breaker.admit(D)).kind, 'refused');
      clock.advance(1);
      const third = await breaker.admit(D);
      assert.equal(third.kind, 'probe');
      await breaker.report(D, second, true);
      assert.equal((await breaker.snapshot(D)).state, 'half-open', 'the stale probe\'s report is ignored');
      await breaker.report(D, third, true);
      assert.equal((await breaker.snapshot(D)).state, 'closed');
    });

    if (backend.name === 'redis') {
      test('two processes share one breaker: the same open state, and only one probe between them', async () => {
        const { clock, make } = setup();
        const gatewayA = make();
        const gatewayB = make();
        await fail(gatewayA, 3);
        const seenByB = await gatewayB.admit(D);
        assert.deepEqual(seenByB, { kind: 'refused', state: 'open', retryAt: clock.now() + 5_000 });
        assert.equal(gatewayB.isAvailable({ id: D }), false, 'B learned it from the shared state');
        clock.advance(5_000);
        const admissions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? gatewayA : gatewayB).admit(D)));
        const probes = admissions.map((a, i) => ({ a, by: i % 2 ? gatewayA : gatewayB })).filter((x) => x.a.kind === 'probe');
        assert.equal(probes.length, 1, 'exactly one probe across both processes');
        await probes[0].by.report(D, probes[0].a, true);
        assert.equal((await gatewayA.admit(D)).kind, 'pass');
        assert.equal((await gatewayB.admit(D)).kind, 'pass');
        assert.equal(gatewayB.isAvailable({ id: D }), true);
      });
    }
  });
}

test('when Redis is unreachable the breaker lets calls through and says so', async () => {
  const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  dead.on('error', () => {});
  const errors: unknown[] = [];
  const breaker = new CircuitBreaker(new RedisBreakerStore({ redis: dead, prefix: 'unused:' }), { policy: POLICY, onStoreError: (e) => errors.push(e) });
  try {
    const admission = await breaker.admit(D);
    assert.equal(admission.kind, 'pass');
    await breaker.report(D, admission, false);
    assert.equal(errors.length, 2);
  } finally {
    dead.disconnect();
  }
});

test('a balancer with the breaker as its predicate leaves an open deployment out until its cool-down ends', async () => {
  const clock = fakeClock();
  const breaker = new CircuitBreaker(new MemoryBreakerStore(), { policy: POLICY, clock: clock.now });
  const balancer = new Balancer([{ id: 'one', weight: 1 }, { id: 'two', weight: 1 }], { strategy: 'priority' });
  const ids = () => balancer.order(breaker.isAvailable).map((d) => d.id);
  assert.deepEqual(ids(), ['one', 'two']);
  await fail(breaker, 3, 'one');
  assert.deepEqual(ids(), ['two']);
  clock.advance(5_000);
  assert.deepEqual(ids(), ['one', 'two'], 'half-open: one is offered again for its probe');
  const probe = await breaker.admit('one');
  assert.equal((await breaker.admit('one')).kind, 'refused', 'a second caller goes on to two');
  await breaker.report('one', probe, true);
  assert.deepEqual(ids(), ['one', 'two']);
});

test('the refusal says which deployment, why, and when to retry', () => {
  const error = circuitOpenError('openai:gpt-5.4#0', 10_500, 1_000);
  assert.equal(error.status, 503);
  assert.equal(error.code, 'deployment_circuit_open');
  assert.match(error.message, /openai:gpt-5\.4#0 is paused by its circuit breaker.*did not call it.*in about 10 s/);
  assert.deepEqual(error.responseHeaders(), { 'retry-after': '10', 'x-should-retry': 'true' });
});
