import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { readFixtureJson, readFixtureText } from '../testing/fixtures.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { assertSameShape, collapsedTypes, parseSse, post, sseJson } from './test-support.ts';

let mock: MockUpstream;
let client: Anthropic;

before(async () => {
  mock = await startMockUpstream();
  client = new Anthropic({ baseURL: mock.url, apiKey: 'mock', maxRetries: 0 });
});
after(() => mock.close());

const WEATHER = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };
const TIME = { name: 'get_time', input_schema: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'] } };

async function messages(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await post(mock, '/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 1024, ...body }, headers);
  assert.equal(res.status, 200, res.text);
  return res.text;
}

/** A key per kind of stream event: its type, plus the block or delta type it carries. */
function eventKind(payload: any): string {
  return [payload.type, payload.content_block?.type, payload.delta?.type].filter(Boolean).join('/');
}

function firstOfEachKind(payloads: any[]): Map<string, any> {
  const out = new Map<string, any>();
  for (const p of payloads) if (!out.has(eventKind(p))) out.set(eventKind(p), p);
  return out;
}

test('a text answer has the keys and value types of the recorded Message, with o200k input counts', async () => {
  const message = JSON.parse(await messages({ messages: [{ role: 'user', content: 'Hello Claude' }] }));
  assertSameShape(message, readFixtureJson('anthropic/messages-text.json'));
  assert.ok(message.content[0].text.startsWith('Echo: Hello Claude'));
  assert.equal(message.usage.input_tokens, 3 + 4 + countTokens('Hello Claude'));
  assert.equal(message.usage.output_tokens, countTokens(message.content[0].text));
  assert.equal(message.stop_reason, 'end_turn');
});

test('thinking with a tool gives thinking, text and tool_use blocks like the recorded answer', async () => {
  const message = JSON.parse(await messages(readFixtureJson('anthropic/messages-thinking-tool-use.request.json')));
  const recorded = readFixtureJson('anthropic/messages-thinking-tool-use.response.json');
  assertSameShape(message, recorded);
  assert.deepEqual(message.content.map((b: any) => b.type), recorded.content.map((b: any) => b.type));
  assert.equal(message.stop_reason, 'tool_use');
  assert.ok(message.content[0].signature.length > 40, 'the thinking block is signed');
});

test('a thinking stream has the recorded event order, event shapes and data padding', async () => {
  const mine = await messages(readFixtureJson('anthropic/messages-stream-thinking.request.json'));
  const recorded = readFixtureText('anthropic/messages-stream-thinking.response.sse');
  const types = (text: string) => parseSse(text).map((e) => e.event as string);
  assert.deepEqual(collapsedTypes(types(mine)), collapsedTypes(types(recorded)));
  const recordedKinds = firstOfEachKind(sseJson(recorded));
  const mineKinds = firstOfEachKind(sseJson(mine));
  assert.deepEqual([...mineKinds.keys()], [...recordedKinds.keys()]);
  for (const [kind, payload] of mineKinds) assertSameShape(payload, recordedKinds.get(kind), [], kind);
  assert.match(mine, /^data: \{.*\} +$/m, 'some data lines end with space padding, as Anthropic sends');
  const deltas = sseJson(mine).filter((p) => p.type === 'content_block_delta' && p.index === 0).map((p) => p.delta.type);
  assert.deepEqual(deltas.slice(-2), ['thinking_delta', 'signature_delta'], 'an empty thinking_delta, then the signature');
});

test('a tool-use stream sends text, then tool input as input_json_delta pieces after an empty one', async () => {
  const mine = await messages({ stream: true, tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  const recorded = readFixtureText('anthropic/messages-stream-tool-use.sse');
  const types = (text: string) => parseSse(text).map((e) => e.event as string);
  assert.deepEqual(collapsedTypes(types(mine)), collapsedTypes(types(recorded)));
  // This recording predates the cache fields in usage; the thinking test checks message_start/message_delta against a newer one.
  const ignore = ['caller', 'cache_creation', 'inference_geo'];
  const recordedKinds = firstOfEachKind(sseJson(recorded));
  for (const [kind, payload] of firstOfEachKind(sseJson(mine))) {
    if (kind !== 'message_delta') assertSameShape(payload, recordedKinds.get(kind), ignore, kind);
  }
  const partial = sseJson(mine).filter((p) => p.delta?.type === 'input_json_delta').map((p) => p.delta.partial_json);
  assert.equal(partial[0], '');
  assert.ok(partial.length >= 3);
  assert.equal(typeof JSON.parse(partial.join('')).location, 'string');
});

test('max_tokens inside a tool input stops with max_tokens and no content_block_stop for that block', async () => {
  const events = sseJson(await messages({ stream: true, max_tokens: 4, tools: [WEATHER], tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'go' }] }));
  assert.equal(events.find((p) => p.type === 'message_delta').delta.stop_reason, 'max_tokens');
  assert.equal(events.filter((p) => p.type === 'content_block_stop').length, 0);
  assert.equal(events.find((p) => p.type === 'message_delta').usage.output_tokens, 4);
});

test('tool_choice any calls without a preface; disable_parallel_tool_use calls one tool', async () => {
  const forced = JSON.parse(await messages({ tools: [WEATHER, TIME], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'both' }] }));
  assert.deepEqual(forced.content.map((b: any) => b.type), ['tool_use', 'tool_use']);
  assert.ok(['UTC', 'CET'].includes(forced.content[1].input.zone));
  const one = JSON.parse(await messages({ tools: [WEATHER, TIME], tool_choice: { type: 'auto', disable_parallel_tool_use: true }, messages: [{ role: 'user', content: 'both' }] }));
  assert.deepEqual(one.content.map((b: any) => b.type), ['text', 'tool_use']);
  const answered = JSON.parse(await messages({
    tools: [WEATHER],
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny, 21C' }] },
    ],
  }));
  assert.ok(answered.content[0].text.startsWith('Echo: Sunny, 21C'));
});

test('cache_control: the first call writes the prefix, the same prefix is then read', async () => {
  const system = [{ type: 'text', text: 'You answer questions about this manual. '.repeat(200), cache_control: { type: 'ephemeral' } }];
  const first = JSON.parse(await messages({ system, messages: [{ role: 'user', content: 'question one' }] })).usage;
  const second = JSON.parse(await messages({ system, messages: [{ role: 'user', content: 'question two' }] })).usage;
  assert.ok(first.cache_creation_input_tokens >= 1024);
  assert.equal(first.cache_read_input_tokens, 0);
  assert.equal(first.cache_creation.ephemeral_5m_input_tokens, first.cache_creation_input_tokens);
  assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens);
  assert.equal(second.cache_creation_input_tokens, 0);
  assert.equal(first.input_tokens + first.cache_creation_input_tokens, second.input_tokens + second.cache_read_input_tokens);

  const forced = JSON.parse(await messages({ messages: [{ role: 'user', content: 'cached please' }] }, { 'x-mock-cached-tokens': '5' })).usage;
  assert.equal(forced.cache_read_input_tokens, 5);
  assert.equal(forced.input_tokens, 3 + 4 + countTokens('cached please') - 5);
});

test('count_tokens counts the input the way usage does', async () => {
  const body = { model: 'claude-haiku-4-5', system: 'be kind', messages: [{ role: 'user', content: 'count me' }] };
  const counted = JSON.parse((await post(mock, '/v1/messages/count_tokens', body)).text);
  const used = JSON.parse(await messages(body)).usage.input_tokens;
  assert.equal(counted.input_tokens, used);
});

test('the official SDK streams thinking, text and a tool call into its final message', async () => {
  const stream = client.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 2048,
    thinking: { type: 'enabled', budget_tokens: 1024 },
    tools: [WEATHER] as any,
    messages: [{ role: 'user', content: 'Weather in Rome?' }],
  });
  const final = await stream.finalMessage();
  assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
  const [thinking, , toolUse] = final.content as any[];
  assert.ok(thinking.thinking.includes('Weather in Rome?'));
  assert.ok(thinking.signature.length > 40);
  assert.equal(typeof toolUse.input.location, 'string', 'the SDK assembled the input_json_delta pieces');
  assert.equal(final.stop_reason, 'tool_use');
  assert.ok(final.usage.output_tokens > 0 && final.usage.input_tokens > 0);
});

test('the official SDK surfaces an x-mock-status 529 as an overloaded error', async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-status': '529' } }),
    (err: any) => err.status === 529 && err.error?.error?.type === 'overloaded_error',
  );
});
