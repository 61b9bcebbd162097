// A relayed stream's answer, assembled for the request log when the body policy keeps
// bodies: a tap that passes every event on to the billing tap and keeps a bounded copy
// of the event data, then reads the text, reasoning and tool calls out of it in the
// client's wire format (Chat Completions chunks, Responses events, Messages events).
import type { Usage } from '../canonical/types.ts';
import type { StreamTap } from '../providers/stream-tap.ts';
import type { CapturedAnswer } from './bodies.ts';

export class CapturingTap implements StreamTap {
  private readonly inner: StreamTap;
  private readonly kept: string[] = [];
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(inner: StreamTap, maxBytes: number) {
    this.inner = inner;
    this.maxBytes = maxBytes;
  }

  get usage(): Usage | undefined { return this.inner.usage; }
  get model(): string | undefined { return this.inner.model; }
  get contentEvents(): number { return this.inner.contentEvents; }
  get firstContentAt(): number { return this.inner.firstContentAt; }
  get ended(): boolean { return this.inner.ended; }
  get malformed(): string | undefined { return this.inner.malformed; }
  get finalEvent(): string { return this.inner.finalEvent; }

  keep(data: string, event: string | undefined): boolean {
    // A bounded copy: the stored body is capped anyway, and a long stream must not grow memory.
    if (this.bytes < this.maxBytes) {
      this.kept.push(data);
      this.bytes += data.length;
    }
    return this.inner.keep(data, event);
  }

  /** The answer as one object, read from the events of `endpoint`'s format. */
  assembled(endpoint: string): CapturedAnswer {
    const answer: CapturedAnswer = { text: '', reasoning: '', toolCalls: [] };
    const read = endpoint === 'responses' ? readResponses : endpoint === 'messages' ? readMessages : readChat;
    for (const data of this.kept) {
      if (data === '[DONE]') continue;
      let json: any;
      try {
        json = JSON.parse(data);
      } catch {
        continue;
      }
      read(json, answer);
    }
    if (!answer.reasoning) delete answer.reasoning;
    return answer;
  }
}

function readChat(chunk: any, answer: CapturedAnswer): void {
  const delta = chunk.choices?.[0]?.delta;
  if (!delta) return;
  if (typeof delta.content === 'string') answer.text += delta.content;
  const reasoning = delta.reasoning_content ?? delta.reasoning;
  if (typeof reasoning === 'string') answer.reasoning += reasoning;
  for (const call of delta.tool_calls ?? []) {
    const index = typeof call.index === 'number' ? call.index : answer.toolCalls!.length;
    const tool = (answer.toolCalls![index] ??= { name: '', arguments: '' });
    if (call.function?.name) tool.name += call.function.name;
    if (call.function?.arguments) tool.arguments += call.function.arguments;
  }
}

function readResponses(event: any, answer: CapturedAnswer): void {
  if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') answer.text += event.delta;
  else if (event.type === 'response.reasoning_summary_text.delta' && typeof event.delta === 'string') answer.reasoning += event.delta;
  else if (event.type === 'response.output_item.added' && event.item?.type === 'function_call') answer.toolCalls!.push({ name: event.item.name ?? '', arguments: '' });
  else if (event.type === 'response.function_call_arguments.delta' && typeof event.delta === 'string') {
    const last = answer.toolCalls!.at(-1);
    if (last) last.arguments += event.delta;
  }
}

function readMessages(event: any, answer: CapturedAnswer): void {
  if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use') answer.toolCalls!.push({ name: event.content_block.name ?? '', arguments: '' });
  if (event.type !== 'content_block_delta') return;
  const d = event.delta;
  if (d?.type === 'text_delta') answer.text += d.text;
  else if (d?.type === 'thinking_delta') answer.reasoning += d.thinking;
  else if (d?.type === 'input_json_delta') {
    const last = answer.toolCalls!.at(-1);
    if (last) last.arguments += d.partial_json;
  }
}
