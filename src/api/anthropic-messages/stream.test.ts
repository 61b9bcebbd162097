import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../canonical/errors.ts';
import type { StreamEvent, Usage } from '../../canonical/types.ts';
import { MessagesStreamEncoder } from './stream.ts';
import {
  accumulate,
  canonicalFromRecording,
  eventSequence,
  parseSseText,
  readRecordedStream,
  type Json,
  type WireEvent,
} from './testing.ts';

function encodeAll(events: StreamEvent[], model: string, stopSequences?: string[]): string {
  const encoder = new MessagesStreamEncoder({ model, stopSequences });
  let sse = '';
  for (const event of events) sse += encoder.encode(event);
  return sse;
}

/** Empty text/thinking deltas carry nothing; the encoder drops them. */
function withoutEmptyDeltas(events: WireEvent[]): WireEvent[] {
  return events.filter(({ event, data }) => !(event === 'content_block_delta' &&
    ((data.delta.type === 'text_delta' && data.delta.text === '') || (data.delta.type === 'thinking_delta' && data.delta.thinking === ''))));
}

function contentOf(message: Json): Json[] {
  return message.content.map((block: Json) => {
    switch (block.type) {
      case 'text': return { type: 'text', text: block.text };
      case 'thinking': return { type: 'thinking', thinking: block.thinking, signature: block.signature };
      case 'redacted_thinking': return { type: 'redacted_thinking', data: block.data };
      case 'tool_use': return { type: 'tool_use', id: block.id, name: block.name, input: block.input, input_json: block.input_json };
      default: return block;
    }
  });
}

const RECORDED_STREAMS = [
  'messages-stream-basic.sse',
  'messages-stream-text.jsonl',
  'messages-stream-tool-use.sse',
  'messages-stream-tool-use-json.jsonl',
  'messages-stream-tool-use-no-args.jsonl',
  'messages-stream-thinking.response.sse',
  'messages-stream-thinking-context-management.jsonl',
  'messages-stream-redacted-thinking.response.sse',
];

for (const name of RECORDED_STREAMS) {
  test(`${name}: re-encoded from canonical events, same event sequence, block structure and reassembled message`, () => {
    const recorded = readRecordedStream(name);
    const model = recorded[0].data.message.model;
    const encoded = parseSseText(encodeAll(canonicalFromRecording(recorded), model));

    assert.deepEqual(eventSequence(encoded), eventSequence(withoutEmptyDeltas(recorded)));
    for (const { event, data } of encoded) assert.equal(event, data.type, 'every SSE event name equals its payload type');

    const want = accumulate(recorded);
    const got = accumulate(encoded);
    assert.deepEqual(contentOf(got), contentOf(want));
    assert.equal(got.stop_reason, want.stop_reason);
    assert.equal(got.stop_sequence, null);
    assert.equal(got.model, model);
    assert.equal(got.id, want.id);
    for (const field of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens']) {
      assert.equal(got.usage[field], want.usage[field] ?? 0, `usage.${field}`);
    }
  });
}

test('thinking stream: signature arrives as signature_delta before the thinking block stops', () => {
  const encoded = parseSseText(encodeAll(canonicalFromRecording(readRecordedStream('messages-stream-thinking.response.sse')), 'm'));
  const signatureAt = encoded.findIndex((e) => e.data.delta?.type === 'signature_delta');
  assert.ok(signatureAt > 0);
  assert.deepEqual(encoded[signatureAt + 1].data, { type: 'content_block_stop', index: 0 });
  assert.ok(accumulate(encoded).content[0].signature.length > 100);
});

test('max_tokens inside a tool call: same deltas, stop_reason max_tokens, open block closed before message_delta', () => {
  const recorded = readRecordedStream('messages-stream-tool-use-max-tokens.sse');
  const encoded = parseSseText(encodeAll(canonicalFromRecording(recorded), 'claude-3-7-sonnet-20250219'));
  // The recording leaves the tool_use block unclosed; we close it, which every client accepts.
  const want = eventSequence(recorded);
  want.splice(want.indexOf('message_delta'), 0, 'content_block_stop:1');
  assert.deepEqual(eventSequence(encoded), want);
  const got = accumulate(encoded);
  assert.equal(got.stop_reason, 'max_tokens');
  assert.equal(got.content[1].input_json, accumulate(recorded).content[1].input_json);
});

test('mid-stream error: event: error with the Anthropic envelope, nothing after it', () => {
  const recorded = readRecordedStream('messages-stream-error-overloaded.sse');
  const canonical = canonicalFromRecording(recorded);
  const encoder = new MessagesStreamEncoder({ model: 'claude-3-haiku-20240307' });
  let sse = '';
  for (const event of canonical) sse += encoder.encode(event);
  sse += encoder.encode({ type: 'text-delta', text: 'late' });
  const encoded = parseSseText(sse);
  assert.deepEqual(eventSequence(encoded), eventSequence(recorded));
  assert.deepEqual(encoded.at(-1)!.data, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  assert.ok(sse.includes('event: error\ndata: '));
  assert.equal(encoder.done, true);
});

const usage: Usage = { inputTokens: 1600, cachedInputTokens: 1100, cacheWriteTokens: 400, outputTokens: 50, reasoningTokens: 0 };

test('usage in message_delta: uncached input separated from cache reads and writes', () => {
  const events = parseSseText(encodeAll([
    { type: 'start', id: 'x', model: 'm', created: 0 },
    { type: 'text-delta', text: 'hi' },
    { type: 'finish', finishReason: 'stop', usage },
  ], 'm'));
  const messageDelta = events.find((e) => e.event === 'message_delta')!.data;
  assert.deepEqual(messageDelta.usage, { input_tokens: 100, cache_creation_input_tokens: 400, cache_read_input_tokens: 1100, output_tokens: 50 });
  assert.equal(events[0].data.message.id, 'msg_x');
  assert.deepEqual(events[0].data.message.content, []);
});

test('a stream whose first event is content still starts with message_start', () => {
  const events = parseSseText(encodeAll([{ type: 'text-delta', text: 'hi' }, { type: 'finish', finishReason: 'stop', usage }], 'gpt-x'));
  assert.deepEqual(eventSequence(events), ['message_start', 'content_block_start:0:text', 'content_block_delta:0:text_delta', 'content_block_stop:0', 'message_delta', 'message_stop']);
  assert.match(events[0].data.message.id, /^msg_/);
  assert.equal(events[0].data.message.model, 'gpt-x');
});

test('block indexes advance as types switch: thinking, text, two tool calls, and stop reason tool_use', () => {
  const events = parseSseText(encodeAll([
    { type: 'start', id: 'a', model: 'm', created: 0 },
    { type: 'reasoning-delta', text: 'think' },
    { type: 'reasoning-end', signature: 'sig' },
    { type: 'text-delta', text: 'Calling.' },
    { type: 'tool-call-start', index: 0, id: 'call_1', name: 'f' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
    { type: 'tool-call-end', index: 0 },
    { type: 'tool-call-start', index: 1, id: 'call_2', name: 'g' },
    { type: 'tool-call-end', index: 1 },
    { type: 'finish', finishReason: 'stop', usage },
  ], 'm'));
  assert.deepEqual(eventSequence(events), [
    'message_start',
    'content_block_start:0:thinking', 'content_block_delta:0:thinking_delta', 'content_block_delta:0:signature_delta', 'content_block_stop:0',
    'content_block_start:1:text', 'content_block_delta:1:text_delta', 'content_block_stop:1',
    'content_block_start:2:tool_use', 'content_block_delta:2:input_json_delta', 'content_block_delta:2:input_json_delta', 'content_block_delta:2:input_json_delta', 'content_block_stop:2',
    'content_block_start:3:tool_use', 'content_block_delta:3:input_json_delta', 'content_block_stop:3',
    'message_delta', 'message_stop',
  ]);
  const message = accumulate(events);
  assert.deepEqual(message.content[2].input, { a: 1 });
  assert.deepEqual(message.content[3].input, {});
  assert.equal(message.stop_reason, 'tool_use', 'a finish of stop with tool calls is reported as tool_use');
});

test('interleaved tool-call deltas land on their own block index', () => {
  const events = parseSseText(encodeAll([
    { type: 'start', id: 'a', model: 'm', created: 0 },
    { type: 'tool-call-start', index: 0, id: 'c0', name: 'f' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"x":' },
    { type: 'tool-call-start', index: 1, id: 'c1', name: 'g' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '0}' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '{"y":1}' },
    { type: 'finish', finishReason: 'tool_calls', usage },
  ], 'm'));
  const message = accumulate(events);
  assert.deepEqual(message.content.map((b: Json) => [b.id, b.input]), [['c0', { x: 0 }], ['c1', { y: 1 }]]);
});

test('redacted reasoning becomes a redacted_thinking block with its data', () => {
  const events = parseSseText(encodeAll([
    { type: 'start', id: 'a', model: 'm', created: 0 },
    { type: 'reasoning-end', redacted: 'opaque==' },
    { type: 'text-delta', text: 'ok' },
    { type: 'finish', finishReason: 'stop', usage },
  ], 'm'));
  assert.deepEqual(events[1].data.content_block, { type: 'redacted_thinking', data: 'opaque==' });
  assert.deepEqual(eventSequence(events).slice(1, 3), ['content_block_start:0:redacted_thinking', 'content_block_stop:0']);
});

test('stop_sequence: named when the provider said so and the request had exactly one', () => {
  const events = parseSseText(encodeAll([
    { type: 'start', id: 'a', model: 'm', created: 0 },
    { type: 'text-delta', text: 'x' },
    { type: 'finish', finishReason: 'stop', providerFinishReason: 'stop_sequence', usage },
  ], 'm', ['END']));
  assert.deepEqual(events.find((e) => e.event === 'message_delta')!.data.delta, { stop_reason: 'stop_sequence', stop_sequence: 'END' });
});

test('finish reasons map to Anthropic stop reasons', () => {
  const cases: Array<[StreamEvent & { type: 'finish' }, string]> = [
    [{ type: 'finish', finishReason: 'length', usage }, 'max_tokens'],
    [{ type: 'finish', finishReason: 'content_filter', usage }, 'refusal'],
    [{ type: 'finish', finishReason: 'stop', usage }, 'end_turn'],
    [{ type: 'finish', finishReason: 'tool_calls', usage }, 'tool_use'],
  ];
  for (const [finish, want] of cases) {
    const events = parseSseText(encodeAll([{ type: 'start', id: 'a', model: 'm', created: 0 }, finish], 'm'));
    assert.equal(events.find((e) => e.event === 'message_delta')!.data.delta.stop_reason, want);
  }
});

test('an error event carries the GatewayError status as the Anthropic error type', () => {
  const encoder = new MessagesStreamEncoder({ model: 'm' });
  encoder.encode({ type: 'start', id: 'a', model: 'm', created: 0 });
  const error = new GatewayError({ status: 429, type: 'rate_limit_error', code: 'rate_limited', message: 'Slow down.' });
  assert.equal(encoder.encode({ type: 'error', error }), 'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Slow down."}}\n\n');
});

test('message_start carries the counted prompt tokens, as a recorded stream does; message_delta the provider usage', () => {
  const recorded = readRecordedStream('messages-stream-tool-use.sse').find((e) => e.event === 'message_start')!;
  const encoder = new MessagesStreamEncoder({ model: 'claude-x', inputTokens: 377 });
  const usage: Usage = { inputTokens: 380, cachedInputTokens: 100, outputTokens: 9, reasoningTokens: 0 };
  const sse = encoder.encode({ type: 'start', id: 'x', model: 'm', created: 0 }) + encoder.encode({ type: 'text-delta', text: 'hi' }) +
    encoder.encode({ type: 'finish', finishReason: 'stop', usage });
  const events = parseSseText(sse);
  const start = events.find((e) => e.event === 'message_start')!;
  assert.deepEqual(Object.keys(start.data.message.usage).slice(0, 3), Object.keys(recorded.data.message.usage).slice(0, 3));
  assert.equal(start.data.message.usage.input_tokens, 377);
  const end = events.find((e) => e.event === 'message_delta')!;
  assert.equal(end.data.usage.input_tokens, 280, 'the provider count, cache reads apart');
  assert.equal(end.data.usage.cache_read_input_tokens, 100);
  assert.equal(end.data.usage.output_tokens, 9);
});
