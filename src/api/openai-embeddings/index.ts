// POST /v1/embeddings: OpenAI's request and response shapes. OpenAI-compatible
// upstreams get the request relayed as it came; other providers (Gemini) get the
// canonical EmbeddingsRequest through their adapter.
import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type { CanonicalRequest, Usage } from '../../canonical/types.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../providers/types.ts';
import { isObject, optionalInteger, optionalString, requireNonEmptyString } from '../openai-chat/fields.ts';

const MAX_INPUTS = 2048;

/**
 * The request in canonical form, one user message per input so the route stage can
 * count tokens; the embeddings-only fields ride in `extra`.
 */
export function parseEmbeddingsRequest(body: unknown): CanonicalRequest {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.', null, 'invalid_json');
  const model = requireNonEmptyString(body.model, 'model', 'a model id string');
  const inputs = parseInput(body.input);
  const format = body.encoding_format;
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') {
    throw invalidField('encoding_format', "'float' or 'base64'", format);
  }
  optionalInteger(body.dimensions, 'dimensions', 1, 'a positive integer');
  optionalString(body.user, 'user');
  return {
    model,
    stream: false,
    messages: inputs.map((text) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }] })),
    extra: body,
  };
}

/** Text inputs; token-id arrays are kept as their numbers joined (they are relayed untouched). */
function parseInput(input: unknown): string[] {
  if (typeof input === 'string') {
    if (input.length === 0) throw invalidField('input', 'a non-empty string or array of strings', input);
    return [input];
  }
  if (!Array.isArray(input) || input.length === 0) {
    throw invalidField('input', 'a non-empty string, an array of strings, or an array of token arrays', input);
  }
  if (input.length > MAX_INPUTS) throw invalidField('input', `at most ${MAX_INPUTS} inputs per request`, `${input.length} inputs`);
  if (input.some((x) => typeof x === 'number')) {
    if (!input.every(isTokenId)) throw invalidField('input', 'a string, an array of strings, an array of token ids (integers of at least 0) or an array of token-id arrays', input);
    return [input.join(' ')];
  }
  return input.map((item, i) => {
    if (typeof item === 'string' && item.length > 0) return item;
    if (Array.isArray(item) && item.length > 0 && item.every(isTokenId)) return item.join(' ');
    throw invalidField(`input[${i}]`, 'a non-empty string or an array of token ids (integers of at least 0)', item);
  });
}

const isTokenId = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

export function toEmbeddingsRequest(request: CanonicalRequest, upstreamModel: string): EmbeddingsRequest {
  const extra = request.extra ?? {};
  const input = extra.input;
  if (Array.isArray(input) && input.some((x) => typeof x !== 'string')) {
    throw invalidRequest('Token-id input is only accepted for OpenAI-compatible embedding models; send text.', 'input', 'unsupported_input');
  }
  return {
    model: upstreamModel,
    input: request.messages.map((m) => (m.role === 'user' && m.content[0]?.type === 'text' ? m.content[0].text : '')),
    dimensions: typeof extra.dimensions === 'number' ? extra.dimensions : undefined,
    encodingFormat: extra.encoding_format === 'base64' ? 'base64' : 'float',
    user: typeof extra.user === 'string' ? extra.user : undefined,
  };
}

/** OpenAI's `list` of embeddings; base64 is little-endian float32, as OpenAI sends it. */
export function toEmbeddingsList(response: EmbeddingsResponse, model: string, encoding: 'float' | 'base64', usage: Usage): object {
  return {
    object: 'list',
    data: response.embeddings.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model,
    usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
  };
}
