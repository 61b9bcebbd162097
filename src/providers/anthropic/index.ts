// The Anthropic provider: translate, send with the shared transport, decode.
import { GatewayError } from '../../canonical/errors.ts';
import { readSse } from '../../canonical/sse.ts';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { providerLabel, readText, sendUpstream, transportError, type SendOptions, type UpstreamResponse } from '../http.ts';
import type { CallContext, ProviderAdapter, Target } from '../types.ts';
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

async function send(request: CanonicalRequest, target: Target, ctx: CallContext, warnings: string[]): Promise<{ response: UpstreamResponse; options: SendOptions; url: string }> {
  const body = toAnthropicRequest(request, target, warnings);
  const url = anthropicMessagesUrl(target.deployment.baseUrl);
  const options: SendOptions = {
    headers: anthropicHeaders(target),
    body: JSON.stringify(body),
    signal: ctx.signal,
    forwardHeaders: ctx.forwardHeaders,
    timeoutMs: target.deployment.timeoutMs,
    providerLabel: providerLabel(target.deployment),
  };
  const response = await sendUpstream(url, options);
  if (response.statusCode >= 400) {
    const text = await readText(response.body).catch(() => '');
    throw anthropicHttpError(response.statusCode, text, response.headers, target);
  }
  return { response, options, url };
}

async function complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
  const warnings: string[] = [];
  const { response, options, url } = await send({ ...request, stream: false }, target, ctx, warnings);
  let text: string;
  try {
    text = await readText(response.body, RESPONSE_LIMIT_BYTES);
  } catch (err) {
    throw transportError(err, url, options);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GatewayError({
      status: 502,
      type: 'upstream_error',
      code: 'upstream_invalid_response',
      message: `Anthropic provider ${providerLabel(target.deployment)} answered with a body that is not JSON. Check that the deployment's base URL points at the Anthropic API.`,
      source: `provider:${target.deployment.providerName}`,
    });
  }
  return fromAnthropicResponse(json, { jsonToolName: jsonToolName(request), warnings });
}

async function stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
  const warnings: string[] = [];
  const { response, options, url } = await send({ ...request, stream: true }, target, ctx, warnings);
  const decoder = new AnthropicStreamDecoder({ jsonToolName: jsonToolName(request), warnings });
  return primeStream(decodeEvents(readSse(response.body), response.body, decoder, (err) => transportError(err, url, options)));
}

export const anthropicProvider: ProviderAdapter = { kind: 'anthropic', complete, stream };
