// Two gateway processes sharing PostgreSQL and Redis, as when several replicas run
// behind a load balancer: a key's rpm limit and hard budget hold across both, not per
// process. Skips (saying why) when PostgreSQL or Redis is not reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import { randomBase62 } from '../src/keys/secret.ts';
import { POSTGRES_URL, REDIS_URL, postgresUnavailable, redisUnavailable } from '../src/store/testing.ts';
import { spawnGateway } from './support/child-gateway.ts';
import type { ChildGateway } from './support/child-gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import { PROVIDER_KEY } from './support/stack.ts';

const skip = (await postgresUnavailable()) ?? (await redisUnavailable());

const PER_REQUEST_USD = 0.005; // 5 output tokens at $1000 per 1M, free input
const yaml = (mockUrl: string) => `
providers:
  openai:
    base_url: ${mockUrl}/v1
    api_key: ${PROVIDER_KEY}
models:
  gpt-5.4-mini: { pricing: { input: 0, cached_input: 0, output: 1000 } }
`;

/**
 * A PostgreSQL schema of this run's own. The gateway has no schema setting, so the
 * URL's `options` sets the search_path (node-postgres lets the URL's options win).
 */
async function freshSchema(): Promise<{ url: string; rows(table: string): Promise<number>; drop(): Promise<void> }> {
  const schema = `sy_e2e_${randomBase62(10).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async rows(table) {
      return Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0].n);
    },
    async drop() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Remove this run's counters from Redis (they are named by key and budget ids). */
async function dropCounters(ids: string[]): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    for (const id of ids) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `switchyard:*${id}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

test('two gateways sharing PostgreSQL and Redis: one rpm limit and one hard budget across both', { skip }, async () => {
  const mock = await startMockUpstream({ maxRecorded: 5000 });
  const dir = mkdtempSync(join(tmpdir(), 'sy-multi-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml(mock.url));
  const schema = await freshSchema();
  const env = { SWITCHYARD_POSTGRES_URL: schema.url, SWITCHYARD_REDIS_URL: REDIS_URL, SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn' };
  const gateways: ChildGateway[] = [];
  const counterIds: string[] = [];
  try {
    gateways.push(...(await Promise.all([spawnGateway({ cwd: dir, env }), spawnGateway({ cwd: dir, env })])));
    const [a, b] = gateways;
    assert.match(a.output(), /Store: PostgreSQL/);
    const adminA = adminApi(a.origin);
    const adminB = adminApi(b.origin);
    const ask = (gw: ChildGateway, secret: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: secret, maxRetries: 0 })
      .chat.completions.create({ model: 'gpt-5.4-mini', max_tokens: 5, messages: [{ role: 'user', content: 'Tell me a long story about rivers' }] }).withResponse();

    // rpm 10, 16 requests alternating between the two: per-process counting would let all through.
    const limited = await adminA.createKey({ name: 'shared-rpm', rate_limits: { rpm: 10 } });
    counterIds.push(limited.id);
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 16; i++) {
      try {
        const { response } = await ask(i % 2 === 0 ? a : b, limited.key);
        statuses.push(200);
        remaining.push(response.headers.get('x-ratelimit-remaining-requests') ?? '');
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError && error.status === 429 && error.code === 'rate_limit_exceeded', String(error));
        assert.ok(Number(error.headers?.get('retry-after')) >= 1);
        statuses.push(429);
      }
    }
    assert.deepEqual(statuses, [...Array(10).fill(200), ...Array(6).fill(429)]);
    assert.deepEqual(remaining, ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0'], 'both processes count down one window');

    // A budget that affords 20, 60 concurrent requests alternating between the two.
    const limit = 20 * PER_REQUEST_USD;
    const budgeted = await adminB.createKey({ name: 'shared-budget', budgets: [{ limit_usd: limit, period: 'day' }] });
    counterIds.push(budgeted.budgets[0].id);
    mock.reset();
    const outcomes = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      try {
        await ask(i % 2 === 0 ? a : b, budgeted.key);
        return 'ok';
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError && error.code === 'insufficient_quota', String(error));
        assert.match(error.message, /daily budget has spent \$[\d.]+ of its \$0\.10 limit/);
        return 'refused';
      }
    }));
    assert.equal(outcomes.filter((o) => o === 'ok').length, 20, 'the budget affords 20 in total, not 20 per process');
    assert.equal(mock.requests.length, 20);
    const rows = await adminA.settledRows(budgeted.id, 60);
    const viaA = (await adminA.key(budgeted.id)).budgets[0];
    const viaB = (await adminB.key(budgeted.id)).budgets[0];
    assert.equal(viaA.spent_usd, sumUsd(rows.map((r) => r.cost_usd)));
    assert.equal(viaA.spent_usd, limit);
    assert.equal(viaB.spent_usd, viaA.spent_usd);
    assert.equal(await schema.rows('keys'), 2, "the run's own schema holds its keys");
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await mock.close();
    await schema.drop();
    await dropCounters(counterIds.filter(Boolean));
    rmSync(dir, { recursive: true, force: true });
  }
});
