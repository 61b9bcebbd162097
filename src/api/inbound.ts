// Each inbound wire format, as the pipeline sees it: how to parse a request into the
// canonical form, how to render a canonical answer and stream, how to render an error,
// and — for upstreams that speak the same format — how to relay it as it came.
import type { GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, ReasoningEffort, StreamEvent, Usage } from '../canonical/types.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { UpstreamResponse } from '../providers/http.ts';
import type { Endpoint } from '../routing/resolve.ts';
import { openUpstream } from '../providers/openai/passthrough.ts';
import { ChatStreamTap, ResponsesStreamTap, chatUsage, responsesUsage } from '../providers/openai/usage-tap.ts';
import type { StreamTap } from '../providers/stream-tap.ts';
import { AnthropicStreamTap, openAnthropicUpstream, relayedAnthropicUsage } from '../providers/anthropic/relay.ts';
import { parseChatRequest, toChatCompletion, ChatStreamEncoder } from './openai-chat/index.ts';
import { parseResponsesRequest, toResponseObject, ResponsesStreamEncoder } from './openai-responses/index.ts';
import { parseMessagesRequest, toMessagesResponse, MessagesStreamEncoder } from './anthropic-messages/index.ts';
import { anthropicErrorEnvelope } from './anthropic-messages/errors.ts';
import { parseEmbeddingsRequest } from './openai-embeddings/index.ts';
import { countInputTokensNow } from '../tokens/count.ts';

export interface StreamEncoder {
  encode(event: StreamEvent): string;
}

/** What the gateway decided that the relayed body must reflect. */
export interface RelayChanges {
  /** Set only when the level sent differs from the one the client asked for. */
  effort?: ReasoningEffort;
  /** Set when admission capped or defaulted the output tokens. */
  outputCap?: number;
}

/** Relaying a request untranslated to an upstream that speaks the client's format. */
export interface Relay {
  /** The models it relays to, as a refusal names them: "an OpenAI Responses model". */
  format: string;
  accepts(deployment: Deployment, model: ModelInfo): boolean;
  /** The client's body as the upstream gets it: unknown fields kept, gateway decisions applied. */
  prepare(body: Record<string, unknown>, deployment: Deployment, changes: RelayChanges): Record<string, unknown>;
  /** Send it; a non-2xx answer becomes a GatewayError naming the provider. */
  open(deployment: Deployment, payload: string, signal: AbortSignal, stream: boolean, forwardHeaders?: Record<string, string>): Promise<UpstreamResponse>;
  usage(json: any): Usage | undefined;
  /** `rewrite`: events must be re-emitted one by one (the tap drops some). */
  tap(body: Record<string, unknown>): { tap: StreamTap; rewrite: boolean };
  /** Client headers this wire format defines, always passed on (e.g. anthropic-beta). */
  passHeaders?: readonly string[];
}

export interface InboundApi {
  endpoint: Endpoint;
  parse(body: unknown): CanonicalRequest;
  relay?: Relay;
  render(response: CanonicalResponse, request: CanonicalRequest, model: string): unknown;
  encoder(request: CanonicalRequest, model: string, body: Record<string, unknown>): StreamEncoder;
  /** The error envelope as a value (the response writer serialises it once). */
  errorBody(error: GatewayError, requestId?: string): unknown;
}

const isOpenAICompatible = (d: Deployment) => d.provider === 'openai' || d.provider === 'ollama';
const wantsChatUsage = (body: any) => body.stream_options?.include_usage === true;
const SSE = 'text/event-stream';

function openaiRelay(path: string, shape: Omit<Relay, 'open'>): Relay {
  return { ...shape, open: (d, payload, signal, stream, fwd) => openUpstream(d, path, payload, signal, stream ? SSE : undefined, fwd) };
}

export const chatApi: InboundApi = {
  endpoint: 'chat',
  parse: parseChatRequest,
  relay: openaiRelay('/chat/completions', {
    format: 'an OpenAI-compatible Chat Completions model',
    accepts: (deployment, model) => isOpenAICompatible(deployment) && model.endpoints.includes('chat'),
    prepare(body, deployment, changes) {
      const out: Record<string, unknown> = { ...body, model: deployment.upstreamModel };
      if (changes.effort) out.reasoning_effort = changes.effort;
      if (changes.outputCap !== undefined) {
        if (body.max_tokens !== undefined && body.max_completion_tokens === undefined) out.max_tokens = changes.outputCap;
        else out.max_completion_tokens = changes.outputCap;
      }
      // Usage is always asked for, so every stream can be billed.
      if (body.stream === true && !wantsChatUsage(body)) out.stream_options = { ...(body.stream_options as object), include_usage: true };
      return out;
    },
    usage: (json) => chatUsage(json.usage),
    tap: (body) => ({ tap: new ChatStreamTap(!wantsChatUsage(body)), rewrite: !wantsChatUsage(body) }),
  }),
  render: (response, _request, model) => toChatCompletion(response, model),
  encoder: (_request, model, body) => new ChatStreamEncoder({ model, includeUsage: wantsChatUsage(body) }),
  errorBody: (error) => error.toOpenAI(),
};

export const responsesApi: InboundApi = {
  endpoint: 'responses',
  parse: parseResponsesRequest,
  relay: openaiRelay('/responses', {
    format: 'an OpenAI Responses model',
    accepts: (deployment, model) => deployment.provider === 'openai' && model.endpoints.includes('responses'),
    prepare(body, deployment, changes) {
      const out: Record<string, unknown> = { ...body, model: deployment.upstreamModel };
      if (changes.effort) out.reasoning = { ...(body.reasoning as object), effort: changes.effort };
      if (changes.outputCap !== undefined) out.max_output_tokens = changes.outputCap;
      return out;
    },
    usage: (json) => responsesUsage(json.usage),
    tap: () => ({ tap: new ResponsesStreamTap(), rewrite: false }),
  }),
  render: (response, request, model) => toResponseObject(response, request, model),
  encoder: (request, model) => new ResponsesStreamEncoder({ model, request }),
  errorBody: (error) => error.toOpenAI(),
};

export const messagesApi: InboundApi = {
  endpoint: 'messages',
  parse: parseMessagesRequest,
  relay: {
    format: 'a Claude model',
    accepts: (deployment) => deployment.provider === 'anthropic',
    prepare(body, deployment, changes) {
      const out: Record<string, unknown> = { ...body, model: deployment.upstreamModel };
      if (changes.outputCap !== undefined) out.max_tokens = changes.outputCap;
      return out;
    },
    open: (deployment, payload, signal, _stream, fwd) => openAnthropicUpstream(deployment, payload, signal, fwd),
    usage: relayedAnthropicUsage,
    tap: () => ({ tap: new AnthropicStreamTap(), rewrite: false }),
    passHeaders: ['anthropic-beta'],
  },
  render: (response, request, model) => toMessagesResponse(response, model, { stopSequences: request.stop }),
  encoder: (request, model) => new MessagesStreamEncoder({ model, stopSequences: request.stop, inputTokens: countInputTokensNow(request) }),
  errorBody: (error, requestId) => anthropicErrorEnvelope(error, requestId),
};

export const embeddingsApi: InboundApi = {
  endpoint: 'embeddings',
  parse: parseEmbeddingsRequest,
  relay: openaiRelay('/embeddings', {
    format: 'an OpenAI-compatible embedding model',
    accepts: (deployment, model) => isOpenAICompatible(deployment) && model.endpoints.includes('embeddings'),
    prepare: (body, deployment) => ({ ...body, model: deployment.upstreamModel }),
    usage: (json) => chatUsage(json.usage),
    tap: () => {
      throw new Error('embeddings do not stream');
    },
  }),
  render: () => {
    throw new Error('embeddings are rendered by the embeddings dispatch');
  },
  encoder: () => {
    throw new Error('embeddings do not stream');
  },
  errorBody: (error) => error.toOpenAI(),
};
