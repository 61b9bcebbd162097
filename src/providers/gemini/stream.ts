// streamGenerateContent?alt=sse chunks -> canonical stream events, chunk by chunk.
//
// Each chunk is a small GenerateContentResponse. Gemini may put finishReason on more
// than one chunk and sends usage cumulatively, so `finish` goes out when the body
// ends (end()), with the last usage seen. Function calls come whole in one part, or
// (Vertex streamFunctionCallArguments) as a part with the name and willContinue,
// parts with partialArgs, and an empty functionCall closing it; the partial values
// are assembled and the arguments sent as one delta when the call closes.
import type { GatewayError } from '../../canonical/errors.ts';
import type { SseEvent } from '../../canonical/sse.ts';
import type { StreamEvent } from '../../canonical/types.ts';
import { geminiStreamError, truncatedStreamError } from './errors.ts';
import { GEMINI_SIGNATURE_PREFIX, toolCallId, toolCallIdBase } from './ids.ts';
import { geminiFinishReason, geminiUsage, type GeminiUsageMetadata } from './translate.ts';

interface PartialCall {
  index: number;
  args: Record<string, unknown>;
  /** The JSON path whose string value the next partial arg continues. */
  continuing: string | undefined;
}

export interface GeminiStreamOptions {
  warnings?: string[];
  /** Reported as the model when the chunks name none. */
  model?: string;
}

export class GeminiStreamDecoder {
  private readonly options: GeminiStreamOptions;
  private usage: GeminiUsageMetadata | undefined;
  private finishReason: string | undefined;
  private idBase = '';
  private toolCalls = 0;
  private reasoningOpen = false;
  private openCall: PartialCall | undefined;
  private started = false;
  done = false;

  constructor(options: GeminiStreamOptions = {}) {
    this.options = options;
  }

  push(event: SseEvent, out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    let chunk: Record<string, any>;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      return this.fail(truncatedStreamError('Gemini sent a stream chunk that is not JSON'), out);
    }
    if (chunk.error) return this.fail(geminiStreamError(chunk.error), out);
    if (!this.started) this.start(chunk, out);
    if (chunk.usageMetadata && (chunk.usageMetadata.promptTokenCount !== undefined || chunk.usageMetadata.candidatesTokenCount !== undefined)) {
      this.usage = chunk.usageMetadata;
    }
    if (chunk.promptFeedback?.blockReason) this.finishReason = `PROMPT_${chunk.promptFeedback.blockReason}`;
    const candidate = chunk.candidates?.[0];
    for (const part of (candidate?.content?.parts ?? []) as Array<Record<string, any>>) this.part(part, out);
    if (candidate?.finishReason) this.finishReason = candidate.finishReason;
    return out;
  }

  /** The body ended: close what is open and finish, or report a stream cut short. */
  end(out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    if (!this.finishReason) return this.fail(truncatedStreamError('Gemini closed the stream before it finished'), out);
    this.closeReasoning(undefined, out);
    this.closeCall(out);
    this.done = true;
    out.push({ type: 'finish', finishReason: geminiFinishReason(this.finishReason, this.toolCalls > 0), usage: geminiUsage(this.usage), providerFinishReason: this.finishReason });
    return out;
  }

  fail(error: GatewayError, out: StreamEvent[] = []): StreamEvent[] {
    if (this.done) return out;
    this.done = true;
    out.push({ type: 'error', error, usage: geminiUsage(this.usage) });
    return out;
  }

  private start(chunk: Record<string, any>, out: StreamEvent[]): void {
    this.started = true;
    this.idBase = toolCallIdBase(chunk.responseId);
    const start: StreamEvent = {
      type: 'start',
      id: chunk.responseId ?? `gemini-${this.idBase}`,
      model: chunk.modelVersion ?? this.options.model ?? '',
      created: Math.floor(Date.now() / 1000),
    };
    if (this.options.warnings?.length) start.warnings = this.options.warnings;
    out.push(start);
  }

  private part(part: Record<string, any>, out: StreamEvent[]): void {
    if (part.thought) {
      if (part.text) out.push({ type: 'reasoning-delta', text: part.text });
      this.reasoningOpen = true;
      if (part.thoughtSignature) this.closeReasoning(part.thoughtSignature, out);
      return;
    }
    this.closeReasoning(undefined, out);
    if (part.functionCall) return this.functionCall(part.functionCall, part.thoughtSignature, out);
    if (typeof part.text !== 'string') return;
    // A signature on answer text (often on a last, empty part) is kept as a reasoning block of its own.
    if (part.thoughtSignature) out.push({ type: 'reasoning-end', signature: GEMINI_SIGNATURE_PREFIX + part.thoughtSignature });
    if (part.text) out.push({ type: 'text-delta', text: part.text });
  }

  private closeReasoning(signature: string | undefined, out: StreamEvent[]): void {
    if (!this.reasoningOpen) return;
    this.reasoningOpen = false;
    out.push(signature ? { type: 'reasoning-end', signature: GEMINI_SIGNATURE_PREFIX + signature } : { type: 'reasoning-end' });
  }

  private functionCall(call: Record<string, any>, signature: string | undefined, out: StreamEvent[]): void {
    if (call.name) {
      this.closeCall(out);
      const index = this.toolCalls++;
      out.push({ type: 'tool-call-start', index, id: toolCallId(this.idBase, index, signature), name: call.name });
      if (!call.willContinue && !call.partialArgs) {
        out.push({ type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(call.args ?? {}) });
        out.push({ type: 'tool-call-end', index });
        return;
      }
      this.openCall = { index, args: { ...call.args }, continuing: undefined };
    }
    const open = this.openCall;
    if (!open) return;
    for (const partial of (call.partialArgs ?? []) as Array<Record<string, any>>) applyPartialArg(open, partial);
    if (!call.willContinue) this.closeCall(out);
  }

  private closeCall(out: StreamEvent[]): void {
    const open = this.openCall;
    if (!open) return;
    this.openCall = undefined;
    out.push({ type: 'tool-call-delta', index: open.index, argumentsDelta: JSON.stringify(open.args) });
    out.push({ type: 'tool-call-end', index: open.index });
  }
}

const UNSAFE_KEYS = new Set<string | number>(['__proto__', 'constructor', 'prototype']);

function applyPartialArg(call: PartialCall, partial: Record<string, any>): void {
  const path = String(partial.jsonPath ?? '');
  const segments = parseJsonPath(path);
  if (segments.length === 0 || segments.some((segment) => UNSAFE_KEYS.has(segment))) return;
  let value: unknown;
  if (typeof partial.stringValue === 'string') {
    const previous = call.continuing === path ? getPath(call.args, segments) : undefined;
    value = (typeof previous === 'string' ? previous : '') + partial.stringValue;
  } else if (partial.numberValue !== undefined) value = partial.numberValue;
  else if (partial.boolValue !== undefined) value = partial.boolValue;
  else if (partial.nullValue !== undefined) value = null;
  else return;
  setPath(call.args, segments, value);
  call.continuing = partial.willContinue ? path : undefined;
}

/** `$.a.b[0]['c d']` -> ['a', 'b', 0, 'c d']. */
export function parseJsonPath(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  const pattern = /\.([^.[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const match of path.slice(1).matchAll(pattern)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3] ?? match[4]));
  }
  return segments;
}

function getPath(root: unknown, segments: Array<string | number>): unknown {
  let node = root as any;
  for (const segment of segments) node = node?.[segment];
  return node;
}

function setPath(root: Record<string, unknown>, segments: Array<string | number>, value: unknown): void {
  let node: any = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    if (node[key] === null || typeof node[key] !== 'object') node[key] = typeof segments[i + 1] === 'number' ? [] : {};
    node = node[key];
  }
  node[segments[segments.length - 1]] = value;
}
