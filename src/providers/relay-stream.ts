// Relaying an upstream's SSE answer to the client as it arrives, event-aligned, while a
// tap reads what billing needs. The same for every provider whose format the client speaks.
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import { SseParser } from '../canonical/sse.ts';
import type { SseEvent } from '../canonical/sse.ts';
import { drained } from '../http/drain.ts';
import type { UpstreamResponse } from './http.ts';
import type { StreamTap } from './stream-tap.ts';
import type { Deployment } from './types.ts';

export interface RelayOutcome {
  /** The client went away before the end. */
  clientClosed: boolean;
  /** The upstream failed after the stream had started. */
  error?: GatewayError;
}

/**
 * Relay an upstream SSE body to the client event by event. Bytes go out as soon as
 * they arrive (one write per upstream chunk when no event is dropped); the upstream is
 * paused while the client's socket is full.
 */
export async function relayStream(upstream: UpstreamResponse, res: ServerResponse, tap: StreamTap, deployment: Deployment, rewrite: boolean, errorEvent: (error: GatewayError) => string): Promise<RelayOutcome> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  try {
    for await (const chunk of upstream.body) {
      events.length = 0;
      parser.push(decoder.decode(chunk as Buffer, { stream: true }), events);
      let ok = true;
      if (!rewrite) {
        ok = res.write(chunk);
        for (let i = 0; i < events.length; i++) tap.keep(events[i].data, events[i].event);
      } else {
        let out = '';
        for (let i = 0; i < events.length; i++) {
          const e = events[i];
          if (!tap.keep(e.data, e.event)) continue;
          out += e.event === undefined ? `data: ${stripNullUsage(e.data)}\n\n` : `event: ${e.event}\ndata: ${e.data}\n\n`;
        }
        if (out.length > 0) ok = res.write(out);
      }
      if (!ok && !res.destroyed) await drained(res);
      if (res.destroyed) return { clientClosed: true };
    }
    return { clientClosed: false };
  } catch (err) {
    if (res.destroyed) return { clientClosed: true };
    const error = streamInterrupted(deployment, err as Error);
    res.write(errorEvent(error));
    return { clientClosed: false, error };
  }
}

/** The gateway asked for usage on the client's behalf; chunks then carry "usage":null the client did not ask for. */
function stripNullUsage(data: string): string {
  const at = data.indexOf(',"usage":null');
  return at === -1 ? data : data.slice(0, at) + data.slice(at + 13);
}

/** An upstream that died after its answer (a stream, or a body) had started. */
export function streamInterrupted(deployment: Deployment, err: Error, what = 'the stream'): GatewayError {
  return new GatewayError({
    status: 502,
    type: 'upstream_error',
    code: 'upstream_stream_interrupted',
    message: `Provider ${deployment.provider} (${deployment.id}) stopped in the middle of ${what} (${err.message}). The partial answer is incomplete; retry the request.`,
    source: `provider:${deployment.provider}`,
  });
}
