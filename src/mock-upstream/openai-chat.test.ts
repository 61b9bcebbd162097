import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { countTokens, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import OpenAI from 'openai';
import { readFixtureJson, readFixtureJsonl, readFixtureText } from '../testing/fixtures.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { assertSameShape, distinctShapes, parseSse, post, sseJson } from './test-support.ts';

let mock: MockUpstream;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'mock', maxRetries: 0 });
});
after(() => mock.close());

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, units: { type: 'string', enum: ['c', 'f'] } }, required: ['city', 'units'], additionalProperties: false },
  },
};
const STOCK_TOOL = {
  type: 'function',
  function: { name: 'get_stock_price', parameters: { type: 'object', properties: { ticker: { type: 'string' }, exchange: { type: 'string' } }, required: ['ticker'] } },
};

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any> {
  const res = await post(mock, '/v1/chat/completions', { model: 'gpt-4o', ...body }, headers);
  assert.equal(res.status, 200, res.text);
  return body.stream ? res : JSON.parse(res.text);
}

test('a text answer has the keys and value types of a recorded chat.completion, and usage counts the o200k tokens', async () => {
  const request = readFixtureJson('openai/chat-reasoning-tokens.request.json');
  const completion = await chat(request);
  assertSameShape(completion, readFixtureJson('openai/chat-text-full-usage.json'));
  const content: string = completion.choices[0].message.content;
  assert.ok(content.startsWith('Echo: hello'), content);
  assert.equal(completion.usage.prompt_tokens, 3 + 4 + countTokens('hello'), 'priming + one message frame + its text');
  assert.equal(completion.usage.completion_tokens, countTokens(content));
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

test('a streamed tool call has the recorded chunk shapes in the recorded order, then a usage chunk and [DONE]', async () => {
  const request = readFixtureJson('openai/chat-stream-tool-call-include-usage.request.json');
  const res = await chat(request);
  const recorded = readFixtureText('openai/chat-stream-tool-call-include-usage.response.sse');
  assert.deepEqual(distinctShapes(sseJson(res.text)), distinctShapes(sseJson(recorded)));
  assert.equal(parseSse(res.text).at(-1)?.data, '[DONE]');
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);

  const chunks = sseJson(res.text);
  const argumentDeltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t: any) => t.function.arguments);
  assert.ok(argumentDeltas.filter((a: string) => a !== '').length >= 2, 'arguments arrive in several pieces');
  const args = JSON.parse(argumentDeltas.join(''));
  assert.equal(typeof args.country, 'string', 'arguments follow the tool schema');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'tool_calls');
});

test('a text stream after a tool result echoes the result, shaped like the recorded stream', async () => {
  const request = readFixtureJson('openai/chat-stream-after-tool-result.request.json');
  const res = await chat(request);
  assert.deepEqual(distinctShapes(sseJson(res.text)), distinctShapes(sseJson(readFixtureText('openai/chat-stream-after-tool-result.response.sse'))));
  const text = sseJson(res.text).map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.ok(text.startsWith('Echo: London'), text);
  assert.deepEqual(distinctShapes(sseJson(res.text)), distinctShapes(readFixtureJsonl('openai/chat-stream-text-include-usage.jsonl')));
});

test('usage: null on every chunk and a final usage chunk come only with stream_options.include_usage', async () => {
  const messages = [{ role: 'user', content: 'count my tokens' }];
  const without = sseJson((await chat({ messages, stream: true })).text);
  assert.ok(without.every((c) => !('usage' in c)), 'no usage key at all');
  assert.ok(without.every((c) => c.choices.length === 1), 'no usage chunk');
  assert.ok(without.every((c) => typeof c.obfuscation === 'string'));

  const withUsage = sseJson((await chat({ messages, stream: true, stream_options: { include_usage: true } })).text);
  assert.ok(withUsage.slice(0, -1).every((c) => c.usage === null));
  const last = withUsage.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, (await chat({ messages })).usage, 'the same usage as the non-stream answer');
});

test('several tools are called in parallel unless parallel_tool_calls is false; none after a tool result or with tool_choice none', async () => {
  const messages = [{ role: 'user', content: 'weather and stock please' }];
  const parallel = await chat({ messages, tools: [WEATHER_TOOL, STOCK_TOOL] });
  assert.deepEqual(parallel.choices[0].message.tool_calls.map((c: any) => c.function.name), ['get_weather', 'get_stock_price']);
  assert.equal(parallel.choices[0].message.content, null);
  assert.equal(parallel.choices[0].finish_reason, 'tool_calls');
  const weather = JSON.parse(parallel.choices[0].message.tool_calls[0].function.arguments);
  assert.equal(typeof weather.city, 'string');
  assert.ok(['c', 'f'].includes(weather.units));
  assertSameShape(parallel, readFixtureJson('openai/chat-tool-calls-parallel.json'), ['service_tier', 'annotations', 'prompt_tokens_details', 'audio_tokens', 'accepted_prediction_tokens', 'rejected_prediction_tokens']);

  const single = await chat({ messages, tools: [WEATHER_TOOL, STOCK_TOOL], parallel_tool_calls: false });
  assert.equal(single.choices[0].message.tool_calls.length, 1);
  const forced = await chat({ messages, tools: [WEATHER_TOOL, STOCK_TOOL], tool_choice: { type: 'function', function: { name: 'get_stock_price' } } });
  assert.deepEqual(forced.choices[0].message.tool_calls.map((c: any) => c.function.name), ['get_stock_price']);

  const none = await chat({ messages, tools: [WEATHER_TOOL], tool_choice: 'none' });
  assert.equal(none.choices[0].message.tool_calls, undefined);
  const afterResult = await chat({
    messages: [...messages, { role: 'assistant', content: null, tool_calls: parallel.choices[0].message.tool_calls }, { role: 'tool', tool_call_id: parallel.choices[0].message.tool_calls[0].id, content: '21 degrees' }],
    tools: [WEATHER_TOOL],
  });
  assert.equal(afterResult.choices[0].message.content.startsWith('Echo: 21 degrees'), true);
});

test('n choices: n answers, interleaved in the stream, usage counted n times', async () => {
  const messages = [{ role: 'user', content: 'three please' }];
  const one = await chat({ messages });
  const three = await chat({ messages, n: 3 });
  assert.deepEqual(three.choices.map((c: any) => c.index), [0, 1, 2]);
  assert.equal(three.usage.completion_tokens, 3 * one.usage.completion_tokens);
  const indexes = sseJson((await chat({ messages, n: 3, stream: true }, { 'x-mock-chunks': '2' })).text).map((c) => c.choices[0].index);
  assert.deepEqual(indexes.slice(0, 6), [0, 1, 2, 0, 1, 2]);
});

test('max_completion_tokens and max_tokens cut the answer and give finish_reason "length"', async () => {
  const messages = [{ role: 'user', content: 'a long answer please' }];
  const full: string = (await chat({ messages })).choices[0].message.content;
  for (const cap of [{ max_completion_tokens: 3 }, { max_tokens: 3 }]) {
    const cut = await chat({ messages, ...cap });
    assert.equal(cut.choices[0].finish_reason, 'length');
    assert.equal(cut.usage.completion_tokens, 3);
    assert.equal(cut.choices[0].message.content, decode(encode(full).slice(0, 3)));
  }
});

test('reasoning_effort other than none spends reasoning tokens, counted in completion_tokens', async () => {
  const messages = [{ role: 'user', content: 'think about it' }];
  const plain = await chat({ messages, reasoning_effort: 'none' });
  assert.equal(plain.usage.completion_tokens_details.reasoning_tokens, 0);
  const low = await chat({ messages, reasoning_effort: 'low' });
  const high = await chat({ messages, reasoning_effort: 'high' });
  assert.ok(low.usage.completion_tokens_details.reasoning_tokens > 0);
  assert.ok(high.usage.completion_tokens_details.reasoning_tokens > low.usage.completion_tokens_details.reasoning_tokens);
  assert.equal(low.usage.completion_tokens, plain.usage.completion_tokens + low.usage.completion_tokens_details.reasoning_tokens);
});

test('a json_schema response_format gets JSON text that matches the schema', async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 18 }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name', 'age', 'tags'], additionalProperties: false };
  const completion = await chat({ messages: [{ role: 'user', content: 'a person' }], response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
  const person = JSON.parse(completion.choices[0].message.content);
  assert.equal(typeof person.name, 'string');
  assert.ok(Number.isInteger(person.age) && person.age >= 18);
  assert.ok(Array.isArray(person.tags) && person.tags.every((t: unknown) => typeof t === 'string'));
  assert.equal(completion.usage.prompt_tokens, 3 + 4 + countTokens('a person') + countTokens(JSON.stringify(schema)), 'the schema counts as input');
});

test('the official SDK reassembles streamed parallel tool-call deltas into complete calls', async () => {
  const stream = client.chat.completions.stream({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'weather and stock' }],
    tools: [WEATHER_TOOL, STOCK_TOOL] as any,
    stream_options: { include_usage: true },
  });
  let argumentDeltas = 0;
  stream.on('tool_calls.function.arguments.delta', () => argumentDeltas++);
  const final = await stream.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls ?? [];
  assert.deepEqual(calls.map((c: any) => c.function.name), ['get_weather', 'get_stock_price']);
  assert.ok(calls.every((c: any) => typeof JSON.parse(c.function.arguments) === 'object'));
  assert.ok(argumentDeltas >= 4, `argument deltas: ${argumentDeltas}`);
  assert.ok(final.usage && final.usage.prompt_tokens > 0);
});

test('the official SDK reads a text stream; its deltas number x-mock-chunks', async () => {
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] },
    { headers: { 'x-mock-chunks': '5' } },
  );
  const deltas: string[] = [];
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) deltas.push(chunk.choices[0].delta.content);
  assert.equal(deltas.length, 5);
  assert.ok(deltas.join('').startsWith('Echo: Hi'));
});
