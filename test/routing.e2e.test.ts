// Aliases and several deployments of one model: weighted choice, fallback on a
// retryable failure, and an error that lists every deployment tried.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { startGateway, ledgerRow } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { GATEWAY_KEY } from './support/stack.ts';

let mock: MockUpstream;
let gw: TestGateway;
let client: OpenAI;
before(async () => {
  mock = await startMockUpstream({});
  const url = `${mock.url}/v1`;
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
    yaml: `
providers:
  east: { kind: openai, base_url: ${url}, api_key: key-east, headers: { x-region: east } }
  west: { kind: openai, base_url: ${url}, api_key: key-west, headers: { x-region: west } }
  broken: { kind: openai, base_url: ${url}, api_key: key-broken, headers: { x-mock-status: '503' } }
  limited: { kind: openai, base_url: ${url}, api_key: key-limited, headers: { x-mock-status: '429' } }
aliases:
  fast: gpt-5.4-mini
deployments:
  gpt-5.4-mini:
    - { provider: east, weight: 3 }
    - { provider: west, weight: 1 }
  gpt-5.4:
    - { provider: broken }
    - { provider: west }
  gpt-5.4-nano:
    - { provider: broken }
    - { provider: limited }
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await mock.close();
});

const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

test('an alias resolves to its model', async () => {
  const { response } = await ask('fast');
  assert.equal(response.headers.get('x-switchyard-model'), 'gpt-5.4-mini');
});

test('traffic splits across deployments by weight', async () => {
  mock.reset();
  for (let i = 0; i < 80; i++) await ask('gpt-5.4-mini');
  const east = mock.requests.filter((r) => r.headers['x-region'] === 'east').length;
  const west = mock.requests.filter((r) => r.headers['x-region'] === 'west').length;
  assert.equal(east + west, 80);
  assert.ok(east > west * 1.5, `east ${east} vs west ${west} (weights 3:1)`);
  assert.ok(west > 5);
});

test('a failing deployment falls over to the next; the log has every attempt', async () => {
  for (let i = 0; i < 5; i++) {
    const { data, response } = await ask('gpt-5.4');
    assert.ok(data.choices[0].message.content);
    assert.equal(response.headers.get('x-switchyard-deployment'), 'west:gpt-5.4#1');
    const id = response.headers.get('x-request-id')!;
    await ledgerRow(gw.ledger, id);
    const attempts = gw.ledger.entries.filter((e) => e.requestId === id && e.attempt > 0);
    if (attempts.length === 2) {
      assert.equal(attempts[0].status, 503);
      assert.equal(attempts[1].status, 200);
    } else {
      assert.equal(attempts.length, 0, 'the healthy deployment was picked first');
    }
  }
});

test('when every deployment fails the error lists each one and why', async () => {
  try {
    await ask('gpt-5.4-nano');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.code, 'all_upstreams_failed');
    assert.match(err.message, /broken:gpt-5\.4-nano#0 → 503/);
    assert.match(err.message, /limited:gpt-5\.4-nano#1 → 429/);
    assert.ok(!/key-(broken|limited)/.test(err.message), 'no provider key in the message');
  }
});
