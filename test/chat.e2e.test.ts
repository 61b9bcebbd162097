// Chat Completions through the gateway, driven by the official openai SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, PROVIDER_KEY, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';
import { shippedCatalog } from '../src/catalog/catalog.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const price = (id: string) => shippedCatalog().models.find((m) => m.id === id)!.pricing;
const lastUpstream = () => stack.mock.requests[stack.mock.requests.length - 1];

test('a plain request reaches the upstream with the provider key and comes back with usage, cost and route headers', async () => {
  const { data, response } = await stack.client.chat.completions
    .create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Name three rivers' }] })
    .withResponse();
  assert.match(data.choices[0].message.content ?? '', /Name three rivers/);
  assert.equal(data.object, 'chat.completion');
  assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
  assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
  assert.equal(response.headers.get('x-switchyard-model'), 'gpt-5.4-mini');
  assert.equal(response.headers.get('x-switchyard-provider'), 'openai');
  const p = price('gpt-5.4-mini');
  const cached = data.usage!.prompt_tokens_details?.cached_tokens ?? 0;
  const expected = ((data.usage!.prompt_tokens - cached) * p.input + cached * p.cachedInput + data.usage!.completion_tokens * p.output) / 1e6;
  assert.ok(Math.abs(Number(response.headers.get('x-switchyard-cost-usd')) - expected) < 1e-7);
  const upstream = lastUpstream();
  assert.equal(upstream.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  assert.equal((upstream.body as any).model, 'gpt-5.4-mini');
  const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
  assert.equal(row.usage.outputTokens, data.usage!.completion_tokens);
});

test('fields the gateway does not know are passed to the upstream unchanged', async () => {
  await stack.client.chat.completions.create({
    model: 'gpt-5.4-mini',
    messages: [{ role: 'user', content: 'hi' }],
    logit_bias: { '1234': -100 },
    seed: 7,
    user: 'u-42',
    metadata: { team: 'search' },
    store: false,
    // A field no SDK knows: must still arrive.
    ...({ vendor_extension: { mode: 'fast', depth: 2 } } as object),
  });
  const body = lastUpstream().body as Record<string, unknown>;
  assert.deepEqual(body.logit_bias, { '1234': -100 });
  assert.equal(body.seed, 7);
  assert.equal(body.user, 'u-42');
  assert.deepEqual(body.metadata, { team: 'search' });
  assert.deepEqual(body.vendor_extension, { mode: 'fast', depth: 2 });
});

test('a stream with include_usage ends with the usage chunk', async () => {
  const stream = await stack.client.chat.completions.create({
    model: 'gpt-5.4-mini', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Stream me a short story' }],
  });
  let text = '';
  let usage;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks > 2);
  assert.match(text, /Stream me a short story/);
  assert.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens > 0);
});

test('a stream without include_usage shows no usage to the client, yet the gateway records it', async () => {
  const { data: stream, response } = await stack.client.chat.completions
    .create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'Hello there' }] })
    .withResponse();
  let sawUsageField = false;
  let text = '';
  for await (const chunk of stream) {
    if ('usage' in chunk) sawUsageField = true;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(sawUsageField, false, 'the client did not ask for usage');
  assert.match(text, /Hello there/);
  assert.equal((lastUpstream().body as any).stream_options?.include_usage, true, 'the gateway always asks the upstream for usage');
  const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
  assert.ok(row.usage.outputTokens > 0 && row.costUsd > 0);
});

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city', 'unit'] },
  },
};
const timeTool = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } },
};

test('streamed parallel tool calls are reassembled by the SDK with complete arguments', async () => {
  const runner = stack.client.chat.completions.stream({
    model: 'gpt-5.4', tools: [weatherTool, timeTool],
    messages: [{ role: 'user', content: 'Weather in Paris and time in Tokyo?' }],
  });
  const final = await runner.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls ?? [];
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(calls.map((c) => c.type === 'function' && c.function.name).sort(), ['get_time', 'get_weather']);
  for (const call of calls) {
    assert.ok(call.type === 'function');
    const args = JSON.parse(call.function.arguments);
    const required = call.function.name === 'get_weather' ? ['city', 'unit'] : ['zone'];
    for (const key of required) assert.ok(key in args, `${call.function.name} arguments have ${key}`);
    assert.match(call.id, /\S+/);
  }
});

test('a tool result turn goes upstream intact and the model answers in text', async () => {
  const answer = await stack.client.chat.completions.create({
    model: 'gpt-5.4', tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
    ],
  });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  const sent = (lastUpstream().body as any).messages;
  assert.equal(sent[2].tool_call_id, 'call_1');
  assert.equal(sent[1].tool_calls[0].function.arguments, '{"city":"Paris","unit":"c"}');
});

test('image parts (data: URL and https URL) reach the upstream unchanged', async () => {
  const dataUrl = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const res = await stack.client.chat.completions.create({
    model: 'gpt-5.4-mini',
    messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is in these images?' },
      { type: 'image_url', image_url: { url: dataUrl, detail: 'low' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
    ] }],
  });
  assert.ok(res.choices[0].message.content);
  const parts = (lastUpstream().body as any).messages[0].content;
  assert.equal(parts[1].image_url.url, dataUrl);
  assert.equal(parts[1].image_url.detail, 'low');
  assert.equal(parts[2].image_url.url, 'https://example.com/cat.jpg');
});

test('json_schema response_format yields JSON that matches the schema', async () => {
  const res = await stack.client.chat.completions.create({
    model: 'gpt-5.4-mini',
    messages: [{ role: 'user', content: 'Give me a person' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false } } },
  });
  const value = JSON.parse(res.choices[0].message.content!);
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));
  assert.equal((lastUpstream().body as any).response_format.json_schema.name, 'person');
});

test('a reasoning level the model lacks is mapped to the nearest it has, and the response says so', async () => {
  // gpt-5.4-nano has none..high; xhigh maps to high.
  const { response } = await stack.client.chat.completions
    .create({ model: 'gpt-5.4-nano', reasoning_effort: 'xhigh' as never, messages: [{ role: 'user', content: 'think' }] })
    .withResponse();
  assert.equal(response.headers.get('x-switchyard-reasoning-effort'), 'high');
  assert.equal(response.headers.get('x-switchyard-reasoning-effort-requested'), 'xhigh');
  assert.equal((lastUpstream().body as any).reasoning_effort, 'high');
});

test('max_completion_tokens is honoured: a capped answer stops with finish_reason length', async () => {
  const res = await stack.client.chat.completions.create({ model: 'gpt-5.4-mini', max_completion_tokens: 3, messages: [{ role: 'user', content: 'Write a long essay about rivers' }] });
  assert.equal(res.choices[0].finish_reason, 'length');
  assert.ok(res.usage!.completion_tokens <= 3);
});

test('n > 1 returns every choice', async () => {
  const res = await stack.client.chat.completions.create({ model: 'gpt-5.4-mini', n: 3, messages: [{ role: 'user', content: 'hi' }] });
  assert.deepEqual(res.choices.map((c) => c.index), [0, 1, 2]);
});

test('the models list shows catalog models with windows, prices and tiers', async () => {
  const list = await stack.client.models.list();
  const ids = list.data.map((m) => m.id);
  for (const id of ['gpt-5.5', 'gpt-5.5-pro', 'gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-nano', 'local-llama']) assert.ok(ids.includes(id), id);
  assert.ok(!ids.includes('claude-sonnet-4-5'), 'models of providers that are not configured are not listed');
  const one = (await stack.client.models.retrieve('gpt-5.5')) as any;
  assert.equal(one.context_window, 1050000);
  assert.equal(one.tier, 'frontier');
  assert.deepEqual(one.pricing.input, 5);
  assert.ok(one.reasoning_levels.includes('xhigh'));
  assert.equal(GATEWAY_KEY.length > 0, true);
});
