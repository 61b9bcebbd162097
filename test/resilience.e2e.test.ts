// Retries, Retry-After and circuit breakers, driven with the OpenAI SDK (its own retries
// off) through the gateway against fakes that fail on cue and record when each request came.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { readFixtureText } from '../src/testing/fixtures.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { serveOnLoopback } from './support/loopback.ts';
import { GATEWAY_KEY } from './support/stack.ts';

interface Failure { status: number; headers?: Record<string, string>; hang?: boolean }

/** An OpenAI chat upstream: request n gets script(n) (a failure) or the recorded answer. */
interface Fake { url: string; seen: number[]; script: (n: number) => Failure | undefined; close(): Promise<void> }

const ANSWER = readFixtureText('openai/chat-basic.json');

async function startFake(script: Fake['script']): Promise<Fake> {
  const fake = { seen: [] as number[], script } as Fake;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      fake.seen.push(Date.now());
      const failure = fake.script(fake.seen.length);
      if (!failure) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
        return;
      }
      if (failure.hang) return; // never answers; the socket closes with the server
      const body = JSON.stringify({ error: { message: `fake failure ${failure.status}`, type: 'server_error', param: null, code: null } });
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end(body);
    });
  });
  return Object.assign(fake, await serveOnLoopback(server));
}

let mock: MockUpstream;
let flaky: Fake;
let limited: Fake;
let down: Fake;
let gone: Fake;
let refusing: Fake;
let hanging: Fake;
let gw: TestGateway;
let client: OpenAI;
const COOLDOWN_MS = 300;
const ATTEMPT_TIMEOUT_MS = 1500;
const ADMIN_KEY = 'sy-admin-resilience-test-key';

async function deploymentRow(id: string): Promise<any> {
  const res = await fetch(`${gw.origin}/admin/deployments`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(res.status, 200);
  const list = await res.json();
  const row = list.data.find((d: any) => d.id === id);
  assert.ok(row, `${id} listed`);
  return row;
}

before(async () => {
  mock = await startMockUpstream({});
  flaky = await startFake((n) => (n <= 1 ? { status: 500 } : undefined));
  limited = await startFake((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : undefined));
  down = await startFake(() => ({ status: 503 }));
  gone = await startFake(() => ({ status: 502 }));
  refusing = await startFake(() => ({ status: 503 }));
  hanging = await startFake((n) => (n === 1 ? { status: 0, hang: true } : undefined));
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, SWITCHYARD_MASTER_KEY: ADMIN_KEY },
    yaml: `
providers:
  flaky: { kind: openai, base_url: ${flaky.url}, api_key: key-flaky }
  limited: { kind: openai, base_url: ${limited.url}, api_key: key-limited }
  down: { kind: openai, base_url: ${down.url}, api_key: key-down }
  healthy: { kind: openai, base_url: ${mock.url}/v1, api_key: key-healthy }
  gone: { kind: openai, base_url: ${gone.url}, api_key: key-gone }
  refusing: { kind: openai, base_url: ${refusing.url}, api_key: key-refusing }
  hanging: { kind: openai, base_url: ${hanging.url}, api_key: key-hanging }
deployments:
  gpt-5.4-mini: [{ provider: flaky }]
  gpt-5.4-nano: [{ provider: limited }]
  gpt-5.4: [{ provider: down }, { provider: healthy }]
  gpt-4.1: [{ provider: gone }]
  gpt-5: [{ provider: refusing }, { provider: healthy }]
  gpt-5-mini: [{ provider: hanging }]
  gpt-4.1-mini: [{ provider: healthy }]
fallbacks:
  gpt-4.1: [gpt-4.1-mini]
strategies:
  gpt-5.4: priority
  gpt-5: priority
routing:
  retry: { attempts: 2, base_ms: 1, max_ms: 5, max_retry_after_ms: 5000, attempt_timeout_ms: ${ATTEMPT_TIMEOUT_MS} }
  breaker: { failures: 3, cooldown_ms: ${COOLDOWN_MS} }
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await Promise.all([mock.close(), flaky.close(), limited.close(), down.close(), gone.close(), refusing.close(), hanging.close()]);
});

const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

async function attemptRows(requestId: string) {
  await ledgerRow(gw.ledger, requestId);
  return gw.ledger.entries.filter((e) => e.requestId === requestId && e.attempt > 0);
}

test('a 500 then success on the same deployment: the client gets the answer, the ledger both attempts', async () => {
  const { data, response } = await ask('gpt-5.4-mini');
  assert.ok(data.choices[0].message.content);
  assert.equal(flaky.seen.length, 2);
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5\.4-mini at flaky:gpt-5\.4-mini#0: 500 \S+$/);
  const rows = await attemptRows(response.headers.get('x-request-id')!);
  assert.deepEqual(rows.map((r) => [r.status, r.deploymentId]), [[500, 'flaky:gpt-5.4-mini#0'], [200, 'flaky:gpt-5.4-mini#0']]);
  assert.equal(rows[0].costUsd, 0);
  assert.ok(rows[1].costUsd > 0, 'the answering attempt is priced');
});

test('a 429 with Retry-After: 1 is retried no earlier than a second later', async () => {
  const { data } = await ask('gpt-5.4-nano');
  assert.ok(data.choices[0].message.content);
  assert.equal(limited.seen.length, 2);
  assert.ok(limited.seen[1] - limited.seen[0] >= 1000, `second request ${limited.seen[1] - limited.seen[0]} ms after the first`);
});

test('a deployment that is down opens its breaker: skipped without a call, probed after the cool-down, closed on success; /admin/deployments shows it', async () => {
  for (let i = 0; i < 3; i++) {
    const { response } = await ask('gpt-5.4');
    assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5.4#1');
    assert.equal(response.headers.get('x-switchyard-attempts'), '2');
    assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5\.4 at down:gpt-5\.4#0: 503 /);
  }
  assert.equal(down.seen.length, 3, 'each request tried the first deployment before the breaker opened');
  for (let i = 0; i < 5; i++) {
    const { response } = await ask('gpt-5.4');
    assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5.4#1');
    assert.equal((await attemptRows(response.headers.get('x-request-id')!)).length, 0, 'one attempt only: the open one was skipped');
    assert.equal(response.headers.get('x-switchyard-attempts'), '1', 'a skipped deployment is no attempt');
    assert.equal(response.headers.get('x-switchyard-fallback'), null);
  }
  assert.equal(down.seen.length, 3, 'no request reached the open deployment');
  const open = await deploymentRow('down:gpt-5.4#0');
  assert.equal(open.breaker.state, 'open');
  assert.equal(open.recent_error_rate, 1);
  assert.equal(open.in_flight, 0);
  const serving = await deploymentRow('healthy:gpt-5.4#1');
  assert.equal(serving.breaker.state, 'closed');
  assert.equal(serving.recent_calls, 8);
  assert.equal(serving.recent_error_rate, 0);
  assert.equal(typeof serving.ewma_ttfb_ms, 'number');

  down.script = () => undefined; // it recovers
  await sleep(COOLDOWN_MS + 100);
  const probe = await ask('gpt-5.4');
  assert.equal(probe.response.headers.get('x-switchyard-deployment'), 'down:gpt-5.4#0', 'the probe went to the recovered deployment');
  assert.equal(down.seen.length, 4);
  const after = await ask('gpt-5.4');
  assert.equal(after.response.headers.get('x-switchyard-deployment'), 'down:gpt-5.4#0', 'closed again: first choice again');
  assert.equal(down.seen.length, 5);
  assert.equal((await deploymentRow('down:gpt-5.4#0')).breaker.state, 'closed');
});

test('when every attempt on a model fails, the next model of its chain answers, and the client is told', async () => {
  const { data, response } = await ask('gpt-4.1');
  assert.ok(data.choices[0].message.content);
  assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4.1-mini');
  assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-4.1-mini#0');
  assert.equal(gone.seen.length, 3, 'the first model got its retries first');
  assert.equal(response.headers.get('x-switchyard-attempts'), '4');
  assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-4\.1 at gone:gpt-4\.1#0: 502 /);
  const id = response.headers.get('x-request-id')!;
  const row = await ledgerRow(gw.ledger, id);
  assert.equal(row.modelRequested, 'gpt-4.1');
  assert.equal(row.modelUsed, 'gpt-4.1-mini');
  const rows = await attemptRows(id);
  assert.deepEqual(rows.map((r) => [r.modelUsed, r.status]), [['gpt-4.1', 502], ['gpt-4.1', 502], ['gpt-4.1', 502], ['gpt-4.1-mini', 200]]);

  // Its breaker is open now: the next request goes straight to the fallback model, no call to the dead one.
  const again = await ask('gpt-4.1');
  assert.equal(again.response.headers.get('x-switchyard-model'), 'gpt-4.1-mini');
  assert.equal(gone.seen.length, 3);
  assert.equal(again.response.headers.get('x-switchyard-attempts'), '1');
  assert.equal(again.response.headers.get('x-switchyard-fallback'), 'from gpt-4.1: every deployment paused by its circuit breaker');
});

test('a stream that fails before its first byte is served by the next deployment, transparently', async () => {
  const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.ok(text.length > 0);
  assert.equal(refusing.seen.length, 1);
  assert.equal(response.headers.get('x-switchyard-deployment'), 'healthy:gpt-5#1');
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5 at refusing:gpt-5#0: 503 /);
});

test('an attempt that hangs is cut at the per-attempt timeout and retried', async () => {
  const { data, response } = await ask('gpt-5-mini');
  assert.ok(data.choices[0].message.content);
  assert.equal(hanging.seen.length, 2);
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  assert.match(response.headers.get('x-switchyard-fallback') ?? '', /^from gpt-5-mini at hanging:gpt-5-mini#0: 504 upstream_timeout$/);
  const rows = await attemptRows(response.headers.get('x-request-id')!);
  assert.ok(rows[0].latencyMs >= ATTEMPT_TIMEOUT_MS - 50, `the first attempt lasted ${rows[0].latencyMs} ms, its limit`);
});

test('a key that may not use the fallback model is not served by it', async () => {
  const created = await fetch(`${gw.origin}/admin/keys`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'only-gpt-4.1', allowed_models: ['gpt-4.1'] }),
  });
  assert.equal(created.status, 201);
  const { key } = await created.json();
  const confined = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
  const servedBefore = mock.requests.filter((r) => (r.body as any)?.model === 'gpt-4.1-mini').length;
  const err = await confined.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => assert.fail('expected the call to fail'), (e) => e);
  assert.ok(err instanceof OpenAI.APIError, String(err));
  assert.ok(err.status >= 500, `status ${err.status}`);
  assert.equal(mock.requests.filter((r) => (r.body as any)?.model === 'gpt-4.1-mini').length, servedBefore, 'nothing reached the fallback model');
});
