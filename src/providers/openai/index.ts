// The OpenAI-compatible provider when the request must be translated onto Chat
// Completions (it came in as a Responses or Anthropic Messages request). Same-format
// requests take the relay in passthrough.ts instead.
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { readSse } from '../../canonical/sse.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import type { Usage } from '../../canonical/types.ts';
import { invalidUpstreamResponse, postUpstream, readJsonAnswer, streamInterrupted } from '../http.ts';
import type { CallContext, ProviderAdapter, Target } from '../types.ts';
import { toChatRequest, fromChatResponse, ChatStreamDecoder, chatDroppedWarning } from '../../api/openai-chat/index.ts';
import { openaiPost, openUpstream } from './passthrough.ts';
import { primeStream } from '../stream-decode.ts';
import { openaiUpstreamError } from './errors.ts';

export const openaiProvider: ProviderAdapter = {
  kind: 'openai',

  async complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse> {
    const body = JSON.stringify(toChatRequest({ ...request, stream: false }, target.deployment.upstreamModel));
    const sent = openaiPost(target.deployment, '/chat/completions', body, ctx.signal, undefined, ctx.forwardHeaders);
    const response = fromChatResponse(await readJsonAnswer(await postUpstream(sent), sent));
    const dropped = chatDroppedWarning(request);
    if (dropped !== undefined) response.warnings = [...(response.warnings ?? []), dropped];
    return response;
  },

  async stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
    const body = JSON.stringify(toChatRequest({ ...request, stream: true }, target.deployment.upstreamModel));
    const upstream = await openUpstream(target.deployment, '/chat/completions', body, ctx.signal, 'text/event-stream', ctx.forwardHeaders);
    return primeStream(decodeChatStream(upstream.body, target, chatDroppedWarning(request)));
  },
};

/**
 * A chat stream is whole only with its `data: [DONE]`: the finish is held until it
 * comes, and a stream that ends without it, or carries an event that is not JSON,
 * ends with an error (carrying the usage seen) instead.
 */
async function* decodeChatStream(body: AsyncIterable<Uint8Array>, target: Target, dropped: string | undefined): AsyncGenerator<StreamEvent> {
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
          if (out.type === 'start' && dropped !== undefined) out.warnings = [...(out.warnings ?? []), dropped];
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
