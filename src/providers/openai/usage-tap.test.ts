import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFixtureJsonl, readFixtureSse } from '../../testing/fixtures.ts';
import { ChatStreamTap } from './usage-tap.ts';

/** What the tap must find, read the slow way: every chunk parsed. */
function expectedOf(datas: string[]) {
  let contentEvents = 0;
  let model: string | undefined;
  let usage: unknown;
  for (const data of datas) {
    if (data === '[DONE]') continue;
    const chunk = JSON.parse(data);
    model ??= chunk.model;
    const d = chunk.choices?.[0]?.delta;
    if (d && (d.content || d.reasoning_content || d.reasoning || d.tool_calls || d.refusal)) contentEvents++;
    if (chunk.usage) usage = chunk.usage;
  }
  return { contentEvents, model, usage };
}

function tapAll(datas: string[], dropUsageChunk: boolean) {
  const tap = new ChatStreamTap(dropUsageChunk);
  const kept = datas.filter((data) => tap.keep(data));
  return { tap, kept };
}

const chatStreams = readdirSync(fileURLToPath(new URL('../../../fixtures/openai/', import.meta.url))).filter((f) => f.startsWith('chat-stream') && (f.endsWith('.sse') || f.endsWith('.jsonl')));

test('on every recorded chat stream the tap finds the model, the usage and the content events a full parse finds', () => {
  assert.ok(chatStreams.length >= 8, 'the recorded chat streams were found');
  for (const name of chatStreams) {
    const datas = name.endsWith('.sse') ? readFixtureSse(`openai/${name}`).map((e) => e.data) : readFixtureJsonl(`openai/${name}`).map((c) => JSON.stringify(c));
    const expected = expectedOf(datas);
    const { tap } = tapAll(datas, false);
    assert.equal(tap.contentEvents, expected.contentEvents, `${name}: content events`);
    assert.equal(tap.model, expected.model, `${name}: model`);
    assert.deepEqual(tap.usage === undefined, expected.usage === undefined, `${name}: usage found`);
    if (expected.contentEvents > 0) assert.ok(tap.firstContentAt > 0, `${name}: time of the first content`);
  }
});

test('the usage chunk the gateway asked for is read and dropped; one the client asked for is kept', () => {
  const datas = readFixtureSse('openai/chat-stream-tool-call-include-usage.response.sse').map((e) => e.data);
  const asked = tapAll(datas, false);
  const notAsked = tapAll(datas, true);
  assert.ok(asked.tap.usage && asked.tap.usage.inputTokens > 0 && asked.tap.usage.outputTokens > 0);
  assert.deepEqual(notAsked.tap.usage, asked.tap.usage);
  assert.equal(asked.kept.length, datas.length);
  assert.equal(notAsked.kept.length, datas.length - 1);
  assert.ok(!notAsked.kept.some((d) => d.includes('"prompt_tokens"')), 'the usage chunk is the one dropped');
});

test('text that merely spells "content" or "usage", and chunks with spaces, are judged on what they contain', () => {
  const first = '{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}';
  const cases: Array<[string, number]> = [
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"content":"the \\"usage\\": {\\"content\\":\\"x\\"}"}}],"usage":null}', 1],
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"content\\":\\"\\"}"}}]}}]}', 1],
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"content": "spaced"}}]}', 1],
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"content":""}}]}', 0],
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}', 0],
  ];
  for (const [data, events] of cases) {
    const tap = new ChatStreamTap(true);
    tap.keep(first);
    tap.keep(data);
    assert.equal(tap.contentEvents, events, data);
    assert.equal(tap.usage, undefined, data);
  }
  const tap = new ChatStreamTap(true);
  tap.keep(first);
  // Servers that report running usage on every chunk (vLLM's continuous usage stats).
  assert.equal(tap.keep('{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":{"prompt_tokens":9,"completion_tokens":1}}'), true);
  assert.equal(tap.contentEvents, 1);
  assert.equal(tap.usage?.outputTokens, 1);
  assert.equal(tap.keep('{"id":"c1","model":"m-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}'), false);
  assert.equal(tap.usage?.outputTokens, 2);
});

test('the chunk that ends a choice is read without a parse, but an error or a cut-off chunk of that shape is still caught', () => {
  const first = '{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}';
  const ending = new ChatStreamTap(true);
  ending.keep(first);
  assert.equal(ending.keep('{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}'), true);
  assert.deepEqual([ending.contentEvents, ending.ended, ending.malformed], [0, false, undefined]);
  const cut = new ChatStreamTap(true);
  cut.keep(first);
  cut.keep('{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{},"finish_re');
  assert.match(cut.malformed ?? '', /not JSON/);
  const failed = new ChatStreamTap(true);
  failed.keep(first);
  failed.keep('{"choices":[{"index":0,"delta":{}}],"error":{"message":"overloaded","type":"server_error"}}');
  assert.equal(failed.ended, true, 'an in-band error ends the stream');
});

test('the first chunk\'s model is read by its key only where it is plainly the top-level one; otherwise the chunk is parsed', () => {
  const cases: Array<[string, string, number]> = [
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null}}]}', 'm-1', 0],
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}', 'm-1', 1],
    // A nested "model" before the top-level one, an escape in the value, a key that only ends in "model".
    ['{"id":"c1","meta":{"model":"inner"},"model":"outer","choices":[{"index":0,"delta":{"content":"Hi"}}]}', 'outer', 1],
    ['{"id":"c1","model":"m\\u002d1","choices":[{"index":0,"delta":{"content":"Hi"}}]}', 'm-1', 1],
    ['{"id":"c1","x \\"model":"not-it","model":"m-1","choices":[{"index":0,"delta":{"content":"Hi"}}]}', 'm-1', 1],
    ['{"id":"c1","tags":["a"],"model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}', 'm-1', 0],
    // A role chunk that also opens a tool call is content, found by the parse.
    ['{"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"index":0,"id":"t1"}]}}]}', 'm-1', 1],
  ];
  for (const [data, model, events] of cases) {
    assert.equal(JSON.parse(data).model, model, `the case itself is valid JSON: ${data}`);
    const tap = new ChatStreamTap(true);
    assert.equal(tap.keep(data), true);
    assert.deepEqual([tap.model, tap.contentEvents, tap.malformed], [model, events, undefined], data);
  }
});
