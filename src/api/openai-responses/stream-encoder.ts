// Canonical stream events -> the Responses API's typed SSE events, in the order and
// shapes OpenAI sends them (see fixtures/openai/responses-stream-*). Every event
// carries a sequence_number. Item ids are built from the response id's letters and
// digits, so per-delta events are concatenated without escaping them.
import type { CanonicalRequest, StreamEvent, Usage } from '../../canonical/types.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import {
  functionCallItem, idBaseOf, messageItem, reasoningItem, responseEnvelope, responseIdOf, statusOf,
} from './response.ts';

export interface ResponsesStreamEncoderOptions {
  /** The model name the client sees. */
  model: string;
  /** The parsed request, echoed in the response objects. */
  request: CanonicalRequest;
}

interface OutputItem {
  kind: 'message' | 'reasoning' | 'function_call';
  id: string;
  outputIndex: number;
  /** Message text, reasoning summary or function arguments so far. */
  text: string;
  callId: string;
  name: string;
  signature?: string;
  redacted?: string;
  done: boolean;
}

const ID_PREFIX = { message: 'msg', reasoning: 'rs', function_call: 'fc' } as const;

export class ResponsesStreamEncoder {
  #model: string;
  #request: CanonicalRequest;
  #sequence = 0;
  #responseId = '';
  #base = '';
  #createdAt = 0;
  #items: OutputItem[] = [];
  /** The open message or reasoning item; function calls stay open until their end event. */
  #current: OutputItem | undefined;
  #calls = new Map<number, OutputItem>();
  #finished = false;

  constructor(options: ResponsesStreamEncoderOptions) {
    this.#model = options.model;
    this.#request = options.request;
  }

  /** SSE text for one event: zero or more `event:`/`data:` blocks. */
  encode(event: StreamEvent): string {
    if (this.#finished) return '';
    switch (event.type) {
      case 'start':
        return this.#responseId === '' ? this.#start(event.id, event.created) : '';
      case 'text-delta': {
        if (event.text.length === 0) return '';
        let out = this.#ensureStarted();
        if (this.#current?.kind !== 'message') out += this.#closeCurrent() + this.#openMessage();
        const item = this.#current as OutputItem;
        item.text += event.text;
        return out + this.#event('response.output_text.delta',
          `,"item_id":"${item.id}","output_index":${item.outputIndex},"content_index":0,"delta":${JSON.stringify(event.text)},"logprobs":[]`);
      }
      case 'reasoning-delta': {
        if (event.text.length === 0) return '';
        let out = this.#ensureStarted();
        if (this.#current?.kind !== 'reasoning') out += this.#closeCurrent() + this.#openReasoning();
        const item = this.#current as OutputItem;
        if (item.text.length === 0) out += this.#openSummaryPart(item);
        item.text += event.text;
        return out + this.#event('response.reasoning_summary_text.delta',
          `,"item_id":"${item.id}","output_index":${item.outputIndex},"summary_index":0,"delta":${JSON.stringify(event.text)}`);
      }
      case 'reasoning-end': {
        let out = this.#ensureStarted();
        if (this.#current?.kind !== 'reasoning') {
          if (event.signature === undefined && event.redacted === undefined) return out;
          out += this.#closeCurrent() + this.#openReasoning();
        }
        const item = this.#current as OutputItem;
        if (event.signature !== undefined) item.signature = event.signature;
        if (event.redacted !== undefined) item.redacted = event.redacted;
        return out + this.#closeCurrent();
      }
      case 'tool-call-start': {
        let out = this.#ensureStarted() + this.#closeCurrent();
        const item = this.#newItem('function_call');
        item.callId = event.id;
        item.name = event.name;
        this.#calls.set(event.index, item);
        out += this.#event('response.output_item.added', `,"output_index":${item.outputIndex},"item":${JSON.stringify(functionCallItem(item.id, 'in_progress', item.callId, item.name, ''))}`);
        return out;
      }
      case 'tool-call-delta': {
        const item = this.#calls.get(event.index);
        if (item === undefined || item.done || event.argumentsDelta.length === 0) return '';
        item.text += event.argumentsDelta;
        return this.#event('response.function_call_arguments.delta',
          `,"item_id":"${item.id}","output_index":${item.outputIndex},"delta":${JSON.stringify(event.argumentsDelta)}`);
      }
      case 'tool-call-end': {
        const item = this.#calls.get(event.index);
        return item === undefined || item.done ? '' : this.#closeCall(item);
      }
      case 'finish':
        return this.#finish(event.finishReason === 'length' || event.finishReason === 'content_filter' ? event.finishReason : 'stop', event.usage);
      case 'error':
        return this.#fail(event.error, event.usage);
    }
  }

  #event(type: string, fields: string): string {
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.#sequence++}${fields}}\n\n`;
  }

  #start(id: string, created: number): string {
    this.#base = idBaseOf(id);
    this.#responseId = responseIdOf(id, this.#base);
    this.#createdAt = created;
    const response = JSON.stringify(responseEnvelope(this.#request, {
      id: this.#responseId, createdAt: created, model: this.#model, status: 'in_progress', output: [], usage: null,
    }));
    return this.#event('response.created', `,"response":${response}`) + this.#event('response.in_progress', `,"response":${response}`);
  }

  #ensureStarted(): string {
    return this.#responseId === '' ? this.#start(`resp_${crypto.randomUUID().replace(/-/g, '')}`, Math.floor(Date.now() / 1000)) : '';
  }

  #newItem(kind: OutputItem['kind']): OutputItem {
    const outputIndex = this.#items.length;
    const item: OutputItem = { kind, id: `${ID_PREFIX[kind]}_${this.#base}_${outputIndex}`, outputIndex, text: '', callId: '', name: '', done: false };
    this.#items.push(item);
    return item;
  }

  #openMessage(): string {
    const item = this.#newItem('message');
    this.#current = item;
    return this.#event('response.output_item.added',
      `,"output_index":${item.outputIndex},"item":{"id":"${item.id}","type":"message","status":"in_progress","content":[],"role":"assistant"}`)
      + this.#event('response.content_part.added',
        `,"item_id":"${item.id}","output_index":${item.outputIndex},"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`);
  }

  #openReasoning(): string {
    const item = this.#newItem('reasoning');
    this.#current = item;
    return this.#event('response.output_item.added', `,"output_index":${item.outputIndex},"item":{"id":"${item.id}","type":"reasoning","summary":[]}`);
  }

  #openSummaryPart(item: OutputItem): string {
    return this.#event('response.reasoning_summary_part.added',
      `,"item_id":"${item.id}","output_index":${item.outputIndex},"summary_index":0,"part":{"type":"summary_text","text":""}`);
  }

  #closeCurrent(): string {
    const item = this.#current;
    if (item === undefined) return '';
    this.#current = undefined;
    item.done = true;
    let out = '';
    const where = `,"item_id":"${item.id}","output_index":${item.outputIndex}`;
    if (item.kind === 'message') {
      const text = JSON.stringify(item.text);
      out = this.#event('response.output_text.done', `${where},"content_index":0,"text":${text},"logprobs":[]`)
        + this.#event('response.content_part.done', `${where},"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":${text}}`);
    } else if (item.text.length > 0) {
      const text = JSON.stringify(item.text);
      out = this.#event('response.reasoning_summary_text.done', `${where},"summary_index":0,"text":${text}`)
        + this.#event('response.reasoning_summary_part.done', `${where},"summary_index":0,"part":{"type":"summary_text","text":${text}}`);
    }
    return out + this.#itemDone(item);
  }

  #closeCall(item: OutputItem): string {
    item.done = true;
    return this.#event('response.function_call_arguments.done',
      `,"item_id":"${item.id}","output_index":${item.outputIndex},"arguments":${JSON.stringify(item.text)}`) + this.#itemDone(item);
  }

  #itemDone(item: OutputItem): string {
    return this.#event('response.output_item.done', `,"output_index":${item.outputIndex},"item":${JSON.stringify(finalItem(item))}`);
  }

  #finish(reason: 'stop' | 'length' | 'content_filter', usage: Usage): string {
    let out = this.#ensureStarted() + this.#closeCurrent();
    for (const item of this.#items) if (!item.done) out += this.#closeCall(item);
    this.#finished = true;
    const { status, incompleteDetails } = statusOf(reason);
    const response = responseEnvelope(this.#request, {
      id: this.#responseId, createdAt: this.#createdAt, model: this.#model, status, output: this.#items.map(finalItem), usage, incompleteDetails,
    });
    return out + this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', `,"response":${JSON.stringify(response)}`);
  }

  #fail(error: GatewayError, usage: Usage | undefined): string {
    const out = this.#ensureStarted();
    this.#finished = true;
    const response = responseEnvelope(this.#request, {
      id: this.#responseId, createdAt: this.#createdAt, model: this.#model, status: 'failed',
      output: this.#items.filter((item) => item.done).map(finalItem), usage: usage ?? null,
      error: { code: error.code, message: error.message },
    });
    const envelope = JSON.stringify({ type: error.type, code: error.code, message: error.message, param: error.param });
    return out + this.#event('error', `,"error":${envelope}`) + this.#event('response.failed', `,"response":${JSON.stringify(response)}`);
  }
}

function finalItem(item: OutputItem): object {
  if (item.kind === 'message') return messageItem(item.id, 'completed', item.text);
  if (item.kind === 'reasoning') return reasoningItem(item.id, item.text, item);
  return functionCallItem(item.id, 'completed', item.callId, item.name, item.text);
}
