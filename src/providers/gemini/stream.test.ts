import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SseEvent } from '../../canonical/sse.ts';
import type { StreamEvent } from '../../canonical/types.ts';
import { fixtureEvents, fixtureIndex, fixtureText, foldStream } from '../anthropic/test-support.ts';
import { signatureOfToolCallId } from './ids.ts';
import { readGeminiSse } from './sse-body.ts';
import { GeminiStreamDecoder, parseJsonPath } from './stream.ts';

function decode(events: SseEvent[], decoder = new GeminiStreamDecoder()): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const event of events) decoder.push(event, out);
  decoder.end(out);
  return out;
}

/** What the recording holds, read straight from its chunks. */
function recorded(events: SseEvent[]) {
  const chunks = events.map((event) => JSON.parse(event.data));
  const parts = chunks.flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? []);
  const usage = chunks.map((chunk) => chunk.usageMetadata).filter((u) => u?.promptTokenCount !== undefined).at(-1) ?? {};
  return {
    text: parts.filter((p: any) => !p.thought && p.text).map((p: any) => p.text).join(''),
    thoughts: parts.filter((p: any) => p.thought).map((p: any) => p.text).join(''),
    calls: parts.filter((p: any) => p.functionCall?.args).map((p: any) => ({ name: p.functionCall.name, args: p.functionCall.args, signature: p.thoughtSignature })),
    finishReason: chunks.map((chunk) => chunk.candidates?.[0]?.finishReason).filter(Boolean).at(-1),
    usage,
  };
}

describe('GeminiStreamDecoder on every recorded stream', () => {
  for (const { file } of fixtureIndex('gemini', ['stream-sse', 'stream-jsonl'])) {
    if (/error|blocked|partial-args/.test(file)) continue;
    it(`${file}: canonical events carry exactly what was streamed`, () => {
      const events = fixtureEvents(file);
      const want = recorded(events);
      const got = foldStream(decode(events));
      assert.equal(got.text, want.text);
      assert.equal(got.reasoning, want.thoughts);
      assert.deepEqual(got.toolCalls.map((call) => ({ name: call.name, args: JSON.parse(call.arguments), signature: signatureOfToolCallId(call.id) })), want.calls);
      assert.equal(got.finishReason, want.calls.length > 0 ? 'tool_calls' : 'stop');
      assert.equal(got.providerFinishReason, want.finishReason);
      const u = want.usage;
      assert.deepEqual(got.usage, {
        inputTokens: u.promptTokenCount,
        cachedInputTokens: 0,
        outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
        reasoningTokens: u.thoughtsTokenCount ?? 0,
      });
    });
  }

  it('text deltas leave on the push of the chunk that carried them', () => {
    const decoder = new GeminiStreamDecoder();
    const perChunk = fixtureEvents('gemini/stream-text.response.sse').map((event) => decoder.push(event));
    assert.deepEqual(perChunk.map((out) => out.filter((e) => e.type === 'text-delta').map((e) => (e as { text: string }).text)), [['The'], [' capital of France'], [' is Paris.\n']]);
    assert.ok(!perChunk.flat().some((e) => e.type === 'finish'), 'finish waits for the end of the body');
  });

  it('the final empty part with a thoughtSignature becomes a signed reasoning-end (stream-text.vercel)', () => {
    const events = fixtureEvents('gemini/stream-text.vercel.jsonl');
    const last = JSON.parse(events.at(-1)!.data).candidates[0].content.parts[0];
    const got = foldStream(decode(events));
    assert.deepEqual(got.signatures, [`gemini:${last.thoughtSignature}`]);
    assert.deepEqual(got.shape, ['start', 'text-delta', 'reasoning-end', 'finish']);
  });

  it('thought summaries, then a function call carrying its signature (stream-thinking-function-call)', () => {
    const events = fixtureEvents('gemini/stream-thinking-function-call.firebase.sse');
    const got = foldStream(decode(events));
    assert.deepEqual(got.shape.slice(0, 4), ['start', 'reasoning-delta', 'reasoning-end', 'tool-call-start']);
    assert.match(got.reasoning, /^\*\*Calculating the Days\*\*/);
    assert.equal(got.toolCalls[0].name, 'now');
    assert.ok(signatureOfToolCallId(got.toolCalls[0].id)?.startsWith('CiIBVKhc7vB+vaaq6rA/KC79'));
  });

  it('partial function-call arguments are assembled per call (stream-function-call-partial-args)', () => {
    const events = fixtureEvents('gemini/stream-function-call-partial-args.vercel.jsonl');
    const first = JSON.parse(events[0].data).candidates[0].content.parts[0];
    const got = foldStream(decode(events));
    assert.deepEqual(got.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)]), [['getWeather', { location: 'Boston' }], ['getWeather', { location: 'San Francisco' }]]);
    assert.equal(signatureOfToolCallId(got.toolCalls[0].id), first.thoughtSignature);
    assert.notEqual(got.toolCalls[0].id, got.toolCalls[1].id);
    assert.equal(got.finishReason, 'tool_calls');
    assert.deepEqual(got.usage, { inputTokens: 26, cachedInputTokens: 0, outputTokens: 23 + 132, reasoningTokens: 132 });
  });

  it('a prompt blocked for safety finishes with content_filter and no content', () => {
    const got = foldStream(decode(fixtureEvents('gemini/stream-prompt-blocked-safety.firebase.sse')));
    assert.deepEqual(got.shape, ['start', 'finish']);
    assert.equal(got.finishReason, 'content_filter');
  });

  it('the bare JSON error Gemini writes mid-stream becomes an error event after the text', async () => {
    const bytes = Buffer.from(fixtureText('gemini/stream-error-mid-stream.vertex.firebase.sse'));
    const pieces = Array.from({ length: Math.ceil(bytes.length / 5) }, (_, i) => bytes.subarray(i * 5, i * 5 + 5));
    const decoder = new GeminiStreamDecoder();
    const out: StreamEvent[] = [];
    for await (const event of readGeminiSse((async function* () { yield* pieces; })())) decoder.push(event, out);
    decoder.end(out);
    const got = foldStream(out);
    assert.deepEqual(got.shape, ['start', 'text-delta', 'error']);
    assert.equal(got.text, 'First Second ');
    assert.equal(got.error?.error.source, 'provider:gemini');
    assert.match(got.error!.error.message, /Gemini failed mid-stream.*CANCELLED.*cancelled/);
  });

  it('a body that ends without a finish reason ends with an error and the usage so far', () => {
    const events = fixtureEvents('gemini/stream-basic.firebase.sse').slice(0, 2);
    const got = foldStream(decode(events));
    assert.equal(got.text, 'The capital of Wyoming');
    assert.equal(got.error?.error.code, 'upstream_stream_truncated');
    assert.equal(got.usage?.inputTokens, 7);
  });

  it('reads JSON paths with dots, indexes and quoted keys', () => {
    assert.deepEqual(parseJsonPath("$.a.b[0]['c d'].e"), ['a', 'b', 0, 'c d', 'e']);
  });
});
