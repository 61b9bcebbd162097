// Anthropic's SSE events -> canonical stream events, one event at a time. Nothing of
// the answer is kept except the open content blocks' small bookkeeping.
import type { GatewayError } from '../../canonical/errors.ts';
import type { SseEvent } from '../../canonical/sse.ts';
import type { StreamEvent } from '../../canonical/types.ts';
import { anthropicStreamError, truncatedStreamError } from './errors.ts';
import { anthropicFinishReason, anthropicUsage, mergeAnthropicUsage } from './translate.ts';

type BlockKind = 'text' | 'thinking' | 'redacted' | 'tool' | 'json' | 'other';

interface OpenBlock {
  kind: BlockKind;
  /** Canonical tool-call index (tool blocks). */
  toolIndex: number;
  signature: string | undefined;
  sawArguments: boolean;
}

export interface AnthropicStreamOptions {
  /** The JSON-answer tool of the request: its input streams out as text. */
  jsonToolName?: string;
  /** Put on the `start` event. */
  warnings?: string[];
}

export class AnthropicStreamDecoder {
  private readonly options: AnthropicStreamOptions;
  private readonly blocks = new Map<number, OpenBlock>();
  private readonly usage: Record<string, unknown> = {};
  private toolCalls = 0;
  private stopReason: string | null = null;
  private started = false;
  /** True once `finish` or `error` went out; later input is ignored. */
  done = false;

  constructor(options: AnthropicStreamOptions = {}) {
    this.options = options;
  }

  push(event: SseEvent, out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    let payload: Record<string, any>;
    try {
      payload = JSON.parse(event.data);
    } catch {
      return this.fail(truncatedStreamError(`Anthropic sent a stream event that is not JSON (event '${event.event ?? 'message'}')`), out);
    }
    switch (payload.type ?? event.event) {
      case 'message_start':
        return this.start(payload.message ?? {}, out);
      case 'content_block_start':
        return this.blockStart(payload.index, payload.content_block ?? {}, out);
      case 'content_block_delta':
        return this.blockDelta(payload.index, payload.delta ?? {}, out);
      case 'content_block_stop':
        return this.blockStop(payload.index, out);
      case 'message_delta':
        if (payload.delta?.stop_reason) this.stopReason = payload.delta.stop_reason;
        mergeAnthropicUsage(this.usage, payload.usage);
        return out;
      case 'message_stop':
        return this.finish(out);
      case 'error':
        return this.fail(anthropicStreamError(payload), out);
      default:
        return out; // ping and event types added later
    }
  }

  /** The upstream body ended. A stream without message_stop ends with an error unless it already said why it stopped. */
  end(out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    if (this.stopReason) return this.finish(out);
    return this.fail(truncatedStreamError('Anthropic closed the stream before the message finished'), out);
  }

  /** End the stream with an error (e.g. the connection broke), reporting the usage seen so far. */
  fail(error: GatewayError, out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    this.done = true;
    out.push({ type: 'error', error, usage: anthropicUsage(this.usage) });
    return out;
  }

  private start(message: Record<string, any>, out: StreamEvent[]): StreamEvent[] {
    if (this.started) return out;
    this.started = true;
    mergeAnthropicUsage(this.usage, message.usage);
    const start: StreamEvent = { type: 'start', id: message.id ?? '', model: message.model ?? '', created: Math.floor(Date.now() / 1000) };
    if (this.options.warnings?.length) start.warnings = this.options.warnings;
    out.push(start);
    return out;
  }

  private blockStart(index: number, block: Record<string, any>, out: StreamEvent[]): StreamEvent[] {
    const open: OpenBlock = { kind: 'other', toolIndex: -1, signature: undefined, sawArguments: false };
    switch (block.type) {
      case 'text':
        open.kind = 'text';
        if (block.text) out.push({ type: 'text-delta', text: block.text });
        break;
      case 'thinking':
        open.kind = 'thinking';
        if (block.thinking) out.push({ type: 'reasoning-delta', text: block.thinking });
        if (block.signature) open.signature = block.signature;
        break;
      case 'redacted_thinking':
        open.kind = 'redacted';
        out.push({ type: 'reasoning-end', redacted: block.data ?? '' });
        break;
      case 'tool_use':
        if (block.name === this.options.jsonToolName) open.kind = 'json';
        else {
          open.kind = 'tool';
          open.toolIndex = this.toolCalls++;
          out.push({ type: 'tool-call-start', index: open.toolIndex, id: block.id, name: block.name });
        }
        break;
    }
    this.blocks.set(index, open);
    return out;
  }

  private blockDelta(index: number, delta: Record<string, any>, out: StreamEvent[]): StreamEvent[] {
    const block = this.blocks.get(index);
    if (!block) return out;
    switch (delta.type) {
      case 'text_delta':
        if (delta.text) out.push({ type: 'text-delta', text: delta.text });
        break;
      case 'thinking_delta':
        if (delta.thinking) out.push({ type: 'reasoning-delta', text: delta.thinking });
        break;
      case 'signature_delta':
        block.signature = (block.signature ?? '') + (delta.signature ?? '');
        break;
      case 'input_json_delta':
        if (!delta.partial_json) break;
        block.sawArguments = true;
        if (block.kind === 'json') out.push({ type: 'text-delta', text: delta.partial_json });
        else if (block.kind === 'tool') out.push({ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: delta.partial_json });
        break;
    }
    return out;
  }

  private blockStop(index: number, out: StreamEvent[]): StreamEvent[] {
    const block = this.blocks.get(index);
    if (!block) return out;
    this.blocks.delete(index);
    return this.closeBlock(block, out);
  }

  private closeBlock(block: OpenBlock, out: StreamEvent[]): StreamEvent[] {
    if (block.kind === 'thinking') {
      out.push(block.signature ? { type: 'reasoning-end', signature: block.signature } : { type: 'reasoning-end' });
    } else if (block.kind === 'tool') {
      // A tool without arguments streams only "": its arguments are the empty object.
      if (!block.sawArguments) out.push({ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: '{}' });
      out.push({ type: 'tool-call-end', index: block.toolIndex });
    } else if (block.kind === 'json' && !block.sawArguments) {
      out.push({ type: 'text-delta', text: '{}' });
    }
    return out;
  }

  private finish(out: StreamEvent[]): StreamEvent[] {
    // A message cut off by max_tokens can stop without closing its last block.
    for (const block of this.blocks.values()) this.closeBlock(block, out);
    this.blocks.clear();
    this.done = true;
    const finish: StreamEvent = {
      type: 'finish',
      finishReason: anthropicFinishReason(this.stopReason, this.toolCalls > 0),
      usage: anthropicUsage(this.usage),
    };
    if (this.stopReason) finish.providerFinishReason = this.stopReason;
    out.push(finish);
    return out;
  }
}
