import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest, StreamEvent } from '../../canonical/types.ts';
import { readFixtureJson, readFixtureJsonl, readFixtureSse } from '../../testing/fixtures.ts';
import { ChatStreamDecoder } from '../openai-chat/stream-decoder.ts';
import { ChatStreamEncoder } from '../openai-chat/stream-encoder.ts';
import { assembleChat, parseSseText } from '../openai-chat/test-support.ts';
import { parseResponsesRequest } from './parse.ts';
import { ResponsesStreamDecoder } from './stream-decoder.ts';
import { ResponsesStreamEncoder } from './stream-encoder.ts';
import { assembleResponses, eventSkeleton } from './test-support.ts';

interface RecordedStream {
  name: string;
  events: any[];
  request: CanonicalRequest;
  /** Whether the canonical form can carry every event as it is (one summary part, no built-in tools). */
  exact: boolean;
}

const minimalRequest: CanonicalRequest = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: true };

function recordedStreams(): RecordedStream[] {
  const streams: RecordedStream[] = [];
  for (const [name, exact] of [
    ['responses-stream-text', true], ['responses-stream-function-call', true], ['responses-stream-reasoning-function-call-usage', true],
    ['responses-stream-reasoning-summary', false], ['responses-stream-web-search', false],
  ] as const) {
    const sse = readFixtureSse(`openai/${name}.response.sse`);
    for (const event of sse) assert.equal(event.event, JSON.parse(event.data).type);
    const body = readFixtureJson(`openai/${name}.request.json`);
    const request = name === 'responses-stream-web-search' ? minimalRequest : parseResponsesRequest(body);
    streams.push({ name, events: sse.map((event) => JSON.parse(event.data)), request, exact });
  }
  for (const name of ['responses-stream-reasoning-encrypted-content.jsonl', 'responses-stream-error-insufficient-quota.jsonl']) {
    // One file may hold several recorded streams, each opening with response.created.
    let current: any[] = [];
    for (const event of readFixtureJsonl(`openai/${name}`)) {
      if (event.type === 'response.created' && current.length > 0) {
        streams.push({ name, events: current, request: minimalRequest, exact: true });
        current = [];
      }
      current.push(event);
    }
    streams.push({ name, events: current, request: minimalRequest, exact: true });
  }
  return streams;
}

function decode(events: any[]): StreamEvent[] {
  const decoder = new ResponsesStreamDecoder();
  const out: StreamEvent[] = [];
  for (const event of events) out.push(...decoder.push(event));
  out.push(...decoder.finish());
  return out;
}

function encode(events: StreamEvent[], request: CanonicalRequest, model = 'client-model'): any[] {
  const encoder = new ResponsesStreamEncoder({ model, request });
  let text = '';
  for (const event of events) text += encoder.encode(event);
  return parseSseText(text).map((event) => {
    const data = JSON.parse(event.data);
    assert.equal(event.event, data.type, 'the event: line names the data type');
    return data;
  });
}

test('every recorded Responses stream, decoded and re-encoded, has the recorded event order and content', () => {
  const streams = recordedStreams();
  assert.ok(streams.length >= 9);
  for (const { name, events, request, exact } of streams) {
    const ours = encode(decode(events), request, events[0].response.model);
    if (exact) assert.deepEqual(ours.map((event) => event.type), events.map((event) => event.type), name);
    assert.deepEqual(eventSkeleton(ours), eventSkeleton(events), name);
    assert.deepEqual(ours.map((event) => event.sequence_number), ours.map((_, i) => i), `${name}: sequence numbers`);
    const recorded = assembleResponses(events);
    const again = assembleResponses(ours);
    assert.equal(again.text, recorded.text, name);
    assert.deepEqual(again.reasoning, recorded.reasoning, name);
    assert.deepEqual(again.encrypted, recorded.encrypted, name);
    assert.deepEqual(again.calls, recorded.calls, name);
    assert.equal(again.errors.length, recorded.errors.length, name);
    assert.equal(again.final.status, recorded.final.status, name);
    assert.equal(again.final.object, 'response', name);
    if (recorded.final.usage) {
      const [u, r] = [again.final.usage, recorded.final.usage];
      assert.deepEqual(
        [u.input_tokens, u.input_tokens_details.cached_tokens, u.output_tokens, u.output_tokens_details.reasoning_tokens, u.total_tokens],
        [r.input_tokens, r.input_tokens_details.cached_tokens, r.output_tokens, r.output_tokens_details.reasoning_tokens, r.total_tokens], name);
    }
    const ownTypes = (output: any[]) => output.map((item) => item.type).filter((type) => type !== 'web_search_call');
    assert.deepEqual(ownTypes(again.final.output), ownTypes(recorded.final.output), name);
  }
});

test('the completed response echoes the request and carries the finished items', () => {
  const body = readFixtureJson('openai/responses-stream-function-call.request.json');
  const request = parseResponsesRequest(body);
  const sse = readFixtureSse('openai/responses-stream-function-call.response.sse').map((event) => JSON.parse(event.data));
  const ours = encode(decode(sse), request, 'gpt-4o');
  const created = ours[0].response;
  assert.equal(created.status, 'in_progress');
  assert.deepEqual(created.output, []);
  assert.equal(created.usage, null);
  const final = ours.at(-1).response;
  assert.equal(final.id, created.id);
  assert.match(final.id, /^resp_/);
  assert.equal(final.model, 'gpt-4o');
  assert.equal(final.tool_choice, 'auto');
  assert.deepEqual(final.tools.map((tool: any) => [tool.type, tool.name, tool.strict]), [['function', 'get_capital', true]]);
  assert.deepEqual(final.output[0], { ...final.output[0], type: 'function_call', status: 'completed', name: 'get_capital', arguments: '{"country":"France"}' });
  assert.equal(final.output[0].call_id, 'call_kL0PCQV7M2WMoVX8V8OtYSAL');
});

test('a chat stream from an upstream becomes a Responses stream with the same answer', () => {
  for (const name of ['chat-stream-text-usage.sse', 'chat-stream-parallel-tool-calls-usage.sse', 'chat-stream-tool-call-include-usage.response.sse']) {
    const payloads = readFixtureSse(`openai/${name}`).map((event) => event.data).filter((data) => data !== '[DONE]');
    const decoder = new ChatStreamDecoder();
    const events: StreamEvent[] = [];
    for (const data of payloads) events.push(...decoder.push(JSON.parse(data)));
    events.push(...decoder.finish());
    const ours = encode(events, minimalRequest);
    const chat = assembleChat(payloads);
    const got = assembleResponses(ours);
    assert.equal(got.text, chat.text, name);
    assert.deepEqual(got.calls.map((call) => [call.callId, call.name, call.arguments]), chat.toolCalls.map((call) => [call.id, call.name, call.arguments]), name);
    assert.deepEqual(got.calls.map((call) => call.doneArguments), chat.toolCalls.map((call) => call.arguments), name);
    assert.equal(got.final.status, 'completed', name);
    assert.equal(got.final.usage.input_tokens, chat.usage.prompt_tokens, name);
    assert.equal(got.final.usage.output_tokens, chat.usage.completion_tokens, name);
    assert.equal(ours[0].type, 'response.created', name);
    assert.equal(ours[1].type, 'response.in_progress', name);
    assert.equal(ours.at(-1).type, 'response.completed', name);
  }
});

test('a Responses-only upstream stream reaches a chat client intact', () => {
  for (const name of ['responses-stream-text', 'responses-stream-function-call', 'responses-stream-reasoning-summary']) {
    const events = readFixtureSse(`openai/${name}.response.sse`).map((event) => JSON.parse(event.data));
    const encoder = new ChatStreamEncoder({ model: 'm', includeUsage: true });
    let text = '';
    for (const event of decode(events)) text += encoder.encode(event);
    const chat = assembleChat(parseSseText(text).map((event) => event.data));
    const recorded = assembleResponses(events);
    assert.equal(chat.text, recorded.text, name);
    assert.equal(chat.reasoning, recorded.reasoning.join(''), name);
    assert.deepEqual(chat.toolCalls.map((call) => [call.id, call.name, call.arguments]), recorded.calls.map((call) => [call.callId, call.name, call.arguments]), name);
    assert.equal(chat.finishReason, recorded.calls.length > 0 ? 'tool_calls' : 'stop', name);
    assert.equal(chat.usage.prompt_tokens, recorded.final.usage.input_tokens, name);
    assert.equal(chat.usage.completion_tokens_details.reasoning_tokens, recorded.final.usage.output_tokens_details.reasoning_tokens, name);
  }
});

test('an upstream quota error ends the stream with error and response.failed', () => {
  const events = readFixtureJsonl('openai/responses-stream-error-insufficient-quota.jsonl');
  const decoded = decode(events);
  const error = decoded.at(-1);
  assert.equal(error?.type === 'error' && error.error.status, 429);
  const ours = encode(decoded, minimalRequest);
  assert.deepEqual(ours.slice(-2).map((event) => event.type), ['error', 'response.failed']);
  assert.equal(ours.at(-2).error.code, 'insufficient_quota');
  assert.equal(ours.at(-1).response.status, 'failed');
  assert.equal(ours.at(-1).response.error.code, 'insufficient_quota');
});

test('a length finish ends with response.incomplete and incomplete_details', () => {
  const ours = encode([
    { type: 'start', id: 'chatcmpl-1', model: 'x', created: 9 },
    { type: 'text-delta', text: 'partial' },
    { type: 'finish', finishReason: 'length', usage: { inputTokens: 3, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 } },
  ], minimalRequest);
  const last = ours.at(-1);
  assert.equal(last.type, 'response.incomplete');
  assert.equal(last.response.status, 'incomplete');
  assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(last.response.output[0].content[0].text, 'partial');
});

test('interleaved reasoning, text and tool calls become separate items in order', () => {
  const ours = encode([
    { type: 'start', id: 'msg_01', model: 'claude', created: 9 },
    { type: 'reasoning-delta', text: 'plan' },
    { type: 'reasoning-end', signature: 'sig123' },
    { type: 'text-delta', text: 'Calling.' },
    { type: 'tool-call-start', index: 2, id: 'toolu_a', name: 'f' },
    { type: 'tool-call-delta', index: 2, argumentsDelta: '{"a":' },
    { type: 'tool-call-delta', index: 2, argumentsDelta: '1}' },
    { type: 'tool-call-end', index: 2 },
    { type: 'finish', finishReason: 'tool_calls', usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 } },
  ], minimalRequest);
  const output = ours.at(-1).response.output;
  assert.deepEqual(output.map((item: any) => item.type), ['reasoning', 'message', 'function_call']);
  assert.deepEqual(output.map((item: any, i: number) => ours.find((e) => e.type === 'response.output_item.done' && e.output_index === i).item), output);
  assert.deepEqual(output[0].summary, [{ type: 'summary_text', text: 'plan' }]);
  assert.equal(typeof output[0].encrypted_content, 'string');
  assert.equal(output[2].arguments, '{"a":1}');
  assert.equal(ours.at(-1).type, 'response.completed');
});
