// Upstream chat.completion.chunk objects -> canonical stream events.
//
// Feed it the parsed JSON of each `data:` line (not `[DONE]`), then call finish()
// at `[DONE]` or end of body. Only choice 0 is followed. The finish event waits for
// usage, which OpenAI sends in a last chunk with empty choices after finish_reason;
// finish() emits it with whatever usage arrived. A stream that ends without a
// finish_reason ends with an error event instead, carrying any usage seen.
import { emptyUsage } from '../../canonical/types.ts';
import type { FinishReason, StreamEvent, Usage } from '../../canonical/types.ts';
import { finishReasonFromChat, usageFromChat } from './response.ts';
import { incompleteStreamError, streamedUpstreamError } from './upstream-error.ts';

export interface ChatStreamDecoderOptions {
  /** Names the upstream in error messages and error sources; default "openai". */
  providerLabel?: string;
}

export class ChatStreamDecoder {
  #providerLabel: string;
  #started = false;
  #done = false;
  #reasoningOpen = false;
  #hasToolCalls = false;
  #seenCalls = new Set<number>();
  #openCall = -1;
  #openCallId = '';
  #rawFinish: string | undefined;
  #finishReason: FinishReason | undefined;
  #usage: Usage | undefined;

  constructor(options: ChatStreamDecoderOptions = {}) {
    this.#providerLabel = options.providerLabel ?? 'openai';
  }

  push(chunk: any): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.#done || typeof chunk !== 'object' || chunk === null) return out;
    if (chunk.error) {
      this.#done = true;
      out.push(this.#usage === undefined
        ? { type: 'error', error: streamedUpstreamError(chunk.error, this.#providerLabel) }
        : { type: 'error', error: streamedUpstreamError(chunk.error, this.#providerLabel), usage: this.#usage });
      return out;
    }
    const choices = chunk.choices;
    const hasChoices = Array.isArray(choices) && choices.length > 0;
    if (!this.#started) {
      // Azure opens with a prompt_filter_results chunk that has no id and no choices.
      if (!chunk.id && !hasChoices) return out;
      this.#started = true;
      out.push({
        type: 'start',
        id: String(chunk.id ?? ''),
        model: String(chunk.model ?? ''),
        created: typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000),
      });
    }
    if (hasChoices) {
      for (let i = 0; i < choices.length; i++) {
        if ((choices[i]?.index ?? 0) === 0) this.#choice(choices[i], out);
      }
    }
    if (chunk.usage) this.#usage = usageFromChat(chunk.usage);
    if (this.#finishReason !== undefined && this.#usage !== undefined) this.#emitFinish(out, this.#usage);
    return out;
  }

  finish(): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.#done) return out;
    if (this.#finishReason === undefined) {
      this.#done = true;
      const error = incompleteStreamError(this.#providerLabel, 'a finish_reason');
      out.push(this.#usage === undefined ? { type: 'error', error } : { type: 'error', error, usage: this.#usage });
      return out;
    }
    this.#emitFinish(out, this.#usage ?? emptyUsage());
    return out;
  }

  #emitFinish(out: StreamEvent[], usage: Usage): void {
    this.#done = true;
    const event: StreamEvent = { type: 'finish', finishReason: this.#finishReason ?? 'stop', usage };
    if (this.#rawFinish !== undefined) event.providerFinishReason = this.#rawFinish;
    out.push(event);
  }

  #choice(choice: any, out: StreamEvent[]): void {
    const delta = choice.delta;
    if (typeof delta === 'object' && delta !== null) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning.length > 0) {
        this.#reasoningOpen = true;
        out.push({ type: 'reasoning-delta', text: reasoning });
      }
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        this.#closeReasoning(out);
        out.push({ type: 'text-delta', text: delta.content });
      }
      if (typeof delta.refusal === 'string' && delta.refusal.length > 0) {
        this.#closeReasoning(out);
        out.push({ type: 'text-delta', text: delta.refusal });
      }
      if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) {
        this.#closeReasoning(out);
        for (const call of delta.tool_calls) this.#toolCall(call, out);
      }
    }
    if (typeof choice.finish_reason === 'string' && choice.finish_reason.length > 0 && this.#finishReason === undefined) {
      this.#closeReasoning(out);
      this.#closeToolCall(out);
      this.#rawFinish = choice.finish_reason;
      this.#finishReason = finishReasonFromChat(choice.finish_reason, this.#hasToolCalls);
    }
  }

  #toolCall(call: any, out: StreamEvent[]): void {
    if (typeof call !== 'object' || call === null) return;
    const id = typeof call.id === 'string' ? call.id : '';
    let index: number;
    if (typeof call.index === 'number') index = call.index;
    else if (id === '' || id === this.#openCallId) index = this.#openCall === -1 ? 0 : this.#openCall;
    else index = this.#seenCalls.size;
    if (!this.#seenCalls.has(index)) {
      // Chat streams tool calls one after another, so a new index ends the previous call.
      this.#closeToolCall(out);
      this.#seenCalls.add(index);
      this.#hasToolCalls = true;
      this.#openCall = index;
      this.#openCallId = id !== '' ? id : `call_${index}_${Date.now().toString(36)}`;
      out.push({ type: 'tool-call-start', index, id: this.#openCallId, name: String(call.function?.name ?? '') });
    }
    const args = call.function?.arguments;
    if (typeof args === 'string') {
      if (args.length > 0) out.push({ type: 'tool-call-delta', index, argumentsDelta: args });
    } else if (typeof args === 'object' && args !== null) {
      out.push({ type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(args) });
    }
  }

  #closeToolCall(out: StreamEvent[]): void {
    if (this.#openCall === -1) return;
    out.push({ type: 'tool-call-end', index: this.#openCall });
    this.#openCall = -1;
    this.#openCallId = '';
  }

  #closeReasoning(out: StreamEvent[]): void {
    if (!this.#reasoningOpen) return;
    this.#reasoningOpen = false;
    out.push({ type: 'reasoning-end' });
  }
}
