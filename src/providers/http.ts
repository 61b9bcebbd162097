// The thin transport every provider shares: one keep-alive undici pool per origin,
// request bodies as strings, bodies returned as streams so nothing is buffered whole.
import { Agent, request, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../canonical/errors.ts';
import { readWhole } from '../http/read-whole.ts';
import type { Deployment } from './types.ts';

// No cap on connections per origin: a cap queues streams behind each other (1,000 open
// streams need 1,000 connections).
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });

export interface UpstreamResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

export interface SendOptions {
  method?: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Time allowed until response headers arrive. */
  timeoutMs: number;
  /** Name for error messages, e.g. "anthropic (deployment anthropic:claude#0)". */
  providerLabel: string;
  /** Client headers passed on (forward_headers); the provider's own headers win. */
  forwardHeaders?: Record<string, string>;
}

/** Send one request upstream. Connection failures and timeouts become GatewayErrors (502/504). */
export async function sendUpstream(url: string, options: SendOptions): Promise<UpstreamResponse> {
  try {
    return await request(url, {
      method: options.method ?? 'POST',
      headers: options.forwardHeaders ? { ...options.forwardHeaders, ...options.headers } : options.headers,
      body: options.body,
      signal: options.signal,
      dispatcher: agent,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (err) {
    throw transportError(err, url, options);
  }
}

export function transportError(err: unknown, url: string, options: Pick<SendOptions, 'providerLabel' | 'timeoutMs' | 'signal'>): GatewayError {
  const where = `${options.providerLabel} at ${safeOrigin(url)}`;
  if (options.signal.aborted) {
    return new GatewayError({ status: 499, type: 'server_error', code: 'client_closed_request', message: `The client closed the request before ${where} answered.`, source: 'gateway' });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError({ status: 504, type: 'upstream_error', code: 'upstream_timeout', message: `${where} did not answer within ${options.timeoutMs} ms. Raise the deployment's timeout_ms or check the upstream's health.`, source: providerSource(options.providerLabel) });
  }
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return new GatewayError({
    status: 502,
    type: 'upstream_error',
    code: 'upstream_unreachable',
    message: `Could not reach ${where}${code ? ` (${code})` : ''}. Check the provider's base URL and that the server is running.`,
    source: providerSource(options.providerLabel),
  });
}

/** How messages name a deployment: its provider's configured name, e.g. "vllm (deployment vllm:llama#0)". */
export function providerLabel(deployment: Pick<Deployment, 'providerName' | 'id'>): string {
  return `${deployment.providerName} (deployment ${deployment.id})`;
}

/** The error said by the deployment's provider, under its configured name (the same object if it already is). */
export function fromProvider(error: GatewayError, deployment: Pick<Deployment, 'providerName'>): GatewayError {
  const source = `provider:${deployment.providerName}` as const;
  if (error.source === 'gateway' || error.source === source) return error;
  return new GatewayError({ status: error.status, type: error.type, code: error.code, message: error.message, param: error.param, headers: error.headers, source });
}

/** A 2xx answer that is not what the format promises (not JSON, cut short, a stream without its end): 502, fallback-eligible. */
export function invalidUpstreamResponse(deployment: Pick<Deployment, 'providerName' | 'id'>, what: string): GatewayError {
  return new GatewayError({
    status: 502,
    type: 'upstream_error',
    code: 'upstream_invalid_response',
    message: `Provider ${providerLabel(deployment)} answered with ${what}. The answer cannot be trusted; retry the request, and if it persists check that the provider's base_url points at the API it is configured as.`,
    source: `provider:${deployment.providerName}`,
  });
}

/** `provider:<name>` from a label such as "anthropic (deployment anthropic:claude#0)". */
function providerSource(label: string): `provider:${string}` {
  return `provider:${label.split(' ', 1)[0]}`;
}

/** Scheme, host and port only: never a path with a key in it. */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
}

/** One POST to a provider: where, what, and how the provider words an HTTP error. */
export interface UpstreamPost {
  deployment: Pick<Deployment, 'providerName' | 'id' | 'timeoutMs'>;
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** Client headers passed on (forward_headers); the provider's own headers win. */
  forwardHeaders?: Record<string, string>;
  /** The provider's GatewayError for a non-2xx answer, from its status, body and headers. */
  httpError(status: number, text: string, headers: UpstreamResponse['headers']): GatewayError;
}

/**
 * The transport every provider call goes through: POST, and a non-2xx answer read
 * (capped) into the provider's error. A 2xx answer is returned unread (a stream, or
 * a body for readAnswer).
 */
export async function postUpstream(post: UpstreamPost): Promise<UpstreamResponse> {
  const options = sendOptions(post);
  const response = await sendUpstream(post.url, options);
  if (response.statusCode < 400) return response;
  let text: string;
  try {
    text = await readText(response.body);
  } catch (err) {
    throw transportError(err, post.url, options);
  }
  throw post.httpError(response.statusCode, text, response.headers);
}

function sendOptions(post: UpstreamPost): SendOptions {
  return {
    headers: post.headers,
    body: post.body,
    signal: post.signal,
    forwardHeaders: post.forwardHeaders,
    timeoutMs: post.deployment.timeoutMs,
    providerLabel: providerLabel(post.deployment),
  };
}

/** A 2xx answer read whole as text; a timeout stays a timeout, an upstream that stops midway is upstream_stream_interrupted. */
export async function readAnswer(response: UpstreamResponse, post: UpstreamPost, limitBytes = Number.MAX_SAFE_INTEGER): Promise<string> {
  try {
    return await readText(response.body, limitBytes);
  } catch (err) {
    throw answerReadError(err, post);
  }
}

/** A connection failure, timeout or client abort while reading this post's stream, named as transportError names it. */
export function postTransportError(err: unknown, post: UpstreamPost): GatewayError {
  return transportError(err, post.url, sendOptions(post));
}

export function answerReadError(err: unknown, post: UpstreamPost): GatewayError {
  if (post.signal.aborted || err instanceof undiciErrors.BodyTimeoutError) return postTransportError(err, post);
  return streamInterrupted(post.deployment, err as Error, 'its answer');
}

/** A 2xx answer read whole and parsed; anything but a JSON object is upstream_invalid_response (the next deployment may do better). */
export async function readJsonAnswer(response: UpstreamResponse, post: UpstreamPost, limitBytes?: number): Promise<Record<string, unknown>> {
  const text = await readAnswer(response, post, limitBytes);
  try {
    const value = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw invalidUpstreamResponse(post.deployment, text.length === 0 ? 'an empty body' : 'a body that is not a JSON object (cut short, or not JSON at all)');
}

/** An upstream that died after its answer (a stream, or a body) had started. */
export function streamInterrupted(deployment: Pick<Deployment, 'providerName' | 'id'>, err: Error, what = 'the stream'): GatewayError {
  return new GatewayError({
    status: 502,
    type: 'upstream_error',
    code: 'upstream_stream_interrupted',
    message: `Provider ${deployment.providerName} (${deployment.id}) stopped in the middle of ${what} (${err.message}). The partial answer is incomplete; retry the request.`,
    source: `provider:${deployment.providerName}`,
  });
}

/** Read a whole body; stops keeping bytes past the limit (an error body is shown cut). */
export function readBuffer(body: UpstreamResponse['body'], limitBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  return readWhole(body, { limitBytes, failed: (error) => error ?? prematureClose() });
}

/** Closed before its end (aborted, the connection cut): what `for await` calls a premature close. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Read a whole (small) body as text, e.g. an error body. */
export async function readText(body: UpstreamResponse['body'], limitBytes = 1 << 20): Promise<string> {
  return (await readBuffer(body, limitBytes)).toString('utf8');
}

/** Remove anything shaped like a secret from text an upstream sent (its error messages echo keys). */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b(sk-(?:proj-|ant-[a-z0-9]+-)?)[A-Za-z0-9_\-*]{6,}/g, '$1***')
    .replace(/\bAIza[0-9A-Za-z_\-]{10,}/g, 'AIza***')
    .replace(/\b(sy_(?:live|test)_)[A-Za-z0-9_\-]{6,}/g, '$1***');
}
