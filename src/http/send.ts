// Writing a whole JSON answer, or an error in the envelope of the client's API.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayError } from '../canonical/errors.ts';
import type { InboundApi } from '../api/inbound.ts';

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export interface ErrorTarget {
  res: ServerResponse;
  api: Pick<InboundApi, 'errorBody'>;
  /** Admission's headers (x-ratelimit-*), sent with the error too. */
  admitted?: { headers: Record<string, string> };
  requestId?: string;
}

/** `attempts`: upstream attempts made before the failure (all failed), told in x-switchyard-attempts. */
export function sendError(target: ErrorTarget, error: GatewayError, attempts = 0): void {
  const { res } = target;
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify(target.api.errorBody(error, target.requestId));
  res.statusCode = error.status;
  // Which side refused: the gateway itself, or the named provider.
  res.setHeader('x-switchyard-error-source', error.source);
  if (attempts > 0) res.setHeader('x-switchyard-attempts', String(attempts));
  // No attempt answered, so there is no fallback to report (respond may have set one before failing).
  res.removeHeader('x-switchyard-fallback');
  const limits = target.admitted?.headers;
  if (limits) for (const name in limits) res.setHeader(name, limits[name]);
  const headers = error.responseHeaders();
  for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  // A body still arriving is not worth reading (and must not run into the request time limit after this answer).
  const bodyArriving = res.req?.complete === false;
  if (error.status === 413 || bodyArriving) {
    res.setHeader('connection', 'close');
    if (bodyArriving && res.socket) lingerOnClose(res.socket);
  }
  res.end(body);
}

/** Longest a closing connection keeps reading what its client still sends. */
const LINGER_MS = 2000;

/**
 * Close a connection whose request body is still arriving without resetting it. Node
 * closes the socket once the answer is written; the client, still sending, then gets a
 * reset that can reach it before it has read the answer (a 413 seen as ECONNRESET). So,
 * as nginx's lingering close does: the answer and a FIN go out, what the client still
 * sends is read and dropped, and the socket closes when the client closes its side or
 * after LINGER_MS.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
  };
}
