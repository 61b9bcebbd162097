// Resilience proofs beyond one process: a breaker shared by two gateway processes through
// Redis, a deployment whose port refuses connections, and a hard budget that holds when a
// cheap model's failures send every request down its chain to an expensive one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import { readFixtureText } from '../src/testing/fixtures.ts';
import { POSTGRES_URL, REDIS_URL, dropSchema, postgresUnavailable, redisUnavailable, uniqueName } from '../src/store/testing.ts';
import { spawnGateway, type ChildGateway } from './support/child-gateway.ts';
import { startGateway, ledgerRow } from './support/gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import { GATEWAY_KEY } from './support/stack.ts';

const ANSWER = readFixtureText('openai/chat-basic.json');

/** An OpenAI chat upstream that counts its requests and answers each with `status` (200: the recorded answer). */
async function startFake(status: number): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const fake = { url: '', requests: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      fake.requests++;
      if (status === 200) res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `fake failure ${status}`, type: 'server_error', param: null, code: null } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return fake;
}

/** A loopback port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const skipShared = (await redisUnavailable()) ?? (await postgresUnavailable());
if (skipShared) console.log(`# skipping the two-process breaker test: ${skipShared}`);

test('two gateway processes share one breaker through Redis: failures seen by A keep B off the down deployment', { skip: skipShared }, async () => {
  const down = await startFake(503);
  const healthy = await startFake(200);
  const dir = mkdtempSync(join(tmpdir(), 'sy-breaker-'));
  writeFileSync(join(dir, 'switchyard.yaml'), `
providers:
  down: { kind: openai, base_url: ${down.url}, api_key: key-down }
  healthy: { kind: openai, base_url: ${healthy.url}, api_key: key-healthy }
deployments:
  gpt-5.4: [{ provider: down }, { provider: healthy }]
strategies:
  gpt-5.4: priority
routing:
  retry: { attempts: 2, base_ms: 1, max_ms: 5 }
  breaker: { failures: 2, cooldown_ms: 600000 }
`);
  const schema = uniqueName('breaker');
  const prefix = `${uniqueName('breaker')}:`;
  const env = {
    SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema,
    SWITCHYARD_REDIS_URL: REDIS_URL, SWITCHYARD_REDIS_PREFIX: prefix,
    SWITCHYARD_API_KEYS: GATEWAY_KEY, SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn',
  };
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const gateways: ChildGateway[] = [];
  try {
    // One after the other: both create the same fresh schema.
    gateways.push(await spawnGateway({ cwd: dir, env }));
    gateways.push(await spawnGateway({ cwd: dir, env }));
    const [a, b] = gateways;
    const ask = (gw: ChildGateway) => new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 })
      .chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

    for (let i = 0; i < 2; i++) {
      const { response } = await ask(a);
      assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5.4#1');
      assert.equal(response.headers.get('x-switchyard-attempts'), '2', 'A tried the down deployment first');
    }
    assert.equal(down.requests, 2);
    assert.equal(await redis.exists(`${prefix}cb:down:gpt-5.4#0`), 1, 'the breaker state lives under SWITCHYARD_REDIS_PREFIX');

    for (let i = 0; i < 4; i++) {
      const { response } = await ask(b);
      assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5.4#1');
      assert.equal(response.headers.get('x-switchyard-attempts'), '1', 'B skipped the deployment A saw fail');
    }
    assert.equal(down.requests, 2, 'B made no call to the down deployment');
    assert.equal(healthy.requests, 6);

    const listed = await adminApi(b.origin).call<{ data: any[] }>('GET', '/admin/deployments');
    assert.equal(listed.status, 200);
    const row = listed.body.data.find((d) => d.id === 'down:gpt-5.4#0');
    assert.ok(row, `down:gpt-5.4#0 listed by B: ${JSON.stringify(listed.body)}`);
    assert.equal(row.breaker.state, 'open', 'B reports the breaker A opened');
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await dropSchema(schema);
    await Promise.all([down.close(), healthy.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deployment whose port refuses connections falls over to the next one, and the ledger keeps the refused attempt', async () => {
  const mock = await startMockUpstream({});
  const port = await closedPort();
  const gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
    yaml: `
providers:
  refused: { kind: openai, base_url: http://127.0.0.1:${port}/v1, api_key: key-refused }
  healthy: { kind: openai, base_url: ${mock.url}/v1, api_key: key-healthy }
deployments:
  gpt-5.4: [{ provider: refused }, { provider: healthy }]
strategies:
  gpt-5.4: priority
routing:
  retry: { attempts: 2, base_ms: 1, max_ms: 5 }
`,
  });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(response.status, 200);
    assert.ok(data.choices[0].message.content);
    assert.equal(response.headers.get('x-switchyard-attempts'), '2');
    assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5.4#1');
    assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5\.4 at refused:gpt-5\.4#0: /);
    const id = response.headers.get('x-request-id')!;
    await ledgerRow(gw.ledger, id);
    const attempts = gw.ledger.entries.filter((e) => e.requestId === id && e.attempt > 0);
    assert.deepEqual(attempts.map((e) => e.deploymentId), ['refused:gpt-5.4#0', 'healthy:gpt-5.4#1']);
    assert.ok(attempts[0].status >= 500, `the refused attempt is logged as a gateway-side failure (${attempts[0].status})`);
    assert.equal(attempts[0].costUsd, 0);
    assert.equal(attempts[1].status, 200);
  } finally {
    await gw.close();
    await mock.close();
  }
});

test('a hard budget holds across a fallback chain: a failing cheap model, an expensive fallback, 20 at once', async () => {
  const PER_ANSWER_USD = 0.005; // 5 output tokens at $1000 per 1M, free input
  const LIMIT_USD = 5 * PER_ANSWER_USD;
  const mock = await startMockUpstream({ maxRecorded: 200 });
  const failing = await startFake(500);
  const gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  failing: { kind: openai, base_url: ${failing.url}, api_key: key-failing }
  healthy: { kind: openai, base_url: ${mock.url}/v1, api_key: key-healthy }
models:
  gpt-5.4-nano: { pricing: { input: 0, cached_input: 0, output: 0.001 } }
  gpt-5.4-mini: { pricing: { input: 0, cached_input: 0, output: 1000 } }
deployments:
  gpt-5.4-nano: [{ provider: failing }]
  gpt-5.4-mini: [{ provider: healthy }]
fallbacks:
  gpt-5.4-nano: [gpt-5.4-mini]
routing:
  retry: { attempts: 1, base_ms: 1, max_ms: 5 }
`,
  });
  try {
    const admin = adminApi(gw.origin);
    const key = await admin.createKey({ name: 'chain-budget', budgets: [{ limit_usd: LIMIT_USD, period: 'day' }] });
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, async () => {
      try {
        const { data, response } = await client.chat.completions.create({
          model: 'gpt-5.4-nano', max_tokens: 5, messages: [{ role: 'user', content: 'Tell me a long story about rivers, mountains and the sea' }],
        }).withResponse();
        assert.equal(data.usage?.completion_tokens, 5);
        assert.equal(response.headers.get('x-switchyard-model'), 'gpt-5.4-mini');
        return 'served';
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError && error.status === 429 && error.code === 'insufficient_quota', String(error));
        return 'refused';
      }
    }));
    const served = outcomes.filter((o) => o === 'served').length;
    assert.ok(served >= 1, 'the budget affords some answers');
    assert.ok(served <= 5, `${served} served: the budget affords 5 answers at the fallback's price`);
    assert.equal(outcomes.filter((o) => o === 'refused').length, 20 - served);

    const rows = await admin.settledRows(key.id, 20);
    const answered = rows.filter((r) => r.status === 200);
    assert.equal(answered.length, served);
    for (const row of answered) {
      assert.equal(row.model_used, 'gpt-5.4-mini', 'served by the fallback');
      assert.equal(row.cost_usd, PER_ANSWER_USD, "billed at the answering model's price, not the primary's");
    }
    const spent = sumUsd(rows.map((r) => r.cost_usd));
    assert.ok(spent <= LIMIT_USD, `spent $${spent} of a $${LIMIT_USD} hard limit`);
    const [budget] = (await admin.key(key.id)).budgets;
    assert.equal(budget.spent_usd, spent);
    assert.equal(budget.reserved_usd, 0);
  } finally {
    await gw.close();
    await Promise.all([mock.close(), failing.close()]);
  }
});
