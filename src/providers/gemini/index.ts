// The Gemini provider: translate, send with the shared transport, decode. The key goes
// in the x-goog-api-key header, never in the URL.
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { providerLabel, readText, sendUpstream, transportError, type SendOptions, type UpstreamResponse } from '../http.ts';
import type { CallContext, EmbeddingsRequest, EmbeddingsResponse, ProviderAdapter, Target } from '../types.ts';
import { decodeEvents, primeStream } from '../stream-decode.ts';
import { geminiHttpError } from './errors.ts';
import { readGeminiSse } from './sse-body.ts';
import { GeminiStreamDecoder } from './stream.ts';
import { fromGeminiEmbedResponse, fromGeminiResponse, toGeminiEmbedRequest, toGeminiRequest } from './translate.ts';

export { GeminiStreamDecoder } from './stream.ts';
export { geminiHttpError, geminiStreamError } from './errors.ts';
export { GEMINI_SIGNATURE_PREFIX, signatureOfToolCallId } from './ids.ts';
export { toGeminiSchema } from './schema.ts';
export { fromGeminiEmbedResponse, fromGeminiResponse, toGeminiEmbedRequest, toGeminiRequest } from './translate.ts';

const RESPONSE_LIMIT_BYTES = 64 << 20;

/** `${baseUrl}/v1beta/models/${model}:${method}`; a base URL that already names an API version keeps it. */
export function geminiUrl(baseUrl: string, model: string, method: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const versioned = /\/v1(alpha|beta)?\d*$/.test(base) ? base : `${base}/v1beta`;
  return `${versioned}/models/${model.replace(/^models\//, '')}:${method}`;
}

export function geminiHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.deployment.apiKey) headers['x-goog-api-key'] = target.deployment.apiKey;
  return target.deployment.headers ? { ...headers, ...target.deployment.headers } : headers;
}

interface Sent {
  response: UpstreamResponse;
  options: SendOptions;
  url: string;
}

async function post(target: Target, ctx: CallContext, method: string, body: unknown): Promise<Sent> {
  const url = geminiUrl(target.deployment.baseUrl, target.deployment.upstreamModel, method);
  const options: SendOptions = {
    headers: geminiHeaders(target),
    body: JSON.stringify(body),
    signal: ctx.signal,
    forwardHeaders: ctx.forwardHeaders,
    timeoutMs: target.deployment.timeoutMs,
    providerLabel: providerLabel(target.deployment),
  };
  const response = await sendUpstream(url, options);
  if (response.statusCode >= 400) {
    const text = await readText(response.body).catch(() => '');
    throw geminiHttpError(response.statusCode, text, response.headers, target);
  }
  return { response, options, url };
}

async function readJson({ response, options, url }: Sent, target: Target): Promise<unknown> {
  let text: string;
  try {
    text = await readText(response.body, RESPONSE_LIMIT_BYTES);
  } catch (err) {
    throw transportError(err, url, options);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError({
      status: 502,
      type: 'upstream_error',
      code: 'upstream_invalid_response',
      message: `Gemini provider ${providerLabel(target.deployment)} answered with a body that is not JSON. Check that the deployment's base URL points at the Gemini API.`,
      source: `provider:${target.deployment.providerName}`,
    });
  }
}

async function complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
  const warnings: string[] = [];
  const sent = await post(target, ctx, 'generateContent', toGeminiRequest(request, target, warnings));
  return fromGeminiResponse(await readJson(sent, target), { warnings, model: target.deployment.upstreamModel });
}

async function stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
  const warnings: string[] = [];
  const { response, options, url } = await post(target, ctx, 'streamGenerateContent?alt=sse', toGeminiRequest(request, target, warnings));
  const decoder = new GeminiStreamDecoder({ warnings, model: target.deployment.upstreamModel });
  return primeStream(decodeEvents(readGeminiSse(response.body), response.body, decoder, (err) => transportError(err, url, options)));
}

async function embed(request: EmbeddingsRequest, target: Target, ctx: CallContext): Promise<EmbeddingsResponse> {
  const { method, body } = toGeminiEmbedRequest(request, target.deployment.upstreamModel);
  const sent = await post(target, ctx, method, body);
  return fromGeminiEmbedResponse(await readJson(sent, target), target.model.id);
}

export const geminiProvider: ProviderAdapter = { kind: 'gemini', complete, stream, embed };
