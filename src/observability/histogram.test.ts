import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './histogram.ts';

const buckets = [0.025, 0.1, 1, 10];
const observations: Array<[string, string, number]> = [
  ['chat', '2xx', 0.01], ['chat', '2xx', 0.025], ['chat', '2xx', 0.5], ['chat', '2xx', 42],
  ['chat', '5xx', 0.2], ['embeddings', '2xx', 10], ['chat', '2xx', Number.NaN],
];

test('scrapes exactly as prom-client\'s own histogram does for the same observations (buckets, +Inf, sum, count, labels)', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram({ name: 'h_seconds', help: 'A latency.', labelNames: ['endpoint', 'status_class'], buckets, registers: [ours] });
  const reference = new Histogram({ name: 'h_seconds', help: 'A latency.', labelNames: ['endpoint', 'status_class'], buckets, registers: [theirs] });
  for (const [endpoint, status, value] of observations) {
    fast.series(endpoint, status).observe(value);
    // prom-client throws on a non-finite value; ours drops it (a request is never failed by its metrics).
    if (Number.isFinite(value)) reference.labels(endpoint, status).observe(value);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), /h_seconds_bucket\{le="\+Inf",endpoint="chat",status_class="2xx"\} 4\n/);
});

test('a series handle stays valid across a reset, which zeroes it; a wrong label count is refused', async () => {
  const registry = new Registry();
  const fast = new FastHistogram({ name: 'r_seconds', help: 'x', labelNames: ['model'], buckets, registers: [registry] });
  const series = fast.series('m');
  series.observe(0.5);
  registry.resetMetrics();
  series.observe(2);
  const text = await registry.metrics();
  assert.match(text, /r_seconds_count\{model="m"\} 1\n/);
  assert.match(text, /r_seconds_sum\{model="m"\} 2\n/);
  assert.throws(() => fast.series('a', 'b'), /2 label values for 1 labels/);
});
