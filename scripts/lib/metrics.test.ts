import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualityCurve, routerMetrics } from './metrics.ts';
import { normaliseScore, parseEvalJsonl } from './routing-data.ts';
import { seededRandom } from './train.ts';

// gains: A and B only the strong model answers, C both, D neither → weak 1/4, strong 3/4
const rows = [
  { weak: 0, strong: 1 },
  { weak: 0, strong: 1 },
  { weak: 1, strong: 1 },
  { weak: 0, strong: 0 },
];

test('a perfect router: PGR 0, .5, 1, 1, 1 over shares 0..100% gives APGR .75, CPT50 25%, CPT80 50%', () => {
  const metrics = routerMetrics([0.9, 0.8, 0.1, 0.2], rows);
  assert.deepEqual(Array.from(qualityCurve([0.9, 0.8, 0.1, 0.2], rows)), [0.25, 0.5, 0.75, 0.75, 0.75]);
  assert.equal(metrics.apgr, 0.75);
  assert.equal(metrics.cpt50, 0.25);
  assert.equal(metrics.cpt80, 0.5);
  // 95% of the strong quality (.7125) is first reached with two strong calls of four
  assert.equal(metrics.strong_share_at_95, 0.5);
});

test('the worst router reaches the strong quality only at 100%', () => {
  const metrics = routerMetrics([0.1, 0.2, 0.9, 0.8], rows);
  assert.equal(metrics.cpt80, 1);
  assert.equal(metrics.strong_share_at_95, 1);
  assert.ok(metrics.apgr! < 0.5);
});

test('equal scores are taken pro rata, so a constant score is exactly random (APGR .5)', () => {
  const metrics = routerMetrics([0, 0, 0, 0], rows);
  assert.ok(Math.abs(metrics.apgr! - 0.5) < 1e-12);
  assert.equal(metrics.cpt50, 0.5);
});

test('random scores on a big synthetic set give APGR ≈ .5', () => {
  const random = seededRandom(42);
  const big = Array.from({ length: 20000 }, () => ({ weak: random() < 0.6 ? 1 : 0, strong: random() < 0.8 ? 1 : 0 }));
  const metrics = routerMetrics(big.map(() => random()), big);
  assert.ok(Math.abs(metrics.apgr! - 0.5) < 0.03, String(metrics.apgr));
});

test('no PGR when the strong model is not better; strong_share_at_95 is then 0', () => {
  const metrics = routerMetrics([1, 0], [{ weak: 1, strong: 1 }, { weak: 0, strong: 0 }]);
  assert.equal(metrics.apgr, null);
  assert.equal(metrics.cpt50, null);
  assert.equal(metrics.strong_share_at_95, 0);
});

test('scores on 1..10 are normalised to 0..1', () => {
  assert.equal(normaliseScore(10, true), 1);
  assert.equal(normaliseScore(1, true), 0);
  assert.equal(normaliseScore(5.5, true), 0.5);
  assert.equal(normaliseScore(1, false), 1);
  assert.equal(normaliseScore(0.3, false), 0.3);
  const parsed = parseEvalJsonl('{"prompt":"a","weak":1,"strong":10}\n{"prompt":"b","weak":5.5,"strong":1}\n');
  assert.deepEqual(parsed.map((r) => [r.weak, r.strong]), [[0, 1], [0.5, 0]]);
  const binary = parseEvalJsonl('{"prompt":"a","weak":0,"strong":1}\n');
  assert.deepEqual([binary[0].weak, binary[0].strong], [0, 1]);
});

test('a malformed JSONL row names its line', () => {
  assert.throws(() => parseEvalJsonl('{"prompt":"a","weak":0,"strong":1}\n{"prompt":"b"}\n'), /line 2/);
});
