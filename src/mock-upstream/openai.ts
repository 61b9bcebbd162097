// OpenAI's side of the mock: error bodies and API-key checks as OpenAI sends them,
// and POST /v1/embeddings with deterministic vectors.
import { countText, embedText } from './content.ts';
import { modelDimensions } from './models.ts';
import { header, isRecord, jsonReply, type MockRequest, type Reply } from './wire.ts';

export const OPENAI_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'openai-version': '2020-10-01',
  'openai-processing-ms': '1',
  'x-ratelimit-limit-requests': '10000',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-limit-tokens': '30000000',
  'x-ratelimit-remaining-tokens': '29999000',
  'x-ratelimit-reset-requests': '6ms',
  'x-ratelimit-reset-tokens': '0s',
};
export const OPENAI_SSE_HEADERS: Readonly<Record<string, string>> = { ...OPENAI_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' };
const ERROR_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

const SERVER_ERROR: OpenAIErrorBody = { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null };

/** OpenAI's error body for a status, with the messages OpenAI uses (the 400/401/404 ones as recorded). */
export function openaiError(status: number, req: MockRequest, retryAfter: string): Reply {
  const headers: Record<string, string> = { ...ERROR_HEADERS };
  if (status === 429) Object.assign(headers, { 'retry-after': retryAfter, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': `${retryAfter}s` });
  return jsonReply(status, { error: openaiErrorBody(status, req) }, headers);
}

function openaiErrorBody(status: number, req: MockRequest): OpenAIErrorBody {
  const model = isRecord(req.body) && typeof req.body.model === 'string' ? req.body.model : 'gpt-4o';
  const responsesApi = req.path.endsWith('/responses');
  switch (status) {
    case 400:
      return responsesApi
        ? { message: "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead.", type: 'invalid_request_error', param: 'temperature', code: 'decimal_below_min_value' }
        : { message: "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.", type: 'invalid_request_error', param: 'messages[0].content', code: 'invalid_type' };
    case 401:
      return wrongKeyBody(bearerToken(req) ?? 'invalid-key');
    case 403:
      return { message: 'Country, region, or territory not supported', type: 'request_forbidden', param: null, code: 'unsupported_country_region_territory' };
    case 404:
      return { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
    case 429:
      return { message: `Rate limit reached for ${model} in organization org-mock on requests per min (RPM): Limit 10000, Used 10000, Requested 1. Please try again in 6ms. Visit https://platform.openai.com/account/rate-limits to learn more.`, type: 'requests', param: null, code: 'rate_limit_exceeded' };
    case 500:
      return SERVER_ERROR;
    case 503:
      return { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null };
    default:
      return status >= 500 ? SERVER_ERROR : { message: `Request failed with status ${status}.`, type: 'invalid_request_error', param: null, code: null };
  }
}

/** An error event inside a chat completions stream, as OpenAI sends a failure after the stream began. */
export function chatStreamError(): string {
  return `data: ${JSON.stringify({ error: SERVER_ERROR })}\n\n`;
}

function wrongKeyBody(key: string): OpenAIErrorBody {
  return { message: `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' };
}

/** OpenAI shows a wrong key with all but its ends starred; so does the mock. */
export function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 40))}${key.slice(-4)}`;
}

export function bearerToken(req: MockRequest): string | undefined {
  const value = header(req.headers, 'authorization');
  return value?.startsWith('Bearer ') ? value.slice(7).trim() : undefined;
}

/** The 401 OpenAI answers when the key is missing or wrong; undefined when it matches. */
export function openaiKeyCheck(req: MockRequest, apiKey: string): Reply | undefined {
  const token = bearerToken(req);
  if (token === apiKey) return undefined;
  const body: OpenAIErrorBody = token
    ? wrongKeyBody(token)
    : { message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.", type: 'invalid_request_error', param: null, code: null };
  return jsonReply(401, { error: body }, ERROR_HEADERS);
}

export function openaiBadRequest(message: string, param: string | null): Reply {
  return jsonReply(400, { error: { message, type: 'invalid_request_error', param, code: null } }, ERROR_HEADERS);
}

export function openaiNotFoundPath(req: MockRequest): Reply {
  return jsonReply(404, { error: { message: `Invalid URL (${req.method} ${req.path})`, type: 'invalid_request_error', param: null, code: null } }, ERROR_HEADERS);
}


export function embeddings(req: MockRequest): Reply {
  const body = isRecord(req.body) ? req.body : {};
  const inputs = embeddingInputs(body.input);
  if (!inputs) return openaiBadRequest("Invalid type for 'input': expected a string, array of strings, or array of token arrays.", 'input');
  const model = typeof body.model === 'string' ? body.model : 'text-embedding-3-small';
  const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.floor(body.dimensions) : modelDimensions(model);
  const asBase64 = body.encoding_format === 'base64';
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += countText(text);
    const vector = embedText(text, dimensions);
    return { object: 'embedding', index, embedding: asBase64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector) };
  });
  return jsonReply(200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, OPENAI_HEADERS);
}

function embeddingInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === 'number')) return [input.join(' ')];
  const out: string[] = [];
  for (const item of input) {
    if (typeof item === 'string') out.push(item);
    else if (Array.isArray(item)) out.push(item.join(' '));
    else return undefined;
  }
  return out;
}
