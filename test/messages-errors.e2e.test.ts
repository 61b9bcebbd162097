// /v1/messages as the official @anthropic-ai/sdk sees it when things go wrong, and
// messages.countTokens for Claude models (relayed) and the others (counted here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

let stack: Stack;
let client: Anthropic;
before(async () => {
  stack = await startStack({
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: k-anthropic, forward_headers: [x-mock-*] }`,
  });
  client = new Anthropic({ baseURL: stack.gw.origin, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(() => stack.close());

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Anthropic.APIError, `expected an APIError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

/** What the SDK exposes of an error body it parsed as Anthropic's envelope. */
function assertParsed(err: InstanceType<typeof Anthropic.APIError>, status: number, type: string, message: RegExp): void {
  assert.equal(err.status, status);
  assert.equal(err.type, type, `error.type as the SDK reads it (body: ${JSON.stringify(err.error)})`);
  assert.equal((err.error as { type?: string }).type, 'error');
  assert.match(err.apiMessage ?? '', message);
  assert.doesNotMatch(err.apiMessage ?? '', /^\s*[{"]/, 'the message is text, not JSON');
}

const hi = [{ role: 'user' as const, content: 'hi' }];

test('gateway errors on /v1/messages are Anthropic envelopes the SDK parses (not JSON in a string)', async () => {
  assertParsed(await apiError(client.messages.create({ model: 'no-such-model', max_tokens: 16, messages: hi })), 404, 'not_found_error', /does not exist/);
  assertParsed(await apiError(client.messages.create({ model: 'gpt-5.4-mini', max_tokens: -1, messages: hi })), 400, 'invalid_request_error', /max_tokens/);
  const wrongKey = new Anthropic({ baseURL: stack.gw.origin, apiKey: 'sy-wrong-key-0000000000', maxRetries: 0 });
  assertParsed(await apiError(wrongKey.messages.create({ model: 'gpt-5.4-mini', max_tokens: 16, messages: hi })), 401, 'authentication_error', /key/);
  assertParsed(await apiError(client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: hi }, { headers: { 'x-mock-status': '429' } })), 429, 'rate_limit_error', /anthropic/i);
});

test('a request on /v1/messages carries its request id in the envelope', async () => {
  const err = await apiError(client.messages.create({ model: 'no-such-model', max_tokens: 16, messages: hi }));
  const body = err.error as { request_id?: string };
  assert.match(body.request_id ?? '', /^req_/);
  assert.equal(body.request_id, err.headers?.get('x-request-id'));
});

test('unknown paths and wrong methods under /v1/messages answer in Anthropic\'s envelope', async () => {
  assertParsed(await apiError(client.messages.batches.list()), 404, 'not_found_error', /batches are not supported/);
  assertParsed(await apiError(client.get('/v1/messages')), 405, 'invalid_request_error', /GET is not allowed on \/v1\/messages; use POST/);
  assertParsed(await apiError(client.get('/v1/messages/count_tokens')), 405, 'invalid_request_error', /use POST/);
  assertParsed(await apiError(client.post('/v1/messages/nothing', { body: {} })), 404, 'not_found_error', /No route/);
});

test('malformed bodies on /v1/messages are parsed by the SDK as invalid_request_error', async () => {
  for (const body of ['{', '[]', '{"model": "gpt-5.4-mini", "messages": ' + '['.repeat(10_000) + ']'.repeat(10_000) + '}']) {
    const res = await fetch(`${stack.gw.origin}/v1/messages`, { method: 'POST', headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    const json = await res.json();
    assert.equal(json.type, 'error', `an object envelope, not a string: ${JSON.stringify(json).slice(0, 80)}`);
    assert.equal(json.error.type, 'invalid_request_error');
  }
});

test('countTokens on a Claude model is relayed to Anthropic and says so', async () => {
  const { data, response } = await client.messages
    .countTokens({ model: 'claude-haiku-4-5', system: 'Be brief.', messages: [{ role: 'user', content: 'How many tokens is this sentence?' }] })
    .withResponse();
  assert.ok(Number.isInteger(data.input_tokens) && data.input_tokens > 5, String(data.input_tokens));
  assert.match(response.headers.get('x-switchyard-tokenizer') ?? '', /^anthropic/);
  // The same count the mock Anthropic reports as input usage for the same prompt.
  const created = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, system: 'Be brief.', messages: [{ role: 'user', content: 'How many tokens is this sentence?' }] });
  assert.equal(data.input_tokens, created.usage.input_tokens);
});

test('countTokens on a non-Claude model is counted locally with o200k, and grows with the prompt', async () => {
  const short = await client.messages.countTokens({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
  assert.equal(short.response.headers.get('x-switchyard-tokenizer'), 'o200k (local estimate)');
  const long = await client.messages.countTokens({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Hello there '.repeat(100) }] });
  assert.ok(short.data.input_tokens > 0);
  assert.ok(long.input_tokens >= short.data.input_tokens + 150, `${long.input_tokens} vs ${short.data.input_tokens}`);
});

test('countTokens needs a valid key and a known model, and is never billed', async () => {
  const rowsBefore = stack.gw.ledger.entries.length;
  const wrongKey = new Anthropic({ baseURL: stack.gw.origin, apiKey: 'sy-wrong-key-0000000000', maxRetries: 0 });
  assertParsed(await apiError(wrongKey.messages.countTokens({ model: 'gpt-5.4-mini', messages: hi })), 401, 'authentication_error', /key/);
  assertParsed(await apiError(client.messages.countTokens({ model: 'no-such-model', messages: hi })), 404, 'not_found_error', /does not exist/);
  await client.messages.countTokens({ model: 'claude-haiku-4-5', messages: hi });
  await client.messages.countTokens({ model: 'gpt-5.4-mini', messages: hi });
  await stack.gw.ledger.flush();
  assert.equal(stack.gw.ledger.entries.slice(rowsBefore).filter((e) => e.costUsd > 0).length, 0);
});
