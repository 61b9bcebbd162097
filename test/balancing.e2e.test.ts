// Balancing strategies, driven with the OpenAI SDK through the gateway against two fake
// deployments of one model, one fast (~5 ms) and one slow (~250 ms), counting the requests
// each got. The assertions are on counts only: which deployment the gateway chose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import { readFixtureText } from '../src/testing/fixtures.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { serveOnLoopback } from './support/loopback.ts';
import { GATEWAY_KEY } from './support/stack.ts';

const ANSWER = readFixtureText('openai/chat-basic.json');

/** An OpenAI chat upstream answering the recorded completion after `delayMs`; counts requests per model asked for. */
interface Fake { url: string; counts: Map<string, number>; close(): Promise<void> }

async function startFake(delayMs: number): Promise<Fake> {
  const fake = { counts: new Map<string, number>() } as Fake;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const model: string = JSON.parse(Buffer.concat(chunks).toString('utf8')).model;
      fake.counts.set(model, (fake.counts.get(model) ?? 0) + 1);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER), delayMs);
    });
  });
  return Object.assign(fake, await serveOnLoopback(server));
}

let fast: Fake;
let slow: Fake;
let gw: TestGateway;
let client: OpenAI;

before(async () => {
  fast = await startFake(5);
  // Far apart, so the gateway's own per-request time on a loaded machine cannot even the split out.
  slow = await startFake(250);
  // The slow deployment is listed first everywhere, so configured order alone would favour it.
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
    yaml: `
providers:
  fast: { kind: openai, base_url: ${fast.url}, api_key: key-fast }
  slow: { kind: openai, base_url: ${slow.url}, api_key: key-slow }
deployments:
  gpt-5.4: [{ provider: slow }, { provider: fast }]
  gpt-5.4-mini: [{ provider: slow }, { provider: fast }]
  gpt-5.4-nano: [{ provider: slow }, { provider: fast }]
strategies:
  gpt-5.4: least-busy
  gpt-5.4-mini: lowest-latency
  gpt-5.4-nano: priority
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await Promise.all([fast.close(), slow.close()]);
});

/** `total` chat calls to `model`, `inFlight` at a time; every one must be answered. */
async function load(model: string, total: number, inFlight: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      assert.ok(data.choices[0].message.content);
      assert.equal(response.headers.get('x-switchyard-attempts'), '1');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

const count = (fake: Fake, model: string) => fake.counts.get(model) ?? 0;

test('least-busy under concurrent load: the fast deployment frees up sooner and takes clearly more', async (t) => {
  await load('gpt-5.4', 200, 16);
  const f = count(fast, 'gpt-5.4');
  const s = count(slow, 'gpt-5.4');
  t.diagnostic(`fast ${f}, slow ${s}`);
  assert.equal(f + s, 200);
  assert.ok(f >= 1.5 * s, `fast ${f}, slow ${s}: expected at least half as many again on the fast one (weighted would split about evenly)`);
  assert.ok(s > 0, 'the slow one still takes its share of the concurrency');
});

test('lowest-latency after warm-up: the fast deployment gets the large majority, the slow one a few exploration probes', async (t) => {
  await load('gpt-5.4-mini', 10, 1);
  const warmFast = count(fast, 'gpt-5.4-mini');
  const warmSlow = count(slow, 'gpt-5.4-mini');
  assert.ok(warmFast > 0 && warmSlow > 0, 'warm-up measured both');
  await load('gpt-5.4-mini', 200, 4);
  const f = count(fast, 'gpt-5.4-mini') - warmFast;
  const s = count(slow, 'gpt-5.4-mini') - warmSlow;
  t.diagnostic(`fast ${f}, slow ${s}`);
  assert.equal(f + s, 200);
  assert.ok(f >= 160, `fast ${f} of 200 after warm-up`);
  assert.ok(s >= 1, `slow ${s}: exploration still probes it`);
});

test('priority: the second deployment never gets traffic while the first is healthy, even though it is faster', async () => {
  await load('gpt-5.4-nano', 200, 16);
  assert.equal(count(slow, 'gpt-5.4-nano'), 200);
  assert.equal(count(fast, 'gpt-5.4-nano'), 0);
});
