import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SseEvent } from '../../canonical/sse.ts';
import type { StreamEvent } from '../../canonical/types.ts';
import { AnthropicStreamDecoder } from './stream.ts';
import { fixtureEvents, fixtureIndex, foldStream } from './test-support.ts';

function decode(events: SseEvent[], decoder = new AnthropicStreamDecoder()): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const event of events) decoder.push(event, out);
  decoder.end(out);
  return out;
}

/** What the recording holds, read straight from its payloads. */
function recorded(events: SseEvent[]) {
  const payloads = events.map((event) => JSON.parse(event.data));
  const deltas = payloads.filter((p) => p.type === 'content_block_delta').map((p) => p.delta);
  const starts = payloads.filter((p) => p.type === 'content_block_start').map((p) => p.content_block);
  const toolStarts = payloads.filter((p) => p.type === 'content_block_start' && p.content_block.type === 'tool_use');
  const messageStart = payloads.find((p) => p.type === 'message_start')?.message;
  const messageDelta = payloads.find((p) => p.type === 'message_delta');
  const usage = { ...messageStart?.usage, ...messageDelta?.usage };
  return {
    text: deltas.filter((d) => d.type === 'text_delta').map((d) => d.text).join(''),
    thinking: deltas.filter((d) => d.type === 'thinking_delta').map((d) => d.thinking).join(''),
    signature: deltas.filter((d) => d.type === 'signature_delta').map((d) => d.signature).join(''),
    redacted: starts.filter((b) => b.type === 'redacted_thinking').map((b) => b.data),
    tools: toolStarts.map((start) => ({
      id: start.content_block.id,
      name: start.content_block.name,
      arguments: payloads.filter((p) => p.index === start.index && p.delta?.type === 'input_json_delta').map((p) => p.delta.partial_json).join(''),
    })),
    stopReason: messageDelta?.delta.stop_reason,
    usage,
  };
}

const FINISH: Record<string, string> = { end_turn: 'stop', max_tokens: 'length', tool_use: 'tool_calls' };

describe('AnthropicStreamDecoder on every recorded stream', () => {
  for (const { file } of fixtureIndex('anthropic', ['stream-sse', 'stream-jsonl'])) {
    if (file.includes('error')) continue;
    it(`${file}: canonical events carry exactly what was streamed`, () => {
      const events = fixtureEvents(file);
      const want = recorded(events);
      const got = foldStream(decode(events));
      assert.equal(got.text, want.text);
      assert.equal(got.reasoning, want.thinking);
      assert.deepEqual(got.signatures, want.signature ? [want.signature] : []);
      assert.deepEqual(got.redacted, want.redacted);
      assert.deepEqual(got.toolCalls, want.tools.map((tool) => ({ ...tool, arguments: tool.arguments || '{}' })));
      assert.equal(got.finishReason, FINISH[want.stopReason]);
      assert.equal(got.providerFinishReason, want.stopReason);
      const u = want.usage;
      assert.deepEqual(got.usage, {
        inputTokens: u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
        cachedInputTokens: u.cache_read_input_tokens ?? 0,
        cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
        outputTokens: u.output_tokens,
        reasoningTokens: 0,
      });
      assert.equal(got.error, undefined);
    });
  }

  it('streams tool arguments as input_json_delta fragments arrive (messages-stream-tool-use)', () => {
    const decoder = new AnthropicStreamDecoder();
    const perEvent = fixtureEvents('anthropic/messages-stream-tool-use.sse').map((event) => decoder.push(event));
    const fragments = perEvent.flat().filter((e) => e.type === 'tool-call-delta').map((e) => e.argumentsDelta);
    assert.deepEqual(fragments, ['{"locati', 'on": "P', 'ar', 'is"}']);
    // Every text delta came out on the push of the event that carried it: nothing is held back.
    const textPushes = perEvent.filter((out) => out.some((e) => e.type === 'text-delta'));
    assert.equal(textPushes.length, 2);
  });

  it('a tool without arguments gets {} (messages-stream-tool-use-no-args)', () => {
    const got = foldStream(decode(fixtureEvents('anthropic/messages-stream-tool-use-no-args.jsonl')));
    assert.deepEqual(got.toolCalls.map((call) => [call.name, call.arguments]), [['updateIssueList', '{}']]);
  });

  it('max_tokens in the middle of tool input closes the call and ends with length (messages-stream-tool-use-max-tokens)', () => {
    const got = foldStream(decode(fixtureEvents('anthropic/messages-stream-tool-use-max-tokens.sse')));
    assert.equal(got.finishReason, 'length');
    assert.equal(got.toolCalls.length, 1);
    assert.ok(got.toolCalls[0].arguments.startsWith('{"filename": "taxes.txt'));
    assert.equal(got.usage?.outputTokens, 124);
  });

  it('thinking then text, with the signature on reasoning-end (messages-stream-thinking)', () => {
    const got = foldStream(decode(fixtureEvents('anthropic/messages-stream-thinking.response.sse')));
    assert.deepEqual(got.shape, ['start', 'reasoning-delta', 'reasoning-end', 'text-delta', 'finish']);
    assert.ok(got.signatures[0].startsWith('EvMCCkYICxgC'));
    assert.deepEqual([got.usage?.inputTokens, got.usage?.outputTokens], [43, 282]);
  });

  it('an overloaded error mid-stream becomes an error event after the text already sent', () => {
    const got = foldStream(decode(fixtureEvents('anthropic/messages-stream-error-overloaded.sse')));
    assert.deepEqual(got.shape, ['start', 'text-delta', 'error']);
    assert.equal(got.text, 'Hello');
    assert.equal(got.error?.error.status, 503);
    assert.equal(got.error?.error.source, 'provider:anthropic');
    assert.match(got.error!.error.message, /Anthropic.*overloaded/i);
    assert.equal(got.usage?.inputTokens, 17);
  });

  it('a body that ends before message_stop ends with an error carrying the usage so far', () => {
    const events = fixtureEvents('anthropic/messages-stream-basic.sse').filter((e) => !/message_(delta|stop)/.test(e.data));
    const got = foldStream(decode(events));
    assert.equal(got.text, 'Hello there!');
    assert.equal(got.error?.error.code, 'upstream_stream_truncated');
    assert.equal(got.usage?.inputTokens, 11);
  });

  it('streams the JSON-answer tool as text and finishes with stop', () => {
    const events = fixtureEvents('anthropic/messages-stream-tool-use-json.jsonl');
    const got = foldStream(decode(events, new AnthropicStreamDecoder({ jsonToolName: 'json', warnings: ['w'] })));
    assert.equal(got.text, recorded(events).tools[0].arguments);
    assert.equal(got.toolCalls.length, 0);
    assert.equal(got.finishReason, 'stop');
    assert.deepEqual(got.warnings, ['w']);
  });
});
