// Each inbound wire format, as the pipeline sees it: how to parse a request into the
// canonical form, how to render a canonical answer and stream, how to render an error,
// and when the request can be relayed to the upstream as it is.
import type { GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, StreamEvent, Usage } from '../canonical/types.ts';
import { chatUsage, responsesUsage } from '../providers/openai/usage-tap.ts';
import { parseEmbeddingsRequest } from './openai-embeddings/index.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { Endpoint } from '../routing/resolve.ts';
import { parseChatRequest, toChatCompletion, ChatStreamEncoder } from './openai-chat/index.ts';
import { parseResponsesRequest, toResponseObject, ResponsesStreamEncoder } from './openai-responses/index.ts';
import { parseMessagesRequest, toMessagesResponse, MessagesStreamEncoder, renderAnthropicError } from './anthropic-messages/index.ts';

export interface StreamEncoder {
  encode(event: StreamEvent): string;
}

export interface InboundApi {
  endpoint: Endpoint;
  /** Path on an upstream that speaks this same format, for relaying as-is. */
  nativePath?: string;
  parse(body: unknown): CanonicalRequest;
  /** Can this request go to this deployment untranslated? */
  relaysTo(deployment: Deployment, model: ModelInfo): boolean;
  render(response: CanonicalResponse, request: CanonicalRequest, model: string): unknown;
  encoder(request: CanonicalRequest, model: string, wantsUsage: boolean): StreamEncoder;
  errorBody(error: GatewayError): unknown;
  /** Whether the client asked to get usage in the stream. */
  wantsStreamUsage(body: any): boolean;
  /** Usage in a relayed (non-stream) answer of this format. */
  relayedUsage(json: any): Usage | undefined;
}

const isOpenAICompatible = (d: Deployment) => d.provider === 'openai' || d.provider === 'ollama';

export const chatApi: InboundApi = {
  endpoint: 'chat',
  nativePath: '/chat/completions',
  parse: parseChatRequest,
  relaysTo: (deployment, model) => isOpenAICompatible(deployment) && model.endpoints.includes('chat'),
  render: (response, _request, model) => toChatCompletion(response, model),
  encoder: (_request, model, wantsUsage) => new ChatStreamEncoder({ model, includeUsage: wantsUsage }),
  errorBody: (error) => error.toOpenAI(),
  wantsStreamUsage: (body) => body.stream_options?.include_usage === true,
  relayedUsage: (json) => chatUsage(json.usage),
};

export const responsesApi: InboundApi = {
  endpoint: 'responses',
  nativePath: '/responses',
  parse: parseResponsesRequest,
  relaysTo: (deployment, model) => deployment.provider === 'openai' && model.endpoints.includes('responses'),
  render: (response, request, model) => toResponseObject(response, request, model),
  encoder: (request, model) => new ResponsesStreamEncoder({ model, request }),
  errorBody: (error) => error.toOpenAI(),
  wantsStreamUsage: () => true,
  relayedUsage: (json) => responsesUsage(json.usage),
};

export const messagesApi: InboundApi = {
  endpoint: 'messages',
  parse: parseMessagesRequest,
  relaysTo: () => false,
  render: (response, request, model) => toMessagesResponse(response, model, { stopSequences: request.stop }),
  encoder: (request, model) => new MessagesStreamEncoder({ model, stopSequences: request.stop }),
  errorBody: (error) => renderAnthropicError(error).body,
  wantsStreamUsage: () => true,
  relayedUsage: () => undefined,
};

export const embeddingsApi: InboundApi = {
  endpoint: 'embeddings',
  nativePath: '/embeddings',
  parse: parseEmbeddingsRequest,
  relaysTo: (deployment, model) => isOpenAICompatible(deployment) && model.endpoints.includes('embeddings'),
  render: () => {
    throw new Error('embeddings are rendered by the embeddings dispatch');
  },
  encoder: () => {
    throw new Error('embeddings do not stream');
  },
  errorBody: (error) => error.toOpenAI(),
  wantsStreamUsage: () => false,
  relayedUsage: (json) => chatUsage(json.usage),
};
