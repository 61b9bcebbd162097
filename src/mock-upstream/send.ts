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
  const body = reply.body ? render(reply.body, id, created) : '';
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

  if (controls.chunkDelayMs <= 0) {
    let out = '';
    for (let i = 0; i < count; i++) out += render(frames[i], id, created);
    if (tail !== undefined) out += tail;
    if (!breaks) {
      res.end(out);
      return;
    }
    if (out.length > 0) res.write(out);
    cut(res, onBroken);
    return;
  }

  const pieces: string[] = [];
  for (let i = 0; i < count; i++) pieces.push(render(frames[i], id, created));
  if (tail !== undefined) pieces.push(tail);
  pump(res, pieces, controls.chunkDelayMs, breaks, onBroken);
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
