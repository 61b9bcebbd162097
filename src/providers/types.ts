import type { CanonicalRequest, CanonicalResponse, StreamEvent, Usage } from '../canonical/types.ts';
import type { ModelInfo, ProviderKind } from '../catalog/types.ts';

/** One place a model can be called: a provider endpoint with its credentials. */
export interface Deployment {
  /** Stable name, for logs and balancing (e.g. "openai:gpt-5.4#0"). */
  id: string;
  /** The wire format and adapter (openai, anthropic, gemini, ollama). */
  provider: ProviderKind;
  /** The provider's configured name (`vllm`, `azure-east`): what errors and headers call it. */
  providerName: string;
  /** Base URL including any version prefix the provider expects, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  /** Secret; never logged, never returned. */
  apiKey?: string;
  /** The model name sent upstream. */
  upstreamModel: string;
  headers?: Record<string, string>;
  /** Client header names (lowercase, `prefix*` globs) passed on to this deployment. */
  forwardHeaders?: string[];
  weight: number;
  timeoutMs: number;
}

/** What an adapter is handed for one call. */
export interface Target {
  deployment: Deployment;
  model: ModelInfo;
}

export interface CallContext {
  requestId: string;
  signal: AbortSignal;
  /** Client headers this deployment is configured to receive (forward_headers). */
  forwardHeaders?: Record<string, string>;
}

export interface EmbeddingsRequest {
  model: string;
  input: string[];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  user?: string;
}

export interface EmbeddingsResponse {
  model: string;
  embeddings: number[][];
  usage: Usage;
}

/**
 * A provider: pure translate functions behind a thin transport. Both calls throw a
 * GatewayError (source `provider:<configured name>`) for an upstream HTTP error, naming the
 * provider and the cause and never a key. A stream that fails after its first
 * event yields an `error` event instead of throwing.
 */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  complete(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<CanonicalResponse>;
  stream(request: CanonicalRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>>;
  embed?(request: EmbeddingsRequest, target: Target, ctx: CallContext): Promise<EmbeddingsResponse>;
}
