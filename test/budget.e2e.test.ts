// Hard budgets and cost accounting through the real gateway with the official openai
// SDK: hundreds of concurrent requests against a budget, a per-model budget inside a
// key, streams that end early, and the usage report (admin API and `switchyard usage`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import type { RequestRow, UsageRow } from '../src/store/types.ts';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { pricedMockYaml } from './support/stack.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import type { AdminApi } from './support/admin.ts';
import { CLI } from './support/child-gateway.ts';

// Output at $1000 per 1M tokens and free input: with max_tokens 5 (and an answer longer
// than that) every request costs exactly its reserved worst case, $0.005.
const PER_REQUEST_USD = 0.005;
const pricedYaml = (mockUrl: string) => pricedMockYaml(mockUrl, { 'gpt-5.4-mini': { input: 0, output: 1000 }, 'gpt-5.4-nano': { input: 0, output: 1000 } });

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;

before(async () => {
  mock = await startMockUpstream({ maxRecorded: 2000 });
  gw = await startGateway({ yaml: pricedYaml(mock.url), env: { SWITCHYARD_MASTER_KEY: MASTER_KEY } });
  admin = adminApi(gw.origin);
});
after(async () => {
  await gw.close();
  await mock.close();
});

const client = (apiKey: string) => new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0 });
const PROMPT = [{ role: 'user' as const, content: 'Tell me a long story about rivers, mountains and the sea' }];

interface Outcome { ok: boolean; model: string; requestId?: string; error?: InstanceType<typeof OpenAI.APIError> }

async function fire(sdk: OpenAI, models: string[]): Promise<Outcome[]> {
  return Promise.all(models.map(async (model): Promise<Outcome> => {
    try {
      const { data, response } = await sdk.chat.completions.create({ model, max_tokens: 5, messages: PROMPT }).withResponse();
      assert.equal(data.usage?.completion_tokens, 5, 'every answer uses its whole max_tokens');
      return { ok: true, model, requestId: response.headers.get('x-request-id')! };
    } catch (error) {
      if (error instanceof OpenAI.APIError && error.status !== undefined) return { ok: false, model, error };
      throw error;
    }
  }));
}

/** The refusal names the budget, what it spent, its limit and when it resets. */
function assertBudgetRefusal(error: InstanceType<typeof OpenAI.APIError>, keyName: string, budget: RegExp, limitUsd: number): void {
  assert.equal(error.status, 429, error.message);
  assert.equal(error.code, 'insufficient_quota');
  assert.equal(error.type, 'insufficient_quota');
  assert.match(error.message, new RegExp(`^(429 )?Budget exceeded: the key '${keyName}' \\(sy_live_\\w{4}…\\) ${budget.source} has spent \\$`));
  const spent = Number(/has spent \$([\d.]+) of its \$([\d.]+) limit/.exec(error.message)?.[1]);
  const limit = Number(/of its \$([\d.]+) limit/.exec(error.message)?.[1]);
  assert.equal(limit, limitUsd);
  assert.ok(spent >= 0 && spent <= limitUsd, `spent ${spent} within the limit`);
  assert.match(error.message, /It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z \(UTC calendar day\)/);
  assert.match(error.headers?.get('x-switchyard-budget-resets-at') ?? '', /^\d{4}-\d\d-\d\dT00:00:00\.000Z$/);
}

function servedUpstream(ids: Set<string>): number {
  return mock.requests.filter((r) => ids.has(String(r.headers['x-client-request-id']))).length;
}

test('500 concurrent requests against a hard budget that affords 100: spend never passes it, and every refusal says why', async () => {
  const limit = 100 * PER_REQUEST_USD;
  const key = await admin.createKey({ name: 'burst', budgets: [{ limit_usd: limit, period: 'day' }] });
  mock.reset();
  const outcomes = await fire(client(key.key), Array.from({ length: 500 }, () => 'gpt-5.4-mini'));
  const served = outcomes.filter((o) => o.ok);
  const refused = outcomes.filter((o) => !o.ok);
  for (const o of refused) assertBudgetRefusal(o.error!, 'burst', /daily budget/, limit);
  // Each answer costs exactly what was reserved, so the budget is used to the cent, never past it.
  assert.equal(served.length, 100);
  const servedIds = new Set(served.map((o) => o.requestId!));
  assert.equal(mock.requests.length, served.length, 'the upstream got exactly the admitted requests');
  assert.equal(servedUpstream(servedIds), served.length);
  assert.equal(mock.servedCount, served.length);

  const rows = await admin.settledRows(key.id, 500);
  assert.equal(rows.length, 500);
  assert.deepEqual(new Set(rows.filter((r) => r.status === 200).map((r) => r.request_id)), servedIds);
  assert.ok(rows.filter((r) => r.status !== 200).every((r) => r.status === 429 && r.error_code === 'insufficient_quota' && r.cost_usd === 0));
  const [budget] = (await admin.key(key.id)).budgets;
  assert.ok(budget.spent_usd <= limit);
  assert.equal(budget.spent_usd, sumUsd(rows.map((r) => r.cost_usd)));
  assert.equal(budget.spent_usd, sumUsd(served.map(() => PER_REQUEST_USD)));
  assert.equal(budget.reserved_usd, 0);
  const [usage] = await admin.usage({ key_id: key.id, group_by: 'key' });
  assert.equal(usage.cost_usd, budget.spent_usd);
  assert.equal(usage.requests, 500);
  assert.equal(usage.output_tokens, 5 * served.length);
});

test('a per-model budget inside a key refuses only that model', async () => {
  const limit = 20 * PER_REQUEST_USD;
  const key = await admin.createKey({ name: 'per-model', budgets: [{ limit_usd: limit, period: 'day', model: 'gpt-5.4-mini' }] });
  mock.reset();
  const models = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 'gpt-5.4-mini' : 'gpt-5.4-nano'));
  const outcomes = await fire(client(key.key), models);
  const mini = outcomes.filter((o) => o.model === 'gpt-5.4-mini');
  const nano = outcomes.filter((o) => o.model === 'gpt-5.4-nano');
  assert.equal(mini.filter((o) => o.ok).length, 20);
  for (const o of mini.filter((o) => !o.ok)) assertBudgetRefusal(o.error!, 'per-model', /daily budget for gpt-5\.4-mini/, limit);
  assert.deepEqual(nano.filter((o) => !o.ok).map((o) => o.error?.message), [], 'the other model is never refused');
  assert.equal(mock.requests.length, 20 + 60);

  const rows = await admin.settledRows(key.id, 120);
  const [budget] = (await admin.key(key.id)).budgets;
  assert.equal(budget.model, 'gpt-5.4-mini');
  assert.equal(budget.spent_usd, sumUsd(rows.filter((r) => r.model_used === 'gpt-5.4-mini').map((r) => r.cost_usd)));
  assert.ok(budget.spent_usd <= limit);
  const byModel = await admin.usage({ key_id: key.id, group_by: 'model' });
  assert.equal(byModel.find((u) => u.model === 'gpt-5.4-mini')?.cost_usd, budget.spent_usd);
  assert.equal(byModel.find((u) => u.model === 'gpt-5.4-nano')?.cost_usd, sumUsd(nano.map(() => PER_REQUEST_USD)));
});

test('a spent budget is refused at once: the SDK, with its default retries, does not try again', async () => {
  const key = await admin.createKey({ name: 'spent', budgets: [{ limit_usd: 2 * PER_REQUEST_USD, period: 'day' }] });
  const calls: number[] = [];
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    calls.push(response.status);
    return response;
  };
  const sdk = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, fetch: counting }); // default maxRetries: 2
  await fire(sdk, ['gpt-5.4-mini', 'gpt-5.4-mini']);
  await admin.settledRows(key.id, 2);
  calls.length = 0;
  const started = performance.now();
  const [outcome] = await fire(sdk, ['gpt-5.4-mini']);
  assert.equal(outcome.ok, false);
  assertBudgetRefusal(outcome.error!, 'spent', /daily budget/, 2 * PER_REQUEST_USD);
  assert.equal(outcome.error!.headers?.get('x-should-retry'), 'false');
  assert.deepEqual(calls, [429], 'one request: retrying cannot help before the budget resets');
  assert.ok(performance.now() - started < 300);
});

/** The request's rows: exactly one request row (attempt 0) and no attempt rows. */
async function onlyRow(keyId: string, requestId: string): Promise<RequestRow> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const rows = (await admin.requests(keyId)).filter((r) => r.request_id === requestId);
    const reserved = (await admin.key(keyId)).budgets[0].reserved_usd;
    if (rows.length > 0 && reserved === 0) {
      assert.deepEqual(rows.map((r) => r.attempt), [0], 'billed once');
      return rows[0];
    }
    if (Date.now() > deadline) throw new Error(`no settled row for ${requestId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function modelPricing(model: string): Promise<{ input: number; cached_input: number; output: number }> {
  const res = await fetch(`${gw.baseURL}/models/${model}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  return ((await res.json()) as any).pricing;
}

/** What the gateway should bill for these tokens, by the model's listed prices. */
async function expectedCost(row: RequestRow): Promise<number> {
  const p = await modelPricing(row.model_used!);
  return Math.round(((row.input_tokens - row.cached_input_tokens) * p.input + row.cached_input_tokens * p.cached_input + row.output_tokens * p.output) / 1e6 * 1e8) / 1e8;
}

/** The input tokens the upstream reports for this prompt when a stream runs to its end. */
async function fullStreamPromptTokens(sdk: OpenAI, model: string, content: string): Promise<number> {
  const stream = await sdk.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, max_tokens: 3, messages: [{ role: 'user', content }] });
  let prompt = 0;
  for await (const chunk of stream) if (chunk.usage) prompt = chunk.usage.prompt_tokens;
  return prompt;
}

test('a stream whose upstream dies mid-way is billed once, for the tokens it produced', async () => {
  const key = await admin.createKey({ name: 'upstream-death', budgets: [{ limit_usd: 10, period: 'day' }] });
  const sdk = client(key.key);
  const content = 'Stream a long answer about rivers please';
  const promptTokens = await fullStreamPromptTokens(sdk, 'gpt-5.4', content);
  await admin.settledRows(key.id, 1);
  const spentBefore = (await admin.key(key.id)).budgets[0].spent_usd;

  const { data: stream, response } = await sdk.chat.completions
    .create({ model: 'gpt-5.4', stream: true, messages: [{ role: 'user', content }] }, { headers: { 'x-mock-chunks': '30', 'x-mock-fail-after-chunks': '6' } })
    .withResponse();
  let deltas = 0;
  let failure: unknown;
  try {
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) deltas++;
  } catch (error) {
    failure = error;
  }
  assert.ok(failure instanceof OpenAI.APIError, 'the client is told the stream broke');
  assert.ok(deltas > 0 && deltas < 30);

  const row = await onlyRow(key.id, response.headers.get('x-request-id')!);
  assert.ok(row.status >= 500, `status ${row.status}`);
  assert.equal(row.output_tokens, deltas, 'billed for the deltas produced, not the whole answer');
  assert.equal(row.input_tokens, promptTokens, 'input counted as the upstream counts it');
  assert.equal(row.cost_usd, await expectedCost(row));
  assert.ok(row.cost_usd > 0);
  const spent = (await admin.key(key.id)).budgets[0].spent_usd;
  assert.equal(Math.round((spent - spentBefore) * 1e8) / 1e8, row.cost_usd, 'the budget is charged once, by the row');
});

test('a stream the client walks away from is billed once, for what was sent, and the upstream call is stopped', async () => {
  const key = await admin.createKey({ name: 'client-gone', budgets: [{ limit_usd: 10, period: 'day' }] });
  const sdk = client(key.key);
  const content = 'Stream me something slowly';
  const promptTokens = await fullStreamPromptTokens(sdk, 'gpt-5.4', content);
  await admin.settledRows(key.id, 1);
  const spentBefore = (await admin.key(key.id)).budgets[0].spent_usd;
  const abortedBefore = mock.abortedCount;

  const { data: stream, response } = await sdk.chat.completions
    .create({ model: 'gpt-5.4', stream: true, messages: [{ role: 'user', content }] }, { headers: { 'x-mock-chunks': '40', 'x-mock-chunk-delay-ms': '30' } })
    .withResponse();
  let deltas = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) deltas++;
    if (deltas === 5) break; // leaving the loop aborts the request
  }

  const row = await onlyRow(key.id, response.headers.get('x-request-id')!);
  assert.equal(row.status, 499);
  assert.ok(row.output_tokens >= 5 && row.output_tokens <= 10, `billed ${row.output_tokens} output tokens for about 5 sent`);
  assert.equal(row.input_tokens, promptTokens);
  assert.equal(row.cost_usd, await expectedCost(row));
  const spent = (await admin.key(key.id)).budgets[0].spent_usd;
  assert.equal(Math.round((spent - spentBefore) * 1e8) / 1e8, row.cost_usd);
  const deadline = Date.now() + 2_000;
  while (mock.abortedCount === abortedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(mock.abortedCount, abortedBefore + 1, 'the gateway hung up on the upstream too');
});

test('a non-stream answer cut off mid-body is an upstream error naming the provider, billed once for the prompt', async () => {
  const key = await admin.createKey({ name: 'cut-body', budgets: [{ limit_usd: 10, period: 'day' }] });
  const error = await client(key.key).chat.completions
    .create({ model: 'gpt-5.4', messages: PROMPT }, { headers: { 'x-mock-fail-after-chunks': '1' } })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof OpenAI.APIError);
  assert.notEqual(error.code, 'internal_error');
  assert.ok(error.status === 502 || error.status === 504, `status ${error.status}`);
  assert.match(error.message, /openai/);
  const [row] = await admin.settledRows(key.id, 1);
  assert.equal(row.provider, 'openai');
  assert.ok(row.input_tokens > 0 && row.cost_usd > 0, 'the upstream did the work: at least the prompt is billed');
  assert.equal((await admin.key(key.id)).budgets[0].spent_usd, row.cost_usd);
});

const usageKey = (u: Pick<UsageRow, 'key_id' | 'model' | 'day'>) => `${u.key_id} ${u.model} ${u.day}`;

test('usage by key, model and day adds up the request log, and `switchyard usage` prints the same', async () => {
  await gw.gateway.ledger.flush(); // rows of earlier tests still queued
  const usage = await admin.usage({ group_by: 'key,model,day' });
  const rows = (await admin.requests()).filter((r) => r.attempt === 0);
  assert.ok(usage.length >= 4);
  const expected = new Map<string, { requests: number; output: number; cost: number[] }>();
  for (const r of rows) {
    const day = r.time.slice(0, 10); // the gateway runs in UTC
    const k = usageKey({ key_id: r.key_id, model: r.model_used ?? r.model_requested, day });
    const e = expected.get(k) ?? { requests: 0, output: 0, cost: [] };
    e.requests++;
    e.output += r.output_tokens;
    e.cost.push(r.cost_usd);
    expected.set(k, e);
  }
  assert.deepEqual(new Set(usage.map(usageKey)), new Set(expected.keys()));
  for (const u of usage) {
    const e = expected.get(usageKey(u))!;
    assert.equal(u.requests, e.requests);
    assert.equal(u.output_tokens, e.output);
    assert.equal(u.cost_usd, sumUsd(e.cost));
  }
  // Each key-wide budget's spend is what usage says the key spent.
  const keys = (await admin.call('GET', '/admin/keys')).body.data as Array<{ id: string; budgets: Array<{ model: string | null; spent_usd: number }> }>;
  for (const key of keys) {
    for (const budget of key.budgets) {
      const spent = sumUsd(usage.filter((u) => u.key_id === key.id && (budget.model === null || u.model === budget.model)).map((u) => u.cost_usd));
      assert.equal(budget.spent_usd, spent, `budget of ${key.id}`);
    }
  }

  const run = promisify(execFile);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const db = gw.gateway.config.dbPath;
  const json = JSON.parse((await run(process.execPath, [CLI, 'usage', '--db', db, '--group-by', 'key,model,day', '--json'], { env })).stdout);
  assert.deepEqual(json.data, usage);
  const { stdout } = await run(process.execPath, [CLI, 'usage', '--db', db, '--group-by', 'key,model,day'], { env });
  const lines = stdout.split('\n');
  for (const u of usage) {
    const line = lines.find((l) => l.includes(`(${u.key_id})`) && l.includes(` ${u.model} `));
    assert.ok(line, `a line for ${u.key_name} / ${u.model}:\n${stdout}`);
    assert.ok(line.includes(u.key_name!) && line.includes(u.day!) && line.includes(` ${u.requests} `) && line.includes(`$${u.cost_usd.toFixed(4)}`), line);
  }
  const total = usage.reduce((a, u) => a + u.requests, 0);
  assert.match(stdout, new RegExp(`Total: ${total} requests, \\$${sumUsd(usage.map((u) => u.cost_usd)).toFixed(4).replace('.', '\\.')}`));
});
