// A Responses-native upstream's typed stream events -> canonical stream events.
// Feed it the parsed JSON of each `data:` payload; call finish() at end of body.
// Reasoning summary parts are joined by a blank line, as in the non-stream path.
// Built-in tool items (web search and the like) have no canonical form and are skipped.
import type { FinishReason, StreamEvent } from '../../canonical/types.ts';
import { incompleteStreamError, streamedUpstreamError } from '../openai-chat/upstream-error.ts';
import { finishReasonFromIncomplete, reasoningFromEncrypted, reasoningTextOf, usageFromResponses } from './response.ts';

export interface ResponsesStreamDecoderOptions {
  /** Names the upstream in error messages and error sources; default "openai". */
  providerLabel?: string;
}

export class ResponsesStreamDecoder {
  #providerLabel: string;
  #started = false;
  #done = false;
  /** function_call item id -> canonical tool-call index, and whether arguments were streamed. */
  #calls = new Map<string, { index: number; streamed: boolean }>();
  #reasoningItem = '';
  #reasoningText = false;
  #summaryIndex = 0;

  constructor(options: ResponsesStreamDecoderOptions = {}) {
    this.#providerLabel = options.providerLabel ?? 'openai';
  }

  push(event: any): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.#done || typeof event !== 'object' || event === null) return out;
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.#start(event.response, out);
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (typeof event.delta === 'string' && event.delta.length > 0) out.push({ type: 'text-delta', text: event.delta });
        break;
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        this.#reasoningDelta(event, out);
        break;
      case 'response.output_item.added':
        this.#itemAdded(event.item, out);
        break;
      case 'response.function_call_arguments.delta': {
        const call = this.#calls.get(event.item_id);
        if (call !== undefined && typeof event.delta === 'string' && event.delta.length > 0) {
          call.streamed = true;
          out.push({ type: 'tool-call-delta', index: call.index, argumentsDelta: event.delta });
        }
        break;
      }
      case 'response.output_item.done':
        this.#itemDone(event.item, out);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.#finish(event.response, out);
        break;
      case 'error':
        this.#fail(event.error ?? event, out);
        break;
      case 'response.failed':
        this.#fail(event.response?.error, out);
        break;
    }
    return out;
  }

  finish(): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (!this.#done) {
      this.#done = true;
      out.push({ type: 'error', error: incompleteStreamError(this.#providerLabel, 'response.completed') });
    }
    return out;
  }

  #start(response: any, out: StreamEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({
      type: 'start',
      id: String(response?.id ?? ''),
      model: String(response?.model ?? ''),
      created: typeof response?.created_at === 'number' ? response.created_at : Math.floor(Date.now() / 1000),
    });
  }

  #reasoningDelta(event: any, out: StreamEvent[]): void {
    if (typeof event.delta !== 'string' || event.delta.length === 0) return;
    const part = typeof event.summary_index === 'number' ? event.summary_index : typeof event.content_index === 'number' ? event.content_index : 0;
    if (event.item_id !== this.#reasoningItem) {
      this.#reasoningItem = event.item_id;
      this.#summaryIndex = part;
    } else if (part !== this.#summaryIndex) {
      this.#summaryIndex = part;
      out.push({ type: 'reasoning-delta', text: '\n\n' });
    }
    this.#reasoningText = true;
    out.push({ type: 'reasoning-delta', text: event.delta });
  }

  #itemAdded(item: any, out: StreamEvent[]): void {
    if (item?.type === 'function_call') {
      const index = this.#calls.size;
      this.#calls.set(String(item.id ?? `call${index}`), { index, streamed: false });
      out.push({ type: 'tool-call-start', index, id: String(item.call_id ?? ''), name: String(item.name ?? '') });
    } else if (item?.type === 'reasoning') {
      this.#reasoningItem = String(item.id ?? '');
      this.#reasoningText = false;
      this.#summaryIndex = 0;
    }
  }

  #itemDone(item: any, out: StreamEvent[]): void {
    if (item?.type === 'function_call') {
      const call = this.#calls.get(String(item.id ?? ''));
      if (call === undefined) return;
      // Some servers send the arguments only on the finished item.
      if (!call.streamed && typeof item.arguments === 'string' && item.arguments.length > 0) {
        out.push({ type: 'tool-call-delta', index: call.index, argumentsDelta: item.arguments });
      }
      out.push({ type: 'tool-call-end', index: call.index });
    } else if (item?.type === 'reasoning') {
      if (!this.#reasoningText) {
        const text = reasoningTextOf(item);
        if (text.length > 0) out.push({ type: 'reasoning-delta', text });
      }
      const encrypted = typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0
        ? reasoningFromEncrypted(item.encrypted_content) : undefined;
      out.push(encrypted === undefined ? { type: 'reasoning-end' } : { type: 'reasoning-end', ...encrypted });
      this.#reasoningItem = '';
      this.#reasoningText = false;
    }
  }

  #finish(response: any, out: StreamEvent[]): void {
    this.#start(response, out);
    this.#done = true;
    const finishReason: FinishReason = response?.status === 'incomplete'
      ? finishReasonFromIncomplete(response.incomplete_details)
      : this.#calls.size > 0 ? 'tool_calls' : 'stop';
    const raw = response?.incomplete_details?.reason ?? response?.status;
    out.push(typeof raw === 'string'
      ? { type: 'finish', finishReason, usage: usageFromResponses(response?.usage), providerFinishReason: raw }
      : { type: 'finish', finishReason, usage: usageFromResponses(response?.usage) });
  }

  #fail(error: any, out: StreamEvent[]): void {
    this.#done = true;
    out.push({ type: 'error', error: streamedUpstreamError(error, this.#providerLabel) });
  }
}
