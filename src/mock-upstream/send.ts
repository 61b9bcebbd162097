// Writing one reply: fresh ids into the built reply, time to first byte, pauses
// between stream events, and the deliberate failures (a connection cut after n
// events, an in-band error event). Nothing is written once the client has gone.
import type { ServerResponse } from 'node:http';
import { nextIdToken, render, type Reply, template } from './wire.ts';

export interface SendControls {
  latencyMs: number;
  chunkDelayMs: number;
  /** Send this many events (non-stream: half the body), then cut the connection. */
  failAfter?: number;
  /** Send this many events, then the provider's in-band error. */
  errorAfter?: number;
  /** A 2xx body that is broken on purpose: cut in half (with a matching content-length), or not JSON at all. */
  bodyFault?: 'truncated' | 'not-json';
  /** A stream that ends without its final event (`no-done`) or carries a cut-off event (`malformed-event`). */
  streamEnd?: 'no-done' | 'malformed-event';
  /** Usage numbers replaced as raw JSON text, e.g. prompt_tokens → "abc" or 1e400 (`x-mock-usage`). */
  usage?: Array<[field: string, rawJson: string]>;
}

/** Replace the value of every numeric `"field": n` with raw JSON text (which JSON.stringify could not write, e.g. 1e400). */
function withUsage(text: string, usage: SendControls['usage']): string {
  if (!usage) return text;
  let out = text;
  for (const [field, raw] of usage) out = out.replace(new RegExp(`("${field}":\\s*)-?\\d+(\\.\\d+)?`, 'g'), (_, key: string) => key + raw);
  return out;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Write `reply` to `res`. `onBroken` is called when the connection is cut on purpose. */
export function sendReply(res: ServerResponse, reply: Reply, controls: SendControls, requestIdHeader: string | undefined, onBroken: (res: ServerResponse) => void): void {
  if (controls.latencyMs > 0) {
    const timer = setTimeout(startReply, controls.latencyMs, res, reply, controls, requestIdHeader, onBroken);
    res.once('close', () => clearTimeout(timer));
    return;
  }
  startReply(res, reply, controls, requestIdHeader, onBroken);
}

function startReply(res: ServerResponse, reply: Reply, controls: SendControls, requestIdHeader: string | undefined, onBroken: (res: ServerResponse) => void): void {
  if (res.destroyed) return;
  const id = nextIdToken();
  const created = String(Math.floor(Date.now() / 1000));
  if (requestIdHeader) res.setHeader(requestIdHeader, `req_${id}`);
  if (reply.frames) {
    sendFrames(res, reply, controls, id, created, onBroken);
    return;
  }
  let body = reply.body ? withUsage(render(reply.body, id, created), controls.usage) : '';
  if (isSuccess(reply.status) && controls.bodyFault === 'truncated') body = body.slice(0, body.length >> 1);
  else if (isSuccess(reply.status) && controls.bodyFault === 'not-json') body = '<html><body>502 Bad Gateway (a proxy answered instead of the API)</body></html>';
  if (controls.failAfter === undefined) {
    res.setHeader('content-length', Buffer.byteLength(body));
    res.writeHead(reply.status, reply.headers);
    res.end(body);
    return;
  }
  const bytes = Buffer.from(body);
  res.setHeader('content-length', bytes.length);
  res.writeHead(reply.status, reply.headers);
  res.write(bytes.subarray(0, bytes.length >> 1));
  cut(res, onBroken);
}

function sendFrames(res: ServerResponse, reply: Reply, controls: SendControls, id: string, created: string, onBroken: (res: ServerResponse) => void): void {
  const frames = reply.frames ?? [];
  let count = frames.length;
  let tail: string | undefined;
  if (controls.failAfter !== undefined) count = Math.min(controls.failAfter, count);
  else if (controls.errorAfter !== undefined && reply.streamError) {
    count = Math.min(controls.errorAfter, count);
    tail = render(template(reply.streamError(count)), id, created);
  }
  const breaks = controls.failAfter !== undefined;
  res.writeHead(reply.status, reply.headers);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) pieces.push(withUsage(render(frames[i], id, created), controls.usage));
  if (tail !== undefined) pieces.push(tail);
  breakStream(pieces, controls.streamEnd);

  if (controls.chunkDelayMs <= 0) {
    const out = pieces.join('');
    if (!breaks) {
      res.end(out);
      return;
    }
    if (out.length > 0) res.write(out);
    cut(res, onBroken);
    return;
  }

  pump(res, pieces, controls.chunkDelayMs, breaks, onBroken);
}

/**
 * `no-done`: the last event (chat's `data: [DONE]`, Responses' response.completed,
 * Anthropic's message_stop, Gemini's last chunk) is not sent. `malformed-event`: a
 * copy of the second event, cut in the middle of its JSON, goes out after it.
 */
function breakStream(pieces: string[], fault: SendControls['streamEnd']): void {
  if (fault === 'no-done') pieces.pop();
  else if (fault === 'malformed-event' && pieces.length > 1) {
    const whole = pieces[1];
    const data = whole.indexOf('data: ');
    const cut = data === -1 ? whole.length >> 1 : data + 6 + ((whole.length - data - 6) >> 1);
    pieces.splice(2, 0, `${whole.slice(0, cut)}\n\n`);
  }
}

/** Write pieces one at a time with a pause between them, honouring backpressure. */
function pump(res: ServerResponse, pieces: string[], delayMs: number, breaks: boolean, onBroken: (res: ServerResponse) => void): void {
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  res.once('close', () => clearTimeout(timer));
  const step = (): void => {
    if (res.destroyed) return;
    if (next === pieces.length) {
      if (breaks) cut(res, onBroken);
      else res.end();
      return;
    }
    const drained = res.write(pieces[next++]);
    const wait = next === pieces.length ? 0 : delayMs;
    if (drained) timer = setTimeout(step, wait);
    else res.once('drain', () => { timer = setTimeout(step, wait); });
  };
  if (pieces.length === 0) res.flushHeaders();
  step();
}

/**
 * End the connection in the middle of the response: what was written is flushed,
 * then the socket closes without the response's end (no final chunk, or fewer
 * bytes than content-length), so the client sees a broken body.
 */
function cut(res: ServerResponse, onBroken: (res: ServerResponse) => void): void {
  onBroken(res);
  if (!res.headersSent) res.flushHeaders();
  const socket = res.socket;
  if (!socket) return;
  socket.end();
  // A client that keeps its side open must not keep the socket alive.
  setTimeout(() => socket.destroy(), 1000).unref();
}
