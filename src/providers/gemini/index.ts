// The Gemini provider: translate, send with the shared transport, decode. The key goes
// in the x-goog-api-key header, never in the URL.
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { postTransportError, postUpstream, readJsonAnswer, type UpstreamPost } from '../http.ts';
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

function post(target: Target, ctx: CallContext, method: string, body: unknown): UpstreamPost {
  return {
    deployment: target.deployment,
    url: geminiUrl(target.deployment.baseUrl, target.deployment.upstreamModel, method),
    headers: geminiHeaders(target),
    body: JSON.stringify(body),
    signal: ctx.signal,
    forwardHeaders: ctx.forwardHeaders,
    httpError: (status, text, headers) => geminiHttpError(status, text, headers, target),
  };
}

async function callJson(sent: UpstreamPost): Promise<unknown> {
  return readJsonAnswer(await postUpstream(sent), sent, RESPONSE_LIMIT_BYTES);
}

async function complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
  const warnings: string[] = [];
  const json = await callJson(post(target, ctx, 'generateContent', toGeminiRequest(request, target, warnings)));
  return fromGeminiResponse(json, { warnings, model: target.deployment.upstreamModel });
}

async function stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
  const warnings: string[] = [];
  const sent = post(target, ctx, 'streamGenerateContent?alt=sse', toGeminiRequest(request, target, warnings));
  const response = await postUpstream(sent);
  const decoder = new GeminiStreamDecoder({ warnings, model: target.deployment.upstreamModel });
  return primeStream(decodeEvents(readGeminiSse(response.body), response.body, decoder, (err) => postTransportError(err, sent)));
}

async function embed(request: EmbeddingsRequest, target: Target, ctx: CallContext): Promise<EmbeddingsResponse> {
  const { method, body } = toGeminiEmbedRequest(request, target.deployment.upstreamModel);
  return fromGeminiEmbedResponse(await callJson(post(target, ctx, method, body)), target.model.id);
}

export const geminiProvider: ProviderAdapter = { kind: 'gemini', complete, stream, embed };
