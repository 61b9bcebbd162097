// Google error bodies ({"error":{code,message,status,details}}) -> GatewayError.
// Gemini answers a bad API key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID, so
// the reason is read before the status. Only error.message is quoted (details carry
// debug text that can echo the key), and it is redacted.
import { GatewayError, type ErrorType } from '../../canonical/errors.ts';
import { fromProvider, redactSecrets } from '../http.ts';
import type { Target } from '../types.ts';

const SOURCE = 'provider:gemini' as const;
const KEY_HINT = "Set a valid key in GEMINI_API_KEY or in the provider's api_key in switchyard.yaml";

export interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<Record<string, any>>;
}

type Headers = Record<string, string | string[] | undefined>;

/** An HTTP error answer from generateContent, streamGenerateContent or the embed calls. */
export function geminiHttpError(status: number, bodyText: string, headers: Headers, target: Target): GatewayError {
  const error = parseGoogleError(bodyText);
  const { providerName, provider } = target.deployment;
  const named = providerName === provider ? '' : ` provider '${providerName}'`;
  const where = `Gemini${named} (deployment ${target.deployment.id}, model ${target.deployment.upstreamModel})`;
  const cause = describeCause(error, bodyText, status, target.deployment.apiKey);
  return fromProvider(classify(status, error, cause, where, target.deployment.upstreamModel, headers), target.deployment);
}

/** An error object Gemini put inside a stream that had already started. */
export function geminiStreamError(error: GoogleError): GatewayError {
  return classify(error.code ?? 500, error, describeCause(error, '', error.code ?? 500, undefined), 'Gemini', undefined, {}, ' mid-stream');
}

export function truncatedStreamError(what: string): GatewayError {
  return make(502, 'upstream_error', 'upstream_stream_truncated', `${what}; the answer is incomplete. Retry the request.`);
}

function classify(status: number, error: GoogleError, cause: string, where: string, model: string | undefined, headers: Headers, when = ''): GatewayError {
  const reason = errorInfoReason(error);
  if (reason === 'API_KEY_INVALID' || status === 401 || error.status === 'UNAUTHENTICATED') {
    return make(401, 'authentication_error', 'provider_authentication_failed', `${where} rejected the provider API key this gateway is configured with (${cause}). This is the gateway's provider credential, not your Switchyard key. ${KEY_HINT}.`);
  }
  if (status === 403 || error.status === 'PERMISSION_DENIED') {
    return make(403, 'permission_error', 'provider_permission_denied', `${where} refused the gateway's provider API key (${cause}). ${KEY_HINT}, for a project that may use ${model ?? 'this model'}.`);
  }
  if (status === 400 && /input token count.*exceeds|exceeds the maximum number of tokens|too many tokens/i.test(cause)) {
    return make(400, 'invalid_request_error', 'context_length_exceeded', `${where} rejected the prompt as longer than the model's context window: ${cause}. Shorten the conversation or choose a model with a larger context window.`);
  }
  if (status === 404 || error.status === 'NOT_FOUND') {
    return make(404, 'not_found_error', 'upstream_model_not_found', `${where} does not know the model '${model ?? 'requested'}' (${cause}). Fix the model's upstream_id in switchyard.yaml.`);
  }
  if (status === 429 || error.status === 'RESOURCE_EXHAUSTED') {
    const retryAfter = header(headers, 'retry-after') ?? retryDelaySeconds(error);
    const wait = retryAfter ? ` Retry after ${retryAfter} seconds.` : '';
    return make(429, 'rate_limit_error', 'upstream_rate_limited', `${where} rate-limited the gateway's provider key${when}: ${cause}.${wait}`, retryAfter ? { 'retry-after': retryAfter } : undefined);
  }
  if (status === 400 || status === 413 || error.status === 'INVALID_ARGUMENT' || error.status === 'FAILED_PRECONDITION') {
    return make(400, 'invalid_request_error', 'invalid_request', `${where} rejected the request: ${cause}.`);
  }
  if (status === 503 || error.status === 'UNAVAILABLE') {
    return make(503, 'upstream_error', 'upstream_overloaded', `${where} is overloaded or unavailable${when} (${cause}). Retry shortly or configure a fallback model.`);
  }
  if (status === 504 || error.status === 'DEADLINE_EXCEEDED') {
    return make(504, 'upstream_error', 'upstream_timeout', `${where} timed out${when} (${cause}). Retry, or ask for less output.`);
  }
  return make(502, 'upstream_error', 'upstream_server_error', `${where} failed${when} (${status}${error.status ? ` ${error.status}` : ''}: ${cause}). Retry the request.`);
}

function make(status: number, type: ErrorType, code: string, message: string, headers?: Record<string, string>): GatewayError {
  return new GatewayError({ status, type, code, message, source: SOURCE, headers });
}

export function parseGoogleError(text: string): GoogleError {
  try {
    const json = JSON.parse(text) as { error?: GoogleError } | Array<{ error?: GoogleError }>;
    // Some Google front ends wrap the error in a one-element array.
    const error = Array.isArray(json) ? json[0]?.error : json?.error;
    return error && typeof error === 'object' ? error : {};
  } catch {
    return {};
  }
}

function errorInfoReason(error: GoogleError): string | undefined {
  return error.details?.find((detail) => String(detail['@type']).endsWith('google.rpc.ErrorInfo'))?.reason;
}

/** RetryInfo.retryDelay ("34.4s") as whole seconds for Retry-After. */
function retryDelaySeconds(error: GoogleError): string | undefined {
  const delay = error.details?.find((detail) => String(detail['@type']).endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = typeof delay === 'string' ? Number.parseFloat(delay) : NaN;
  return Number.isFinite(seconds) ? String(Math.ceil(seconds)) : undefined;
}

function describeCause(error: GoogleError, text: string, status: number, apiKey: string | undefined): string {
  let raw = error.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`);
  if (apiKey && apiKey.length >= 4) raw = raw.replaceAll(apiKey, '***');
  return redactSecrets(raw).replace(/[.\s]+$/, '');
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
