import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalResponse } from '../../canonical/types.ts';
import { renderAnthropicError } from './errors.ts';
import { toMessagesResponse, toolInput } from './response.ts';
import { canonicalFromRecordedMessage, readFixtureJson, type Json } from './testing.ts';

const RECORDED_MESSAGES = [
  'messages-text.json',
  'messages-tool-use-json.json',
  'messages-tool-use-no-args.json',
  'messages-thinking-context-management.json',
  'messages-thinking.response.json',
  'messages-thinking-tool-use.response.json',
  'messages-parallel-tool-use.response.json',
  'messages-cache-read.response.json',
  'messages-image-url.response.json',
];

function essentials(message: Json): Json {
  return {
    id: message.id,
    type: message.type,
    role: message.role,
    model: message.model,
    content: message.content.map((block: Json) => {
      const { caller, citations, ...rest } = block;
      return rest;
    }),
    stop_reason: message.stop_reason,
    stop_sequence: message.stop_sequence ?? null,
    usage: {
      input_tokens: message.usage.input_tokens,
      cache_creation_input_tokens: message.usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: message.usage.cache_read_input_tokens ?? 0,
      output_tokens: message.usage.output_tokens,
    },
  };
}

for (const name of RECORDED_MESSAGES) {
  test(`${name}: canonical -> message reproduces the recorded content, stop reason and usage`, () => {
    const recorded = readFixtureJson(name);
    const message = toMessagesResponse(canonicalFromRecordedMessage(recorded), recorded.model);
    assert.deepEqual(message, essentials(recorded));
  });
}

test('cache usage: input_tokens is canonical input minus cache reads and writes', () => {
  const recorded = readFixtureJson('messages-cache-read.response.json');
  const canonical = canonicalFromRecordedMessage(recorded);
  assert.equal(canonical.usage.inputTokens, 3 + 1111 + 418);
  assert.deepEqual(toMessagesResponse(canonical, 'm').usage, { input_tokens: 3, cache_creation_input_tokens: 418, cache_read_input_tokens: 1111, output_tokens: 33 });
});

const answer = (over: Partial<CanonicalResponse>): CanonicalResponse => ({
  id: 'chatcmpl-1',
  model: 'gpt-5.4',
  created: 1,
  content: [],
  finishReason: 'stop',
  usage: { inputTokens: 10, cachedInputTokens: 4, outputTokens: 7, reasoningTokens: 2 },
  ...over,
});

test('an OpenAI-style answer: msg_ id, the requested model, tool calls with parsed input, stop upgraded to tool_use', () => {
  const message = toMessagesResponse(answer({
    content: [
      { type: 'reasoning', text: 'summary', redacted: 'enc' },
      { type: 'text', text: 'Calling.' },
      { type: 'tool_call', id: 'call_1', name: 'f', arguments: '{"a":[1,2]}' },
    ],
  }), 'claude-sonnet-4-5');
  assert.equal(message.id, 'msg_chatcmpl-1');
  assert.equal(message.model, 'claude-sonnet-4-5');
  assert.deepEqual(message.content, [
    { type: 'thinking', thinking: 'summary', signature: '' },
    { type: 'redacted_thinking', data: 'enc' },
    { type: 'text', text: 'Calling.' },
    { type: 'tool_use', id: 'call_1', name: 'f', input: { a: [1, 2] } },
  ]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.usage, { input_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 4, output_tokens: 7 });
});

test('tool arguments that are empty, invalid or not an object become {}', () => {
  assert.deepEqual(toolInput(''), {});
  assert.deepEqual(toolInput('  '), {});
  assert.deepEqual(toolInput('{"a":'), {});
  assert.deepEqual(toolInput('[1]'), {});
  assert.deepEqual(toolInput('"x"'), {});
  assert.deepEqual(toolInput('{"ok":true}'), { ok: true });
});

test('stop reasons: length, content_filter, stop_sequence with the one known sequence', () => {
  assert.equal(toMessagesResponse(answer({ finishReason: 'length' }), 'm').stop_reason, 'max_tokens');
  assert.equal(toMessagesResponse(answer({ finishReason: 'content_filter' }), 'm').stop_reason, 'refusal');
  const bySequence = toMessagesResponse(answer({ providerFinishReason: 'stop_sequence' }), 'm', { stopSequences: ['###'] });
  assert.equal(bySequence.stop_reason, 'stop_sequence');
  assert.equal(bySequence.stop_sequence, '###');
  const ambiguous = toMessagesResponse(answer({ providerFinishReason: 'stop_sequence' }), 'm', { stopSequences: ['a', 'b'] });
  assert.equal(ambiguous.stop_sequence, null);
  assert.equal(toMessagesResponse(answer({}), 'm', { stopSequences: ['###'] }).stop_sequence, null);
});

test('renderAnthropicError: status, headers and the envelope Anthropic clients parse', () => {
  const error = new GatewayError({ status: 429, type: 'rate_limit_error', code: 'rate_limited', message: 'Too many requests; retry in 3 s.', headers: { 'retry-after': '3' } });
  const rendered = renderAnthropicError(error, 'req_1');
  assert.equal(rendered.status, 429);
  assert.equal(rendered.headers['retry-after'], '3');
  assert.equal(rendered.headers['content-type'], 'application/json');
  const recordedShape = readFixtureJson('error-401-authentication.json');
  const body = rendered.body;
  assert.deepEqual(Object.keys(body).sort(), Object.keys(recordedShape).sort());
  assert.deepEqual(body, { type: 'error', error: { type: 'rate_limit_error', message: 'Too many requests; retry in 3 s.' }, request_id: 'req_1' });
});
