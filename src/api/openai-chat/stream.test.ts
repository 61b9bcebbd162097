import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { GatewayError } from '../../canonical/errors.ts';
import type { StreamEvent } from '../../canonical/types.ts';
import { fixturePath, readFixtureJsonl, readFixtureSse } from '../../testing/fixtures.ts';
import { ChatStreamDecoder } from './stream-decoder.ts';
import { ChatStreamEncoder } from './stream-encoder.ts';
import { assembleChat, parseSseText } from './test-support.ts';

/** The data payloads of a recorded chat stream, [DONE] excluded. */
function recordedPayloads(name: string): string[] {
  if (name.endsWith('.jsonl')) return readFixtureJsonl(`openai/${name}`).map((chunk) => JSON.stringify(chunk));
  return readFixtureSse(`openai/${name}`).map((event) => event.data).filter((data) => data !== '[DONE]');
}

function decodeAll(payloads: string[], decoder = new ChatStreamDecoder()): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const data of payloads) events.push(...decoder.push(JSON.parse(data)));
  events.push(...decoder.finish());
  return events;
}

function encodeAll(events: StreamEvent[], includeUsage = true): string {
  const encoder = new ChatStreamEncoder({ model: 'client-model', includeUsage });
  let text = '';
  for (const event of events) text += encoder.encode(event);
  return text;
}

const chatStreams = readdirSync(fixturePath('openai')).filter((name) => /^chat-stream-.*\.(sse|jsonl)$/.test(name));

test('every recorded chat stream decodes and re-encodes to the same answer', () => {
  assert.ok(chatStreams.length >= 10);
  for (const name of chatStreams) {
    const payloads = recordedPayloads(name);
    const original = assembleChat(payloads);
    const encoded = parseSseText(encodeAll(decodeAll(payloads)));
    const again = assembleChat(encoded.map((event) => event.data));
    assert.equal(again.text, original.text, name);
    assert.equal(again.reasoning, original.reasoning, name);
    assert.deepEqual(again.toolCalls, original.toolCalls, name);
    assert.equal(again.finishReason, original.finishReason, name);
    assert.equal(again.usage.prompt_tokens, original.usage.prompt_tokens, name);
    assert.equal(again.usage.completion_tokens, original.usage.completion_tokens, name);
    assert.equal(again.usage.total_tokens, original.usage.total_tokens, name);
    assert.equal(again.usage.completion_tokens_details.reasoning_tokens, original.usage.completion_tokens_details?.reasoning_tokens ?? 0, name);
    assert.equal(again.usage.prompt_tokens_details.cached_tokens, original.usage.prompt_tokens_details?.cached_tokens ?? 0, name);
    assert.equal(encoded.at(-1)?.data, '[DONE]', name);
    assert.deepEqual(JSON.parse(encoded.at(-2)!.data).choices, [], `${name}: usage chunk has no choices`);
    assert.deepEqual(again.errors, [], name);
  }
});

test('parallel tool calls keep their ids, names and full arguments', () => {
  const events = decodeAll(recordedPayloads('chat-stream-parallel-tool-calls-usage.sse'));
  const starts = events.filter((event) => event.type === 'tool-call-start');
  assert.deepEqual(starts.map((event) => event.type === 'tool-call-start' && [event.index, event.id, event.name]), [
    [0, 'call_JMW1whyEaYG438VE1OIflxA2', 'GetWeatherArgs'],
    [1, 'call_DNYTawLBoN8fj3KN6qU9N1Ou', 'get_stock_price'],
  ]);
  const args = ['', ''];
  for (const event of events) if (event.type === 'tool-call-delta') args[event.index] += event.argumentsDelta;
  assert.deepEqual(args.map((text) => JSON.parse(text)), [
    { city: 'Edinburgh', country: 'GB', units: 'c' },
    { ticker: 'AAPL', exchange: 'NASDAQ' },
  ]);
  assert.equal(events.filter((event) => event.type === 'tool-call-end').length, 2);
  const finish = events.at(-1);
  assert.equal(finish?.type === 'finish' && finish.finishReason, 'tool_calls');
});

test('finish waits for the usage chunk that follows finish_reason', () => {
  const payloads = recordedPayloads('chat-stream-text-usage.sse');
  const decoder = new ChatStreamDecoder();
  const perChunk = payloads.map((data) => decoder.push(JSON.parse(data)));
  const finishAt = perChunk.findIndex((events) => events.some((event) => event.type === 'finish'));
  assert.equal(finishAt, payloads.length - 1);
  const finish = perChunk[finishAt].find((event) => event.type === 'finish');
  const recorded = JSON.parse(payloads.at(-1)!).usage;
  assert.deepEqual(finish?.type === 'finish' && finish.usage, {
    inputTokens: recorded.prompt_tokens, cachedInputTokens: 0, outputTokens: recorded.completion_tokens, reasoningTokens: 0,
  });
  assert.deepEqual(decoder.finish(), []);
});

test('Azure prompt-filter prelude does not start the stream; the real id and model do', () => {
  const events = decodeAll(recordedPayloads('chat-stream-azure-content-filter.jsonl'));
  assert.deepEqual(events[0], { type: 'start', id: 'chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt', model: 'gpt-5-nano-2025-08-07', created: 1762317021 });
  const finish = events.at(-1);
  assert.equal(finish?.type === 'finish' && finish.usage.reasoningTokens, 64);
});

test('without include_usage the client gets no usage chunk but still a finish and [DONE]', () => {
  const encoded = parseSseText(encodeAll(decodeAll(recordedPayloads('chat-stream-finish-length.sse')), false));
  const chunks = encoded.slice(0, -1).map((event) => JSON.parse(event.data));
  assert.equal(chunks.some((chunk) => chunk.usage), false);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
  assert.equal(encoded.at(-1)?.data, '[DONE]');
});

test('a stream cut before finish_reason ends with an error carrying the usage seen', () => {
  const payloads = recordedPayloads('chat-stream-text-usage.sse').slice(0, 5);
  const events = decodeAll(payloads);
  const last = events.at(-1);
  assert.equal(last?.type, 'error');
  assert.equal(last?.type === 'error' && last.error.status, 502);
  const text = encodeAll(events);
  const encoded = parseSseText(text);
  assert.equal(JSON.parse(encoded.at(-2)!.data).error.code, 'upstream_stream_incomplete');
  assert.equal(encoded.at(-1)?.data, '[DONE]');
});

test('an error object inside the upstream stream becomes an error event', () => {
  const decoder = new ChatStreamDecoder({ providerLabel: 'vllm' });
  decoder.push({ id: 'c', choices: [{ index: 0, delta: { content: 'hi' } }] });
  const [event] = decoder.push({ error: { message: 'boom', type: 'server_error', code: 'rate_limit_exceeded' } });
  assert.equal(event.type, 'error');
  if (event.type !== 'error') return;
  assert.equal(event.error.status, 429);
  assert.equal(event.error.source, 'provider:vllm');
  assert.match(event.error.message, /boom/);
  assert.deepEqual(decoder.finish(), []);
});

test('reasoning deltas travel as delta.reasoning_content both ways', () => {
  const decoder = new ChatStreamDecoder();
  const events = [
    ...decoder.push({ id: 'r1', created: 5, model: 'deepseek', choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'let me ' } }] }),
    ...decoder.push({ id: 'r1', choices: [{ index: 0, delta: { reasoning: 'think' } }] }),
    ...decoder.push({ id: 'r1', choices: [{ index: 0, delta: { content: 'done' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2 } }),
  ];
  assert.deepEqual(events.map((event) => event.type), ['start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end', 'text-delta', 'finish']);
  const again = assembleChat(parseSseText(encodeAll(events)).map((event) => event.data));
  assert.equal(again.reasoning, 'let me think');
  assert.equal(again.text, 'done');
});

test('tool calls stream as OpenAI does, with indexes renumbered from 0', () => {
  const encoder = new ChatStreamEncoder({ model: 'm', includeUsage: false });
  encoder.encode({ type: 'start', id: 'msg_1', model: 'claude', created: 7 });
  encoder.encode({ type: 'text-delta', text: 'Let me look.' });
  const first = JSON.parse(parseSseText(encoder.encode({ type: 'tool-call-start', index: 1, id: 'toolu_1', name: 'lookup' }))[0].data);
  const later = JSON.parse(parseSseText(encoder.encode({ type: 'tool-call-delta', index: 1, argumentsDelta: '{"q":1}' }))[0].data);
  assert.deepEqual(first.choices[0].delta, { tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '' } }] });
  assert.deepEqual(later.choices[0].delta, { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] });
  assert.equal(first.id, 'msg_1');
  assert.equal(first.model, 'm');
  assert.equal(first.object, 'chat.completion.chunk');
  assert.equal(encoder.encode({ type: 'tool-call-end', index: 1 }), '');
});

test('an error event ends the client stream with the OpenAI error envelope and [DONE]', () => {
  const encoder = new ChatStreamEncoder({ model: 'm', includeUsage: true });
  encoder.encode({ type: 'start', id: 'x', model: 'm', created: 1 });
  const error = new GatewayError({ status: 502, type: 'upstream_error', code: 'upstream_reset', message: 'upstream went away' });
  const events = parseSseText(encoder.encode({ type: 'error', error }));
  assert.deepEqual(JSON.parse(events[0].data), { error: { message: 'upstream went away', type: 'upstream_error', param: null, code: 'upstream_reset' } });
  assert.equal(events[1].data, '[DONE]');
  assert.equal(encoder.encode({ type: 'text-delta', text: 'late' }), '');
});
