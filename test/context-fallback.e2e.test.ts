// context_fallbacks: a prompt too long for the model asked for is served by the
// configured larger model instead of a 400 — the answer, its headers and the ledger say
// which model answered and why, and the cost is that model's. Without a fallback the
// caller still gets context_length_exceeded naming a model that fits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { PROVIDER_KEY } from './support/stack.ts';

const KEY = 'sy-context-fallback-key-0001';
let mock: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: KEY },
    yaml: `
providers:
  openai: { base_url: ${mock.url}/v1, api_key: ${PROVIDER_KEY} }
models:
  small-window: { provider: openai, upstream_id: gpt-5.4-nano, context_window: 60, pricing: { input: 0.1, output: 0.4 } }
  small-window-alone: { provider: openai, upstream_id: gpt-5.4-nano, context_window: 60, pricing: { input: 0.1, output: 0.4 } }
context_fallbacks:
  small-window: gpt-5.4-mini
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await mock.close();
});

const LONG = 'Please summarise the following notes about the quarterly planning meeting. '.repeat(20);

test('a prompt over the window is served by the configured larger model, and every record says so', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'small-window', messages: [{ role: 'user', content: LONG }] }).withResponse();
  assert.ok(data.choices[0].message.content);
  assert.equal(response.headers.get('x-switchyard-model'), 'gpt-5.4-mini');
  assert.match(response.headers.get('x-switchyard-route-reason') ?? '', /context fallback small-window -> gpt-5.4-mini \(prompt over 60 tokens\)/);
  const row = gw.ledger.forRequest(response.headers.get('x-request-id')!);
  assert.equal(row?.modelRequested, 'small-window');
  assert.equal(row?.modelUsed, 'gpt-5.4-mini');
  assert.equal((mock.requests.at(-1)?.body as { model?: string } | undefined)?.model, 'gpt-5.4-mini', 'the larger model is the one called upstream');
});

test('a short prompt stays on the model asked for', async () => {
  const { response } = await client.chat.completions.create({ model: 'small-window', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-switchyard-model'), 'small-window');
});

test('without a configured fallback the prompt is refused with context_length_exceeded', async () => {
  const err = await client.chat.completions.create({ model: 'small-window-alone', messages: [{ role: 'user', content: LONG }] }).catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.equal(err.code, 'context_length_exceeded');
  assert.equal(err.headers.get('x-should-retry'), 'false');
});
