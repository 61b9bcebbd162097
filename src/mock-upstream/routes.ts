// Which provider and handler answer a method and path, and each provider's rules
// for errors, keys and failures.
import { anthropicError, anthropicInvalid, anthropicKeyCheck, countMessageTokens, messages } from './anthropic.ts';
import { batchEmbedContents, countGeminiTokens, embedContent, geminiError, geminiKeyCheck, generateContent } from './gemini.ts';
import { getAnthropicModel, getOpenAIModel, listAnthropicModels, listGeminiModels, listOpenAIModels } from './models.ts';
import { chatCompletions } from './openai-chat.ts';
import { responses } from './openai-responses.ts';
import { embeddings, openaiBadRequest, openaiError, openaiKeyCheck } from './openai.ts';
import type { MockRequest, Reply } from './wire.ts';

export type ProviderName = 'openai' | 'anthropic' | 'gemini';
type Handler = (req: MockRequest) => Reply;

export interface Route {
  provider: ProviderName;
  handle: Handler;
  /** Built from the request body alone: the reply can be reused for an identical body. */
  reusable: boolean;
}

export interface ProviderRules {
  error(status: number, req: MockRequest, retryAfter: string): Reply;
  keyCheck(req: MockRequest, apiKey: string): Reply | undefined;
  invalidJson(req: MockRequest): Reply;
  requestIdHeader?: string;
  /** Statuses of failRate's random failures. */
  randomFailures: number[];
  /** The non-stream answer to x-mock-error-after-chunks. */
  overloaded: number;
}

export const PROVIDERS: Record<ProviderName, ProviderRules> = {
  openai: {
    error: openaiError,
    keyCheck: openaiKeyCheck,
    invalidJson: () => openaiBadRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", null),
    requestIdHeader: 'x-request-id',
    randomFailures: [429, 500, 503],
    overloaded: 503,
  },
  anthropic: {
    error: anthropicError,
    keyCheck: anthropicKeyCheck,
    invalidJson: () => anthropicInvalid('There was an error parsing the body of your request: invalid JSON.'),
    requestIdHeader: 'request-id',
    randomFailures: [429, 500, 529],
    overloaded: 529,
  },
  gemini: {
    error: geminiError,
    keyCheck: geminiKeyCheck,
    invalidJson: (req) => geminiError(400, req, '0', 'Invalid JSON payload received. Unexpected token.'),
    randomFailures: [429, 500, 503],
    overloaded: 503,
  },
};

const POST_ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { provider: 'openai', handle: chatCompletions, reusable: true },
  '/v1/responses': { provider: 'openai', handle: responses, reusable: true },
  '/v1/embeddings': { provider: 'openai', handle: embeddings, reusable: true },
  '/v1/messages': { provider: 'anthropic', handle: messages, reusable: true },
  '/v1/messages/count_tokens': { provider: 'anthropic', handle: countMessageTokens, reusable: true },
};
const GEMINI_PATH = /^\/(?:v1beta|v1|v1alpha)\/models\/([^:/]+):([A-Za-z]+)$/;

export function findRoute(method: string, path: string, anthropicClient: boolean): Route | undefined {
  if (method === 'POST') {
    const known = POST_ROUTES[path];
    if (known) return known;
    const gemini = GEMINI_PATH.exec(path);
    if (gemini) return geminiRoute(gemini[1], gemini[2]);
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (path === '/v1beta/models') return { provider: 'gemini', handle: listGeminiModels, reusable: false };
  if (path === '/v1/models') return anthropicClient ? { provider: 'anthropic', handle: listAnthropicModels, reusable: false } : { provider: 'openai', handle: listOpenAIModels, reusable: false };
  if (path.startsWith('/v1/models/')) {
    const id = safeDecode(path.slice('/v1/models/'.length));
    return anthropicClient
      ? { provider: 'anthropic', handle: (req) => getAnthropicModel(req, id), reusable: false }
      : { provider: 'openai', handle: () => getOpenAIModel(id), reusable: false };
  }
  return undefined;
}

function geminiRoute(model: string, method: string): Route | undefined {
  switch (method) {
    case 'generateContent': return { provider: 'gemini', handle: (req) => generateContent(req, model, false), reusable: true };
    case 'streamGenerateContent': return { provider: 'gemini', handle: (req) => generateContent(req, model, true), reusable: true };
    case 'embedContent': return { provider: 'gemini', handle: (req) => embedContent(req, model), reusable: true };
    case 'batchEmbedContents': return { provider: 'gemini', handle: (req) => batchEmbedContents(req, model), reusable: true };
    case 'countTokens': return { provider: 'gemini', handle: countGeminiTokens, reusable: true };
    default: return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
