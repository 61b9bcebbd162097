// GET /metrics through the real gateway, parsed by a Prometheus text-format parser: the
// counts, tokens and cost match the requests the test made (and the ledger), failed
// upstream attempts and budget refusals are counted, the endpoint takes the admin key,
// and metrics.listen serves them on an address of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { parseExposition, select, sum as total } from './support/prometheus.ts';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { createMetricsServer } from '../src/observability/metrics-endpoint.ts';
import { startGateway, ledgerRow, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';

let mock: MockUpstream;
let gw: TestGateway;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({});
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  openai: { base_url: ${mock.url}/v1, api_key: mock-provider-secret-0001, forward_headers: [x-mock-*] }
routing:
  retry: { attempts: 0 }
`,
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

async function scrape(origin = gw.origin, key: string | null = MASTER_KEY) {
  const res = await fetch(`${origin}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const samples = (text: string, name: string, match: Record<string, string> = {}) => select(parseExposition(text), name, match);

test('counts, tokens, cost and latency match the requests made and their ledger rows', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { response } = await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: `hello ${i}` }] }).withResponse();
    ids.push(response.headers.get('x-request-id')!);
  }
  const stream = await client.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'stream' }] }).withResponse();
  for await (const _ of stream.data) { /* drain */ }
  ids.push(stream.response.headers.get('x-request-id')!);
  const rows = await Promise.all(ids.map((id) => ledgerRow(gw.ledger, id)));

  const { status, type, text } = await scrape();
  assert.equal(status, 200);
  assert.match(type!, /^text\/plain; version=0\.0\.4/);
  const ok = samples(text, 'switchyard_requests_total', { model: 'gpt-5.4-mini', status: '200', endpoint: 'chat', provider: 'openai', tier: 'mini' });
  assert.equal(total(ok), 4);
  assert.equal(ok[0].labels.key_id, rows[0].keyId);
  const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + pick(r), 0);
  assert.equal(total(samples(text, 'switchyard_tokens_total', { model: 'gpt-5.4-mini', kind: 'input' })), sum((r) => r.usage.inputTokens));
  assert.equal(total(samples(text, 'switchyard_tokens_total', { model: 'gpt-5.4-mini', kind: 'output' })), sum((r) => r.usage.outputTokens));
  const cost = total(samples(text, 'switchyard_cost_usd_total', { model: 'gpt-5.4-mini' }));
  assert.ok(Math.abs(cost - sum((r) => r.costUsd)) < 1e-12, `${cost} vs ${sum((r) => r.costUsd)}`);
  assert.equal(total(samples(text, 'switchyard_request_duration_seconds_count', { model: 'gpt-5.4-mini', status_class: '2xx' })), 4);
  assert.equal(total(samples(text, 'switchyard_request_duration_seconds_bucket', { model: 'gpt-5.4-mini', status_class: '2xx', le: '+Inf' })), 4);
  assert.equal(total(samples(text, 'switchyard_time_to_first_token_seconds_count', { model: 'gpt-5.4-mini' })), 1, 'one stream, one time to first token');
  const [depth] = samples(text, 'switchyard_ledger_queue_depth');
  assert.ok(depth && depth.value >= 0, 'the ledger queue depth is read at scrape time');
});

test('failed upstream attempts and budget refusals are counted by provider, status and reason', async () => {
  const failed = await client.chat.completions.create({ model: 'gpt-5.4-nano', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '503' } }).catch((e) => e);
  assert.equal(failed.status, 503);
  const admin = adminApi(gw.origin);
  const key = await admin.createKey({ name: 'broke', budgets: [{ limit_usd: 0.0000001, period: 'day' }] });
  const broke = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
  const refused = await broke.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
  assert.equal(refused.code, 'insufficient_quota');
  const { text } = await scrape();
  assert.equal(total(samples(text, 'switchyard_upstream_errors_total', { provider: 'openai', model: 'gpt-5.4-nano', status: '503' })), 1);
  assert.equal(total(samples(text, 'switchyard_refusals_total', { reason: 'budget' })), 1);
  assert.equal(total(samples(text, 'switchyard_requests_total', { key_id: key.id, status: '429' })), 1);
  await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sy_live_nope' }, body: '{}' });
  assert.ok(total(samples((await scrape()).text, 'switchyard_unauthenticated_refusals')) >= 1);
});

test('GET /metrics takes the admin key: none or a virtual key gets a 401 in the OpenAI envelope', async () => {
  const none = await scrape(gw.origin, null);
  assert.equal(none.status, 401);
  assert.equal(JSON.parse(none.text).error.code, 'missing_admin_key');
  const key = await adminApi(gw.origin).createKey({ name: 'not-admin' });
  const wrong = await scrape(gw.origin, key.key);
  assert.equal(wrong.status, 401);
  assert.equal(JSON.parse(wrong.text).error.code, 'invalid_admin_key');
});

test('metrics.listen: the separate listener serves /metrics without a key and nothing else', async () => {
  const server = createMetricsServer(gw.gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { status, text } = await scrape(origin, null);
    assert.equal(status, 200);
    assert.ok(samples(text, 'switchyard_requests_total').length > 0);
    assert.equal((await fetch(`${origin}/v1/models`)).status, 404);
  } finally {
    server.close();
  }
});
