// Virtual keys, model confinement, rate limits and output caps as a user meets them:
// keys made through the admin API, used with the official openai SDK against a real
// gateway. The secrets-at-rest proof runs the gateway as its own process, so its
// database files and everything it printed can be searched for a secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { hashSecret } from '../src/keys/secret.ts';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { localModelsYaml, PROVIDER_KEY } from './support/stack.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';
import type { AdminApi } from './support/admin.ts';
import { spawnGateway } from './support/child-gateway.ts';

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    yaml: `${localModelsYaml(mock.url)}keys:\n  test_key_models: [tier:nano]\n`,
    env: { OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: PROVIDER_KEY, SWITCHYARD_MASTER_KEY: MASTER_KEY },
  });
  admin = adminApi(gw.origin);
});
after(async () => {
  await gw.close();
  await mock.close();
});

const client = (apiKey: string, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) => new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0, ...options });
const ask = (c: OpenAI, model = 'gpt-5.4-mini', extra: Record<string, unknown> = {}) =>
  c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hello' }], ...extra }).withResponse();

/** The SDK's error for a call that must fail. */
async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  assert.fail('the call succeeded but should have been refused');
}

const upstreamIds = () => new Set(mock.requests.map((r) => r.headers['x-client-request-id']));

test('a key created through the admin API works with the SDK, and its request is logged under it', async () => {
  const key = await admin.createKey({ name: 'e2e-basic' });
  assert.match(key.key, /^sy_live_[A-Za-z0-9]{32}$/);
  assert.equal(key.prefix, key.key.slice(0, 12));
  const { data, response } = await ask(client(key.key));
  assert.match(data.choices[0].message.content ?? '', /Say hello/);
  const requestId = response.headers.get('x-request-id')!;
  assert.ok(upstreamIds().has(requestId));
  const [row] = await admin.settledRows(key.id, 1);
  assert.equal(row.request_id, requestId);
  assert.equal(row.status, 200);
  const listed = await admin.call('GET', '/admin/keys');
  assert.ok(!JSON.stringify(listed.body).includes(key.key), 'a key list never shows a secret');
});

test('a revoked key gets a 401 that says it was revoked, and never reaches the upstream', async () => {
  const key = await admin.createKey({ name: 'e2e-revoke' });
  const sdk = client(key.key);
  await ask(sdk);
  assert.equal((await admin.call('POST', `/admin/keys/${key.id}/revoke`)).status, 200);
  const before = mock.requests.length;
  const error = await refusal(ask(sdk));
  assert.equal(error.status, 401);
  assert.equal(error.code, 'key_revoked');
  assert.match(error.message, /was revoked/);
  assert.ok(!error.message.includes(key.key), 'the error shows a prefix, never the secret');
  assert.ok(error.message.includes(key.prefix));
  assert.equal(mock.requests.length, before);
  assert.equal((await admin.key(key.id)).status, 'revoked');
});

test('an expired key gets a 401 that says when it expired', async () => {
  const key = await admin.createKey({ name: 'e2e-expire', expires_at: new Date(Date.now() + 3_600_000).toISOString() });
  const sdk = client(key.key);
  await ask(sdk);
  const past = new Date(Date.now() - 1000).toISOString();
  assert.equal((await admin.call('PATCH', `/admin/keys/${key.id}`, { expires_at: past })).status, 200);
  const error = await refusal(ask(sdk));
  assert.equal(error.status, 401);
  assert.equal(error.code, 'key_expired');
  assert.match(error.message, new RegExp(`expired at ${past.replace(/[.]/g, '\\.')}`));
  assert.equal((await admin.key(key.id)).status, 'expired');
});

test('rotation: the old secret stops working at once, the new one works, and the key keeps its id and budget', async () => {
  const key = await admin.createKey({ name: 'e2e-rotate', budgets: [{ limit_usd: 5, period: 'month' }] });
  await ask(client(key.key));
  const rotated = await admin.call('POST', `/admin/keys/${key.id}/rotate`);
  assert.equal(rotated.status, 200);
  const fresh: string = rotated.body.key;
  assert.notEqual(fresh, key.key);
  assert.equal(rotated.body.id, key.id);
  const error = await refusal(ask(client(key.key)));
  assert.equal(error.status, 401);
  assert.equal(error.code, 'key_rotated');
  assert.match(error.message, /replaced by rotation/);
  await ask(client(fresh));
  // The refused old secret is not the key any more: its 401 is logged as unauthenticated.
  const rows = await admin.settledRows(key.id, 2);
  assert.deepEqual(rows.map((r) => r.status), [200, 200], 'both secrets bill the same key');
  const view = await admin.key(key.id);
  assert.equal(view.budgets.length, 1);
  assert.ok(view.budgets[0].spent_usd > 0);
  assert.equal(view.prefix, fresh.slice(0, 12));
});

test('an unknown key of the right shape is refused as unknown', async () => {
  const error = await refusal(ask(client(`sy_live_${'x'.repeat(32)}`)));
  assert.equal(error.status, 401);
  assert.equal(error.code, 'invalid_api_key');
});

test('a test key is confined to the configured models: 403 lists what it may use; /v1/models lists only those', async () => {
  const key = await admin.createKey({ name: 'e2e-test-key', env: 'test' });
  assert.match(key.key, /^sy_test_/);
  const sdk = client(key.key);
  const before = mock.requests.length;
  const error = await refusal(ask(sdk, 'gpt-5.4-mini'));
  assert.equal(error.status, 403);
  assert.equal(error.code, 'model_not_allowed');
  assert.match(error.message, /may not use model 'gpt-5\.4-mini'/);
  const mayUse = /It may use: (.+?)\. Test keys/.exec(error.message)?.[1].split(', ') ?? [];
  assert.ok(mayUse.includes('gpt-5.4-nano'), error.message);
  assert.ok(!mayUse.includes('gpt-5.4-mini'), error.message);
  assert.match(error.message, /confined to tier:nano/);
  assert.equal(mock.requests.length, before, 'a forbidden model is never called');

  const { data } = await ask(sdk, 'gpt-5.4-nano');
  assert.ok(data.choices[0].message.content);
  const listed = modelsOnly((await sdk.models.list()).data) as unknown as Array<{ id: string; tier: string }>;
  assert.ok(listed.length > 0);
  assert.deepEqual(listed.filter((m) => m.tier !== 'nano'), []);
  assert.ok(listed.some((m) => m.id === 'gpt-5.4-nano'));
  const all = modelsOnly((await client(MASTER_KEY).models.list()).data) as unknown as Array<{ id: string; tier: string }>;
  assert.deepEqual(listed.map((m) => m.id).sort(), all.filter((m) => m.tier === 'nano').map((m) => m.id).sort());
  assert.equal((await refusal(sdk.models.retrieve('gpt-5.4-mini'))).status, 403);
});

test('the 403 of a confined key lists exactly the models it can use here (those /v1/models shows it)', async () => {
  const key = await admin.createKey({ name: 'e2e-test-key-list', env: 'test' });
  const sdk = client(key.key);
  const error = await refusal(ask(sdk, 'gpt-5.4-mini'));
  const mayUse = /It may use: (.+?)\. Test keys/.exec(error.message)?.[1].split(', ') ?? [];
  const listed = modelsOnly((await sdk.models.list()).data).map((m) => m.id);
  assert.deepEqual(mayUse.sort(), listed.sort());
});

/** /v1/models lists the auto routes after the models; these tests compare the models. */
function modelsOnly<T extends { id: string }>(data: T[]): T[] {
  return data.filter((m) => (m as { kind?: string }).kind !== 'route');
}

test('allowed_models globs decide which models a key may call and see', async () => {
  const key = await admin.createKey({ name: 'e2e-globs', allowed_models: ['gpt-5.4-*', 'local-*'] });
  const sdk = client(key.key);
  await ask(sdk, 'gpt-5.4-mini');
  await ask(sdk, 'local-llama');
  for (const model of ['gpt-5.4', 'gpt-5.5']) {
    const error = await refusal(ask(sdk, model));
    assert.equal(error.status, 403, model);
    assert.match(error.message, /It may use: .*gpt-5\.4-nano/);
  }
  const listed = modelsOnly((await sdk.models.list()).data).map((m) => m.id).sort();
  const all = modelsOnly((await client(MASTER_KEY).models.list()).data).map((m) => m.id);
  assert.deepEqual(listed, all.filter((id) => /^(gpt-5\.4-.*|local-.*)$/.test(id)).sort());
  assert.ok(listed.includes('gpt-5.4-mini') && !listed.includes('gpt-5.4'));
});

function resetSeconds(value: string | null): number {
  const match = /^(?:(\d+)m)?(?:([\d.]+)s)?(?:(\d+)ms)?$/.exec(value ?? '');
  assert.ok(match && value, `x-ratelimit-reset-* in OpenAI's duration format: ${value}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) + Number(match[3] ?? 0) / 1000;
}

test('a rate-limited key gets x-ratelimit-* on every response, then a 429 with Retry-After', async () => {
  const key = await admin.createKey({ name: 'e2e-rpm', rate_limits: { rpm: 3, tpm: 500_000 } });
  const sdk = client(key.key);
  const responses = [
    (await ask(sdk)).response,
    (await ask(sdk, 'gpt-5.4-mini', { max_tokens: 20 })).response,
    (await sdk.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'stream' }] }).withResponse()).response,
  ];
  responses.forEach((response, i) => {
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(2 - i));
    const reset = resetSeconds(response.headers.get('x-ratelimit-reset-requests'));
    assert.ok(reset > 0 && reset <= 120, `a used request window resets in (0, 120] s, not ${reset}`);
    assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '500000');
    assert.ok(resetSeconds(response.headers.get('x-ratelimit-reset-tokens')) > 0);
  });
  const tokens = responses.map((r) => Number(r.headers.get('x-ratelimit-remaining-tokens')));
  // Without max_tokens a request counts the model's whole output maximum (128000 for gpt-5.4-mini) ...
  assert.ok(tokens[0] <= 500_000 - 128_000, `remaining ${tokens[0]}`);
  // ... and gets back what it did not use once it is answered; max_tokens 20 counts little.
  assert.ok(tokens[1] > tokens[0] && tokens[1] < 500_000 - 20, `remaining ${tokens[1]}`);
  assert.ok(tokens[2] < tokens[1], `remaining ${tokens[2]}`);
  const before = mock.requests.length;
  const error = await refusal(ask(sdk));
  assert.equal(error.status, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.match(error.message, /allows 3 requests per minute/);
  const retryAfter = Number(error.headers?.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120, `Retry-After ${retryAfter}`);
  assert.equal(error.headers?.get('x-ratelimit-remaining-requests'), '0');
  assert.equal(error.headers?.get('x-ratelimit-limit-requests'), '3');
  assert.equal(mock.requests.length, before, 'a refused request is not sent upstream');
});

test("the SDK's own retry waits for Retry-After on a busy concurrency slot, then succeeds", async () => {
  const key = await admin.createKey({ name: 'e2e-concurrent', rate_limits: { concurrent: 1 } });
  const attempts: Array<{ start: number; end: number; status: number; retryAfter: string | null }> = [];
  const recording: typeof fetch = async (input, init) => {
    const start = performance.now();
    const response = await fetch(input, init);
    attempts.push({ start, end: performance.now(), status: response.status, retryAfter: response.headers.get('retry-after') });
    return response;
  };
  const holding = client(key.key).chat.completions.create(
    { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'slow one' }] },
    { headers: { 'x-mock-latency-ms': '500' } },
  );
  // The slow request (the mock holds it 500 ms) must hold the slot before the second one starts.
  await waitFor(() => mock.requests.some((r) => (r.body as any)?.messages?.[0]?.content === 'slow one' && r.headers['x-mock-latency-ms'] === '500'));
  const started = performance.now();
  const { data } = await client(key.key, { maxRetries: 2, fetch: recording }).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'patient one' }] }).withResponse();
  const elapsed = performance.now() - started;
  await holding;
  assert.match(data.choices[0].message.content ?? '', /patient one/);
  assert.deepEqual(attempts.map((a) => a.status), [429, 200]);
  assert.equal(attempts[0].retryAfter, '1');
  const waited = attempts[1].start - attempts[0].end;
  // The SDK's own first backoff is 0.375-0.5 s; Retry-After says 1 s.
  assert.ok(waited >= 950 && waited < 1_600, `the SDK waited ${Math.round(waited)} ms between attempts`);
  assert.ok(elapsed < 2_500);
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lastUpstreamBody = () => mock.requests[mock.requests.length - 1].body as Record<string, unknown>;

test("output caps: the key's default goes upstream when none is asked, a larger ask is clamped, and the response says so", async () => {
  const key = await admin.createKey({ name: 'e2e-caps', max_output_tokens: { default: 50, max: 100 } });
  const sdk = client(key.key);

  const plain = await ask(sdk);
  assert.equal(lastUpstreamBody().max_completion_tokens, 50);
  assert.equal(lastUpstreamBody().max_tokens, undefined);
  assert.match(plain.response.headers.get('x-switchyard-warnings') ?? '', /default max_tokens 50 applied/);

  const big = await ask(sdk, 'gpt-5.4-mini', { max_tokens: 500 });
  assert.equal(lastUpstreamBody().max_tokens, 100);
  assert.match(big.response.headers.get('x-switchyard-warnings') ?? '', /max_tokens 500 clamped to 100/);

  const newer = await ask(sdk, 'gpt-5.4-mini', { max_completion_tokens: 500 });
  assert.equal(lastUpstreamBody().max_completion_tokens, 100);
  assert.match(newer.response.headers.get('x-switchyard-warnings') ?? '', /clamped to 100/);

  const small = await ask(sdk, 'gpt-5.4-mini', { max_tokens: 80 });
  assert.equal(lastUpstreamBody().max_tokens, 80);
  assert.equal(small.response.headers.get('x-switchyard-warnings'), null);
});

test('output caps set to refuse: a larger ask gets a 400 naming the field and the cap, and is not sent', async () => {
  const key = await admin.createKey({ name: 'e2e-caps-refuse', max_output_tokens: { max: 100, on_exceed: 'refuse' } });
  const before = mock.requests.length;
  const error = await refusal(ask(client(key.key), 'gpt-5.4-mini', { max_tokens: 500 }));
  assert.equal(error.status, 400);
  assert.equal(error.code, 'max_tokens_too_large');
  assert.equal(error.param, 'max_tokens');
  assert.match(error.message, /max_tokens 500 is above .* 100 tokens/);
  assert.equal(mock.requests.length, before);
});

test('secrets are hashed at rest: none is in the SQLite file, its -wal/-shm, or anything the gateway printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-secrets-'));
  const db = join(dir, 'keys.db');
  const child = await spawnGateway({
    cwd: dir,
    env: {
      SWITCHYARD_DB: db, SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'debug',
      OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: PROVIDER_KEY,
    },
  });
  try {
    const api = adminApi(child.origin);
    const use = (secret: string) => new OpenAI({ baseURL: child.baseURL, apiKey: secret, maxRetries: 0 }).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] });
    const live = await api.createKey({ name: 'at-rest-live', budgets: [{ limit_usd: 1, period: 'day' }] });
    const test = await api.createKey({ name: 'at-rest-test', env: 'test' });
    const rotating = await api.createKey({ name: 'at-rest-rotating' });
    await use(live.key);
    await use(test.key);
    await use(rotating.key);
    const rotated = (await api.call('POST', `/admin/keys/${rotating.id}/rotate`)).body.key as string;
    await use(rotated);
    await refusal(use(rotating.key));
    await api.call('POST', `/admin/keys/${test.id}/revoke`);
    await refusal(use(test.key));
    await refusal(use(`${live.key.slice(0, -1)}${live.key.endsWith('Z') ? 'Y' : 'Z'}`));
    await api.settledRows(live.id, 1);
    const secrets = [live.key, test.key, rotating.key, rotated, MASTER_KEY, PROVIDER_KEY];
    const files = () => [db, `${db}-wal`, `${db}-shm`].filter(existsSync).map((f) => ({ f, text: readFileSync(f).toString('latin1') }));
    const scan = (where: string, text: string) => {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${where} holds a secret beginning ${secret.slice(0, 8)}`);
    };
    const running = files();
    assert.ok(running.length >= 2, 'the database runs in WAL mode');
    for (const { f, text } of running) scan(f, text);
    // The check looks in the right place: the hashes and shown prefixes are there.
    const stored = running.map((x) => x.text).join('');
    for (const secret of [live.key, test.key, rotated]) assert.ok(stored.includes(hashSecret(secret)), 'the hash is what is stored');
    assert.ok(stored.includes(live.prefix));

    await child.stop();
    for (const { f, text } of files()) scan(f, text);
    assert.match(child.output(), /listening on/);
    scan('the gateway output', child.output());
  } catch (error) {
    console.log(child.output());
    throw error;
  } finally {
    await child.crash();
    rmSync(dir, { recursive: true, force: true });
  }
});
