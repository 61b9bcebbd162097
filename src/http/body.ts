import type { IncomingMessage } from 'node:http';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import { readWhole } from './read-whole.ts';

export function bodyTooLarge(limitBytes: number, sizeBytes?: number): GatewayError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new GatewayError({
    status: 413,
    type: 'request_too_large',
    code: 'request_too_large',
    message: `The request body${sizeBytes ? ` (${mb(sizeBytes)})` : ''} is over this gateway's limit of ${mb(limitBytes)}. Send less (e.g. smaller or URL-referenced images), or raise server.max_body_mb in switchyard.yaml.`,
  });
}

function bodyNotReceived(): GatewayError {
  return new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed_request', message: 'The connection closed before the whole request body arrived.' });
}

/**
 * Read the whole body, refusing with 413 before buffering past the limit: at once
 * from Content-Length, or as soon as the running count passes it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(bodyTooLarge(limitBytes, Number(declared)));
  }
  // The connection went away mid-body: the client hung up, or the request timed out
  // (then the 408 is already on the socket).
  return readWhole(req, { limitBytes, overLimit: () => bodyTooLarge(limitBytes), failed: bodyNotReceived });
}

/** Deepest nesting of arrays and objects a JSON body may have, unless configured. */
export const DEFAULT_MAX_JSON_DEPTH = 128;

/** Parse a JSON request body into an object; every way it can be wrong is a clear 400. */
export function parseJsonBody(raw: Buffer, contentType: string | undefined, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (raw.length === 0) {
    throw invalidRequest('The request body is empty. Send a JSON object with Content-Type: application/json.', null, 'empty_body');
  }
  if (contentType && !/json/i.test(contentType)) {
    throw invalidRequest(`Content-Type '${contentType}' is not supported. Send the body as JSON with Content-Type: application/json.`, null, 'unsupported_content_type');
  }
  const value = parseJson(raw, maxDepth);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('The request body must be a JSON object (got ' + (Array.isArray(value) ? 'an array' : typeof value) + ').', null, 'invalid_json');
  }
  return value;
}

/** JSON.parse with the nesting capped first (deep nesting makes every later walk over the value recurse that deep). */
export function parseJson(raw: Buffer, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (nestingDepthOver(raw, maxDepth)) {
    throw invalidRequest(`The request body nests arrays and objects more than ${maxDepth} levels deep. Flatten the data (no field needs that depth), or raise server.max_json_depth in switchyard.yaml.`, null, 'nesting_too_deep');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON (${(err as Error).message}). Check quoting and commas, and that the body is one JSON object.`, null, 'invalid_json');
  }
}

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c;

/** One pass over the bytes counting [ and { outside strings (skipped natively); no allocation. */
export function nestingDepthOver(raw: Buffer, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (byte === QUOTE) i = closingQuote(raw, i);
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Index of the quote that ends the string opened at `open` (one not escaped by an odd run of backslashes). */
function closingQuote(raw: Buffer, open: number): number {
  let at = open;
  for (;;) {
    at = raw.indexOf(QUOTE, at + 1);
    if (at === -1) return raw.length;
    let backslashes = 0;
    while (raw[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}
