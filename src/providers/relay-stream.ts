// Relaying an upstream's SSE answer to the client as it arrives, event-aligned, while a
// tap reads what billing needs. The same for every provider whose format the client speaks.
// Two steps: primeRelay reads up to the first whole, valid event without touching the
// client (so a failure there is thrown and the call can fall back); pipeRelay then sends
// that and the rest.
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import { SseParser } from '../canonical/sse.ts';
import type { SseEvent } from '../canonical/sse.ts';
import { drained, writeCorked } from '../http/drain.ts';
import { invalidUpstreamResponse, streamInterrupted } from './http.ts';
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
  /** The client-format error event that ends a stream the upstream broke. */
  errorEvent(error: GatewayError): string;
  masker: SecretMasker;
}

/** An upstream stream whose first whole event has arrived (and been tapped), not yet sent. */
export interface PrimedRelay {
  /** What arrived up to and with the first whole event: the first thing the client gets. */
  readonly head: string;
  /** The client went away before the first event: there is nothing to send. */
  readonly clientClosed: boolean;
  readonly tap: StreamTap;
  readonly rewrite: boolean;
  readonly deployment: Deployment;
  readonly rest: AsyncIterator<unknown>;
  readonly parser: SseParser;
  readonly decoder: TextDecoder;
  readonly events: SseEvent[];
}

/**
 * Read an upstream SSE body up to its first whole event. An upstream that fails or
 * answers garbage from the start is thrown (nothing has reached the client).
 * `rewrite`: events are re-framed one by one (the tap drops some) instead of relayed as they came.
 */
export async function primeRelay(upstream: UpstreamResponse, tap: StreamTap, deployment: Deployment, rewrite: boolean, signal: AbortSignal): Promise<PrimedRelay> {
  const relay = {
    head: '', clientClosed: false, tap, rewrite, deployment,
    rest: upstream.body[Symbol.asyncIterator](), parser: new SseParser(), decoder: new TextDecoder(), events: [] as SseEvent[],
  };
  try {
    for (let next = await relay.rest.next(); !next.done; next = await relay.rest.next()) {
      const { text, out } = readChunk(relay, next.value as Buffer);
      if (tap.malformed !== undefined) {
        await relay.rest.return?.();
        throw invalidUpstreamResponse(deployment, `a stream with ${tap.malformed}`);
      }
      relay.head += rewrite ? out : text;
      if (relay.events.length > 0) return relay;
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    if (signal.aborted) return { ...relay, clientClosed: true };
    throw streamInterrupted(deployment, err as Error);
  }
  throw invalidUpstreamResponse(deployment, 'a stream without a single event (empty, or not server-sent events)');
}

/**
 * Send a primed stream to the client: its head, then every chunk as soon as it arrives
 * (the chunk itself when no event is dropped), the upstream paused while the client's
 * socket is full. A stream that breaks, carries a malformed event or ends without its
 * final event ends with an error event.
 */
export async function pipeRelay(relay: PrimedRelay, target: RelayTarget): Promise<RelayOutcome> {
  if (relay.clientClosed) return { clientClosed: true };
  const { res } = target;
  const { tap, rewrite, deployment } = relay;
  try {
    if (!(await send(target, relay.head, relay.head))) return { clientClosed: true };
    for await (const chunk of { [Symbol.asyncIterator]: () => relay.rest }) {
      const { text, out } = readChunk(relay, chunk as Buffer);
      if (tap.malformed !== undefined) return brokenStream(target, deployment, `a stream with ${tap.malformed}`);
      if (!(await send(target, rewrite ? out : (chunk as Buffer), rewrite ? out : text))) return { clientClosed: true };
    }
  } catch (err) {
    if (res.destroyed) return { clientClosed: true };
    const error = streamInterrupted(deployment, err as Error);
    res.write(target.errorEvent(error));
    return { clientClosed: false, error };
  }
  relay.events.length = 0;
  relay.parser.end(relay.events);
  const tail = rewrite ? kept(tap, relay.events) : readAll(tap, relay.events);
  if (tail.length > 0 && !res.destroyed) res.write(target.masker.mask(tail));
  if (!tap.ended) return brokenStream(target, deployment, `a stream that ended without its final event (${tap.finalEvent})`);
  return { clientClosed: false };
}

/** Parse a chunk into the relay's events and tap them; `out` is the re-framed kept events when rewriting. */
function readChunk(relay: PrimedRelay, chunk: Buffer): { text: string; out: string } {
  relay.events.length = 0;
  const text = relay.decoder.decode(chunk, { stream: true });
  relay.parser.push(text, relay.events);
  const out = relay.rewrite ? kept(relay.tap, relay.events) : readAll(relay.tap, relay.events);
  return { text, out };
}

/** Write a piece (masked if it would echo a key); false once the client is gone. */
async function send(target: RelayTarget, piece: string | Buffer, pieceText: string): Promise<boolean> {
  const { res, masker } = target;
  // Only an upstream's error event would echo a key; masking is a no-op scan otherwise.
  if (masker.leaks(pieceText)) piece = masker.mask(pieceText);
  if (piece.length > 0 && !writeCorked(res, piece) && !res.destroyed) await drained(res);
  return !res.destroyed;
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

function brokenStream(target: RelayTarget, deployment: Deployment, what: string): RelayOutcome {
  const error = invalidUpstreamResponse(deployment, what);
  // A blank line first ends any event the client holds half of.
  if (!target.res.destroyed) target.res.write(`\n\n${target.errorEvent(error)}`);
  return { clientClosed: target.res.destroyed, error };
}

/** The gateway asked for usage on the client's behalf; chunks then carry "usage":null the client did not ask for. */
function stripNullUsage(data: string): string {
  const at = data.indexOf(',"usage":null');
  return at === -1 ? data : data.slice(0, at) + data.slice(at + 13);
}
