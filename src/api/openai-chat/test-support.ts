// Test support: reassemble a Chat Completions stream the way a client SDK does.
import { SseParser } from '../../canonical/sse.ts';
import type { SseEvent } from '../../canonical/sse.ts';

export interface AssembledChat {
  text: string;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string | null;
  usage: any;
  errors: any[];
  sawDone: boolean;
}

export function parseSseText(text: string): SseEvent[] {
  const parser = new SseParser();
  return parser.end(parser.push(text));
}

/** Choice 0 of a chat stream, from the `data:` payloads ([DONE] included or not). */
export function assembleChat(payloads: string[]): AssembledChat {
  const out: AssembledChat = { text: '', reasoning: '', toolCalls: [], finishReason: null, usage: null, errors: [], sawDone: false };
  for (const data of payloads) {
    if (data === '[DONE]') {
      out.sawDone = true;
      continue;
    }
    const chunk = JSON.parse(data);
    if (chunk.error) out.errors.push(chunk.error);
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') out.text += delta.content;
      if (typeof delta.refusal === 'string') out.text += delta.refusal;
      if (typeof delta.reasoning_content === 'string') out.reasoning += delta.reasoning_content;
      for (const call of delta.tool_calls ?? []) {
        const slot = (out.toolCalls[call.index] ??= { id: '', name: '', arguments: '' });
        if (call.id) slot.id = call.id;
        if (call.function?.name) slot.name = call.function.name;
        if (call.function?.arguments) slot.arguments += call.function.arguments;
      }
      if (choice.finish_reason) out.finishReason = choice.finish_reason;
    }
  }
  return out;
}
