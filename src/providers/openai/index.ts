// The OpenAI-compatible provider when the request must be translated (it came in as
// a Responses or Anthropic Messages request, or the model only has the Responses API).
// Same-format requests take the relay in passthrough.ts instead.
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { readSse } from '../../canonical/sse.ts';
import { readText } from '../http.ts';
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
    return fromChatResponse(JSON.parse(await readText(upstream.body, Number.MAX_SAFE_INTEGER)));
  },

  async stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
    const body = JSON.stringify(toChatRequest({ ...request, stream: true }, target.deployment.upstreamModel));
    const upstream = await openUpstream(target.deployment, '/chat/completions', body, ctx.signal, 'text/event-stream', ctx.forwardHeaders);
    return primeStream(decodeChatStream(upstream.body, target));
  },
};

async function* decodeChatStream(body: AsyncIterable<Uint8Array>, target: Target): AsyncGenerator<StreamEvent> {
  const decoder = new ChatStreamDecoder();
  try {
    for await (const event of readSse(body)) {
      if (event.data === '[DONE]') break;
      let chunk: any;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (chunk.error) {
        yield { type: 'error', error: openaiUpstreamError(500, event.data, target.deployment) };
        return;
      }
      for (const out of decoder.push(chunk)) yield out;
    }
  } catch (err) {
    yield { type: 'error', error: streamInterrupted(target.deployment, err as Error) };
    return;
  }
  for (const out of decoder.finish()) yield out;
}
