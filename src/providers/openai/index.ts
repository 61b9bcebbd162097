// The OpenAI-compatible provider when the request must be translated (it came in as
// a Responses or Anthropic Messages request, or the model only has the Responses API).
// Same-format requests take the relay in passthrough.ts instead.
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { readSse } from '../../canonical/sse.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import type { Usage } from '../../canonical/types.ts';
import { invalidUpstreamResponse, readText } from '../http.ts';
import type { CallContext, ProviderAdapter, Target } from '../types.ts';
import { toChatRequest, fromChatResponse, ChatStreamDecoder } from '../../api/openai-chat/index.ts';
import { openUpstream } from './passthrough.ts';
import { primeStream } from '../stream-decode.ts';
import { openaiUpstreamError } from './errors.ts';
import { streamInterrupted } from '../relay-stream.ts';

export const openaiProvider: ProviderAdapter = {
  kind: 'openai',

  async complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
    const body = JSON.stringify(toChatRequest({ ...request, stream: false }, target.deployment.upstreamModel));
    const upstream = await openUpstream(target.deployment, '/chat/completions', body, ctx.signal, undefined, ctx.forwardHeaders);
    let text: string;
    try {
      text = await readText(upstream.body, Number.MAX_SAFE_INTEGER);
    } catch (err) {
      throw streamInterrupted(target.deployment, err as Error, 'its answer');
    }
    return fromChatResponse(jsonObject(text, target));
  },

  async stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
    const body = JSON.stringify(toChatRequest({ ...request, stream: true }, target.deployment.upstreamModel));
    const upstream = await openUpstream(target.deployment, '/chat/completions', body, ctx.signal, 'text/event-stream', ctx.forwardHeaders);
    return primeStream(decodeChatStream(upstream.body, target));
  },
};

function jsonObject(text: string, target: Target): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw invalidUpstreamResponse(target.deployment, text.length === 0 ? 'an empty body' : 'a body that is not a JSON object (cut short, or not JSON at all)');
}

/**
 * A chat stream is whole only with its `data: [DONE]`: the finish is held until it
 * comes, and a stream that ends without it, or carries an event that is not JSON,
 * ends with an error (carrying the usage seen) instead.
 */
async function* decodeChatStream(body: AsyncIterable<Uint8Array>, target: Target): AsyncGenerator<StreamEvent> {
  const decoder = new ChatStreamDecoder({ providerLabel: target.deployment.providerName });
  let finish: StreamEvent | undefined;
  let lastUsage: Usage | undefined;
  const fail = (error: GatewayError): StreamEvent => (lastUsage ? { type: 'error', error, usage: lastUsage } : { type: 'error', error });
  try {
    for await (const event of readSse(body)) {
      if (event.data === '[DONE]') {
        for (const out of finish ? [finish] : decoder.finish()) yield out;
        return;
      }
      let chunk: any;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        yield fail(invalidUpstreamResponse(target.deployment, 'a stream event that is not JSON'));
        return;
      }
      if (chunk?.error) {
        yield fail(openaiUpstreamError(500, event.data, target.deployment));
        return;
      }
      for (const out of decoder.push(chunk)) {
        if (out.type === 'finish') {
          finish = out;
          lastUsage = out.usage;
        } else {
          if (out.type === 'error' && out.usage) lastUsage = out.usage;
          yield out;
        }
      }
    }
  } catch (err) {
    yield fail(streamInterrupted(target.deployment, err as Error));
    return;
  }
  yield fail(invalidUpstreamResponse(target.deployment, 'a stream that ended without its final event (data: [DONE])'));
}
