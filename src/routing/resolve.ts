// Route stage: which model, on which deployments, at which reasoning level — and the
// hard checks that refuse a request no deployment could serve.
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import type { CanonicalRequest, ReasoningEffort } from '../canonical/types.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { resolveEffort } from '../catalog/catalog.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { AutoRoute } from '../router/decide.ts';
import { countInputTokens, inputTokenUpperBound } from '../tokens/count.ts';
import { MOCKED_KINDS, mockVariables, PROVIDER_VARIABLES } from '../config/providers.ts';

export interface Route {
  model: ModelInfo;
  deployments: Deployment[];
  /** The reasoning level sent, after mapping to the model's levels. */
  effort: ReasoningEffort | undefined;
  /** The level the caller asked for, when it differs from `effort`. */
  requestedEffort?: ReasoningEffort;
  /** Counted input tokens (exact where it mattered, else an upper bound). */
  inputTokens: number;
  reason: string;
  /** Set when an auto route chose the model (src/router/decide.ts). */
  auto?: AutoRoute;
}

export type Endpoint = 'chat' | 'responses' | 'messages' | 'embeddings';

export function findModel(catalog: Catalog, id: string): ModelInfo {
  const model = catalog.get(id);
  if (model) return model;
  const near = catalog.closest(id);
  throw new GatewayError({
    status: 404,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
    message: `The model '${id}' does not exist on this gateway. Model ids are exact (case and dashes matter)${near.length ? `; the closest are: ${near.join(', ')}` : ''}. GET /v1/models lists every model you can use.`,
  });
}

export async function resolveRoute(catalog: Catalog, request: CanonicalRequest, endpoint: Endpoint): Promise<Route> {
  let model = findModel(catalog, request.model);
  let how = model.id === request.model ? 'exact model id' : `alias ${request.model} -> ${model.id}`;
  for (;;) {
    const deployments = catalog.deployments(model);
    if (deployments.length === 0) throw providerNotConfigured(model);
    checkEndpoint(model, endpoint);
    checkCapabilities(request, model);
    let inputTokens: number;
    try {
      inputTokens = endpoint === 'embeddings' ? await checkEachInput(catalog, request, model) : await checkContextWindow(catalog, request, model);
    } catch (err) {
      // context_fallbacks: a prompt too long for this model goes to the configured larger one
      // (the reservation is then made at that model's price, since it is the one called).
      const larger = endpoint !== 'embeddings' && err instanceof GatewayError && err.code === 'context_length_exceeded' ? catalog.contextFallback(model) : undefined;
      if (!larger) throw err;
      how += `, context fallback ${model.id} -> ${larger.id} (prompt over ${model.contextWindow} tokens)`;
      model = larger;
      continue;
    }
    const effort = resolveEffort(model, request.reasoningEffort);
    const requestedEffort = effort !== request.reasoningEffort ? request.reasoningEffort : undefined;
    return { model, deployments, effort, requestedEffort, inputTokens, reason: `${how}${endpoint === 'chat' ? '' : ` (${endpoint})`}` };
  }
}

export function providerNotConfigured(model: ModelInfo): GatewayError {
  const kind = model.provider;
  const names = PROVIDER_VARIABLES[kind];
  const set = names.apiKey ? `Set ${names.apiKey} (and ${names.baseUrl} for a relay or a compatible server)` : `Set ${names.baseUrl} (the host and port of \`ollama serve\`)`;
  const mock = (MOCKED_KINDS as readonly string[]).includes(kind)
    ? ` (Try without a key: npm run mock-upstream, then ${mockVariables(kind as (typeof MOCKED_KINDS)[number])} npm start.)`
    : '';
  return new GatewayError({
    status: 503,
    type: 'server_error',
    code: 'provider_not_configured',
    param: 'model',
    message: `'${model.id}' is served by the ${kind} provider, which is not configured on this gateway. ${set}, or add providers.${kind} to switchyard.yaml, then restart.${mock}`,
    headers: { 'x-should-retry': 'false' },
  });
}

export function checkEndpoint(model: ModelInfo, endpoint: Endpoint): void {
  const embedding = model.endpoints.includes('embeddings');
  if (endpoint === 'embeddings' && !embedding) {
    throw invalidRequest(`'${model.id}' is not an embedding model. Use an embedding model such as text-embedding-3-small (GET /v1/models lists them under endpoints: embeddings).`, 'model', 'model_not_embedding');
  }
  if (endpoint !== 'embeddings' && embedding && model.endpoints.length === 1) {
    throw invalidRequest(`'${model.id}' is an embedding model; call POST /v1/embeddings with it, or use a chat model here.`, 'model', 'model_is_embedding');
  }
}

/** Embedding windows apply to each input on its own. */
export async function checkEachInput(catalog: Catalog, request: CanonicalRequest, model: ModelInfo): Promise<number> {
  let total = 0;
  for (const [i, message] of request.messages.entries()) {
    const one = { ...request, messages: [message] };
    try {
      total += await checkContextWindow(catalog, one, model);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'context_length_exceeded') {
        throw new GatewayError({ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', param: `input[${i}]`, message: `input[${i}]: ${err.message}` });
      }
      throw err;
    }
  }
  return total;
}

export function checkCapabilities(request: CanonicalRequest, model: ModelInfo): void {
  if (!model.modalities.input.includes('image') && request.messages.some((m) => m.role === 'user' && m.content.some((p) => p.type === 'image'))) {
    throw invalidRequest(`'${model.id}' does not take image input. Use a model with vision (GET /v1/models shows input modalities), or send text only.`, 'messages', 'image_input_not_supported');
  }
  if (request.tools?.length && !model.tools) {
    throw invalidRequest(`'${model.id}' does not support tools. Remove 'tools' or use a model that supports them.`, 'tools', 'tools_not_supported');
  }
}

/** Below this many bytes the byte bound is close enough for a worst-case reservation. */
const EXACT_COUNT_FROM = 8_192;

/**
 * Refuse a prompt that cannot fit, and say how many input tokens it has. The byte
 * bound decides small requests for free; larger ones are counted with the real
 * tokenizer (about 40 ms per MB), so budgets reserve what the prompt really costs.
 */
export async function checkContextWindow(catalog: Catalog, request: CanonicalRequest, model: ModelInfo): Promise<number> {
  const bound = inputTokenUpperBound(request);
  if (bound <= model.contextWindow && bound <= EXACT_COUNT_FROM) return bound;
  const tokens = await countInputTokens(request);
  if (tokens <= model.contextWindow) return tokens;
  const fits = catalog
    .available()
    .filter((m) => m.contextWindow >= tokens && m.endpoints.includes('chat'))
    .sort((a, b) => a.pricing.input - b.pricing.input)[0];
  throw new GatewayError({
    status: 400,
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    param: 'messages',
    message: `This prompt is ${tokens} tokens (o200k count) but '${model.id}' has a context window of ${model.contextWindow} tokens. Shorten the messages${fits ? `, or use '${fits.id}' (window ${fits.contextWindow})` : ''}.`,
  });
}
