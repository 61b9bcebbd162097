import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixtureJson } from '../../testing/fixtures.ts';
import { parseChatRequest } from './parse.ts';
import { chatDroppedFields, toChatRequest } from './request.ts';

test('recorded chat requests survive parse -> toChatRequest unchanged', () => {
  for (const name of [
    'chat-stream-after-tool-result', 'chat-stream-tool-call-include-usage', 'chat-reasoning-tokens', 'chat-image-base64',
  ]) {
    const body = readFixtureJson(`openai/${name}.request.json`);
    assert.deepEqual(toChatRequest(parseChatRequest(body), body.model), body, name);
  }
});

test('the upstream model replaces the requested one', () => {
  const body = toChatRequest(parseChatRequest({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }), 'gpt-5.4-mini');
  assert.equal(body.model, 'gpt-5.4-mini');
});

test('streaming always asks the upstream for usage, keeping the other stream_options', () => {
  const body = toChatRequest(parseChatRequest({
    model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_obfuscation: false },
  }), 'm');
  assert.deepEqual(body.stream_options, { include_obfuscation: false, include_usage: true });
  const plain = toChatRequest(parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }), 'm');
  assert.deepEqual(plain.stream_options, { include_usage: true });
  const nonStream = toChatRequest(parseChatRequest({
    model: 'm', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true },
  }), 'm');
  assert.equal(nonStream.stream_options, undefined);
});

test('max_tokens goes upstream as max_completion_tokens', () => {
  const body = toChatRequest(parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 42 }), 'm');
  assert.equal(body.max_completion_tokens, 42);
  assert.equal(body.max_tokens, undefined);
});

test('reasoning of earlier assistant turns is dropped, text and tool calls kept', () => {
  const body = toChatRequest({
    model: 'm', stream: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'image', data: 'AAAA', mediaType: 'image/png' }] },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'hmm', signature: 's' }, { type: 'text', text: 'a' }, { type: 'tool_call', id: 'c1', name: 'f', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', content: 'r' },
    ],
  }, 'm');
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    { role: 'assistant', content: 'a', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'r' },
  ]);
});

test('unknown fields are spread in; Responses-only ones are left out and reported', () => {
  const request = {
    model: 'm', stream: false, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
    extra: { logit_bias: { '50256': -100 }, include: ['reasoning.encrypted_content'], text: { verbosity: 'low' }, store: false },
  };
  const body = toChatRequest(request, 'm');
  assert.deepEqual(body.logit_bias, { '50256': -100 });
  assert.equal(body.store, false);
  assert.equal(body.verbosity, 'low');
  assert.equal(body.include, undefined);
  assert.equal(body.text, undefined);
  assert.deepEqual(chatDroppedFields(request), ['include'], 'text carrying only verbosity is sent as verbosity, not dropped');
  const withFormatKeys = { ...request, extra: { ...request.extra, text: { verbosity: 'low', other: 1 }, truncation: 'auto' } };
  assert.deepEqual(chatDroppedFields(withFormatKeys).sort(), ['include', 'text', 'truncation']);
});

test('tools, tool choice and json_schema format take the chat shapes', () => {
  const body = toChatRequest({
    model: 'm', stream: false, messages: [{ role: 'system', content: 's' }],
    tools: [{ name: 'f', description: 'd', parameters: { type: 'object' }, strict: true }],
    toolChoice: { name: 'f' },
    responseFormat: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true },
    reasoningEffort: 'low', temperature: 0.5, topP: 0.9, stop: ['x'], n: 1, seed: 3, user: 'u', metadata: { a: 'b' },
  }, 'm');
  assert.deepEqual(JSON.parse(JSON.stringify(body)), {
    model: 'm', messages: [{ role: 'system', content: 's' }],
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true } }],
    tool_choice: { type: 'function', function: { name: 'f' } },
    response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
    reasoning_effort: 'low', temperature: 0.5, top_p: 0.9, stop: ['x'], n: 1, seed: 3, user: 'u', metadata: { a: 'b' }, stream: false,
  });
});
