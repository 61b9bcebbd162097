// The response cache through the real gateway with the official SDKs: a repeated request
// is served from the cache (no upstream call), costs 0, says so in headers and is logged
// as a hit with what it saved; streams are replayed in the client's format; keys never
// see each other's answers unless the route shares them on purpose; Cache-Control
// no-cache and no-store; in memory, and in Redis shared by two gateways.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { REDIS_URL, redisUnavailable, uniqueName } from '../src/store/testing.ts';
import { mockProvidersYaml } from './support/stack.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';

const redisSkip = await redisUnavailable();
if (redisSkip) console.log(`# Redis cache tests skipped: ${redisSkip}`);
const mock: MockUpstream = await startMockUpstream({});
after(() => mock.close());

function start(env: Record<string, string> = {}): Promise<TestGateway> {
  return startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY, ...env },
    yaml: `
${mockProvidersYaml(mock.url)}
routes:
  auto:faq: { tiers: [mini] }
cache:
  ttl: 1h
  keys: [alice, bob]
  shared_routes: [auto:faq]
`,
  });
}

const openai = (gw: TestGateway, key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
const ask = (gw: TestGateway, key: string, content: string, options?: { headers?: Record<string, string> }) =>
  openai(gw, key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content }] }, options).withResponse();

test('a repeated request is a hit: no upstream call, cost 0, the saving logged; streams replayed; per key; no-cache and no-store', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const alice = await admin.createKey({ name: 'alice', budgets: [{ limit_usd: 5, period: 'month' }] });
    const bob = await admin.createKey({ name: 'bob' });
    const carol = await admin.createKey({ name: 'carol' });
    const served = mock.servedCount;

    const first = await ask(gw, alice.key, 'What is the capital of France?');
    assert.equal(first.response.headers.get('x-switchyard-cache'), 'miss');
    const cost = Number(first.response.headers.get('x-switchyard-cost-usd'));
    assert.ok(cost > 0);
    const second = await ask(gw, alice.key, 'What is the capital of France?');
    assert.equal(second.response.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(Number(second.response.headers.get('x-switchyard-cost-usd')), 0);
    assert.ok(Math.abs(Number(second.response.headers.get('x-switchyard-cache-saved-usd')) - cost) < 1e-8);
    assert.deepEqual(second.data.choices[0].message, first.data.choices[0].message);
    assert.equal(mock.servedCount - served, 1, 'the hit made no upstream call');

    // The same question as a stream: replayed from the cache, chunk by chunk in Chat's format.
    const stream = await openai(gw, alice.key).chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
    assert.equal(stream.response.headers.get('x-switchyard-cache'), 'hit');
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, first.data.choices[0].message.content);
    assert.equal(mock.servedCount - served, 1);

    // Another key never gets alice's answer; a key that did not opt in is not cached at all.
    assert.equal((await ask(gw, bob.key, 'What is the capital of France?')).response.headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await ask(gw, carol.key, 'What is the capital of France?')).response.headers.get('x-switchyard-cache'), null);
    assert.equal(mock.servedCount - served, 3);

    // no-cache asks again (and refreshes the entry); no-store bypasses the cache.
    const fresh = await ask(gw, alice.key, 'What is the capital of France?', { headers: { 'Cache-Control': 'no-cache' } });
    assert.equal(fresh.response.headers.get('x-switchyard-cache'), 'refresh');
    const unstored = await ask(gw, alice.key, 'Something private', { headers: { 'Cache-Control': 'no-store' } });
    assert.equal(unstored.response.headers.get('x-switchyard-cache'), null);
    assert.equal((await ask(gw, alice.key, 'Something private')).response.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(mock.servedCount - served, 6);

    // The ledger: the hit at cost 0 with what it saved; the budget charged once.
    const hitRow = await ledgerRow(gw.ledger, second.response.headers.get('x-request-id')!);
    assert.equal(hitRow.costUsd, 0);
    assert.equal(hitRow.cache, 'hit');
    assert.ok(Math.abs(hitRow.savedUsd! - cost) < 1e-8);
    await gw.gateway.ledger.flush();
    const aliceRows = gw.ledger.entries.filter((e) => e.keyId === alice.id && e.attempt === 0);
    assert.equal(aliceRows.filter((e) => e.cache === 'hit').length, 2);
    const billed = aliceRows.reduce((sum, e) => sum + e.costUsd, 0);
    const budget = (await admin.call('GET', `/admin/keys/${alice.id}`)).body.budgets[0];
    assert.ok(Math.abs(budget.spent_usd - billed) < 1e-7, `${budget.spent_usd} vs ${billed}`);
    assert.equal(budget.reserved_usd, 0);
    const detail = await admin.call('GET', `/admin/requests/${second.response.headers.get('x-request-id')}`);
    assert.equal(detail.body.rows[0].cache, 'hit');
    assert.equal(detail.body.rows[0].cost_usd, 0);
    assert.ok(detail.body.rows[0].saved_usd > 0);
    const metrics = await (await fetch(`${gw.origin}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
    assert.match(metrics, /switchyard_cache_requests_total\{result="hit"\} 2\n/);
    assert.match(metrics, /switchyard_cache_requests_total\{result="miss"\} 3\n/);
    assert.match(metrics, /switchyard_cache_requests_total\{result="refresh"\} 1\n/);
    const saved = Number(/^switchyard_cache_saved_usd_total (\S+)$/m.exec(metrics)![1]);
    assert.ok(Math.abs(saved - 2 * cost) < 1e-8, `${saved} vs ${2 * cost}`);
  } finally {
    await gw.close();
  }
});

test('a route listed in shared_routes shares its answers across keys on purpose; the Messages API replays hits as Anthropic streams', async () => {
  const gw = await start();
  try {
    const admin = adminApi(gw.origin);
    const dave = await admin.createKey({ name: 'dave' });
    const erin = await admin.createKey({ name: 'erin' });
    const faq = (key: string) => openai(gw, key).chat.completions.create({ model: 'auto:faq', messages: [{ role: 'user', content: 'Opening hours?' }] }).withResponse();
    assert.equal((await faq(dave.key)).response.headers.get('x-switchyard-cache'), 'miss');
    const shared = await faq(erin.key);
    assert.equal(shared.response.headers.get('x-switchyard-cache'), 'hit');

    const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: (await admin.createKey({ name: 'alice' })).key, maxRetries: 0 });
    const once = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'cache me' }] }).withResponse();
    assert.equal(once.response.headers.get('x-switchyard-cache'), 'miss');
    const replay = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'cache me' }] });
    const final = await replay.finalMessage();
    assert.equal((await replay.withResponse()).response.headers.get('x-switchyard-cache'), 'hit');
    assert.deepEqual(final.content, once.data.content);
  } finally {
    await gw.close();
  }
});

test('in Redis, one gateway\'s cached answer is a hit on another; the key scope holds across them', { skip: redisSkip }, async () => {
  const prefix = `${uniqueName('cache')}:`;
  const env = { SWITCHYARD_REDIS_URL: REDIS_URL, SWITCHYARD_REDIS_PREFIX: prefix };
  const a = await start(env);
  const b = await start(env);
  try {
    assert.equal(a.gateway.cache?.store.kind, 'redis');
    // Each gateway has its own SQLite store here: the same key name, made on each.
    const onA = await adminApi(a.origin).createKey({ name: 'alice' });
    const served = mock.servedCount;
    assert.equal((await ask(a, onA.key, 'shared over redis')).response.headers.get('x-switchyard-cache'), 'miss');
    // b's alice is another key (another id): a's entry is not hers, so she misses, then hits her own.
    const onB = await adminApi(b.origin).createKey({ name: 'alice' });
    assert.equal((await ask(b, onB.key, 'shared over redis')).response.headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await ask(b, onB.key, 'shared over redis')).response.headers.get('x-switchyard-cache'), 'hit');
    const faq = (gw: TestGateway, key: string) => openai(gw, key).chat.completions.create({ model: 'auto:faq', messages: [{ role: 'user', content: 'redis faq' }] }).withResponse();
    assert.equal((await faq(a, onA.key)).response.headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await faq(b, onB.key)).response.headers.get('x-switchyard-cache'), 'hit', 'a shared route is one entry for every gateway');
    assert.equal(mock.servedCount - served, 3);
  } finally {
    await a.close();
    await b.close();
  }
});
