// Retry advice: every error says whether the same request can succeed later
// (x-should-retry), and the official SDKs, with their default retries, obey it. A
// counting proxy in front of the gateway counts the requests that really arrived.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, localModelsYaml, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { startGateway } from './support/gateway.ts';
import { startCountingProxy } from './support/counting-proxy.ts';
import type { CountingProxy } from './support/counting-proxy.ts';

let stack: Stack;
let proxy: CountingProxy;
before(async () => {
  stack = await startStack({
    yaml: undefined,
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: k-anthropic }`,
  });
  proxy = await startCountingProxy(stack.gw.origin);
});
after(async () => {
  await proxy.close();
  await stack.close();
});

const counted = (path: string) => proxy.seen.filter((r) => r.path.startsWith(path)).length;
const auth = { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' };

async function caught(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

test('a wrong key fails after exactly one request with the OpenAI SDK (default retries)', async () => {
  const client = new OpenAI({ baseURL: `${proxy.origin}/v1`, apiKey: 'sy-wrong-key-0000000000' });
  const before = counted('/v1/chat/completions');
  const err = await caught(client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] }));
  assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
  assert.equal(err.headers.get('x-should-retry'), 'false');
  assert.equal(counted('/v1/chat/completions') - before, 1);
});

test('a wrong key fails after exactly one request with the Anthropic SDK (default retries)', async () => {
  const client = new Anthropic({ baseURL: proxy.origin, apiKey: 'sy-wrong-key-0000000000' });
  const before = counted('/v1/messages');
  const err = await caught(client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }));
  assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
  assert.equal(err.type, 'authentication_error');
  assert.equal(err.headers.get('x-should-retry'), 'false');
  assert.equal(counted('/v1/messages') - before, 1);
});

test('a 503 the caller must fix (provider not configured) is not retried by either SDK', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY } });
  const front = await startCountingProxy(gw.origin);
  try {
    const openai = new OpenAI({ baseURL: `${front.origin}/v1`, apiKey: GATEWAY_KEY });
    const err = await caught(openai.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(err.status, 503);
    const anthropic = new Anthropic({ baseURL: front.origin, apiKey: GATEWAY_KEY });
    const err2 = await caught(anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(err2.status, 503);
    assert.equal(front.seen.length, 2, 'one request per call');
  } finally {
    await front.close();
    await gw.close();
  }
});

test('a 429 rate limit is retried by both SDKs, no sooner than its Retry-After', async () => {
  const gw = await startGateway({
    yaml: `${localModelsYaml(stack.mock.url)}limits:\n  gpt-5.4-mini: { concurrent: 1 }\n`,
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
  });
  const front = await startCountingProxy(gw.origin);
  try {
    for (const call of [
      () => new OpenAI({ baseURL: `${front.origin}/v1`, apiKey: GATEWAY_KEY }).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'second' }] }),
      () => new Anthropic({ baseURL: front.origin, apiKey: GATEWAY_KEY }).messages.create({ model: 'gpt-5.4-mini', max_tokens: 16, messages: [{ role: 'user', content: 'second' }] }),
    ]) {
      front.seen.length = 0;
      // The one concurrent slot is held by a slow request; the SDK's call meets the 429.
      const holder = fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST', headers: { ...auth, 'x-mock-latency-ms': '700' },
        body: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'first' }] }),
      });
      await waitFor(() => gw.gateway.inflight > 0);
      const refused = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'probe' }] }) });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('x-should-retry'), 'true');
      const retryAfterMs = Number(refused.headers.get('retry-after')) * 1000;
      assert.ok(retryAfterMs >= 1000);
      await call();
      assert.equal((await holder).status, 200);
      assert.ok(front.seen.length >= 2, `the SDK retried (${front.seen.length} requests)`);
      const gap = front.seen[1].at - front.seen[0].at;
      assert.ok(gap >= retryAfterMs - 50, `the retry waited for Retry-After (${Math.round(gap)} ms)`);
    }
  } finally {
    await front.close();
    await gw.close();
  }
});

test('every error a caller caused says x-should-retry: false, on every kind of path', async () => {
  const base = stack.gw.origin;
  const cases: Array<[string, string, RequestInit]> = [
    ['bad JSON (chat)', '/v1/chat/completions', { method: 'POST', headers: auth, body: '{' }],
    ['bad JSON (messages)', '/v1/messages', { method: 'POST', headers: auth, body: '{' }],
    ['unknown model', '/v1/chat/completions', { method: 'POST', headers: auth, body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }) }],
    ['unknown path', '/v1/nothing', { headers: auth }],
    ['unknown path under /v1/messages', '/v1/messages/batches', { method: 'POST', headers: auth, body: '{}' }],
    ['wrong method', '/v1/chat/completions', { method: 'GET', headers: auth }],
    ['no key on /v1/models', '/v1/models', {}],
    ['unknown model id', '/v1/models/nope', { headers: auth }],
    ['admin API without a key', '/admin/keys', {}],
    ['too deep', '/v1/embeddings', { method: 'POST', headers: auth, body: `{"model":"text-embedding-3-small","input":${'['.repeat(5000)}${']'.repeat(5000)}}` }],
  ];
  for (const [name, path, init] of cases) {
    const res = await fetch(base + path, init);
    await res.arrayBuffer();
    assert.ok(res.status >= 400 && res.status < 500, `${name}: ${res.status}`);
    assert.equal(res.headers.get('x-should-retry'), 'false', `${name} (${res.status})`);
  }
});

test('temporary upstream failures say x-should-retry: true', async () => {
  for (const status of ['502', '503', '500']) {
    const res = await fetch(`${stack.gw.baseURL}/chat/completions`, {
      method: 'POST', headers: { ...auth, 'x-mock-status': status },
      body: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'x' }] }),
    });
    await res.arrayBuffer();
    assert.ok(res.status >= 500, `${status} → ${res.status}`);
    assert.equal(res.headers.get('x-should-retry'), 'true', `upstream ${status}`);
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition());
}
