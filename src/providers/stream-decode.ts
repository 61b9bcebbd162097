// Shared by the translating providers: turn an upstream's SSE events into canonical
// events through the provider's decoder, and surface an early failure as a throw.
import { GatewayError } from '../canonical/errors.ts';
import type { SseEvent } from '../canonical/sse.ts';
import type { StreamEvent } from '../canonical/types.ts';

export interface ProviderStreamDecoder {
  readonly done: boolean;
  push(event: SseEvent, out: StreamEvent[]): StreamEvent[];
  end(out: StreamEvent[]): StreamEvent[];
  fail(error: GatewayError, out: StreamEvent[]): StreamEvent[];
}

interface Body {
  readonly destroyed: boolean;
  destroy(): void;
}

/** Decode event by event (never buffering the answer); a broken body becomes an `error` event. */
export async function* decodeEvents(events: AsyncIterable<SseEvent>, body: Body, decoder: ProviderStreamDecoder, failure: (err: unknown) => GatewayError): AsyncGenerator<StreamEvent> {
  const out: StreamEvent[] = [];
  try {
    try {
      for await (const event of events) {
        decoder.push(event, out);
        for (let i = 0; i < out.length; i++) yield out[i];
        out.length = 0;
        if (decoder.done) return;
      }
      decoder.end(out);
    } catch (err) {
      decoder.fail(err instanceof GatewayError ? err : failure(err), out);
    }
    for (const event of out) yield event;
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

/**
 * Wait for the first event: an upstream that fails before saying anything becomes a
 * thrown GatewayError (so routing can still fall back); after that, errors are events.
 */
export async function primeStream(events: AsyncGenerator<StreamEvent>): Promise<AsyncIterable<StreamEvent>> {
  const first = await events.next();
  if (!first.done && first.value.type === 'error') {
    await events.return(undefined);
    throw first.value.error;
  }
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      yield* events;
    },
  };
}
