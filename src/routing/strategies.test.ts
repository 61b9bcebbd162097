// Balancing strategies, asserted on counts over many simulated picks with a seeded random
// source and a fake clock (no test waits or measures real time).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer, DeploymentStats, isStrategyName, orderDeployments, STRATEGY_NAMES, type Balanced, type BalancerOptions } from './strategies.ts';

/** A small deterministic PRNG (linear congruential), so counts are reproducible. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const dep = (id: string, weight = 1): Balanced => ({ id, weight });

function balancer(ids: string[], options: BalancerOptions, weights: number[] = []): Balancer<Balanced> {
  return new Balancer(ids.map((id, i) => dep(id, weights[i] ?? 1)), { random: seeded(42), ...options });
}

function firstChoices(b: Balancer<Balanced>, picks: number, available?: (d: Balanced) => boolean): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const first = b.order(available)[0]?.id ?? 'none';
    counts[first] = (counts[first] ?? 0) + 1;
  }
  return counts;
}

describe('DeploymentStats', () => {
  test('counts calls in flight, learns latency from successes only, and keeps a window of recent outcomes', () => {
    const clock = fakeClock();
    const stats = new DeploymentStats(clock.now, 0.5);
    stats.begin();
    stats.begin();
    assert.equal(stats.inFlight, 2);
    stats.end(true, 100);
    assert.equal(stats.ewmaTtfbMs, 100);
    stats.end(true, 200);
    assert.equal(stats.ewmaTtfbMs, 150);
    assert.equal(stats.inFlight, 0);
    stats.end(false, 1);
    assert.equal(stats.ewmaTtfbMs, 150, 'a fast failure does not make the deployment look fast');
    assert.equal(stats.inFlight, 0, 'never below zero');
    assert.equal(stats.recentErrorRate, 1 / 3);
    for (let i = 0; i < 32; i++) stats.end(true, 150);
    assert.equal(stats.recentErrorRate, 0, 'the old failure has left the window');
    assert.equal(stats.recentCalls, 32);
    for (let i = 0; i < 8; i++) stats.end(false);
    assert.equal(stats.recentErrorRate, 8 / 32);
  });
});

describe('weighted', () => {
  test('the first choice splits by weight; the rest follow as fallbacks', () => {
    const b = balancer(['a', 'b'], { strategy: 'weighted' }, [3, 1]);
    const counts = firstChoices(b, 4000);
    assert.ok(counts.a > 2800 && counts.a < 3200, `a got ${counts.a} of 4000 first picks at weight 3:1`);
    assert.deepEqual(b.order().map((d) => d.id).sort(), ['a', 'b']);
  });

  test('weight 0 is never the first choice while another is available', () => {
    const counts = firstChoices(balancer(['a', 'b'], { strategy: 'weighted' }, [0, 1]), 1000);
    assert.deepEqual(counts, { b: 1000 });
  });

  test('an unavailable deployment is left out', () => {
    const b = balancer(['a', 'b', 'c'], { strategy: 'weighted' });
    for (let i = 0; i < 200; i++) assert.ok(!b.order((d) => d.id !== 'a').some((d) => d.id === 'a'));
  });

  test('orderDeployments keeps working as before', () => {
    const order = orderDeployments([dep('x', 1), dep('y', 1), dep('z', 1)]);
    assert.deepEqual(order.map((d) => d.id).sort(), ['x', 'y', 'z']);
    const only = [dep('solo')];
    assert.deepEqual(orderDeployments(only), only);
  });
});

describe('least-busy', () => {
  test('sends more to the idler deployment: a fast one frees its slots sooner', () => {
    const b = balancer(['fast', 'slow'], { strategy: 'least-busy' });
    const serviceTicks: Record<string, number> = { fast: 1, slow: 5 };
    const running: Array<{ id: string; doneAt: number }> = [];
    const counts: Record<string, number> = { fast: 0, slow: 0 };
    for (let tick = 0; tick < 2000; tick++) {
      for (let k = running.length - 1; k >= 0; k--) {
        if (running[k].doneAt <= tick) {
          b.statsFor(running[k].id)!.end(true);
          running.splice(k, 1);
        }
      }
      for (let arrival = 0; arrival < 2; arrival++) {
        const chosen = b.order()[0];
        b.statsFor(chosen.id)!.begin();
        running.push({ id: chosen.id, doneAt: tick + serviceTicks[chosen.id] });
        counts[chosen.id]++;
      }
    }
    assert.ok(counts.fast > 2 * counts.slow, `fast ${counts.fast} vs slow ${counts.slow}`);
    assert.ok(counts.slow > 0);
  });

  test('equally busy deployments share at random', () => {
    const counts = firstChoices(balancer(['a', 'b'], { strategy: 'least-busy' }), 2000);
    assert.ok(counts.a > 800 && counts.a < 1200, `a got ${counts.a} of 2000 ties`);
  });

  test('the busier deployment comes second, an unavailable one not at all', () => {
    const b = balancer(['a', 'b', 'c'], { strategy: 'least-busy' });
    b.statsFor('a')!.begin();
    b.statsFor('a')!.begin();
    b.statsFor('b')!.begin();
    assert.deepEqual(b.order().map((d) => d.id), ['c', 'b', 'a']);
    assert.deepEqual(b.order((d) => d.id !== 'c').map((d) => d.id), ['b', 'a']);
  });
});

describe('lowest-latency', () => {
  /** Sequential calls; each takes the deployment's current time to first byte. */
  function run(b: Balancer<Balanced>, clock: ReturnType<typeof fakeClock>, ttfb: Record<string, number>, picks: number, stepMs = 10) {
    const counts: Record<string, number> = {};
    const firsts: number[] = [];
    for (let i = 0; i < picks; i++) {
      const chosen = b.order()[0];
      counts[chosen.id] = (counts[chosen.id] ?? 0) + 1;
      if (chosen.id === 'b') firsts.push(i);
      const stats = b.statsFor(chosen.id)!;
      stats.begin();
      clock.advance(stepMs);
      stats.end(true, ttfb[chosen.id]);
    }
    return { counts, firsts };
  }

  test('sends most traffic to the faster deployment, and still probes the slower now and then', () => {
    const clock = fakeClock();
    const b = balancer(['a', 'b'], { strategy: 'lowest-latency', clock: clock.now, explore: 0.05 });
    const { counts } = run(b, clock, { a: 50, b: 400 }, 4000);
    assert.ok(counts.a > 3600, `fast got ${counts.a} of 4000`);
    assert.ok(counts.b > 60 && counts.b < 400, `slow was probed ${counts.b} times`);
  });

  test('without exploration or fading, the slower one is left alone once measured', () => {
    const clock = fakeClock();
    const b = balancer(['a', 'b'], { strategy: 'lowest-latency', clock: clock.now, explore: 0, latencyHalfLifeMs: 1e12 });
    const { counts } = run(b, clock, { a: 50, b: 400 }, 1000);
    assert.ok((counts.b ?? 0) <= 1, `slow got ${counts.b}`);
  });

  test('a deployment that was slow and recovered wins the traffic back', () => {
    const clock = fakeClock();
    const b = balancer(['a', 'b'], { strategy: 'lowest-latency', clock: clock.now, explore: 0.05 });
    run(b, clock, { a: 100, b: 800 }, 1000);
    const after = run(b, clock, { a: 100, b: 20 }, 2000).counts;
    assert.ok(after.b > 1600, `recovered b got ${after.b} of 2000`);
  });

  test('an old latency fades: a once-slow deployment is tried again after a few half-lives, not before', () => {
    const clock = fakeClock();
    const b = balancer(['a', 'b'], { strategy: 'lowest-latency', clock: clock.now, explore: 0, latencyHalfLifeMs: 1000 });
    b.statsFor('b')!.end(true, 800);
    b.statsFor('a')!.end(true, 100);
    // a is re-measured every 100 ms; b's 800 ms halves each second: below 100 ms after 3 s.
    const { firsts } = run(b, clock, { a: 100, b: 800 }, 100, 100);
    assert.ok(firsts.length >= 1, 'b was tried again');
    assert.ok(firsts[0] >= 25 && firsts[0] <= 35, `b first retried at pick ${firsts[0]}`);
  });

  test('an unmeasured deployment is measured first', () => {
    const clock = fakeClock();
    const b = balancer(['a', 'b'], { strategy: 'lowest-latency', clock: clock.now, explore: 0 });
    b.statsFor('a')!.end(true, 10);
    assert.equal(b.order()[0].id, 'b');
  });
});

describe('priority', () => {
  test('never uses #2 while #1 is available; #2 takes over when #1 is out, #3 after it', () => {
    const b = balancer(['one', 'two', 'three'], { strategy: 'priority' });
    b.statsFor('one')!.begin();
    assert.deepEqual(firstChoices(b, 1000), { one: 1000 });
    assert.deepEqual(b.order().map((d) => d.id), ['one', 'two', 'three']);
    assert.deepEqual(firstChoices(b, 1000, (d) => d.id !== 'one'), { two: 1000 });
    assert.deepEqual(b.order((d) => d.id !== 'one').map((d) => d.id), ['two', 'three']);
    assert.deepEqual(b.order(() => false), []);
  });
});

test('strategy names: the four exist, anything else is refused', () => {
  assert.deepEqual(STRATEGY_NAMES, ['weighted', 'least-busy', 'lowest-latency', 'priority']);
  for (const name of STRATEGY_NAMES) assert.ok(isStrategyName(name));
  for (const name of ['round-robin', 'toString', '__proto__', '']) assert.equal(isStrategyName(name), false, name);
});
