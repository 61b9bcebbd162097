// What Node's HTTP parser refuses before a request exists (malformed framing, headers
// too large, a request that does not arrive in time) is answered in OpenAI's error
// envelope, with Connection: close, and the socket is closed: after a framing error
// nothing more on that connection can be trusted.
import type { Duplex } from 'node:stream';
import { GatewayError } from '../canonical/errors.ts';

const MALFORMED_FIX = 'Send a well-formed HTTP/1.1 request (this is usually a broken client or proxy).';

const CAUSES: Record<string, [status: number, code: string, cause: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', ''],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are larger than this gateway accepts (16 KiB in total). Send fewer or smaller headers.'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'malformed_http', `The Content-Length header is not a valid number. ${MALFORMED_FIX}`],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'malformed_http', `The request has both Content-Length and Transfer-Encoding; send only one. ${MALFORMED_FIX}`],
  HPE_INVALID_CHUNK_SIZE: [400, 'malformed_http', `A chunk size in the chunked request body is not valid hexadecimal. ${MALFORMED_FIX}`],
  HPE_INVALID_TRANSFER_ENCODING: [400, 'malformed_http', `The Transfer-Encoding header is not valid, or comes together with Content-Length: send one of them, and Transfer-Encoding only as chunked. ${MALFORMED_FIX}`],
  HPE_INVALID_METHOD: [400, 'malformed_http', `The request method is not a valid HTTP method. ${MALFORMED_FIX}`],
  HPE_INVALID_URL: [400, 'malformed_http', `The request target (path) is not a valid URL path. ${MALFORMED_FIX}`],
  HPE_INVALID_VERSION: [400, 'malformed_http', `The HTTP version is not valid; send HTTP/1.1. ${MALFORMED_FIX}`],
};

/** The error for a parser failure, or undefined when the client is gone and nothing can be said. */
export function clientErrorFor(err: NodeJS.ErrnoException, timeouts: { headersMs: number; requestMs: number }): GatewayError | undefined {
  const code = err.code ?? '';
  // The client hung up (mid-request, too): there is no one to answer.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'HPE_INVALID_EOF_STATE') return undefined;
  const known = CAUSES[code];
  if (known?.[0] === 408) {
    return new GatewayError({
      status: 408, type: 'invalid_request_error', code: 'request_timeout',
      message: `The request did not arrive in time: headers must arrive within ${timeouts.headersMs} ms and the whole request, body included, within ${timeouts.requestMs} ms. Send the body without pauses, or raise server.headers_timeout_ms / server.request_timeout_ms in switchyard.yaml.`,
    });
  }
  if (known) return new GatewayError({ status: known[0], type: 'invalid_request_error', code: known[1], message: known[2] });
  return new GatewayError({
    status: 400, type: 'invalid_request_error', code: 'malformed_http',
    message: `The HTTP request could not be parsed (${code || 'unknown error'}: ${err.message}). ${MALFORMED_FIX}`,
  });
}

/**
 * Write the error straight to the socket (there is no response object yet) and close it.
 * False when the client was already gone or a response had begun: nothing was said.
 */
export function answerOnSocket(socket: Duplex, error: GatewayError | undefined): boolean {
  // A response already under way on this connection cannot be followed by another.
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!error || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return false;
  }
  const body = JSON.stringify(error.toOpenAI());
  const headers = error.responseHeaders();
  let head = `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-switchyard-error-source: gateway\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.end(`${head}\r\n${body}`);
  // end() waits for the write; a client that never reads must not hold the socket.
  socket.once('finish', () => socket.destroy());
  return true;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large' };
