// Error answers say how many attempts were made; a fallback model is tried only if it can take
// the request (the route stage's checks), driven with the OpenAI SDK (its retries off) against
// fakes that fail on cue and record which model each request asked for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import { readFixtureText } from '../src/testing/fixtures.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { serveOnLoopback } from './support/loopback.ts';
import { GATEWAY_KEY } from './support/stack.ts';

const ANSWER = readFixtureText('openai/chat-basic.json');

/** An OpenAI chat upstream answering `status` (503 fails, 200 the recorded answer); `models` lists what each request asked for. */
interface Fake { url: string; models: string[]; close(): Promise<void> }

async function startFake(status: number): Promise<Fake> {
  const fake = { models: [] as string[] } as Fake;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fake.models.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).model);
      if (status === 200) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
        return;
      }
      const body = JSON.stringify({ error: { message: `fake failure ${status}`, type: 'server_error', param: null, code: null } });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  return Object.assign(fake, await serveOnLoopback(server));
}

let down: Fake;
let good: Fake;
let gw: TestGateway;
let client: OpenAI;

before(async () => {
  down = await startFake(503);
  good = await startFake(200);
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
    yaml: `
providers:
  down: { kind: openai, base_url: ${down.url}, api_key: key-down }
  good: { kind: openai, base_url: ${good.url}, api_key: key-good }
models:
  text-only: { provider: good }
deployments:
  gpt-4.1: [{ provider: down }]
  gpt-4.1-nano: [{ provider: down }]
  gpt-5.4-mini: [{ provider: down }]
  gpt-5.4-nano: [{ provider: down }]
  text-only: [{ provider: good }]
  gpt-4.1-mini: [{ provider: good }]
fallbacks:
  gpt-4.1: [gpt-4.1-nano]
  gpt-5.4-mini: [text-only, gpt-4.1-mini]
  gpt-5.4-nano: [text-only]
routing:
  retry: { attempts: 2, base_ms: 1, max_ms: 5 }
  breaker: { failures: 1000, cooldown_ms: 1000 }
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await Promise.all([down.close(), good.close()]);
});

const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const withImage = (model: string) => ({
  model,
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'what is this?' }, { type: 'image_url' as const, image_url: { url: PIXEL } }] }],
});

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `an API error, got ${err}`);
    return err;
  }
  assert.fail('the call succeeded');
}

test('every attempt failed across a fallback chain: the error says how many attempts were made, and no fallback header', async () => {
  const before = down.models.length;
  const err = await failure(client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }));
  const made = down.models.slice(before);
  assert.ok(made.includes('gpt-4.1') && made.includes('gpt-4.1-nano'), `both models tried: ${made}`);
  assert.equal(err.status, 503);
  assert.equal(err.headers?.get('x-switchyard-attempts'), String(made.length), 'one per upstream request');
  assert.equal(err.headers?.get('x-switchyard-fallback'), null);
  const requestId = err.headers?.get('x-request-id');
  assert.ok(requestId);
  await ledgerRow(gw.ledger, requestId);
  const rows = gw.ledger.entries.filter((e) => e.requestId === requestId && e.attempt > 0);
  assert.equal(rows.length, made.length, 'the ledger has a row per attempt the header counts');
});

test('a request refused before any upstream call carries no attempts header', async () => {
  const err = await failure(client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 } as any));
  assert.equal(err.status, 400);
  assert.equal(err.headers?.get('x-switchyard-attempts'), null);
});

test('an image request whose only fallback has no vision: skipped without a call, and the error says why', async () => {
  const goodBefore = good.models.length;
  const downBefore = down.models.length;
  const err = await failure(client.chat.completions.create(withImage('gpt-5.4-nano')));
  assert.equal(good.models.length, goodBefore, 'the text-only model was never called');
  assert.equal(err.status, 503);
  assert.match(err.message, /fallback text-only skipped: image_input_not_supported/);
  assert.equal(err.headers?.get('x-switchyard-attempts'), String(down.models.length - downBefore));
});

test('an image request skips the fallback without vision and is answered by the next one that has it', async () => {
  const goodBefore = good.models.length;
  const { data, response } = await client.chat.completions.create(withImage('gpt-5.4-mini')).withResponse();
  assert.ok(data.choices[0].message.content);
  assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4.1-mini');
  assert.deepEqual(good.models.slice(goodBefore), ['gpt-4.1-mini'], 'text-only was skipped, not called');
  assert.match(response.headers.get('x-switchyard-warnings') ?? '', /fallback text-only skipped: image_input_not_supported/);
  assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5\.4-mini at /);
});

test('a text request on the same chain does fall back to the text-only model', async () => {
  const goodBefore = good.models.length;
  const { response } = await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-switchyard-model'), 'text-only');
  assert.deepEqual(good.models.slice(goodBefore), ['text-only']);
  assert.equal(response.headers.get('x-switchyard-warnings'), null);
});
