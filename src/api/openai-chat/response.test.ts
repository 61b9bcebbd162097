import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../canonical/errors.ts';
import { readFixtureJson } from '../../testing/fixtures.ts';
import { fromChatResponse, toChatCompletion } from './response.ts';

const completions = [
  'chat-basic.json', 'chat-text-full-usage.json', 'chat-refusal.json', 'chat-tool-calls-parallel.json', 'chat-finish-length.json',
  'chat-reasoning-tokens.response.json', 'chat-image-base64.response.json', 'spec-chat-default.response.json',
  'spec-chat-functions.response.json', 'spec-chat-image-input.response.json', 'spec-chat-logprobs.response.json',
];

test('every recorded chat.completion survives fromChatResponse -> toChatCompletion', () => {
  for (const name of completions) {
    const json = readFixtureJson(`openai/${name}`);
    const original = json.choices[0];
    const out: any = toChatCompletion(fromChatResponse(json), json.model);
    const choice = out.choices[0];
    assert.equal(out.object, 'chat.completion', name);
    assert.equal(out.id, json.id, name);
    assert.equal(out.model, json.model, name);
    assert.equal(out.created, json.created, name);
    assert.equal(choice.message.content, original.message.content ?? original.message.refusal ?? null, name);
    assert.deepEqual(choice.message.tool_calls, original.message.tool_calls, name);
    assert.equal(choice.finish_reason, original.finish_reason, name);
    assert.equal(out.usage.prompt_tokens, json.usage.prompt_tokens, name);
    assert.equal(out.usage.completion_tokens, json.usage.completion_tokens, name);
    assert.equal(out.usage.total_tokens, json.usage.total_tokens, name);
    assert.equal(out.usage.completion_tokens_details.reasoning_tokens, json.usage.completion_tokens_details?.reasoning_tokens ?? 0, name);
    assert.equal(out.usage.prompt_tokens_details.cached_tokens, json.usage.prompt_tokens_details?.cached_tokens ?? 0, name);
  }
});

test('a full usage object comes back identical', () => {
  const json = readFixtureJson('openai/chat-text-full-usage.json');
  assert.deepEqual((toChatCompletion(fromChatResponse(json), json.model) as any).usage, json.usage);
});

test('usage details and finish reasons map to canonical', () => {
  const reasoning = fromChatResponse(readFixtureJson('openai/chat-reasoning-tokens.response.json'));
  assert.deepEqual(reasoning.usage, { inputTokens: 7, cachedInputTokens: 0, outputTokens: 87, reasoningTokens: 64 });
  assert.equal(fromChatResponse(readFixtureJson('openai/chat-finish-length.json')).finishReason, 'length');
  const tools = fromChatResponse(readFixtureJson('openai/chat-tool-calls-parallel.json'));
  assert.equal(tools.finishReason, 'tool_calls');
  assert.deepEqual(tools.content.map((part) => part.type === 'tool_call' ? part.name : part.type), ['GetWeatherArgs', 'get_stock_price']);
});

test('a refusal becomes text', () => {
  const json = readFixtureJson('openai/chat-refusal.json');
  assert.deepEqual(fromChatResponse(json).content, [{ type: 'text', text: json.choices[0].message.refusal }]);
});

test('reasoning_content (DeepSeek, vLLM) becomes a reasoning part and goes back out', () => {
  const json = {
    id: 'x', object: 'chat.completion', created: 1, model: 'deepseek-reasoner',
    choices: [{ index: 0, message: { role: 'assistant', content: 'four', reasoning_content: '2+2' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8, prompt_cache_hit_tokens: 2 },
  };
  const response = fromChatResponse(json);
  assert.deepEqual(response.content, [{ type: 'reasoning', text: '2+2' }, { type: 'text', text: 'four' }]);
  assert.equal(response.usage.cachedInputTokens, 2);
  const out: any = toChatCompletion(response, 'r');
  assert.equal(out.choices[0].message.reasoning_content, '2+2');
});

test('tool calls with finish_reason "stop" are reported as a tool turn', () => {
  const json = {
    id: 'x', created: 1, model: 'llama',
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'stop' }],
  };
  const response = fromChatResponse(json);
  assert.equal(response.finishReason, 'tool_calls');
  assert.equal(response.providerFinishReason, 'stop');
  assert.deepEqual(response.usage, { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 });
});

test('a body without choices is an upstream error, not a crash', () => {
  assert.throws(() => fromChatResponse({ id: 'x', choices: [] }), (err: unknown) => err instanceof GatewayError && err.status === 502);
  assert.throws(() => fromChatResponse(null), (err: unknown) => err instanceof GatewayError && err.status === 502);
});
