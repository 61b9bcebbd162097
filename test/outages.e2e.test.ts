// Redis and PostgreSQL going away mid-traffic, and coming back, under a running gateway
// (issue 15). A Redis of the test's own is killed and started again on its port: budgets
// refuse with a 503 naming Redis, rate limits let requests through (counted in a
// metric), both recover without a restart, and a budget spent before and during the
// outage is still enforced after it. PostgreSQL is cut off by a TCP proxy the test
// controls: new requests get a 503 naming it, requests in flight complete, their rows
// and settlements are written once it is back, none lost or doubled, and /readyz says
// what is down meanwhile. Clients are the official OpenAI SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { randomBase62 } from '../src/keys/secret.ts';
import { POSTGRES_URL, postgresUnavailable } from '../src/store/testing.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { parseExposition } from './support/prometheus.ts';
import { PROVIDER_KEY } from './support/stack.ts';
import { ownRedisUnavailable, startOwnRedis, startTcpProxy } from './support/outages.ts';

const PER_REQUEST_USD = 0.005; // 5 output tokens at $1000 per 1M, free input
const UNITS_PER_USD = 1e8;

const yaml = (mock: MockUpstream) => `
providers:
  openai:
    base_url: ${mock.url}/v1
    api_key: ${PROVIDER_KEY}
    forward_headers: [x-mock-*]
models:
  gpt-5.4-mini: { pricing: { input: 0, cached_input: 0, output: 1000 } }
`;

type Outcome = { status: number; code?: string | null; message?: string; shouldRetry?: string | null; ms: number };

/** One chat call through the SDK (no retries of its own), as status and error code. */
async function ask(gw: TestGateway, apiKey: string, latencyMs = 0): Promise<Outcome> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0 });
  const started = performance.now();
  try {
    await client.chat.completions.create(
      { model: 'gpt-5.4-mini', max_tokens: 5, messages: [{ role: 'user', content: 'Tell me a long story about rivers' }] },
      latencyMs ? { headers: { 'x-mock-latency-ms': String(latencyMs) } } : undefined,
    );
    return { status: 200, ms: performance.now() - started };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return { status: error.status ?? 0, code: error.code, message: error.message, shouldRetry: error.headers?.get('x-should-retry'), ms: performance.now() - started };
  }
}

async function askMany(gw: TestGateway, apiKey: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await ask(gw, apiKey)).status);
  return statuses;
}

async function readyz(gw: TestGateway): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${gw.origin}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function untilReady(gw: TestGateway, status: number, timeoutMs = 8000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await readyz(gw);
    if (answer.status === status) return answer.body;
    if (Date.now() > deadline) throw new Error(`/readyz still answers ${answer.status} ${JSON.stringify(answer.body)}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(gw: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  assert.equal(res.status, 200);
  const found = parseExposition(await res.text()).samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Redis killed mid-traffic and restarted: budgets refuse with a 503, rate limits pass and are counted, both recover, the budget is re-seeded', { skip: ownRedisUnavailable() }, async () => {
  const redis = await startOwnRedis();
  const mock = await startMockUpstream({ maxRecorded: 5000 });
  const gw = await startGateway({
    yaml: yaml(mock),
    env: { SWITCHYARD_REDIS_URL: redis.url, SWITCHYARD_REDIS_PREFIX: `sy_outage_${randomBase62(8)}:`, SWITCHYARD_MASTER_KEY: MASTER_KEY },
  });
  try {
    const admin = adminApi(gw.origin);
    const budgeted = await admin.createKey({ name: 'budgeted', budgets: [{ limit_usd: 10 * PER_REQUEST_USD, period: 'month' }] });
    const limited = await admin.createKey({ name: 'limited', rate_limits: { rpm: 5 } });
    assert.deepEqual(await readyz(gw), { status: 200, body: { status: 'ready', store: 'ok', redis: 'ok' } });

    assert.deepEqual(await askMany(gw, budgeted.key, 6), Array(6).fill(200));
    assert.deepEqual(await askMany(gw, limited.key, 6), [...Array(5).fill(200), 429], 'the rpm limit holds while Redis is up');

    // A request in flight when Redis dies: it completes; its settlement cannot reach Redis.
    const inFlight = ask(gw, budgeted.key, 800);
    await until('the slow request reached the upstream', () => mock.inFlight === 1);
    await redis.stop('SIGKILL');
    assert.equal((await inFlight).status, 200, 'a request admitted before the outage completes');

    const down = await untilReady(gw, 503);
    assert.deepEqual(down, { status: 'degraded', store: 'ok', redis: 'unavailable' });
    const refused = await ask(gw, budgeted.key);
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'redis_unavailable');
    assert.equal(refused.shouldRetry, 'true');
    assert.match(refused.message!, new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port} is unreachable, and store\\.redis_outage\\.budgets is fail_closed`));
    assert.ok(refused.ms < 1500, `refused fast (${Math.round(refused.ms)} ms)`);
    assert.deepEqual(await askMany(gw, limited.key, 8), Array(8).fill(200), 'rate limits fail open: all pass while Redis is down');
    assert.equal(await metric(gw, 'switchyard_redis_fail_open_total', { concern: 'rate_limits' }), 8);
    assert.equal(await metric(gw, 'switchyard_redis_fail_open_total', { concern: 'budgets' }), 0);

    await redis.start(); // same port, empty: nothing was persisted
    assert.deepEqual(await untilReady(gw, 200), { status: 'ready', store: 'ok', redis: 'ok' });
    // $0.035 of $0.05 was spent (6 before, 1 in flight during the outage): 3 more, then the budget refuses.
    const after = await askMany(gw, budgeted.key, 4);
    assert.deepEqual(after, [200, 200, 200, 429], 'the budget spent before and during the outage is still enforced');
    assert.deepEqual(await askMany(gw, limited.key, 6), [...Array(5).fill(200), 429], 'the rate limit counts again without a restart');
    assert.equal(mock.servedCount, 6 + 5 + 1 + 8 + 3 + 5, 'the upstream served exactly the admitted requests');
    const rows = await admin.settledRows(budgeted.id, 10);
    assert.equal(rows.filter((r) => r.status === 200).length, 10);
    const spent = (await admin.key(budgeted.id)).budgets[0].spent_usd;
    assert.equal(Math.round(spent * UNITS_PER_USD), Math.round(10 * PER_REQUEST_USD * UNITS_PER_USD), 'settled spend is exactly the budget');
  } finally {
    await gw.close();
    await mock.close();
    await redis.stop('SIGTERM');
  }
});

/** A fresh schema reached through `port` (the proxy); counts read directly. */
async function freshSchema(port: number) {
  const schema = `sy_e2e_${randomBase62(10).toLowerCase()}`;
  const direct = new pg.Client({ connectionString: POSTGRES_URL });
  await direct.connect();
  await direct.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.port = String(port);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async number(sql: string): Promise<number> {
      return Number((await direct.query(sql.replaceAll('$s', schema))).rows[0].n);
    },
    async drop() {
      await direct.query(`DROP SCHEMA ${schema} CASCADE`);
      await direct.end();
    },
  };
}

test('PostgreSQL cut off mid-traffic: new requests get a 503, requests in flight complete, their rows and settlements land once when it returns', { skip: await postgresUnavailable() }, async () => {
  const target = new URL(POSTGRES_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const schema = await freshSchema(proxy.port);
  const mock = await startMockUpstream({ maxRecorded: 5000 });
  const gw = await startGateway({ yaml: yaml(mock), env: { SWITCHYARD_POSTGRES_URL: schema.url, SWITCHYARD_MASTER_KEY: MASTER_KEY } });
  try {
    const admin = adminApi(gw.origin);
    const key = await admin.createKey({ name: 'paid', budgets: [{ limit_usd: 10, period: 'month' }] });
    assert.deepEqual(await readyz(gw), { status: 200, body: { status: 'ready', store: 'ok' } });
    assert.deepEqual(await askMany(gw, key.key, 5), Array(5).fill(200));

    const slow = Array.from({ length: 6 }, () => ask(gw, key.key, 1500));
    await until('the slow requests reached the upstream', () => mock.inFlight === 6);
    await proxy.cut();

    const refused: Outcome[] = [];
    for (let i = 0; i < 3; i++) refused.push(await ask(gw, key.key));
    for (const r of refused) {
      assert.equal(r.status, 503);
      assert.equal(r.code, 'store_unavailable');
      assert.equal(r.shouldRetry, 'true');
      assert.match(r.message!, /could not make the budget reservation for this request durable \(PostgreSQL at 127\.0\.0\.1:\d+\/test is unavailable\)/);
      assert.ok(r.ms < 3000, `refused fast (${Math.round(r.ms)} ms)`);
    }
    assert.deepEqual(await untilReady(gw, 503), { status: 'degraded', store: 'unavailable' });
    assert.deepEqual((await Promise.all(slow)).map((r) => r.status), Array(6).fill(200), 'requests in flight complete for their clients');
    await until('their writes are buffered', async () => (await metric(gw, 'switchyard_store_buffered_writes')) >= 12);

    await proxy.restore();
    assert.deepEqual(await untilReady(gw, 200), { status: 'ready', store: 'ok' });
    const served = 5 + 6;
    assert.equal(mock.servedCount, served);
    await until('the buffered rows are written', async () => (await schema.number(`SELECT count(*) AS n FROM $s.requests`)) >= served + 3 && (await metric(gw, 'switchyard_store_buffered_writes')) === 0);
    assert.equal(await schema.number(`SELECT count(*) AS n FROM $s.requests WHERE attempt = 0 AND status = 200`), served, 'one row per request the upstream served');
    assert.equal(await schema.number(`SELECT count(*) AS n FROM $s.requests WHERE status = 503`), 3, 'the refused requests are logged too');
    assert.equal(await schema.number(`SELECT count(*) AS n FROM $s.requests`), served + 3, 'nothing doubled');
    assert.equal(await schema.number(`SELECT count(*) AS n FROM $s.reservations WHERE status = 'open'`), 0, 'every reservation is closed');
    assert.equal(await schema.number(`SELECT count(*) AS n FROM $s.reservations WHERE status = 'settled'`), served);
    assert.equal(await schema.number(`SELECT COALESCE(sum(cost_units), 0) AS n FROM $s.spend_daily`), Math.round(served * PER_REQUEST_USD * UNITS_PER_USD), 'each settlement booked once');
    assert.equal((await ask(gw, key.key)).status, 200, 'paid requests are admitted again');
  } finally {
    await gw.close();
    await mock.close();
    await proxy.close();
    await schema.drop();
  }
});
