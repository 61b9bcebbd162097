// A GatewayError as an Anthropic error response: {"type": "error", "error": {type,
// message}, "request_id"} with the error's status and headers (Retry-After...).

import type { GatewayError } from '../../canonical/errors.ts';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderAnthropicError(error: GatewayError, requestId?: string): RenderedError {
  const envelope: { type: 'error'; error: { type: string; message: string }; request_id?: string } = error.toAnthropic();
  if (requestId !== undefined) envelope.request_id = requestId;
  const headers: Record<string, string> = { ...error.headers, 'content-type': 'application/json' };
  if (requestId !== undefined) headers['request-id'] = requestId;
  return { status: error.status, headers, body: JSON.stringify(envelope) };
}
