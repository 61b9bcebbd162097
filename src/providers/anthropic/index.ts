// The Anthropic provider: translate, send with the shared transport, decode.
import { readSse } from '../../canonical/sse.ts';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { postTransportError, postUpstream, readJsonAnswer, type UpstreamPost } from '../http.ts';
import type { CallContext, Deployment, ProviderAdapter, Target } from '../types.ts';
import { decodeEvents, primeStream } from '../stream-decode.ts';
import { anthropicHttpError } from './errors.ts';
import { AnthropicStreamDecoder } from './stream.ts';
import { ANTHROPIC_VERSION, fromAnthropicResponse, jsonToolName, toAnthropicRequest } from './translate.ts';

export { AnthropicStreamDecoder } from './stream.ts';
export { anthropicHttpError, anthropicStreamError } from './errors.ts';
export { anthropicOutputBudget, fromAnthropicResponse, jsonToolName, toAnthropicRequest } from './translate.ts';

const RESPONSE_LIMIT_BYTES = 32 << 20;

/** `${baseUrl}/v1/messages`, also when the configured base URL already ends in /v1. */
export function anthropicMessagesUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

export function anthropicHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
  if (target.deployment.apiKey) headers['x-api-key'] = target.deployment.apiKey;
  return target.deployment.headers ? { ...headers, ...target.deployment.headers } : headers;
}

/** The POST of a Messages request to this deployment (translated, or relayed as it came). */
export function anthropicPost(deployment: Deployment, body: string, signal: AbortSignal, forwardHeaders: Record<string, string> | undefined, url = anthropicMessagesUrl(deployment.baseUrl)): UpstreamPost {
  const target = { deployment } as Target;
  return {
    deployment, url, headers: anthropicHeaders(target), body, signal, forwardHeaders,
    httpError: (status, text, headers) => anthropicHttpError(status, text, headers, target),
  };
}

function post(request: CanonicalRequest, target: Target, ctx: CallContext, warnings: string[]): UpstreamPost {
  return anthropicPost(target.deployment, JSON.stringify(toAnthropicRequest(request, target, warnings)), ctx.signal, ctx.forwardHeaders);
}

async function complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
  const warnings: string[] = [];
  const sent = post({ ...request, stream: false }, target, ctx, warnings);
  const json = await readJsonAnswer(await postUpstream(sent), sent, RESPONSE_LIMIT_BYTES);
  return fromAnthropicResponse(json, { jsonToolName: jsonToolName(request), warnings });
}

async function stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
  const warnings: string[] = [];
  const sent = post({ ...request, stream: true }, target, ctx, warnings);
  const response = await postUpstream(sent);
  const decoder = new AnthropicStreamDecoder({ jsonToolName: jsonToolName(request), warnings });
  return primeStream(decodeEvents(readSse(response.body), response.body, decoder, (err) => postTransportError(err, sent)));
}

export const anthropicProvider: ProviderAdapter = { kind: 'anthropic', complete, stream };
