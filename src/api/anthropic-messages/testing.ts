// Test support: load the recorded Anthropic traffic, turn recorded streams and
// messages into canonical values (what an Anthropic provider adapter would hand
// the gateway), and accumulate SSE the way the Anthropic SDK does.

import { readdirSync } from 'node:fs';
import { SseParser } from '../../canonical/sse.ts';
import type { AssistantContent, CanonicalResponse, FinishReason, StreamEvent, Usage } from '../../canonical/types.ts';
import { GatewayError } from '../../canonical/errors.ts';
import { fixturePath, readFixtureJson as readSharedJson, readFixtureJsonl, readFixtureText } from '../../testing/fixtures.ts';

export type Json = Record<string, any>;
export interface WireEvent {
  event: string;
  data: Json;
}

/** Names of the recorded Anthropic fixtures ending in `suffix`. */
export function fixtureNames(suffix: string): string[] {
  return readdirSync(fixturePath('anthropic/')).filter((name) => name.endsWith(suffix)).sort();
}

export function readFixtureJson(name: string): Json {
  return readSharedJson(`anthropic/${name}`);
}

/** A recorded stream (.sse raw body or .jsonl data payloads) as events; the event name defaults to the payload type. */
export function readRecordedStream(name: string): WireEvent[] {
  if (name.endsWith('.jsonl')) return readFixtureJsonl<Json>(`anthropic/${name}`).map((data) => ({ event: data.type, data }));
  return parseSseText(readFixtureText(`anthropic/${name}`));
}

export function parseSseText(text: string): WireEvent[] {
  const parser = new SseParser();
  const raw = parser.push(text);
  parser.end(raw);
  return raw.map((e) => {
    const data = JSON.parse(e.data);
    return { event: e.event ?? data.type, data };
  });
}

const STOP_TO_FINISH: Record<string, FinishReason> = {
  end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter',
};

function usageFrom(anthropic: Json): Usage {
  const cacheRead = anthropic.cache_read_input_tokens ?? 0;
  const cacheWrite = anthropic.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (anthropic.input_tokens ?? 0) + cacheRead + cacheWrite,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: anthropic.output_tokens ?? 0,
    reasoningTokens: 0,
  };
}

/** Recorded Anthropic stream events -> the canonical events a provider adapter would yield. */
export function canonicalFromRecording(events: WireEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  const blocks: Json[] = [];
  let toolIndex = -1;
  let startUsage: Json = {};
  for (const { event, data } of events) {
    switch (event) {
      case 'message_start':
        startUsage = data.message.usage;
        out.push({ type: 'start', id: data.message.id, model: data.message.model, created: 0 });
        break;
      case 'content_block_start': {
        const block = data.content_block;
        blocks[data.index] = block;
        if (block.type === 'tool_use') {
          toolIndex++;
          block.toolIndex = toolIndex;
          out.push({ type: 'tool-call-start', index: toolIndex, id: block.id, name: block.name });
        } else if (block.type === 'redacted_thinking') out.push({ type: 'reasoning-end', redacted: block.data });
        break;
      }
      case 'content_block_delta': {
        const d = data.delta;
        const block = blocks[data.index];
        if (d.type === 'text_delta') out.push({ type: 'text-delta', text: d.text });
        else if (d.type === 'thinking_delta') out.push({ type: 'reasoning-delta', text: d.thinking });
        else if (d.type === 'signature_delta') block.signature = d.signature;
        else if (d.type === 'input_json_delta') out.push({ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: d.partial_json });
        break;
      }
      case 'content_block_stop': {
        const block = blocks[data.index];
        if (block.type === 'thinking') out.push({ type: 'reasoning-end', signature: block.signature });
        else if (block.type === 'tool_use') out.push({ type: 'tool-call-end', index: block.toolIndex });
        break;
      }
      case 'message_delta':
        out.push({
          type: 'finish',
          finishReason: STOP_TO_FINISH[data.delta.stop_reason],
          providerFinishReason: data.delta.stop_reason,
          usage: usageFrom({ ...startUsage, ...data.usage }),
        });
        break;
      case 'error':
        out.push({ type: 'error', error: new GatewayError({ status: 529, type: 'upstream_error', code: 'overloaded', message: data.error.message }) });
        break;
    }
  }
  return out;
}

/** A recorded Anthropic message -> the CanonicalResponse a provider adapter would return. */
export function canonicalFromRecordedMessage(message: Json): CanonicalResponse {
  const content: AssistantContent[] = message.content.map((block: Json): AssistantContent => {
    switch (block.type) {
      case 'text': return { type: 'text', text: block.text };
      case 'thinking': return { type: 'reasoning', text: block.thinking, signature: block.signature };
      case 'redacted_thinking': return { type: 'reasoning', text: '', redacted: block.data };
      case 'tool_use': return { type: 'tool_call', id: block.id, name: block.name, arguments: JSON.stringify(block.input) };
      default: throw new Error(`unexpected block ${block.type}`);
    }
  });
  return {
    id: message.id,
    model: message.model,
    created: 0,
    content,
    finishReason: STOP_TO_FINISH[message.stop_reason],
    providerFinishReason: message.stop_reason,
    usage: usageFrom(message.usage),
  };
}

/**
 * Accumulate a stream into the final message, as the Anthropic SDK's MessageStream does;
 * tool_use blocks also get `input_json`, the raw concatenated partial_json.
 */
export function accumulate(events: WireEvent[]): Json {
  let message: Json | undefined;
  const buffers: string[] = [];
  for (const { event, data } of events) {
    if (event === 'message_start') message = structuredClone(data.message);
    else if (event === 'content_block_start') message!.content[data.index] = { ...data.content_block };
    else if (event === 'content_block_delta') {
      const block = message!.content[data.index];
      const d = data.delta;
      if (d.type === 'text_delta') block.text += d.text;
      else if (d.type === 'thinking_delta') block.thinking += d.thinking;
      else if (d.type === 'signature_delta') block.signature = d.signature;
      else if (d.type === 'input_json_delta') buffers[data.index] = (buffers[data.index] ?? '') + d.partial_json;
    } else if (event === 'message_delta') {
      message!.stop_reason = data.delta.stop_reason;
      message!.stop_sequence = data.delta.stop_sequence;
      Object.assign(message!.usage, data.usage);
    }
  }
  buffers.forEach((json, index) => {
    const block = message!.content[index];
    block.input_json = json;
    try {
      block.input = json ? JSON.parse(json) : {};
    } catch {
      block.input = undefined; // cut off mid-arguments (max_tokens)
    }
  });
  return message!;
}

/** The event names, without keep-alive pings. */
export function eventSequence(events: WireEvent[]): string[] {
  return events.filter((e) => e.event !== 'ping').map((e) => {
    if (e.event === 'content_block_start') return `content_block_start:${e.data.index}:${e.data.content_block.type}`;
    if (e.event === 'content_block_delta') return `content_block_delta:${e.data.index}:${e.data.delta.type}`;
    if (e.event === 'content_block_stop') return `content_block_stop:${e.data.index}`;
    return e.event;
  });
}
