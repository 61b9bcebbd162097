// Canonical stream events -> the Chat Completions SSE a client reads. Runs once per
// event on the hot path, so chunks are concatenated from a precomputed prefix and
// only the changing strings go through JSON.stringify.
import type { StreamEvent } from '../../canonical/types.ts';
import { chatFinishReason, chatUsage } from './response.ts';

export interface ChatStreamEncoderOptions {
  /** The model name the client sees in every chunk. */
  model: string;
  /** The client's stream_options.include_usage: send the usage chunk (choices: []). */
  includeUsage: boolean;
}

const DONE = 'data: [DONE]\n\n';

export class ChatStreamEncoder {
  #model: string;
  #includeUsage: boolean;
  #prefix = '';
  #done = false;
  /** Canonical tool-call index -> the 0-based position chat clients accumulate by. */
  #toolIndexes = new Map<number, number>();

  constructor(options: ChatStreamEncoderOptions) {
    this.#model = options.model;
    this.#includeUsage = options.includeUsage;
  }

  /** SSE text for one event; '' when the event has no chat counterpart. */
  encode(event: StreamEvent): string {
    if (this.#done) return '';
    switch (event.type) {
      case 'start':
        this.#setPrefix(event.id || `chatcmpl-${crypto.randomUUID()}`, event.created);
        return this.#chunk('{"role":"assistant","content":"","refusal":null}', 'null');
      case 'text-delta':
        return event.text.length === 0 ? '' : this.#chunk(`{"content":${JSON.stringify(event.text)}}`, 'null');
      case 'reasoning-delta':
        return event.text.length === 0 ? '' : this.#chunk(`{"reasoning_content":${JSON.stringify(event.text)}}`, 'null');
      case 'tool-call-start': {
        const index = this.#toolIndex(event.index);
        return this.#chunk(
          `{"tool_calls":[{"index":${index},"id":${JSON.stringify(event.id)},"type":"function","function":{"name":${JSON.stringify(event.name)},"arguments":""}}]}`,
          'null');
      }
      case 'tool-call-delta':
        if (event.argumentsDelta.length === 0) return '';
        return this.#chunk(`{"tool_calls":[{"index":${this.#toolIndex(event.index)},"function":{"arguments":${JSON.stringify(event.argumentsDelta)}}}]}`, 'null');
      case 'reasoning-end':
      case 'tool-call-end':
        return '';
      case 'finish': {
        this.#done = true;
        let text = this.#chunk('{}', `"${chatFinishReason(event.finishReason)}"`);
        if (this.#includeUsage) text += `${this.#prefix},"choices":[],"usage":${JSON.stringify(chatUsage(event.usage))}}\n\n`;
        return text + DONE;
      }
      case 'error':
        this.#done = true;
        return `data: ${JSON.stringify(event.error.toOpenAI())}\n\n${DONE}`;
    }
  }

  #setPrefix(id: string, created: number): void {
    this.#prefix = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(this.#model)}`;
  }

  #chunk(delta: string, finishReason: string): string {
    if (this.#prefix === '') this.#setPrefix(`chatcmpl-${crypto.randomUUID()}`, Math.floor(Date.now() / 1000));
    return `${this.#prefix},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason}}]}\n\n`;
  }

  #toolIndex(canonicalIndex: number): number {
    let index = this.#toolIndexes.get(canonicalIndex);
    if (index === undefined) {
      index = this.#toolIndexes.size;
      this.#toolIndexes.set(canonicalIndex, index);
    }
    return index;
  }
}
