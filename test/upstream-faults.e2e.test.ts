// A provider that misbehaves on cue (the mock's x-mock-body, x-mock-stream-end and
// x-mock-usage controls), driven with the official SDKs: a broken answer is a 502
// upstream_invalid_response naming the provider (or, mid-stream, an error event in
// the client's format), a broken answer before the first byte falls back to the next
// deployment, and after each the ledger has exactly one request row whose cost is what
// its tokens cost and what the key's budget booked, with no reservation left open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { costOf, worstCaseCost } from '../src/catalog/cost.ts';
import type { RequestRow } from '../src/store/types.ts';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { PROVIDER_KEY } from './support/stack.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import type { AdminApi } from './support/admin.ts';

let mock: MockUpstream;
let gw: TestGateway;
let admin: AdminApi;

before(async () => {
  mock = await startMockUpstream();
  const v1 = `${mock.url}/v1`;
  gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    yaml: `
providers:
  openai: { base_url: ${v1}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  anthropic: { base_url: ${mock.url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  gemini: { base_url: ${mock.url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  vllm: { kind: openai, base_url: ${v1}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  garbage: { kind: openai, base_url: ${v1}, api_key: ${PROVIDER_KEY}, headers: { x-mock-body: not-json } }
  healthy: { kind: openai, base_url: ${v1}, api_key: ${PROVIDER_KEY} }
  vllm-down: { kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: ${PROVIDER_KEY} }
models:
  local-chat: { provider: vllm, endpoints: [chat], context_window: 32768, pricing: { input: 1, output: 2 } }
  down-chat: { provider: vllm-down, endpoints: [chat], context_window: 32768, pricing: { input: 1, output: 2 } }
deployments:
  gpt-5.4-nano:
    - { provider: garbage, weight: 1000000000 }
    - { provider: healthy, weight: 0.000000001 }
`,
  });
  admin = adminApi(gw.origin);
});
after(async () => {
  await gw.close();
  await mock.close();
});

let keys = 0;
async function budgetedKey(): Promise<{ id: string; key: string; openai: OpenAI; anthropic: Anthropic }> {
  const created = await admin.createKey({ name: `faults-${keys++}`, budgets: [{ limit_usd: 50, period: 'day' }] });
  return {
    id: created.id,
    key: created.key,
    openai: new OpenAI({ baseURL: gw.baseURL, apiKey: created.key, maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: gw.origin, apiKey: created.key, maxRetries: 0 }),
  };
}

/** The key's one request row: its cost is what its tokens cost, the budget booked exactly that, nothing is still reserved. */
async function theBooks(keyId: string): Promise<RequestRow> {
  const rows = await admin.settledRows(keyId, 1);
  assert.equal(rows.length, 1, 'exactly one request row');
  const row = rows[0];
  for (const field of ['input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_tokens'] as const) {
    assert.ok(Number.isSafeInteger(row[field]) && row[field] >= 0, `${field} is a token count: ${row[field]}`);
  }
  if (row.model_used) {
    const model = gw.gateway.catalog.get(row.model_used)!;
    const usage = { inputTokens: row.input_tokens, cachedInputTokens: row.cached_input_tokens, cacheWriteTokens: row.cache_write_tokens, outputTokens: row.output_tokens, reasoningTokens: row.reasoning_tokens };
    assert.equal(row.cost_usd, costOf(usage, model.pricing), 'the row costs what its tokens cost');
  }
  const budget = (await admin.key(keyId)).budgets[0];
  assert.equal(budget.spent_usd, sumUsd([row.cost_usd]), 'the budget booked what the row says');
  assert.equal(budget.reserved_usd, 0, 'the reservation was settled');
  return row;
}

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `an APIError, not ${(err as Error).message}`);
    return err;
  }
  assert.fail('the call succeeded');
}

const chat = { model: 'gpt-5.4-mini', messages: [{ role: 'user' as const, content: 'Tell me about rivers' }] };

for (const fault of ['truncated', 'not-json'] as const) {
  test(`relayed chat: a 200 whose body is ${fault} is a 502 upstream_invalid_response naming the provider`, async () => {
    const k = await budgetedKey();
    const err = await rejection(k.openai.chat.completions.create(chat, { headers: { 'x-mock-body': fault } }));
    assert.equal(err.status, 502);
    assert.equal(err.code, 'upstream_invalid_response');
    assert.match(err.message, /Provider openai \(deployment openai:gpt-5\.4-mini#0\) answered with a body that is not a JSON object/);
    assert.equal(err.headers?.get('x-switchyard-error-source'), 'provider:openai');
    const row = await theBooks(k.id);
    assert.equal(row.status, 502);
    assert.equal(row.error_code, 'upstream_invalid_response');
  });
}

test('relayed Responses and Messages calls: a body that is not JSON is a 502 in each SDK', async () => {
  const k = await budgetedKey();
  const err = await rejection(k.openai.responses.create({ model: 'gpt-5.4-mini', input: 'hi' }, { headers: { 'x-mock-body': 'truncated' } }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_response');
  await theBooks(k.id);

  const a = await budgetedKey();
  try {
    await a.anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-body': 'not-json' } });
    assert.fail('the call succeeded');
  } catch (error) {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.status, 502);
    assert.match(error.message, /Provider anthropic .* not a JSON object/);
  }
  await theBooks(a.id);
});

for (const model of ['claude-sonnet-4-5', 'gemini-2.5-flash']) {
  test(`translated chat to ${model}: a cut-off body is a 502 upstream_invalid_response, not a 500`, async () => {
    const k = await budgetedKey();
    const err = await rejection(k.openai.chat.completions.create({ ...chat, model }, { headers: { 'x-mock-body': 'truncated' } }));
    assert.equal(err.status, 502);
    assert.equal(err.code, 'upstream_invalid_response');
    await theBooks(k.id);
  });
}

test('translated chat to an OpenAI-compatible server: a body that is not JSON is a 502 naming it by its configured name', async () => {
  const k = await budgetedKey();
  const err = await rejection(k.openai.responses.create({ model: 'local-chat', input: 'hi' }, { headers: { 'x-mock-body': 'not-json' } }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_response');
  assert.match(err.message, /Provider vllm /);
  assert.equal(err.headers?.get('x-switchyard-error-source'), 'provider:vllm');
  await theBooks(k.id);
});

test('a down OpenAI-compatible server is named by its configured name, not as openai', async () => {
  const k = await budgetedKey();
  const err = await rejection(k.openai.chat.completions.create({ ...chat, model: 'down-chat' }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_unreachable');
  assert.match(err.message, /^502 Could not reach vllm-down \(deployment vllm-down:down-chat#0\)/);
  assert.equal(err.headers?.get('x-switchyard-error-source'), 'provider:vllm-down');
  await theBooks(k.id);
});

test('a garbage answer before the first byte falls back to the next deployment', async () => {
  const k = await budgetedKey();
  const { data, response } = await k.openai.chat.completions.create({ ...chat, model: 'gpt-5.4-nano' }).withResponse();
  assert.match(data.choices[0].message.content ?? '', /Echo: Tell me about rivers/);
  assert.equal(response.headers.get('x-switchyard-provider'), 'healthy');
  const requestId = response.headers.get('x-request-id')!;
  const row = await theBooks(k.id);
  assert.equal(row.status, 200);
  assert.equal(row.deployment_id, 'healthy:gpt-5.4-nano#1');
  const attempts = (await admin.requests(k.id)).filter((r) => r.request_id === requestId && r.attempt > 0).sort((x, y) => x.attempt - y.attempt);
  assert.deepEqual(attempts.map((r) => [r.deployment_id, r.status, r.error_code]), [
    ['garbage:gpt-5.4-nano#0', 502, 'upstream_invalid_response'],
    ['healthy:gpt-5.4-nano#1', 200, null],
  ]);
});

/** Read a chat stream with the SDK until it ends or throws. */
async function readChat(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; error?: Error }> {
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  } catch (error) {
    return { text, error: error as Error };
  }
  return { text };
}

test('a relayed stream whose first events arrive malformed is a 502 before any byte (so it could fall back)', async () => {
  const k = await budgetedKey();
  const err = await rejection(k.openai.chat.completions.create({ ...chat, stream: true }, { headers: { 'x-mock-stream-end': 'malformed-event' } }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_response');
  assert.match(err.message, /whose data is not JSON/);
  const row = await theBooks(k.id);
  assert.equal(row.error_code, 'upstream_invalid_response');
});

for (const [fault, said] of [['no-done', /without its final event \(data: \[DONE\]\)/], ['malformed-event', /whose data is not JSON/]] as const) {
  test(`relayed chat stream with ${fault} mid-stream: ends with an error event the SDK raises, and the tokens used are billed`, async () => {
    const k = await budgetedKey();
    // Events a few ms apart, so the first ones have gone to the client before the fault.
    const stream = await k.openai.chat.completions.create({ ...chat, stream: true }, { headers: { 'x-mock-stream-end': fault, 'x-mock-chunk-delay-ms': '5' } });
    const { text, error } = await readChat(stream);
    assert.ok(error, 'the stream did not end cleanly');
    assert.match(error.message, said);
    // Everything before the fault reached the client: the whole answer, or its first delta.
    assert.match(text, fault === 'no-done' ? /^Echo: Tell me about rivers/ : /^Echo:/);
    const row = await theBooks(k.id);
    assert.equal(row.status, 502);
    assert.equal(row.error_code, 'upstream_invalid_response');
    assert.ok(row.input_tokens > 0 && row.output_tokens > 0 && row.cost_usd > 0, 'what was used is billed');
    assert.equal(row.status, 502);
  });
}

test('relayed Responses stream without response.completed: an error the SDK raises', async () => {
  const k = await budgetedKey();
  const stream = await k.openai.responses.create({ model: 'gpt-5.4-mini', input: 'hi', stream: true }, { headers: { 'x-mock-stream-end': 'no-done' } });
  const types: string[] = [];
  try {
    for await (const event of stream) types.push(event.type);
  } catch (error) {
    types.push(`thrown: ${(error as Error).message}`);
  }
  assert.ok(types.includes('response.output_text.delta'), 'the answer streamed up to the fault');
  assert.ok(!types.includes('response.completed'));
  assert.match(types[types.length - 1], /^thrown: .*without its final event \(event: response\.completed\)/);
  const row = await theBooks(k.id);
  assert.equal(row.error_code, 'upstream_invalid_response');
});

for (const fault of ['no-done', 'malformed-event'] as const) {
  test(`relayed Messages stream with ${fault}: an Anthropic error event, billed`, async () => {
    const k = await budgetedKey();
    const stream = k.anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'Tell me about rivers' }] }, { headers: { 'x-mock-stream-end': fault, 'x-mock-chunk-delay-ms': '5' } });
    let thrown: Error | undefined;
    try {
      for await (const _ of stream) { /* read it all */ }
    } catch (error) {
      thrown = error as Error;
    }
    assert.ok(thrown, 'the SDK raised the error event');
    assert.match(thrown.message, fault === 'no-done' ? /message_stop/ : /not JSON/);
    const row = await theBooks(k.id);
    assert.equal(row.error_code, 'upstream_invalid_response');
    assert.ok(row.input_tokens > 0, 'the prompt is billed');
  });
}

test('translated chat stream (Responses client, chat-only server) without [DONE]: an error event, billed', async () => {
  const k = await budgetedKey();
  const stream = await k.openai.responses.create({ model: 'local-chat', input: 'hi', stream: true }, { headers: { 'x-mock-stream-end': 'no-done' } });
  const types: string[] = [];
  try {
    for await (const event of stream) types.push(event.type);
  } catch (error) {
    types.push(`thrown: ${(error as Error).message}`);
  }
  assert.ok(!types.includes('response.completed'), types.join());
  assert.match(types[types.length - 1], /^thrown: Provider vllm .*without its final event \(data: \[DONE\]\)/);
  const row = await theBooks(k.id);
  assert.equal(row.error_code, 'upstream_invalid_response');
  assert.ok(row.input_tokens > 0);
});

// Usage a provider reports that is not a token count: the gateway's own count is billed, with a warning.
const badUsage: Array<[string, string, Record<string, string>]> = [
  ['relayed chat', 'prompt_tokens="abc"', {}],
  ['relayed chat', 'prompt_tokens=1e400', {}],
  ['relayed chat', 'completion_tokens=-1000000', {}],
  ['relayed chat', 'prompt_tokens=17.5', {}],
];

for (const [path, usage] of badUsage) {
  test(`${path} reporting ${usage}: billed from the gateway's count, with a warning, ledger and spend agreeing`, async () => {
    const k = await budgetedKey();
    const { data, response } = await k.openai.chat.completions.create(chat, { headers: { 'x-mock-usage': usage } }).withResponse();
    assert.match(data.choices[0].message.content ?? '', /Echo/);
    assert.match(response.headers.get('x-switchyard-warnings') ?? '', /not a valid token count/);
    const row = await theBooks(k.id);
    assert.equal(row.status, 200);
    assert.ok(row.input_tokens > 0 && row.output_tokens > 0, `counted tokens: ${row.input_tokens}/${row.output_tokens}`);
    assert.equal(Number(response.headers.get('x-switchyard-cost-usd')), row.cost_usd);
  });
}

test('a relayed chat stream reporting completion_tokens=-1000000: billed from the count, never negative', async () => {
  const k = await budgetedKey();
  const stream = await k.openai.chat.completions.create({ ...chat, stream: true }, { headers: { 'x-mock-usage': 'completion_tokens=-1000000' } });
  const { error } = await readChat(stream);
  assert.equal(error, undefined);
  const row = await theBooks(k.id);
  assert.ok(row.output_tokens > 0 && row.cost_usd > 0);
});

for (const [label, call] of [
  ['translated chat to Claude, input_tokens="abc"', (k: Awaited<ReturnType<typeof budgetedKey>>) => k.openai.chat.completions.create({ ...chat, model: 'claude-sonnet-4-5' }, { headers: { 'x-mock-usage': 'input_tokens="abc"' } })],
  ['translated chat to Gemini, candidatesTokenCount=-5', (k: Awaited<ReturnType<typeof budgetedKey>>) => k.openai.chat.completions.create({ ...chat, model: 'gemini-2.5-flash' }, { headers: { 'x-mock-usage': 'candidatesTokenCount=-5' } })],
  ['relayed Messages stream, output_tokens=1e400', async (k: Awaited<ReturnType<typeof budgetedKey>>) => {
    const stream = k.anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-usage': 'output_tokens=1e400' } });
    return stream.finalMessage();
  }],
] as const) {
  test(`${label}: the row and the spend agree on a finite, non-negative cost`, async () => {
    const k = await budgetedKey();
    await call(k);
    const row = await theBooks(k.id);
    assert.equal(row.status, 200);
    assert.ok(row.input_tokens > 0 && row.output_tokens > 0, `counted tokens: ${row.input_tokens}/${row.output_tokens}`);
  });
}

// Claude thinking within a hard budget: what is asked of the provider is what was reserved.
for (const [cap, expectThinking] of [[4096, 2048], [1500, 0], [40_000, 24_576]] as const) {
  test(`a key capped at ${cap} output tokens, Claude with reasoning_effort high: max_tokens sent never exceeds the cap`, async () => {
    const created = await admin.createKey({ name: `thinking-${cap}`, budgets: [{ limit_usd: 50, period: 'day' }], max_output_tokens: { default: cap, max: cap } });
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: created.key, maxRetries: 0 });
    for (const max_tokens of [undefined, cap, cap * 10]) {
      mock.reset();
      const { response } = await client.chat.completions.create({ model: 'claude-sonnet-4-5', reasoning_effort: 'high', max_tokens, messages: [{ role: 'user', content: 'Think about rivers' }] } as never).withResponse();
      const sent = mock.requests.find((r) => r.path.startsWith('/v1/messages'))?.body as { max_tokens: number; thinking?: { budget_tokens: number } };
      assert.ok(sent.max_tokens <= cap, `max_tokens ${sent.max_tokens} within the reserved ${cap} (client asked ${max_tokens})`);
      assert.equal(sent.thinking?.budget_tokens ?? 0, expectThinking);
      if (expectThinking !== 24_576) assert.match(response.headers.get('x-switchyard-warnings') ?? '', /reasoning_effort 'high'/);
    }
    const pricing = gw.gateway.catalog.get('claude-sonnet-4-5')!.pricing;
    for (const row of await admin.settledRows(created.id, 3)) {
      assert.ok(row.output_tokens <= cap && row.cost_usd <= worstCaseCost(row.input_tokens, cap, pricing), 'no call cost more than its reservation');
    }
  });
}
