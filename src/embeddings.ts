// Embeddings through a provider adapter (providers that do not speak OpenAI's format).
import type { CanonicalRequest, Usage } from './canonical/types.ts';
import { invalidRequest } from './canonical/errors.ts';
import type { CallContext, ProviderAdapter, Target } from './providers/types.ts';
import { toEmbeddingsRequest, toEmbeddingsList } from './api/openai-embeddings/index.ts';
import { countInputTokens } from './tokens/count.ts';

export async function embedThroughAdapter(adapter: ProviderAdapter, request: CanonicalRequest, target: Target, ctx: CallContext): Promise<{ body: string; usage: Usage }> {
  if (!adapter.embed) throw invalidRequest(`The ${adapter.kind} provider does not serve embeddings.`, 'model', 'embeddings_not_supported');
  const embeddingsRequest = toEmbeddingsRequest(request, target.deployment.upstreamModel);
  const response = await adapter.embed(embeddingsRequest, target, ctx);
  // Gemini usually reports no token count for embeddings: count them here.
  const usage = response.usage.inputTokens > 0 ? response.usage : { ...response.usage, inputTokens: await countInputTokens(request) };
  const body = JSON.stringify(toEmbeddingsList(response, target.model.id, embeddingsRequest.encodingFormat ?? 'float', usage));
  return { body, usage };
}
