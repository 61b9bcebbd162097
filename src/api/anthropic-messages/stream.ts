// Canonical stream events -> Anthropic Messages SSE text, in the order the API
// itself sends: message_start, then per content block content_block_start /
// content_block_delta... / content_block_stop (one block open at a time, indexes
// 0, 1, 2...), then message_delta (stop_reason, usage) and message_stop.
//
// - message_start carries the gateway's own count of the prompt as input_tokens, as
//   the API does (LangChain and other clients read input usage there); the canonical
//   stream reports the provider's usage only at `finish`, so message_delta carries
//   all of it (input, cache read/write, output), and the Anthropic SDK takes input
//   and cache counts from message_delta when present.
// - A tool_use block starts with an empty input_json_delta, as the API does; empty
//   deltas after that are dropped.
// - A redacted reasoning end becomes a redacted_thinking block (data in
//   content_block_start, no deltas), as the API sends it.
// - A `tool-call-delta` for a tool call whose block is no longer open (only an
//   upstream that interleaves parallel calls does that) is sent with that block's
//   own index; Anthropic clients accumulate by index.
// - `ping` is not emitted per event; MESSAGES_PING is there for keep-alives.
// - stop_reason / stop_sequence / usage follow the rules of response.ts.

import { randomUUID } from 'node:crypto';
import type { FinishReason, StreamEvent, Usage } from '../../canonical/types.ts';
import { knownStopSequence, toAnthropicUsage, toMessageId, toStopReason } from './response.ts';

export const MESSAGES_PING = 'event: ping\ndata: {"type": "ping"}\n\n';

const NONE = 0;
const TEXT = 1;
const THINKING = 2;
const TOOL_USE = 3;
type BlockKind = typeof NONE | typeof TEXT | typeof THINKING | typeof TOOL_USE;

export interface MessagesStreamEncoderOptions {
  /** The model name to report (normally the one the client asked for). */
  model: string;
  /** The request's stop_sequences, to name the one that ended the answer when it is unambiguous. */
  stopSequences?: readonly string[];
  /** The prompt's input tokens as the gateway counted them, for message_start. */
  inputTokens?: number;
}

export class MessagesStreamEncoder {
  private readonly modelJson: string;
  private readonly stopSequences: readonly string[] | undefined;
  private readonly inputTokens: number;
  private started = false;
  private ended = false;
  private openKind: BlockKind = NONE;
  private openIndex = -1;
  private nextIndex = 0;
  /** Canonical tool-call index -> content block index. */
  private toolBlocks: number[] | undefined;
  private openToolCall = -1;

  constructor(options: MessagesStreamEncoderOptions) {
    this.modelJson = JSON.stringify(options.model);
    this.stopSequences = options.stopSequences;
    this.inputTokens = options.inputTokens ?? 0;
  }

  /** True once message_stop or an error has been written; later events are ignored. */
  get done(): boolean {
    return this.ended;
  }

  encode(event: StreamEvent): string {
    if (this.ended) return '';
    switch (event.type) {
      case 'start':
        return this.started ? '' : this.messageStart(event.id);
      case 'text-delta':
        if (event.text.length === 0) return '';
        return this.ensureOpen(TEXT) + delta(this.openIndex, `{"type":"text_delta","text":${JSON.stringify(event.text)}}`);
      case 'reasoning-delta':
        if (event.text.length === 0) return '';
        return this.ensureOpen(THINKING) + delta(this.openIndex, `{"type":"thinking_delta","thinking":${JSON.stringify(event.text)}}`);
      case 'reasoning-end':
        return this.reasoningEnd(event.signature, event.redacted);
      case 'tool-call-start':
        return this.toolCallStart(event.index, event.id, event.name);
      case 'tool-call-delta':
        return this.toolCallDelta(event.index, event.argumentsDelta);
      case 'tool-call-end':
        return this.openKind === TOOL_USE && this.openToolCall === event.index ? this.closeBlock() : '';
      case 'finish':
        return this.finish(event.finishReason, event.usage, event.providerFinishReason);
      case 'error':
        this.ended = true;
        return `event: error\ndata: ${JSON.stringify(event.error.toAnthropic())}\n\n`;
    }
  }

  private messageStart(id: string): string {
    this.started = true;
    return 'event: message_start\ndata: {"type":"message_start","message":{"id":' + JSON.stringify(toMessageId(id)) +
      ',"type":"message","role":"assistant","model":' + this.modelJson +
      ',"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":' + this.inputTokens + ',"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}\n\n';
  }

  /** Closes a block of another kind and opens one of `kind` if needed; returns the SSE written. */
  private ensureOpen(kind: typeof TEXT | typeof THINKING): string {
    if (this.openKind === kind) return '';
    const prefix = this.closeBlock();
    return prefix + this.openBlock(kind, kind === TEXT ? '{"type":"text","text":""}' : '{"type":"thinking","thinking":"","signature":""}');
  }

  private openBlock(kind: BlockKind, contentBlockJson: string): string {
    const head = this.started ? '' : this.messageStart(`msg_${randomUUID().replaceAll('-', '')}`);
    this.openKind = kind;
    this.openIndex = this.nextIndex++;
    return head + `event: content_block_start\ndata: {"type":"content_block_start","index":${this.openIndex},"content_block":${contentBlockJson}}\n\n`;
  }

  private closeBlock(): string {
    if (this.openKind === NONE) return '';
    this.openKind = NONE;
    this.openToolCall = -1;
    return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.openIndex}}\n\n`;
  }

  private reasoningEnd(signature: string | undefined, redacted: string | undefined): string {
    let out = '';
    if (signature !== undefined && signature.length > 0) {
      out += this.ensureOpen(THINKING) + delta(this.openIndex, `{"type":"signature_delta","signature":${JSON.stringify(signature)}}`);
    }
    if (this.openKind === THINKING) out += this.closeBlock();
    if (redacted !== undefined && redacted.length > 0) {
      out += this.closeBlock() + this.openBlock(THINKING, `{"type":"redacted_thinking","data":${JSON.stringify(redacted)}}`) + this.closeBlock();
    }
    return out;
  }

  private toolCallStart(toolIndex: number, id: string, name: string): string {
    let out = this.closeBlock();
    out += this.openBlock(TOOL_USE, `{"type":"tool_use","id":${JSON.stringify(id)},"name":${JSON.stringify(name)},"input":{}}`);
    this.openToolCall = toolIndex;
    (this.toolBlocks ??= [])[toolIndex] = this.openIndex;
    return out + delta(this.openIndex, '{"type":"input_json_delta","partial_json":""}');
  }

  private toolCallDelta(toolIndex: number, argumentsDelta: string): string {
    if (argumentsDelta.length === 0) return '';
    const blockIndex = this.openKind === TOOL_USE && this.openToolCall === toolIndex ? this.openIndex : this.toolBlocks?.[toolIndex];
    if (blockIndex === undefined) return ''; // a delta for a tool call that never started has nowhere to go
    return delta(blockIndex, `{"type":"input_json_delta","partial_json":${JSON.stringify(argumentsDelta)}}`);
  }

  private finish(finishReason: FinishReason, usage: Usage, providerFinishReason: string | undefined): string {
    const head = (this.started ? '' : this.messageStart(`msg_${randomUUID().replaceAll('-', '')}`)) + this.closeBlock();
    this.ended = true;
    const stopReason = toStopReason(finishReason, providerFinishReason, this.toolBlocks !== undefined);
    const stopSequence = stopReason === 'stop_sequence' ? JSON.stringify(knownStopSequence(this.stopSequences)) : 'null';
    const u = toAnthropicUsage(usage);
    return head + 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"' + stopReason + '","stop_sequence":' + stopSequence +
      '},"usage":{"input_tokens":' + u.input_tokens + ',"cache_creation_input_tokens":' + u.cache_creation_input_tokens +
      ',"cache_read_input_tokens":' + u.cache_read_input_tokens + ',"output_tokens":' + u.output_tokens +
      '}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
  }
}

function delta(index: number, deltaJson: string): string {
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":${deltaJson}}\n\n`;
}
