// Anthropic error bodies ({"type":"error","error":{"type","message"}}) -> GatewayError.
// Every message says that Anthropic refused, why, and what to fix; upstream text is
// redacted because upstream errors can echo credentials.
import { GatewayError, type ErrorType } from '../../canonical/errors.ts';
import { fromProvider, redactSecrets } from '../http.ts';
import type { Target } from '../types.ts';

const SOURCE = 'provider:anthropic' as const;
const KEY_HINT = "Set a valid key in ANTHROPIC_API_KEY or in the provider's api_key in switchyard.yaml";

interface ErrorBody {
  type?: string;
  message?: string;
}

type Headers = Record<string, string | string[] | undefined>;

/** An HTTP error answer from the Messages API. */
export function anthropicHttpError(status: number, bodyText: string, headers: Headers, target: Target): GatewayError {
  return fromProvider(classifyHttpError(status, bodyText, headers, target), target.deployment);
}

function classifyHttpError(status: number, bodyText: string, headers: Headers, target: Target): GatewayError {
  const body = parseErrorBody(bodyText);
  const cause = describeCause(body, bodyText, status, target.deployment.apiKey);
  const where = `Anthropic${named(target)} (deployment ${target.deployment.id}, model ${target.deployment.upstreamModel})`;
  const errorType = body.type ?? '';
  if (status === 400 && /prompt is too long|context window|too many (input )?tokens/i.test(cause)) {
    return make(400, 'invalid_request_error', 'context_length_exceeded', `${where} rejected the prompt as longer than the model's context window: ${cause}. Shorten the conversation or choose a model with a larger context window.`);
  }
  if (status === 401 || errorType === 'authentication_error') {
    return make(401, 'authentication_error', 'provider_authentication_failed', `${where} rejected the provider API key this gateway is configured with (${cause}). This is the gateway's provider credential, not your Switchyard key. ${KEY_HINT}.`);
  }
  if (status === 403 || errorType === 'permission_error') {
    return make(403, 'permission_error', 'provider_permission_denied', `${where} refused the gateway's provider API key access to this model (${cause}). ${KEY_HINT}, for an account that may use ${target.deployment.upstreamModel}.`);
  }
  if (status === 404 || errorType === 'not_found_error') {
    return make(404, 'not_found_error', 'upstream_model_not_found', `${where} does not know the model '${target.deployment.upstreamModel}' (${cause}). Fix the model's upstream_id in switchyard.yaml.`);
  }
  if (status === 413 || errorType === 'request_too_large') {
    return make(413, 'request_too_large', 'request_too_large', `${where} rejected the request as too large (${cause}). Send fewer or smaller images and documents.`);
  }
  if (status === 429 || errorType === 'rate_limit_error') {
    const retryAfter = header(headers, 'retry-after');
    const wait = retryAfter ? ` Retry after ${retryAfter} seconds.` : '';
    return make(429, 'rate_limit_error', 'upstream_rate_limited', `${where} rate-limited the gateway's provider key: ${cause}.${wait}`, retryAfter ? { 'retry-after': retryAfter } : undefined);
  }
  if (status === 402 || errorType === 'billing_error') {
    return make(402, 'insufficient_quota', 'provider_billing', `${where} refused the request for billing reasons (${cause}). Check the Anthropic account's credit.`);
  }
  if (status === 400 || errorType === 'invalid_request_error') {
    return make(400, 'invalid_request_error', 'invalid_request', `${where} rejected the request: ${cause}.`);
  }
  return upstreamFailure(status, errorType, cause, where);
}

/** An `event: error` inside a stream that had already started. */
export function anthropicStreamError(payload: { error?: ErrorBody }): GatewayError {
  const errorType = payload.error?.type ?? '';
  const cause = redactSecrets(payload.error?.message ?? errorType ?? 'unknown error');
  const status = errorType === 'overloaded_error' ? 529 : errorType === 'rate_limit_error' ? 429 : 500;
  if (status === 429) return make(429, 'rate_limit_error', 'upstream_rate_limited', `Anthropic rate-limited the stream mid-answer: ${cause}.`);
  return upstreamFailure(status, errorType, cause, 'Anthropic', ' mid-stream');
}

/** The stream ended (or broke) before Anthropic said the message was complete. */
export function truncatedStreamError(what: string): GatewayError {
  return make(502, 'upstream_error', 'upstream_stream_truncated', `${what}; the answer is incomplete. Retry the request.`);
}

function upstreamFailure(status: number, errorType: string, cause: string, where: string, when = ''): GatewayError {
  if (status === 529 || status === 503 || errorType === 'overloaded_error') {
    return make(503, 'upstream_error', 'upstream_overloaded', `${where} is overloaded${when} (${cause}). Retry shortly or configure a fallback model.`);
  }
  if (status === 504 || errorType === 'timeout_error') {
    return make(504, 'upstream_error', 'upstream_timeout', `${where} timed out${when} (${cause}). Retry, or lower max_tokens.`);
  }
  return make(502, 'upstream_error', 'upstream_server_error', `${where} failed${when} with an internal error (${status}: ${cause}). Retry the request.`);
}

function make(status: number, type: ErrorType, code: string, message: string, headers?: Record<string, string>): GatewayError {
  return new GatewayError({ status, type, code, message, source: SOURCE, headers });
}

function parseErrorBody(text: string): ErrorBody {
  try {
    const json = JSON.parse(text) as { error?: ErrorBody };
    return json && typeof json.error === 'object' && json.error !== null ? json.error : {};
  } catch {
    return {};
  }
}

function describeCause(body: ErrorBody, text: string, status: number, apiKey: string | undefined): string {
  let raw = body.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`);
  // Keys of any shape, not only the ones redactSecrets recognises.
  if (apiKey && apiKey.length >= 4) raw = raw.replaceAll(apiKey, '***');
  return redactSecrets(raw).replace(/[.\s]+$/, '');
}

/** " provider 'claude-eu'" when the provider is configured under a name of its own. */
function named(target: Target): string {
  const { providerName, provider } = target.deployment;
  return providerName === provider ? '' : ` provider '${providerName}'`;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
