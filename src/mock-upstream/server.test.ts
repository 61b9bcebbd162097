import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { readFixtureJson } from '../testing/fixtures.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { assertSameShape, get, parseSse, post, sseJson } from './test-support.ts';

let mock: MockUpstream;
let openai: OpenAI;

before(async () => {
  mock = await startMockUpstream();
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'mock', maxRetries: 0 });
});
after(() => mock.close());

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
const MESSAGES = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] };
const GEMINI_PATH = '/v1beta/models/gemini-2.5-flash:generateContent';
const GEMINI = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };

/** Read a streamed body until it ends or breaks; what arrived and whether it broke. */
async function readUntilEnd(path: string, body: unknown, headers: Record<string, string>): Promise<{ text: string; broke: boolean }> {
  const res = await fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true });
    return { text, broke: false };
  } catch {
    return { text, broke: true };
  }
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await sleep(10);
}

test('x-mock-status 429 gives each provider\'s rate-limit body with retry-after', async () => {
  const err = await openai.chat.completions.create(CHAT as any, { headers: { 'x-mock-status': '429', 'x-mock-retry-after': '7' } }).catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.RateLimitError);
  assert.equal(err.headers.get('retry-after'), '7');
  assert.equal((err.error as any).code, 'rate_limit_exceeded');

  const openaiBody = await post(mock, '/v1/chat/completions', CHAT, { 'x-mock-status': '429' });
  assertSameShape(JSON.parse(openaiBody.text), readFixtureJson('openai/error-insufficient-quota.json'));
  assert.equal(openaiBody.headers.get('retry-after'), '1');

  const anthropic = await post(mock, '/v1/messages', MESSAGES, { 'x-mock-status': '429' });
  assert.equal(anthropic.status, 429);
  assert.equal(anthropic.headers.get('retry-after'), '1');
  assertSameShape(JSON.parse(anthropic.text), readFixtureJson('anthropic/error-401-authentication.json'));
  assert.equal(JSON.parse(anthropic.text).error.type, 'rate_limit_error');

  const gemini = await post(mock, GEMINI_PATH, GEMINI, { 'x-mock-status': '429', 'x-mock-retry-after': '3' });
  const body = JSON.parse(gemini.text);
  assertSameShape(body, readFixtureJson('gemini/error-429-resource-exhausted.json'), ['details']);
  assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
  assert.deepEqual(body.error.details.find((d: any) => d['@type'].endsWith('RetryInfo')), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' });
});

test('x-mock-status gives the envelopes of the recorded errors for 401, 404, 500, 503 and 529', async () => {
  const openai401 = await post(mock, '/v1/chat/completions', CHAT, { 'x-mock-status': '401', authorization: 'Bearer sk-proj-abcdefghijklmnop1234' });
  assertSameShape(JSON.parse(openai401.text), readFixtureJson('openai/error-401-invalid-api-key.chat.json'));
  assert.ok(!openai401.text.includes('abcdefghijklmnop'), 'the key is masked');
  const openai404 = await post(mock, '/v1/chat/completions', CHAT, { 'x-mock-status': '404' });
  assertSameShape(JSON.parse(openai404.text), readFixtureJson('openai/error-404-model-not-found.chat.json'));
  for (const status of [500, 503]) {
    const res = await post(mock, '/v1/chat/completions', CHAT, { 'x-mock-status': String(status) });
    assert.equal(res.status, status);
    assert.equal(JSON.parse(res.text).error.type, 'server_error');
  }
  const anthropic404 = await post(mock, '/v1/messages', MESSAGES, { 'x-mock-status': '404' });
  assertSameShape(JSON.parse(anthropic404.text), readFixtureJson('anthropic/error-404-not-found-model.json'));
  assert.equal(JSON.parse(anthropic404.text).error.message, 'model: claude-haiku-4-5');
  const anthropic529 = await post(mock, '/v1/messages', MESSAGES, { 'x-mock-status': '529' });
  assert.equal(anthropic529.status, 529);
  assert.equal(JSON.parse(anthropic529.text).error.type, 'overloaded_error');
  const gemini404 = await post(mock, GEMINI_PATH, GEMINI, { 'x-mock-status': '404' });
  assertSameShape(JSON.parse(gemini404.text), readFixtureJson('gemini/error-404-model-not-found.json'));
  assert.match(JSON.parse(gemini404.text).error.message, /^models\/gemini-2\.5-flash is not found/);
});

test('x-mock-fail-after-chunks sends n events, then breaks the connection', async () => {
  const before = mock.brokenCount;
  const { text, broke } = await readUntilEnd('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-fail-after-chunks': '3', 'x-mock-chunks': '10' });
  assert.ok(broke, 'the body ends in an error, not a clean end');
  assert.equal(parseSse(text).length, 3);
  await until(() => mock.brokenCount > before);
  assert.equal(mock.brokenCount, before + 1);

  const stream = await openai.chat.completions.create({ ...CHAT, stream: true } as any, { headers: { 'x-mock-fail-after-chunks': '2', 'x-mock-chunks': '10' } });
  const seen: unknown[] = [];
  await assert.rejects(async () => {
    for await (const chunk of stream as any) seen.push(chunk);
  });
  assert.equal(seen.length, 2, 'the SDK saw two chunks, then a broken stream');

  const slow = await readUntilEnd('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-fail-after-chunks': '4', 'x-mock-chunk-delay-ms': '5' });
  assert.ok(slow.broke);
  assert.equal(parseSse(slow.text).length, 4);

  await assert.rejects(post(mock, '/v1/chat/completions', CHAT, { 'x-mock-fail-after-chunks': '1' }), 'a non-stream body is cut short too');
});

test('x-mock-error-after-chunks ends the stream with each provider\'s in-band error', async () => {
  const stream = await openai.chat.completions.create({ ...CHAT, stream: true } as any, { headers: { 'x-mock-error-after-chunks': '2' } });
  await assert.rejects(async () => {
    for await (const _ of stream as any);
  }, (err: any) => err instanceof OpenAI.APIError && /server had an error/.test(err.message));

  const responses = sseJson((await post(mock, '/v1/responses', { model: 'gpt-4o', input: 'hi', stream: true }, { 'x-mock-error-after-chunks': '3' })).text);
  assert.deepEqual(responses.map((p) => p.type).slice(-2), ['error', 'response.failed']);
  assert.deepEqual(responses.map((p) => p.sequence_number), [0, 1, 2, 3, 4]);
  assert.equal(responses.at(-1).response.status, 'failed');

  const anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'mock', maxRetries: 0 });
  const messageStream = anthropic.messages.stream(MESSAGES as any, { headers: { 'x-mock-error-after-chunks': '4' } });
  await assert.rejects(messageStream.finalMessage(), (err: any) => /overloaded_error|Overloaded/.test(String(err.message ?? err)));

  const gemini = await post(mock, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', GEMINI, { 'x-mock-error-after-chunks': '1' });
  const [first, rest] = [gemini.text.slice(0, gemini.text.indexOf('\r\n\r\n') + 4), gemini.text.slice(gemini.text.indexOf('\r\n\r\n') + 4)];
  assert.ok(first.startsWith('data: '));
  assert.equal(JSON.parse(rest).error.status, 'UNAVAILABLE', 'a bare JSON error after the first chunk');

  const whole = await post(mock, '/v1/messages', MESSAGES, { 'x-mock-error-after-chunks': '1' });
  assert.equal(whole.status, 529, 'a non-stream request gets the overloaded error');
});

test('x-mock-latency-ms delays the first byte; x-mock-chunk-delay-ms spaces the events', async () => {
  let started = performance.now();
  const res = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(CHAT), headers: { 'x-mock-latency-ms': '150' } });
  assert.ok(performance.now() - started >= 140, 'headers came after the latency');
  await res.text();

  started = performance.now();
  const { text } = await readUntilEnd('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-chunks': '4', 'x-mock-chunk-delay-ms': '40' });
  const events = parseSse(text).length;
  assert.ok(performance.now() - started >= (events - 1) * 40 - 20, `${events} events took ${performance.now() - started}ms`);
});

test('x-mock-hang never answers; the client timing out counts as aborted, and close() still returns', async () => {
  const hung = await startMockUpstream();
  await assert.rejects(fetch(`${hung.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(CHAT), headers: { 'x-mock-hang': '1' }, signal: AbortSignal.timeout(150) }));
  await until(() => hung.abortedCount === 1);
  assert.equal(hung.abortedCount, 1);
  assert.equal(hung.servedCount, 0);
  const pending = fetch(`${hung.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(CHAT), headers: { 'x-mock-hang': '1' } }).catch(() => 'closed');
  await until(() => hung.inFlight === 1);
  await hung.close();
  assert.equal(await pending, 'closed');
});

test('a client that disconnects mid-stream is counted as aborted and no longer written to', async () => {
  const served = mock.servedCount;
  const aborted = mock.abortedCount;
  const controller = new AbortController();
  const res = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...CHAT, stream: true }), headers: { 'x-mock-chunks': '200', 'x-mock-chunk-delay-ms': '10' }, signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await until(() => mock.abortedCount > aborted);
  assert.equal(mock.abortedCount, aborted + 1);
  assert.equal(mock.servedCount, served);
  await until(() => mock.inFlight === 0);
  assert.equal(mock.inFlight, 0);
});

test('the api key is checked the provider\'s way when set', async () => {
  const locked = await startMockUpstream({ apiKey: 'mock-secret-key-42' });
  try {
    const missing = JSON.parse((await post(locked, '/v1/chat/completions', CHAT)).text);
    assert.match(missing.error.message, /You didn't provide an API key/);
    const wrong = await post(locked, '/v1/chat/completions', CHAT, { authorization: 'Bearer sk-wrong-key-123456789' });
    assert.equal(wrong.status, 401);
    assert.equal(JSON.parse(wrong.text).error.code, 'invalid_api_key');
    assert.ok(!wrong.text.includes('sk-wrong-key-123456789'));
    assert.equal((await post(locked, '/v1/chat/completions', CHAT, { authorization: 'Bearer mock-secret-key-42' })).status, 200);

    const anthropic = await post(locked, '/v1/messages', MESSAGES, { 'x-api-key': 'nope' });
    assert.equal(anthropic.status, 401);
    assertSameShape(JSON.parse(anthropic.text), readFixtureJson('anthropic/error-401-authentication.json'));
    assert.equal(JSON.parse(anthropic.text).error.message, 'invalid x-api-key');
    assert.equal((await post(locked, '/v1/messages', MESSAGES, { 'x-api-key': 'mock-secret-key-42' })).status, 200);

    assert.equal((await post(locked, GEMINI_PATH, GEMINI)).status, 403);
    const badGemini = await post(locked, GEMINI_PATH, GEMINI, { 'x-goog-api-key': 'AIza-wrong' });
    assert.equal(badGemini.status, 400);
    assert.deepEqual(JSON.parse(badGemini.text), readFixtureJson('gemini/error-400-api-key-invalid.json'), 'the recorded API_KEY_INVALID body');
    assert.equal((await post(locked, `${GEMINI_PATH}?key=mock-secret-key-42`, GEMINI)).status, 200);
  } finally {
    await locked.close();
  }
});

test('failRate answers that share of requests with a 429/500/503 mix', async () => {
  const rolls = [0.01, 0.1, 0.01, 0.5, 0.01, 0.9, 0.99];
  const flaky = await startMockUpstream({ failRate: 0.5, random: () => rolls.shift() ?? 0.99 });
  try {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(flaky, '/v1/chat/completions', CHAT)).status);
    assert.deepEqual(statuses, [429, 500, 503, 200]);
  } finally {
    await flaky.close();
  }
});

test('requests are recorded in a capped ring, or not at all', async () => {
  const ring = await startMockUpstream({ maxRecorded: 3 });
  const off = await startMockUpstream({ record: false });
  try {
    for (let i = 0; i < 5; i++) await post(ring, '/v1/chat/completions', { ...CHAT, messages: [{ role: 'user', content: `n${i}` }] }, { 'x-trace': String(i) });
    assert.deepEqual(ring.requests.map((r) => (r.body as any).messages[0].content), ['n2', 'n3', 'n4']);
    assert.equal(ring.requests[2].headers['x-trace'], '4');
    assert.equal(ring.requests[2].path, '/v1/chat/completions');
    assert.equal(ring.servedCount, 5);
    await post(off, '/v1/chat/completions', CHAT);
    assert.equal(off.requests.length, 0);
    ring.reset();
    assert.equal(ring.requests.length, 0);
    assert.equal(ring.servedCount, 0);
  } finally {
    await ring.close();
    await off.close();
  }
});

test('identical requests get the same answer with fresh ids', async () => {
  const a = await post(mock, '/v1/chat/completions', CHAT);
  const b = await post(mock, '/v1/chat/completions', CHAT);
  const [first, second] = [JSON.parse(a.text), JSON.parse(b.text)];
  assert.notEqual(first.id, second.id);
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  assert.deepEqual(first.choices, second.choices);
});

test('bad input gets the provider\'s 400 and unknown paths a 404', async () => {
  const openaiBad = await post(mock, '/v1/chat/completions', '{not json');
  assert.equal(openaiBad.status, 400);
  assert.match(JSON.parse(openaiBad.text).error.message, /could not parse the JSON body/);
  const anthropicBad = await post(mock, '/v1/messages', { model: 'claude-haiku-4-5', messages: [] });
  assert.equal(JSON.parse(anthropicBad.text).error.message, 'max_tokens: Field required');
  assert.equal((await post(mock, GEMINI_PATH, '{')).status, 400);
  const unknown = await post(mock, '/v1/nope', {});
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.text).error.message, 'Invalid URL (POST /v1/nope)');
  assert.equal((await get(mock, '/healthz')).text, 'ok');
});

test('GET /v1/models lists the catalog in OpenAI\'s shape, or Anthropic\'s when anthropic-version is sent', async () => {
  const models = [];
  for await (const model of openai.models.list()) models.push(model.id);
  assert.ok(models.includes('gpt-4o') && !models.includes('claude-haiku-4-5'));
  const one = await openai.models.retrieve('gpt-4o');
  assert.equal(one.object, 'model');
  assert.equal((await get(mock, '/v1/models/nope')).status, 404);

  const anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'mock', maxRetries: 0 });
  const claude = [];
  for await (const model of anthropic.models.list()) claude.push(model.id);
  assert.ok(claude.includes('claude-haiku-4-5') && !claude.includes('gpt-4o'));
  const gemini = JSON.parse((await get(mock, '/v1beta/models')).text);
  assert.ok(gemini.models.some((m: any) => m.name === 'models/gemini-2.5-flash'));
});
