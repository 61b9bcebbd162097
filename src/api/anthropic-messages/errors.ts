// A GatewayError as an Anthropic error response: {"type": "error", "error": {type,
// message}, "request_id"} with the error's status and headers (Retry-After,
// x-should-retry...). The envelope is a value; whoever writes the response serialises it.

import type { GatewayError } from '../../canonical/errors.ts';

export interface AnthropicErrorEnvelope {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: AnthropicErrorEnvelope;
}

export function anthropicErrorEnvelope(error: GatewayError, requestId?: string): AnthropicErrorEnvelope {
  const envelope: AnthropicErrorEnvelope = error.toAnthropic();
  if (requestId !== undefined) envelope.request_id = requestId;
  return envelope;
}

export function renderAnthropicError(error: GatewayError, requestId?: string): RenderedError {
  const headers: Record<string, string> = { ...error.responseHeaders(), 'content-type': 'application/json' };
  if (requestId !== undefined) headers['request-id'] = requestId;
  return { status: error.status, headers, body: anthropicErrorEnvelope(error, requestId) };
}
