// The store's stats query (GET /admin/stats) on both databases, against a small known set
// of rows: totals, buckets, groups, exact percentiles (percentile_cont on PostgreSQL, the
// SQL histogram on SQLite), attempt rows and rows outside the window left out, the
// auto-routed filter with its cascade and escalation counts. The 1M-row timing is in the
// request-log bench (npm run bench -- --suite requestlog).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { fillPostgres, fillSqlite } from './request-query-fixture.ts';
import { POSTGRES_URL, postgresUnavailable, tempPostgres, tempSqlite } from './testing.ts';
import { percentile, type StatsQuery } from './stats.ts';
import type { Store } from './types.ts';
import { AdminService } from '../admin/service.ts';

type Row = Record<string, unknown>;
const pgSkip = await postgresUnavailable();
if (pgSkip) console.log(`# skipping the PostgreSQL stats tests: ${pgSkip}`);

const FROM = Date.parse('2026-11-29T00:00:00.000Z');
const MINUTE = 60_000;
const WINDOW: StatsQuery = { from: new Date(FROM).toISOString(), to: new Date(FROM + 60 * MINUTE).toISOString(), bucketMs: MINUTE, buckets: 60 };

function row(n: number, at: number, fields: Row): Row {
  const iso = new Date(at).toISOString();
  return {
    request_id: `req_${String(n).padStart(3, '0')}`, attempt: 0, time: iso, day: iso.slice(0, 10), key_id: 'key_a', project_id: 'proj_a',
    endpoint: '/v1/chat/completions', model_requested: 'gpt-5.4-mini', model_used: 'gpt-5.4-mini', route_name: null, tier: 'mini',
    provider: 'openai', deployment_id: null, route: null, stream: 0, status: 200, error_code: null, input_tokens: 0, cached_input_tokens: 0,
    cache_write_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cost_usd: 0, latency_ms: 0, ttft_ms: null, cache: null, saved_usd: null,
    ...fields,
  };
}

const ROWS: Row[] = [
  row(1, FROM + 10_000, { input_tokens: 1000, output_tokens: 100, cost_usd: 0.00120001, latency_ms: 100, ttft_ms: 50, stream: 1 }),
  row(2, FROM + 20_000, { input_tokens: 2000, output_tokens: 200, cost_usd: 0.0024, latency_ms: 200, ttft_ms: 70, stream: 1, key_id: 'key_b' }),
  row(3, FROM + 5 * MINUTE + 1, {
    model_requested: 'auto', model_used: 'gpt-5.5', tier: 'frontier', route_name: 'auto', input_tokens: 500, output_tokens: 50, cost_usd: 0.01,
    latency_ms: 1500, route: 'hard prompt; cascade: mini escalated (too short); frontier accepted (last tier)',
  }),
  // An attempt row of request 3: its numbers are in request 3's row already.
  row(3, FROM + 5 * MINUTE + 2, { attempt: 1, model_used: 'gpt-5.4-mini', cost_usd: 0.5, latency_ms: 9999 }),
  row(4, FROM + 5 * MINUTE + 3, { model_requested: 'gpt-5.5', model_used: 'gpt-5.5', tier: 'frontier', status: 500, error_code: 'upstream_error', latency_ms: 300 }),
  row(5, FROM + 59 * MINUTE + 59_999, { model_requested: 'auto', model_used: 'gpt-5.4-mini', route_name: 'auto', route: 'easy; cascade: mini accepted (checks passed)', cost_usd: 0.0001, latency_ms: 12_345 }),
  // Outside the window: just before it, and at its (exclusive) end.
  row(6, FROM - 1, { cost_usd: 1, latency_ms: 1 }),
  row(7, FROM + 60 * MINUTE, { cost_usd: 1, latency_ms: 1 }),
];

function near(actual: number | null, expected: number): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * 0.015, `${actual} is not within 1.5 % of ${expected}`);
}

async function checkStats(store: Store): Promise<void> {
  const all = await store.stats({ ...WINDOW, groupBy: 'model' });
  assert.equal(all.totals.requests, 5);
  assert.equal(all.totals.errors, 1);
  assert.equal(all.totals.cost_usd, 0.01370001);
  assert.equal(all.totals.input_tokens, 3500);
  assert.equal(all.totals.output_tokens, 350);
  // percentile_cont over 100, 200, 300, 1500, 12345 (PostgreSQL exact; SQLite's bins within 1.3 % from 100 ms up).
  near(all.totals.p50_latency_ms, 300);
  assert.equal(all.totals.p50_ttft_ms, 60, 'under 100 ms exact on both');
  near(all.totals.p95_latency_ms, 0.2 * 1500 + 0.8 * 12_345);
  assert.equal(all.buckets.length, 60);
  assert.deepEqual([all.buckets[0].requests, all.buckets[5].requests, all.buckets[59].requests], [2, 2, 1]);
  near(all.buckets[0].p50_latency_ms, 150);
  assert.equal(all.buckets[0].cost_usd, 0.00360001);
  assert.equal(all.buckets[5].errors, 1);
  assert.equal(all.buckets.reduce((sum, b) => sum + b.requests, 0), 5);
  assert.deepEqual(all.groups.map((g) => [g.key, g.totals.requests, g.totals.cost_usd]), [['gpt-5.4-mini', 3, 0.00370001], ['gpt-5.5', 2, 0.01]]);
  near(all.groups[1].buckets[5].p50_latency_ms, 900);
  assert.equal(all.groups[1].totals.errors, 1);

  const auto = await store.stats({ ...WINDOW, groupBy: 'tier', autoRouted: true });
  assert.equal(auto.totals.requests, 2);
  assert.equal(auto.totals.cascades, 2);
  assert.equal(auto.totals.escalated, 1);
  assert.deepEqual(auto.groups.map((g) => [g.key, g.totals.requests]), [['frontier', 1], ['mini', 1]]);

  const keys = await store.stats({ ...WINDOW, groupBy: 'key' });
  assert.deepEqual(keys.groups.map((g) => [g.key, g.totals.requests]), [['key_a', 4], ['key_b', 1]]);
  const none = await store.stats({ ...WINDOW, from: new Date(FROM - 120 * MINUTE).toISOString(), to: new Date(FROM - 60 * MINUTE).toISOString() });
  assert.equal(none.totals.requests, 0);
  assert.equal(none.totals.p50_latency_ms, null);
  assert.deepEqual(none.groups, []);
}

/** The context bins of ROWS: input tokens 1000, 2000, 500, 0, 0 (attempt rows and rows outside the window left out). */
async function checkContextStats(store: Store): Promise<void> {
  const result = await store.contextStats({ from: WINDOW.from, to: WINDOW.to });
  assert.equal(result.totals.requests, 5);
  assert.equal(result.totals.input_tokens, 3500);
  near(result.totals.p50_latency_ms, 300);
  assert.equal(result.totals.p50_ttft_ms, 60);
  assert.deepEqual(result.bins.map((b) => [b.bin, b.min_tokens, b.max_tokens, b.requests, b.input_tokens]), [
    [0, 0, 1, 2, 0], [8, 256, 511, 1, 500], [9, 512, 1023, 1, 1000], [10, 1024, 2047, 1, 2000],
  ]);
  const [none, b8, b9, b10] = result.bins;
  near(none.p50_latency_ms, (300 + 12_345) / 2);
  near(none.p95_latency_ms, 300 + 0.95 * (12_345 - 300));
  assert.equal(none.p50_ttft_ms, null);
  near(b8.p50_latency_ms, 1500);
  near(b9.p50_latency_ms, 100);
  assert.equal(b9.p50_ttft_ms, 50);
  near(b10.p95_latency_ms, 200);
  assert.equal(b10.p50_ttft_ms, 70);
  const empty = await store.contextStats({ from: new Date(FROM - 120 * MINUTE).toISOString(), to: new Date(FROM - 60 * MINUTE).toISOString() });
  assert.deepEqual(empty, { totals: { requests: 0, input_tokens: 0, p50_latency_ms: null, p95_latency_ms: null, p50_ttft_ms: null }, bins: [] });
}

describe('store.stats', () => {
  test('sqlite', async () => {
    const t = tempSqlite();
    const db = new DatabaseSync(t.path);
    try {
      fillSqlite(db, ROWS);
      await checkStats(t.store);
      await checkContextStats(t.store);
    } finally {
      db.close();
      await t.cleanup();
    }
  });

  test('postgres', { skip: pgSkip }, async () => {
    const t = await tempPostgres();
    const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${t.schema}` });
    await client.connect();
    try {
      await fillPostgres(client, ROWS);
      await checkStats(t.store);
      await checkContextStats(t.store);
    } finally {
      await client.end();
      await t.cleanup();
    }
  });

  test('GET /admin/stats (the service): a bucket over 3× the median bucket is a spike, named with the group that drove it; savings against the frontier price', async () => {
    const t = tempSqlite();
    const db = new DatabaseSync(t.path);
    try {
      const now = Date.now();
      const rows = [];
      // One request a minute for the last ten minutes at $0.001, and one at $0.05 twenty minutes ago.
      for (let i = 1; i <= 10; i++) rows.push(row(i, now - i * MINUTE, { cost_usd: 0.001, input_tokens: 1000, output_tokens: 100, latency_ms: 100 }));
      rows.push(row(11, now - 20 * MINUTE, { model_used: 'gpt-5.5', tier: 'frontier', cost_usd: 0.05, input_tokens: 4000, output_tokens: 1000, latency_ms: 900 }));
      fillSqlite(db, rows);
      const service = new AdminService({ store: t.store });
      const stats = await service.stats({ window: 'hour', group_by: 'model' }) as {
        totals: { requests: number; cost_usd: number; frontier_cost_usd: number; savings_usd: number };
        spikes: Array<{ start: string; cost_usd: number; median_usd: number; top_group: { key: string; cost_usd: number } }>;
      };
      assert.equal(stats.totals.requests, 11);
      assert.equal(stats.totals.cost_usd, 0.06);
      // gpt-5.5: $5 in, $30 out per 1M tokens.
      assert.equal(stats.totals.frontier_cost_usd, (14_000 * 5 + 2_000 * 30) / 1e6);
      assert.equal(stats.totals.savings_usd, Math.round((0.13 - 0.06) * 1e8) / 1e8);
      assert.equal(stats.spikes.length, 1);
      assert.equal(stats.spikes[0].cost_usd, 0.05);
      assert.equal(stats.spikes[0].median_usd, 0.001);
      assert.deepEqual(stats.spikes[0].top_group, { key: 'gpt-5.5', cost_usd: 0.05 });
      assert.ok(Date.parse(stats.spikes[0].start) <= now - 20 * MINUTE && Date.parse(stats.spikes[0].start) > now - 21 * MINUTE);
    } finally {
      db.close();
      await t.cleanup();
    }
  });

  test('percentile interpolates as percentile_cont does', () => {
    assert.equal(percentile(new Map([[10, 1], [20, 1], [30, 1], [40, 1]]), 0.5), 25);
    assert.equal(percentile(new Map([[10, 3], [20, 1]]), 0.5), 10);
    assert.equal(percentile(new Map(), 0.5), null);
  });
});
