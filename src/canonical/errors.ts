// Errors are values with a stable code, an HTTP status and a message that says the
// cause and the fix. One place renders them into each API's envelope.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'request_too_large'
  | 'upstream_error'
  | 'server_error';

export interface GatewayErrorInit {
  status: number;
  type: ErrorType;
  code: string;
  message: string;
  param?: string | null;
  /** Extra response headers (Retry-After, x-ratelimit-*). */
  headers?: Record<string, string>;
  /** Who refused: the gateway itself, or the named provider. */
  source?: 'gateway' | `provider:${string}`;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;
  readonly source: 'gateway' | `provider:${string}`;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param ?? null;
    this.headers = init.headers;
    this.source = init.source ?? 'gateway';
  }

  /** OpenAI's envelope: {"error": {message, type, param, code}}. */
  toOpenAI(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** Anthropic's envelope: {"type": "error", "error": {type, message}}. */
  toAnthropic(): { type: 'error'; error: { type: string; message: string } } {
    return { type: 'error', error: { type: anthropicErrorType(this.status), message: this.message } };
  }

  /**
   * The headers every rendering of this error carries: its own, plus the retry advice
   * the OpenAI and Anthropic SDKs (and Claude Code) obey. An explicit x-should-retry
   * from whoever built the error wins (a budget decides per request whether a retry
   * can fit).
   */
  responseHeaders(): Record<string, string> {
    const headers: Record<string, string> = { ...this.headers };
    if (headers['x-should-retry'] === undefined) headers['x-should-retry'] = String(isTemporary(this.status));
    if (this.status === 503 && headers['retry-after'] === undefined && headers['x-should-retry'] === 'true') headers['retry-after'] = '1';
    return headers;
  }
}

/**
 * Whether the same request may succeed later: a rate limit, a request timeout while
 * the body was read, or the gateway/upstream being down. Everything else the caller
 * caused (bad input, wrong key, forbidden, unknown path, too large) fails again as is.
 */
function isTemporary(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function anthropicErrorType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 529: case 503: return 'overloaded_error';
    case 504: return 'timeout_error';
    default: return status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

export function invalidRequest(message: string, param: string | null = null, code = 'invalid_request'): GatewayError {
  return new GatewayError({ status: 400, type: 'invalid_request_error', code, message, param });
}

export function invalidField(param: string, expected: string, got?: unknown): GatewayError {
  const seen = got === undefined ? '' : ` (got ${describeValue(got)})`;
  return invalidRequest(`Invalid value for '${param}': expected ${expected}${seen}.`, param, 'invalid_value');
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function internalError(requestId: string): GatewayError {
  return new GatewayError({
    status: 500,
    type: 'server_error',
    code: 'internal_error',
    message: `Switchyard hit an internal error handling this request (request id ${requestId}). It is logged; retry, and report the request id if it persists.`,
  });
}
