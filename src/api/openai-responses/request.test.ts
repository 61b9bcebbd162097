import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixtureJson } from '../../testing/fixtures.ts';
import { parseChatRequest } from '../openai-chat/parse.ts';
import { parseResponsesRequest } from './parse.ts';
import { responsesDroppedFields, toResponsesRequest } from './request.ts';

test('a chat tool turn becomes Responses input items', () => {
  const chat = parseChatRequest(readFixtureJson('openai/chat-stream-after-tool-result.request.json'));
  const body: any = toResponsesRequest(chat, 'gpt-5.4-pro');
  assert.equal(body.model, 'gpt-5.4-pro');
  assert.deepEqual(body.input, [
    { role: 'user', content: [{ type: 'input_text', text: 'What is the capital of the UK? Use the tool, then answer.' }] },
    { type: 'function_call', call_id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', name: 'get_capital', arguments: '{"country":"UK"}' },
    { type: 'function_call_output', call_id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', output: 'London' },
  ]);
  assert.deepEqual(body.tools[0], {
    type: 'function', name: 'get_capital', description: '', strict: true,
    parameters: readFixtureJson('openai/chat-stream-after-tool-result.request.json').tools[0].function.parameters,
  });
  assert.equal(body.tool_choice, 'auto');
  assert.equal(body.stream, true);
  assert.equal(body.stream_options, undefined, 'chat stream_options are not a Responses field');
});

test('chat-only settings map or are reported as dropped', () => {
  const chat = parseChatRequest({
    model: 'm', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'q' }],
    max_tokens: 99, reasoning_effort: 'minimal', stop: ['x'], seed: 4, verbosity: 'high', logit_bias: { '1': 1 },
    response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } },
  });
  const body: any = toResponsesRequest(chat, 'm');
  assert.equal(body.instructions, 'sys');
  assert.equal(body.max_output_tokens, 99);
  assert.deepEqual(body.reasoning, { effort: 'minimal' });
  assert.deepEqual(body.text, { verbosity: 'high', format: { type: 'json_object' } });
  assert.deepEqual(body.tool_choice, { type: 'function', name: 'f' });
  assert.equal(body.tools[0].strict, false, 'chat tools are not strict unless asked; Responses would default to strict');
  for (const field of ['stop', 'seed', 'logit_bias', 'verbosity', 'max_tokens', 'messages']) assert.equal(body[field], undefined, field);
  assert.deepEqual(responsesDroppedFields(chat).sort(), ['logit_bias', 'seed', 'stop']);
});

test('a Responses request replays reasoning with its encrypted content and keeps its extras', () => {
  const original = readFixtureJson('openai/responses-cached-tokens.request.json');
  const body: any = toResponsesRequest(parseResponsesRequest(original), original.model);
  assert.equal(body.instructions, original.instructions);
  assert.deepEqual(body.include, original.include);
  assert.deepEqual(body.reasoning, original.reasoning);
  assert.deepEqual(body.input.map((item: any) => item.type ?? item.role), ['user', 'reasoning', 'function_call', 'function_call_output']);
  assert.equal(body.input[1].encrypted_content, original.input[1].encrypted_content);
  assert.equal(body.input[2].call_id, original.input[2].call_id);
});

test('images go out as input_image with a data: URL for inline bytes', () => {
  const body: any = toResponsesRequest({
    model: 'm', stream: false,
    messages: [{ role: 'user', content: [{ type: 'image', data: 'QUJD', mediaType: 'image/webp' }, { type: 'image', url: 'https://x/y.png', detail: 'high' }] }],
  }, 'm');
  assert.deepEqual(body.input[0].content, [
    { type: 'input_image', image_url: 'data:image/webp;base64,QUJD', detail: 'auto' },
    { type: 'input_image', image_url: 'https://x/y.png', detail: 'high' },
  ]);
});
