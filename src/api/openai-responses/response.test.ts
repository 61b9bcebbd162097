import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse } from '../../canonical/types.ts';
import { readFixtureJson } from '../../testing/fixtures.ts';
import { fromChatResponse } from '../openai-chat/response.ts';
import { parseResponsesRequest } from './parse.ts';
import { fromResponsesResponse, toResponseObject } from './response.ts';

const responses = [
  'responses-text.json', 'responses-simple.response.json', 'responses-function-call.response.json',
  'responses-function-call-output.response.json', 'responses-reasoning-summary.response.json', 'responses-cached-tokens.response.json',
  'responses-image-url.response.json', 'responses-reasoning-encrypted-content.json', 'spec-responses-reasoning.response.json',
  'spec-responses-functions.response.json', 'spec-responses-text-input.response.json', 'spec-responses-image-input.response.json',
];

const request: CanonicalRequest = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false };

test('every recorded Responses response survives fromResponsesResponse -> toResponseObject', () => {
  for (const name of responses) {
    const json = readFixtureJson(`openai/${name}`);
    const out: any = toResponseObject(fromResponsesResponse(json), request, json.model);
    assert.equal(out.object, 'response', name);
    assert.equal(out.id, json.id, name);
    assert.equal(out.created_at, json.created_at, name);
    assert.equal(out.status, json.status, name);
    assert.equal(out.model, json.model, name);
    assert.deepEqual(out.output.map((item: any) => item.type), json.output.map((item: any) => item.type), name);
    for (let i = 0; i < json.output.length; i++) {
      const [ours, theirs] = [out.output[i], json.output[i]];
      if (theirs.type === 'message') {
        assert.equal(ours.content[0].text, theirs.content.map((part: any) => part.text).join(''), name);
        assert.deepEqual(ours.content[0].annotations, [], name);
        assert.equal(ours.role, 'assistant', name);
      } else if (theirs.type === 'function_call') {
        assert.deepEqual([ours.call_id, ours.name, ours.arguments, ours.status], [theirs.call_id, theirs.name, theirs.arguments, 'completed'], name);
      } else {
        assert.equal(ours.encrypted_content, theirs.encrypted_content, name);
        assert.deepEqual(ours.summary, [{ type: 'summary_text', text: theirs.summary.map((part: any) => part.text).join('\n\n') }], name);
      }
    }
    assert.equal(out.usage.input_tokens, json.usage.input_tokens, name);
    assert.equal(out.usage.input_tokens_details.cached_tokens, json.usage.input_tokens_details?.cached_tokens ?? 0, name);
    assert.equal(out.usage.output_tokens, json.usage.output_tokens, name);
    assert.equal(out.usage.output_tokens_details.reasoning_tokens, json.usage.output_tokens_details.reasoning_tokens, name);
    assert.equal(out.usage.total_tokens, json.usage.total_tokens, name);
  }
});

test('cached and reasoning tokens reach the canonical usage', () => {
  assert.equal(fromResponsesResponse(readFixtureJson('openai/responses-cached-tokens.response.json')).usage.cachedInputTokens, 2048);
  const reasoning = fromResponsesResponse(readFixtureJson('openai/responses-reasoning-summary.response.json'));
  assert.equal(reasoning.usage.reasoningTokens, 59);
  assert.equal(fromResponsesResponse(readFixtureJson('openai/responses-function-call.response.json')).finishReason, 'tool_calls');
});

test('the response echoes the request the client sent', () => {
  const body = readFixtureJson('openai/responses-reasoning-summary.request.json');
  const parsed = parseResponsesRequest(body);
  const json = readFixtureJson('openai/responses-reasoning-summary.response.json');
  const out: any = toResponseObject(fromResponsesResponse(json), parsed, 'gpt-5.2');
  assert.equal(out.instructions, body.instructions);
  assert.deepEqual(out.reasoning, { effort: 'high', summary: 'auto' });
  assert.deepEqual(out.text, { format: { type: 'text' } });
  assert.equal(out.tool_choice, 'auto');
  assert.deepEqual(out.tools, []);
  assert.deepEqual(out.metadata, {});
  assert.equal(out.max_output_tokens, null);
  assert.equal(out.error, null);
  assert.equal(out.incomplete_details, null);
});

test('a chat answer with parallel tool calls becomes function_call items', () => {
  const json = readFixtureJson('openai/chat-tool-calls-parallel.json');
  const out: any = toResponseObject(fromChatResponse(json), request, 'gpt-4o');
  assert.match(out.id, /^resp_/);
  assert.deepEqual(out.output.map((item: any) => [item.type, item.call_id, item.name, item.arguments]),
    json.choices[0].message.tool_calls.map((call: any) => ['function_call', call.id, call.function.name, call.function.arguments]));
  assert.equal(new Set(out.output.map((item: any) => item.id)).size, 2);
  assert.equal(out.usage.total_tokens, json.usage.total_tokens);
});

test('a length finish is an incomplete response', () => {
  const out: any = toResponseObject(fromChatResponse(readFixtureJson('openai/chat-finish-length.json')), request, 'gpt-4o');
  assert.equal(out.status, 'incomplete');
  assert.deepEqual(out.incomplete_details, { reason: 'max_output_tokens' });
});

test('a thinking signature survives a round trip through a Responses client', () => {
  const answer: CanonicalResponse = {
    id: 'msg_01abc', model: 'claude', created: 1, finishReason: 'tool_calls',
    usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 },
    content: [
      { type: 'reasoning', text: 'I should call f.', signature: 'EqQBCkYIBxgCKkD' },
      { type: 'tool_call', id: 'toolu_1', name: 'f', arguments: '{}' },
    ],
  };
  const out: any = toResponseObject(answer, request, 'claude');
  const next = parseResponsesRequest({
    model: 'claude', input: [{ role: 'user', content: 'go' }, ...out.output, { type: 'function_call_output', call_id: 'toolu_1', output: 'ok' }],
  });
  assert.deepEqual(next.messages[1], { role: 'assistant', content: answer.content });
});

test('a failed or malformed upstream response is an upstream error', () => {
  const failed = { status: 'failed', error: { code: 'server_error', message: 'oops' }, output: [] };
  assert.throws(() => fromResponsesResponse(failed), (err: unknown) => err instanceof GatewayError && /oops/.test(err.message));
  assert.throws(() => fromResponsesResponse({ id: 'x' }), (err: unknown) => err instanceof GatewayError && err.status === 502);
});
