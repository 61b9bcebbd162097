// Every error a client can meet, as the official openai SDK sees it: the right error
// class and status, and a message that says the cause and the fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, GATEWAY_KEY, PROVIDER_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow, startGateway } from './support/gateway.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({ yaml: undefined, env: {}, providersFor: (url) => `\n  anthropic: { base_url: ${url}, api_key: k-anthropic }` });
});
after(() => stack.close());

const chat = (client: OpenAI, extra: Record<string, unknown> = {}, options?: OpenAI.RequestOptions) =>
  client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }], ...extra } as never, options);

async function rejects<T extends Error>(promise: Promise<unknown>, kind: new (...args: any[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${(err as Error).constructor.name}: ${(err as Error).message}`);
    return err;
  }
  assert.fail(`expected ${kind.name}, but the call succeeded`);
}

test('a missing key is a 401 that says how to send one', async () => {
  const res = await fetch(`${stack.gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 401);
  const body = await res.json();
  assert.equal(body.error.code, 'missing_api_key');
  assert.match(body.error.message, /Authorization: Bearer/);
});

test('a wrong key is an AuthenticationError that shows only its prefix', async () => {
  const secret = 'sy-wrong-key-abcdefghijklmnop';
  const client = new OpenAI({ baseURL: stack.gw.baseURL, apiKey: secret, maxRetries: 0 });
  const err = await rejects(chat(client), OpenAI.AuthenticationError);
  assert.equal(err.status, 401);
  assert.equal(err.code, 'invalid_api_key');
  assert.ok(!err.message.includes(secret), 'the key is never echoed whole');
  assert.match(err.message, /sy-wro/);
});

test('a malformed Authorization header is a 401 that says so', async () => {
  const res = await fetch(`${stack.gw.baseURL}/models`, { headers: { authorization: `Token ${GATEWAY_KEY}` } });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, 'malformed_api_key');
});

test('a base URL without /v1 gets a 404 naming the right base URL', async () => {
  const client = new OpenAI({ baseURL: stack.gw.origin, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const err = await rejects(chat(client), OpenAI.NotFoundError);
  assert.match(err.message, /missing '\/v1'/);
  assert.match(err.message, /\/v1\/chat\/completions/);
});

test('an unknown model is a 404 model_not_found with the closest ids', async () => {
  const err = await rejects(chat(stack.client, { model: 'gpt-5.4-mnii' }), OpenAI.NotFoundError);
  assert.equal(err.code, 'model_not_found');
  assert.equal(err.headers.get('x-switchyard-error-source'), 'gateway');
  assert.match(err.message, /gpt-5\.4-mini/);
  assert.match(err.message, /exact/);
});

test('invalid JSON is a 400 that says the body is not JSON', async () => {
  const res = await fetch(`${stack.gw.baseURL}/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: '{"model": "gpt-5.4-mini", "messages": [',
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, 'invalid_json');
  assert.equal(body.error.type, 'invalid_request_error');
});

// A translated route (an OpenAI request to a Claude model): the gateway judges every
// field itself (a relay leaves fields it does not need to the provider).
const TRANSLATED = 'claude-haiku-4-5';

test('an invalid field is a BadRequestError naming the field and what is expected', async () => {
  const err = await rejects(chat(stack.client, { model: TRANSLATED, temperature: 'hot' }), OpenAI.BadRequestError);
  assert.equal(err.param, 'temperature');
  assert.match(err.message, /temperature/);
  const err2 = await rejects(chat(stack.client, { model: TRANSLATED, messages: [{ role: 'wizard', content: 'x' }] }), OpenAI.BadRequestError);
  assert.match(err2.param ?? '', /^messages\[0\]\.role$/);
});

test('a prompt over the context window is a 400 context_length_exceeded with the count and a model that fits', async () => {
  const err = await rejects(chat(stack.client, { model: 'tiny-window', messages: [{ role: 'user', content: 'word '.repeat(200) }] }), OpenAI.BadRequestError);
  assert.equal(err.code, 'context_length_exceeded');
  const match = /is (\d+) tokens .* window of 50 tokens/.exec(err.message);
  assert.ok(match, err.message);
  assert.ok(Number(match![1]) > 50);
  assert.match(err.message, /or use '/);
});

test('a body over the size limit is refused with 413 before it is read whole', async () => {
  const small = await startGateway({ yaml: 'server:\n  max_body_mb: 0.01\n', env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OPENAI_API_KEY: 'x' } });
  try {
    const client = new OpenAI({ baseURL: small.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const err = await rejects(chat(client, { messages: [{ role: 'user', content: 'x'.repeat(20_000) }] }), OpenAI.APIError);
    assert.equal(err.status, 413);
    assert.match(err.message, /max_body_mb/);
    // A chunked body (no Content-Length) is cut off as soon as it passes the limit.
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"model":"gpt-5.4-mini","messages":[{"role":"user","content":"' + 'y'.repeat(30_000)));
        controller.enqueue(new TextEncoder().encode('"}]}'));
        controller.close();
      },
    });
    const res = await fetch(`${small.baseURL}/chat/completions`, { method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' } } as RequestInit);
    assert.equal(res.status, 413);
  } finally {
    await small.close();
  }
});

test('an upstream 429 is relayed as a RateLimitError with its Retry-After, naming the provider', async () => {
  const err = await rejects(chat(stack.client, {}, { headers: { 'x-mock-status': '429' } }), OpenAI.RateLimitError);
  assert.equal(err.status, 429);
  assert.ok(err.headers.get('retry-after'));
  assert.match(err.message, /Provider openai/);
  assert.equal(err.headers.get('x-switchyard-error-source'), 'provider:openai');
});

test('an upstream 500 is relayed as an InternalServerError naming the provider; the request row names the deployment it failed on', async () => {
  const err = await rejects(chat(stack.client, {}, { headers: { 'x-mock-status': '500' } }), OpenAI.InternalServerError);
  assert.match(err.message, /Provider openai/);
  const row = await ledgerRow(stack.gw.ledger, err.headers.get('x-request-id')!);
  assert.equal(row.status, 500);
  assert.equal(row.provider, 'openai');
  assert.ok(row.deploymentId, 'a failure is counted against the deployment that failed');
});

test("the provider rejecting the gateway's provider key says so, without the key", async () => {
  const err = await rejects(chat(stack.client, {}, { headers: { 'x-mock-status': '401' } }), OpenAI.AuthenticationError);
  assert.match(err.message, /rejected the gateway's provider key/);
  assert.match(err.message, /Your Switchyard key was accepted/);
  assert.ok(!err.message.includes(PROVIDER_KEY));
});

test('an unreachable upstream is a 502 naming the provider and what to check', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'k' } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const err = await rejects(chat(client), OpenAI.APIError);
    assert.equal(err.status, 502);
    assert.match(err.message, /Could not reach openai/);
    assert.equal(err.headers.get('x-switchyard-error-source'), 'provider:openai');
    assert.match(err.message, /base URL/);
  } finally {
    await gw.close();
  }
});

test('with no provider configured the gateway still answers, naming the setting to add', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY });
    const started = Date.now();
    const err = await rejects(chat(client), OpenAI.APIError);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'provider_not_configured');
    assert.match(err.message, /OPENAI_API_KEY/);
    assert.ok(Date.now() - started < 2_000, 'x-should-retry: false stops the SDK from retrying');
  } finally {
    await gw.close();
  }
});

test('malformed requests of every kind get a 4xx envelope and the server stays up', async () => {
  const bodies: Array<[string, string]> = [
    ['empty body', ''],
    ['not JSON', 'hello'],
    ['JSON array', '[1,2]'],
    ['JSON string', '"x"'],
    ['null', 'null'],
    ['no model', '{"messages":[{"role":"user","content":"hi"}]}'],
    ['model not a string', '{"model":5,"messages":[{"role":"user","content":"hi"}]}'],
    ['no messages', '{"model":"claude-haiku-4-5"}'],
    ['messages not array', '{"model":"claude-haiku-4-5","messages":"hi"}'],
    ['empty messages', '{"model":"claude-haiku-4-5","messages":[]}'],
    ['message not object', '{"model":"claude-haiku-4-5","messages":[42]}'],
    ['content wrong type', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":7}]}'],
    ['bad part type', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":[{"type":"video"}]}]}'],
    ['image without url', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}'],
    ['tool msg without id', '{"model":"claude-haiku-4-5","messages":[{"role":"tool","content":"x"}]}'],
    ['tools not array', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"tools":{}}'],
    ['tool without name', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]}'],
    ['negative max_tokens', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}'],
    ['bad effort', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"extreme"}'],
    ['stream not bool', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"stream":"yes"}'],
    ['n zero', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"n":0}'],
    ['too many stops', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}'],
    ['bad response_format', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}'],
    ['deeply nested junk', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":[{"type":"text","text":{"a":[1,2,{"b":null}]}}]}]}'],
    ['invalid utf8-ish', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"\\ud800"}], "temperature": 9}'],
  ];
  for (const [name, body] of bodies) {
    const res = await fetch(`${stack.gw.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body });
    assert.ok(res.status >= 400 && res.status < 500, `${name}: status ${res.status}`);
    const json = await res.json();
    assert.equal(typeof json.error?.message, 'string', `${name}: envelope`);
    assert.ok(json.error.message.length > 20, `${name}: message says something: ${json.error.message}`);
  }
  for (const body of ['{}', '{"model":"claude-haiku-4-5"}']) {
    const res = await fetch(`${stack.gw.baseURL}/responses`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
  }
  const wrongMethod = await fetch(`${stack.gw.baseURL}/chat/completions`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(wrongMethod.status, 405);
  const wrongType = await fetch(`${stack.gw.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'text/plain' }, body: 'hi' });
  assert.equal(wrongType.status, 400);
  const health = await fetch(`${stack.gw.origin}/healthz`);
  assert.equal(health.status, 200, 'the server is still up');
});
