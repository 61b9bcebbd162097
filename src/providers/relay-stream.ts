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
  /** Rewriting: the events the tap kept, of the last chunk read. */
  readonly kept: SseEvent[];
  /** Rewriting: text after the last whole event, held until its event is whole. */
  pending: string;
  /** Rewriting a stream with CR line endings: its events are framed anew. */
  framing: boolean;
}

/**
 * Read an upstream SSE body up to its first whole event. An upstream that fails or
 * answers garbage from the start is thrown (nothing has reached the client).
 * `rewrite`: the tap may drop events and the gateway's `"usage":null` is taken out, so whole
 * events are sent as edited text instead of the chunks as they came.
 */
export async function primeRelay(upstream: UpstreamResponse, tap: StreamTap, deployment: Deployment, rewrite: boolean, signal: AbortSignal): Promise<PrimedRelay> {
  const relay = {
    head: '', clientClosed: false, tap, rewrite, deployment,
    rest: upstream.body[Symbol.asyncIterator](), parser: new SseParser(), decoder: new TextDecoder(), events: [] as SseEvent[],
    kept: [] as SseEvent[], pending: '', framing: false,
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
  const tail = rewrite ? lastEvent(relay) : readAll(tap, relay.events);
  if (tail.length > 0 && !res.destroyed) res.write(target.masker.mask(tail));
  if (!tap.ended) return brokenStream(target, deployment, `a stream that ended without its final event (${tap.finalEvent})`);
  return { clientClosed: false };
}

/** Parse a chunk into the relay's events and tap them; `out` is what to send of it when rewriting. */
function readChunk(relay: PrimedRelay, chunk: Buffer): { text: string; out: string } {
  relay.events.length = 0;
  const text = relay.decoder.decode(chunk, { stream: true });
  relay.parser.push(text, relay.events);
  if (!relay.rewrite) {
    readAll(relay.tap, relay.events);
    return { text, out: '' };
  }
  const dropped = tapEvents(relay);
  return { text, out: editedEvents(relay, text, dropped) };
}

/** Tap every event, keeping the ones the tap keeps in relay.kept; how many it dropped. */
function tapEvents(relay: PrimedRelay): number {
  const { events, kept, tap } = relay;
  kept.length = 0;
  for (let i = 0; i < events.length; i++) if (tap.keep(events[i].data, events[i].event)) kept.push(events[i]);
  return events.length - kept.length;
}

/**
 * The whole events that `text` completes, as they came but for the edits: the dropped
 * events cut out and `"usage":null` taken out. The text after the last whole event waits
 * for the next chunk. Text the edit cannot follow (CR line endings, from then on; an event
 * of several data lines among the dropped) is framed anew from the parsed events instead.
 */
function editedEvents(relay: PrimedRelay, text: string, dropped: number): string {
  if (relay.framing || text.indexOf('\r') !== -1) {
    relay.framing = true;
    relay.pending = '';
    return frame(relay.kept);
  }
  const boundary = lastEventEnd(relay.pending, text);
  if (boundary === -1) {
    relay.pending += text;
    return '';
  }
  let whole = relay.pending + text.slice(0, boundary);
  relay.pending = text.slice(boundary);
  if (dropped > 0) {
    const cut = withoutDropped(whole, relay.events, relay.kept);
    if (cut === undefined) return frame(relay.kept);
    whole = cut;
  }
  return whole.indexOf(NULL_USAGE) === -1 ? whole : whole.replaceAll(NULL_USAGE, '');
}

/** An event the upstream ended its stream with, without a blank line after it: framed anew. */
function lastEvent(relay: PrimedRelay): string {
  tapEvents(relay);
  return frame(relay.kept);
}

/** Where the last whole event of pending + text ends, as an index into text (-1: none does). */
function lastEventEnd(pending: string, text: string): number {
  const at = text.lastIndexOf('\n\n');
  if (at !== -1) return at + 2;
  return text.charCodeAt(0) === 10 && pending.charCodeAt(pending.length - 1) === 10 ? 1 : -1;
}

/** `text` without the events the tap dropped (each `data: …` line and its blank line); undefined if one is not found as one line. */
function withoutDropped(text: string, events: SseEvent[], kept: SseEvent[]): string | undefined {
  let out = text;
  for (let i = 0, k = 0; i < events.length; i++) {
    if (kept[k] === events[i]) {
      k++;
      continue;
    }
    const { data, event } = events[i];
    if (event !== undefined || data.indexOf('\n') !== -1) return undefined;
    const at = out.indexOf(data);
    const lineStart = out.lastIndexOf('\n', at) + 1;
    let end = at + data.length;
    // Found as the whole value of a data line (`data:` or `data: `), not inside another event.
    if (at === -1 || !out.startsWith('data:', lineStart) || at - lineStart > 6 || out.charCodeAt(end) !== 10) return undefined;
    while (end < out.length && out.charCodeAt(end) === 10) end++;
    out = out.slice(0, lineStart) + out.slice(end);
  }
  return out;
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

/** Events framed anew, without `"usage":null`. */
function frame(events: SseEvent[]): string {
  let out = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
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
const NULL_USAGE = ',"usage":null';

function stripNullUsage(data: string): string {
  return data.indexOf(NULL_USAGE) === -1 ? data : data.replaceAll(NULL_USAGE, '');
}
