import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { StreamEvent, Usage } from '../canonical/types.ts';
import { fixturePath, readFixtureJson, readFixtureJsonl, readFixtureSse } from '../testing/fixtures.ts';
import { ChatStreamDecoder, fromChatResponse } from '../api/openai-chat/index.ts';
import { fromResponsesResponse } from '../api/openai-responses/index.ts';
import { ChatStreamTap, ResponsesStreamTap } from './openai/usage-tap.ts';
import { AnthropicStreamTap } from './anthropic/relay.ts';
import { AnthropicStreamDecoder, fromAnthropicResponse } from './anthropic/index.ts';
import { fromGeminiResponse } from './gemini/index.ts';
import { MAX_REPORTED_TOKENS, readAnthropicUsage, readChatUsage, readGeminiUsage, readResponsesUsage, usageProblems } from './usage.ts';

const plain = (usage: Usage | undefined) => (usage ? { ...usage, problems: undefined } : usage);

test('each reader on the recorded bodies: the numbers the provider reported, cache parts included', () => {
  assert.deepEqual(plain(readChatUsage(readFixtureJson('openai/chat-reasoning-tokens.response.json').usage)), { inputTokens: 7, cachedInputTokens: 0, outputTokens: 87, reasoningTokens: 64, problems: undefined });
  assert.deepEqual(plain(readResponsesUsage(readFixtureJson('openai/responses-cached-tokens.response.json').usage)), { inputTokens: 2087, cachedInputTokens: 2048, outputTokens: 124, reasoningTokens: 0, problems: undefined });
  assert.deepEqual(plain(readAnthropicUsage(readFixtureJson('anthropic/messages-cache-read.response.json').usage)), { inputTokens: 3 + 1111 + 418, cachedInputTokens: 1111, cacheWriteTokens: 418, outputTokens: 33, reasoningTokens: 0, problems: undefined });
  assert.deepEqual(plain(readGeminiUsage(readFixtureJson('gemini/generate-cached-content.response.json').usageMetadata)), { inputTokens: 3520, cachedInputTokens: 3512, outputTokens: 44, reasoningTokens: 42, problems: undefined });
});

test('the relay path and the translated path read the same usage from the same non-stream body', () => {
  const chat = readFixtureJson('openai/chat-reasoning-tokens.response.json');
  assert.deepEqual(readChatUsage(chat.usage), fromChatResponse(chat).usage);
  const responses = readFixtureJson('openai/responses-cached-tokens.response.json');
  assert.deepEqual(readResponsesUsage(responses.usage), fromResponsesResponse(responses).usage);
  const claude = readFixtureJson('anthropic/messages-cache-read.response.json');
  assert.deepEqual(readAnthropicUsage(claude.usage), fromAnthropicResponse(claude).usage);
  const gemini = readFixtureJson('gemini/generate-cached-content.response.json');
  assert.deepEqual(readGeminiUsage(gemini.usageMetadata), fromGeminiResponse(gemini).usage);
});

test('cache counts only some providers send are read on both paths: DeepSeek hits, Responses cache writes', () => {
  const deepseek = { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 };
  assert.equal(readChatUsage(deepseek)?.cachedInputTokens, 64);
  assert.equal(fromChatResponse({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: deepseek }).usage.cachedInputTokens, 64);
  const tap = new ChatStreamTap(false);
  tap.keep(JSON.stringify({ id: 'x', model: 'deepseek-chat', choices: [], usage: deepseek }));
  assert.equal(tap.usage?.cachedInputTokens, 64, 'the relay tap reads DeepSeek cache hits');

  const written = { input_tokens: 500, input_tokens_details: { cached_tokens: 100, cache_write_tokens: 300 }, output_tokens: 9 };
  const rtap = new ResponsesStreamTap();
  rtap.keep(JSON.stringify({ type: 'response.completed', response: { model: 'gpt-5.4', usage: written } }), 'response.completed');
  assert.equal(rtap.usage?.cacheWriteTokens, 300, 'the relay tap reads Responses cache writes');
  assert.deepEqual(rtap.usage, readResponsesUsage(written));
});

const chatStreams = readdirSync(fixturePath('openai/')).filter((f) => f.startsWith('chat-stream') && (f.endsWith('.sse') || f.endsWith('.jsonl')));
const anthropicStreams = readdirSync(fixturePath('anthropic/')).filter((f) => f.startsWith('messages-stream') && (f.endsWith('.sse') || f.endsWith('.jsonl')));

test('on every recorded chat stream the relay tap and the translating decoder bill the same usage', () => {
  assert.ok(chatStreams.length >= 8);
  for (const name of chatStreams) {
    const datas = name.endsWith('.sse') ? readFixtureSse(`openai/${name}`).map((e) => e.data) : readFixtureJsonl(`openai/${name}`).map((c) => JSON.stringify(c));
    const tap = new ChatStreamTap(false);
    const decoder = new ChatStreamDecoder();
    const events: StreamEvent[] = [];
    for (const data of datas) {
      tap.keep(data);
      if (data !== '[DONE]') events.push(...decoder.push(JSON.parse(data)));
    }
    events.push(...decoder.finish());
    const end = events.find((e) => e.type === 'finish' || e.type === 'error') as { usage?: Usage } | undefined;
    if (tap.usage) assert.deepEqual(end?.usage, tap.usage, name);
  }
});

test('on every recorded Anthropic stream the relay tap and the translating decoder bill the same usage', () => {
  assert.ok(anthropicStreams.length >= 8);
  let billed = 0;
  for (const name of anthropicStreams) {
    const events = name.endsWith('.sse')
      ? readFixtureSse(`anthropic/${name}`)
      : readFixtureJsonl(`anthropic/${name}`).map((e) => ({ event: e.type as string, data: JSON.stringify(e) }));
    const tap = new AnthropicStreamTap();
    const decoder = new AnthropicStreamDecoder();
    const out: StreamEvent[] = [];
    for (const event of events) {
      tap.keep(event.data, event.event);
      decoder.push(event, out);
    }
    decoder.end(out);
    const end = out.find((e) => e.type === 'finish' || e.type === 'error') as { usage?: Usage } | undefined;
    if (!tap.usage) continue; // a stream that failed before message_start
    billed++;
    assert.deepEqual(end?.usage, tap.usage, name);
  }
  assert.ok(billed >= anthropicStreams.length - 1, 'all but the overloaded-error stream carry usage');
});

test('counts that are not token counts are not trusted: 0 in their place, each named in problems', () => {
  const bad: unknown[] = ['abc', '12', 17.5, -1, -1_000_000, Number.NaN, Number.POSITIVE_INFINITY, MAX_REPORTED_TOKENS + 1, 2 ** 53, true, {}, []];
  for (const value of bad) {
    const chat = readChatUsage({ prompt_tokens: value, completion_tokens: 5 })!;
    assert.equal(chat.inputTokens, 0, String(value));
    assert.equal(chat.outputTokens, 5);
    assert.deepEqual(usageProblems(chat).map((p) => p.field), ['inputTokens'], String(value));
    assert.deepEqual(usageProblems(readResponsesUsage({ input_tokens: 3, output_tokens: value })!).map((p) => p.field), ['outputTokens']);
    assert.deepEqual(usageProblems(readAnthropicUsage({ input_tokens: 3, cache_read_input_tokens: value, output_tokens: 2 })).map((p) => p.field), ['cachedInputTokens']);
    assert.deepEqual(usageProblems(readGeminiUsage({ promptTokenCount: 3, candidatesTokenCount: value })).map((p) => p.field), ['outputTokens']);
  }
  // 1e400 is what JSON.parse makes of it: Infinity.
  assert.deepEqual(usageProblems(readChatUsage(JSON.parse('{"prompt_tokens":1e400}'))!).map((p) => p.field), ['inputTokens']);
});

test('absent and null counts are 0 and not a problem', () => {
  assert.deepEqual(usageProblems(readChatUsage({ prompt_tokens: 4, completion_tokens: null })!), []);
  assert.deepEqual(usageProblems(readAnthropicUsage({ input_tokens: 4, output_tokens: 1, cache_read_input_tokens: null })), []);
  assert.equal(readChatUsage('not usage'), undefined);
});
