// A whole canonical answer as the stream events it would have arrived as: how an answer
// that was read whole (a cascade's accepted tier, a validated critical answer) reaches a
// client that asked for a stream, through the same encoders as a live stream.
import type { CanonicalResponse, StreamEvent } from './types.ts';

export async function* replayEvents(response: CanonicalResponse): AsyncGenerator<StreamEvent> {
  yield { type: 'start', id: response.id, model: response.model, created: response.created, warnings: response.warnings };
  let tools = 0;
  for (const part of response.content) {
    if (part.type === 'text') {
      if (part.text) yield { type: 'text-delta', text: part.text };
    } else if (part.type === 'reasoning') {
      if (part.text) yield { type: 'reasoning-delta', text: part.text };
      yield { type: 'reasoning-end', signature: part.signature, redacted: part.redacted };
    } else {
      const index = tools++;
      yield { type: 'tool-call-start', index, id: part.id, name: part.name };
      if (part.arguments) yield { type: 'tool-call-delta', index, argumentsDelta: part.arguments };
      yield { type: 'tool-call-end', index };
    }
  }
  yield { type: 'finish', finishReason: response.finishReason, usage: response.usage, providerFinishReason: response.providerFinishReason };
}
