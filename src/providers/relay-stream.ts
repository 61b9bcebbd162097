// Relaying an upstream's SSE answer to the client as it arrives, event-aligned, while a
// tap reads what billing needs. The same for every provider whose format the client speaks.
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import { SseParser } from '../canonical/sse.ts';
import type { SseEvent } from '../canonical/sse.ts';
import { drained } from '../http/drain.ts';
import { invalidUpstreamResponse } from './http.ts';
import type { UpstreamResponse } from './http.ts';
import type { SecretMasker } from './secrets.ts';
import type { StreamTap } from './stream-tap.ts';
import type { Deployment } from './types.ts';

export interface RelayOutcome {
  /** The client went away before the end. */
  clientClosed: boolean;
  /** The upstream failed, or sent a broken stream, after the stream had started. */
  error?: GatewayError;
}

export interface RelayTarget {
  res: ServerResponse;
  /** Sends the response head; called once the first whole, valid event has arrived. */
  writeHead(): void;
  /** The client-format error event that ends a stream the upstream broke. */
  errorEvent(error: GatewayError): string;
  masker: SecretMasker;
}

/**
 * Relay an upstream SSE body to the client event by event. Nothing goes out until the
 * first whole event has arrived and is valid, so an upstream that fails or answers
 * garbage from the start is thrown (and the call can fall back to another deployment).
 * After that bytes go out as soon as they arrive (one write per upstream chunk when no
 * event is dropped), the upstream paused while the client's socket is full; a stream
 * that breaks, carries a malformed event or ends without its final event ends with an
 * error event.
 */
export async function relayStream(upstream: UpstreamResponse, target: RelayTarget, tap: StreamTap, deployment: Deployment, rewrite: boolean): Promise<RelayOutcome> {
  const { res, masker } = target;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let started = false;
  let held = '';
  try {
    for await (const chunk of upstream.body) {
      events.length = 0;
      const text = decoder.decode(chunk as Buffer, { stream: true });
      parser.push(text, events);
      const out = rewrite ? kept(tap, events) : readAll(tap, events);
      if (tap.malformed !== undefined) return brokenStream(target, started, deployment, `a stream with ${tap.malformed}`);
      let piece: string | Buffer = rewrite ? out : (chunk as Buffer);
      if (!started) {
        // Held back until a whole event has come: then everything so far goes out at once.
        held += rewrite ? out : text;
        if (events.length === 0) continue;
        target.writeHead();
        started = true;
        piece = held;
        held = '';
      }
      const pieceText = typeof piece === 'string' ? piece : text;
      // Only an upstream's error event would echo a key; masking is a no-op scan otherwise.
      if (masker.leaks(pieceText)) piece = masker.mask(pieceText);
      if (piece.length > 0 && !res.write(piece) && !res.destroyed) await drained(res);
      if (res.destroyed) return { clientClosed: true };
    }
  } catch (err) {
    // A broken stream found before the first byte: thrown as it is, for a fallback.
    if (err instanceof GatewayError && !started) throw err;
    if (res.destroyed) return { clientClosed: true };
    const error = streamInterrupted(deployment, err as Error);
    if (!started) throw error;
    res.write(target.errorEvent(error));
    return { clientClosed: false, error };
  }
  events.length = 0;
  parser.end(events);
  const tail = rewrite ? kept(tap, events) : readAll(tap, events);
  if (tail.length > 0 && started && !res.destroyed) res.write(masker.mask(tail));
  if (!started) throw invalidUpstreamResponse(deployment, 'a stream without a single event (empty, or not server-sent events)');
  if (!tap.ended) return brokenStream(target, true, deployment, `a stream that ended without its final event (${tap.finalEvent})`);
  return { clientClosed: false };
}

/** Tap every event; the whole chunk is relayed as it came. */
function readAll(tap: StreamTap, events: SseEvent[]): string {
  for (let i = 0; i < events.length; i++) tap.keep(events[i].data, events[i].event);
  return '';
}

/** Tap every event; the ones kept, re-framed. */
function kept(tap: StreamTap, events: SseEvent[]): string {
  let out = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!tap.keep(e.data, e.event)) continue;
    out += e.event === undefined ? `data: ${stripNullUsage(e.data)}\n\n` : `event: ${e.event}\ndata: ${e.data}\n\n`;
  }
  return out;
}

function brokenStream(target: RelayTarget, started: boolean, deployment: Deployment, what: string): RelayOutcome {
  const error = invalidUpstreamResponse(deployment, what);
  if (!started) throw error;
  // A blank line first ends any event the client holds half of.
  if (!target.res.destroyed) target.res.write(`\n\n${target.errorEvent(error)}`);
  return { clientClosed: target.res.destroyed, error };
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
    message: `Provider ${deployment.providerName} (${deployment.id}) stopped in the middle of ${what} (${err.message}). The partial answer is incomplete; retry the request.`,
    source: `provider:${deployment.providerName}`,
  });
}
