// The Gemini API's side of the mock: models/{model}:generateContent,
// :streamGenerateContent (?alt=sse: `data:` lines with CRLF framing and Google's
// `"key": value` spacing, as in stream-text.response.sse; without alt=sse: one JSON
// array, streamed), :embedContent, :batchEmbedContents and :countTokens. Request
// fields are read in both spellings the API accepts (camelCase and snake_case).
// Models "think" only when thinkingConfig asks for it (budget not 0): then usage
// has thoughtsTokenCount, parts carry a thoughtSignature, and with includeThoughts
// the thought text comes first as `"thought": true` parts.
import { type AnswerPlan, countText, EFFORT_TOKENS, embedText, IMAGE_TOKENS, opaqueBlob, PER_MESSAGE, planAnswer, REPLY_PRIMING, selectToolCalls, type ToolChoice, type ToolSpec } from './content.ts';
import { modelDimensions } from './models.ts';
import { asArray, googleJson, header, ID, isRecord, jsonReply, type MockRequest, type Reply, streamReply } from './wire.ts';

type Json = Record<string, unknown>;

const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json; charset=UTF-8' };
const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream' };
const OVERLOADED = 'The model is overloaded. Please try again later.';

/** A field under either of the API's spellings. */
function field(obj: Json, camel: string, snake: string): unknown {
  return obj[camel] ?? obj[snake];
}

function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

interface GeminiView {
  echoSource: string;
  afterToolResult: boolean;
  tools: ToolSpec[];
  choice: ToolChoice;
  promptTokens: number;
}

export function generateContent(req: MockRequest, model: string, stream: boolean): Reply {
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body || !Array.isArray(body.contents)) return geminiError(400, req, '1', '* GenerateContentRequest.contents: contents is not specified\n');
  const view = readContents(body);
  const config = record(field(body, 'generationConfig', 'generation_config'));
  const thinkingConfig = field(config, 'thinkingConfig', 'thinking_config');
  const thinking = isRecord(thinkingConfig) ? thinkingConfig : undefined;
  const budget = thinking ? field(thinking, 'thinkingBudget', 'thinking_budget') : undefined;
  const thinks = thinking !== undefined && budget !== 0;
  const includeThoughts = thinks && field(thinking, 'includeThoughts', 'include_thoughts') === true;
  const max = field(config, 'maxOutputTokens', 'max_output_tokens');
  const plan = planAnswer({
    echoSource: view.echoSource,
    calls: selectToolCalls(view.tools, view.choice, true, view.afterToolResult),
    json: jsonOutput(config),
    maxOutputTokens: typeof max === 'number' ? max : undefined,
    hiddenReasoningTokens: thinks ? hiddenThinkingTokens(thinking, budget) : 0,
    thinking: includeThoughts,
    chunks: req.chunks,
  });
  const answer = new GeminiAnswer(plan, model, view.promptTokens, Math.min(req.cachedTokens, view.promptTokens), thinks);
  if (!stream) return jsonReply(200, answer.whole(), JSON_HEADERS, true);
  if (req.query.get('alt') === 'sse') return streamReply(answer.chunks().map((c) => `data: ${googleJson(c)}\r\n\r\n`), SSE_HEADERS, streamError);
  // Without alt=sse Google streams one JSON array, element by element.
  const parts = answer.chunks().map((c, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c, null, 2)}`);
  parts.push(']');
  return streamReply(parts, JSON_HEADERS);
}

function readContents(body: Json): GeminiView {
  let promptTokens = REPLY_PRIMING;
  const system = field(body, 'systemInstruction', 'system_instruction');
  if (typeof system === 'string') promptTokens += PER_MESSAGE + countText(system);
  else if (isRecord(system)) promptTokens += PER_MESSAGE + partsTokens(asArray(system.parts));
  let echoSource = '';
  let afterToolResult = false;
  for (const content of body.contents as unknown[]) {
    if (!isRecord(content)) continue;
    const parts = asArray(content.parts);
    promptTokens += PER_MESSAGE + partsTokens(parts);
    if (content.role === 'model') continue;
    const responses = parts.map((p) => isRecord(p) ? field(p, 'functionResponse', 'function_response') : undefined).filter(isRecord);
    afterToolResult = responses.length > 0;
    echoSource = afterToolResult ? responses.map((r) => JSON.stringify(r.response ?? {})).join('\n') : partsText(parts);
  }
  const tools: ToolSpec[] = [];
  for (const tool of asArray(body.tools)) {
    for (const fn of asArray(field(record(tool), 'functionDeclarations', 'function_declarations'))) {
      if (!isRecord(fn) || typeof fn.name !== 'string') continue;
      const schema = fn.parameters ?? field(fn, 'parametersJsonSchema', 'parameters_json_schema') ?? { type: 'object', properties: {} };
      tools.push({ name: fn.name, schema });
      promptTokens += countText(fn.name) + (typeof fn.description === 'string' ? countText(fn.description) : 0) + countText(JSON.stringify(schema));
    }
  }
  return { echoSource, afterToolResult, tools: allowedTools(body, tools), choice: toolChoice(body), promptTokens };
}

function partsTokens(parts: unknown[]): number {
  let tokens = 0;
  for (const part of parts) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') tokens += countText(part.text);
    else if (field(part, 'inlineData', 'inline_data') || field(part, 'fileData', 'file_data')) tokens += IMAGE_TOKENS;
    else {
      const call = field(part, 'functionCall', 'function_call') ?? field(part, 'functionResponse', 'function_response');
      if (call) tokens += countText(JSON.stringify(call));
    }
  }
  return tokens;
}

function partsText(parts: unknown[]): string {
  const texts: string[] = [];
  for (const part of parts) if (isRecord(part) && typeof part.text === 'string' && part.thought !== true) texts.push(part.text);
  return texts.join('\n');
}

function callingConfig(body: Json): Json {
  return record(field(record(field(body, 'toolConfig', 'tool_config')), 'functionCallingConfig', 'function_calling_config'));
}

function toolChoice(body: Json): ToolChoice {
  const config = callingConfig(body);
  const mode = String(config.mode ?? 'AUTO').toUpperCase();
  if (mode === 'NONE') return { mode: 'none' };
  if (mode !== 'ANY') return { mode: 'auto' };
  const allowed = asArray(field(config, 'allowedFunctionNames', 'allowed_function_names'));
  return allowed.length === 1 && typeof allowed[0] === 'string' ? { mode: 'required', name: allowed[0] } : { mode: 'required' };
}

function allowedTools(body: Json, tools: ToolSpec[]): ToolSpec[] {
  const allowed = asArray(field(callingConfig(body), 'allowedFunctionNames', 'allowed_function_names'));
  return allowed.length > 1 ? tools.filter((t) => allowed.includes(t.name)) : tools;
}

function jsonOutput(config: Json): { schema?: unknown } | undefined {
  if (field(config, 'responseMimeType', 'response_mime_type') !== 'application/json') return undefined;
  const schema = field(config, 'responseJsonSchema', 'response_json_schema') ?? field(config, 'responseSchema', 'response_schema');
  return schema === undefined ? {} : { schema };
}

function hiddenThinkingTokens(config: Json, budget: unknown): number {
  const level = field(config, 'thinkingLevel', 'thinking_level');
  if (typeof level === 'string') return EFFORT_TOKENS[level.toLowerCase()] ?? EFFORT_TOKENS.medium;
  return typeof budget === 'number' && budget > 0 ? Math.min(budget, EFFORT_TOKENS.high) : EFFORT_TOKENS.medium;
}

/** One answer in Gemini's shapes: as a whole, or as the chunks of a stream. */
class GeminiAnswer {
  private readonly plan: AnswerPlan;
  private readonly model: string;
  private readonly promptTokens: number;
  private readonly cachedTokens: number;
  private readonly thinks: boolean;

  constructor(plan: AnswerPlan, model: string, promptTokens: number, cachedTokens: number, thinks: boolean) {
    this.plan = plan;
    this.model = model;
    this.promptTokens = promptTokens;
    this.cachedTokens = cachedTokens;
    this.thinks = thinks;
  }

  whole(): Json {
    const parts: Json[] = [];
    if (this.plan.thinking) parts.push({ text: this.plan.thinking.text, thought: true });
    if (this.plan.text !== '' || this.plan.calls.length === 0) parts.push(this.signed({ text: this.plan.text }, this.plan.calls.length === 0));
    parts.push(...this.callParts());
    const whole = this.chunk(parts, this.candidatesTokens(), true);
    // A whole answer from a thinking model says why it stopped (generate-function-call.vercel.json); streams do not.
    if (this.thinks && this.plan.calls.length > 0) (whole.candidates as Json[])[0].finishMessage = 'Model generated function call(s).';
    return whole;
  }

  chunks(): Json[] {
    const out: Json[] = [];
    // Thinking models report the answer tokens so far on every chunk; older ones only on the last.
    let soFar = 0;
    const add = (parts: Json[], tokens: number): void => {
      soFar += tokens;
      out.push(this.chunk(parts, soFar, false));
    };
    for (const piece of this.plan.thinking?.pieces ?? []) add([{ text: piece, thought: true }], 0);
    for (const piece of this.plan.pieces) add([{ text: piece }], countText(piece));
    if (this.plan.calls.length > 0) add(this.callParts(), this.candidatesTokens() - soFar);
    if (this.thinks || out.length === 0) {
      // Thinking models end with an empty text part (signed when the answer was text).
      out.push(this.chunk([this.signed({ text: '' }, this.plan.calls.length === 0)], this.candidatesTokens(), true));
    } else {
      const last = (out[out.length - 1].candidates as Json[])[0].content as { parts: Json[] };
      out[out.length - 1] = this.chunk(last.parts, this.candidatesTokens(), true);
    }
    return out;
  }

  private candidatesTokens(): number {
    return this.plan.outputTokens - this.plan.reasoningTokens;
  }

  private callParts(): Json[] {
    return this.plan.calls.map((call, i) => this.signed({ functionCall: { name: call.name, args: call.complete ? JSON.parse(call.arguments) : {} } }, i === 0));
  }

  private signed(part: Json, sign: boolean): Json {
    return this.thinks && sign ? { ...part, thoughtSignature: opaqueBlob(`${this.model}:${this.plan.text}`, 4) } : part;
  }

  private chunk(parts: Json[], candidates: number, final: boolean): Json {
    const candidate: Json = { content: { parts, role: 'model' } };
    if (final) candidate.finishReason = this.plan.truncated ? 'MAX_TOKENS' : 'STOP';
    if (this.thinks) candidate.index = 0;
    return { candidates: [candidate], usageMetadata: this.usage(candidates, final), modelVersion: this.model, responseId: ID };
  }

  private usage(candidates: number, final: boolean): Json {
    const thoughts = this.plan.reasoningTokens;
    const usage: Json = { promptTokenCount: this.promptTokens };
    if (final || this.thinks) usage.candidatesTokenCount = candidates;
    usage.totalTokenCount = this.promptTokens + (final || this.thinks ? candidates : 0) + thoughts;
    if (this.cachedTokens > 0) usage.cachedContentTokenCount = this.cachedTokens;
    usage.promptTokensDetails = [{ modality: 'TEXT', tokenCount: this.promptTokens }];
    if (this.cachedTokens > 0) usage.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: this.cachedTokens }];
    if (final && !this.thinks) usage.candidatesTokensDetails = [{ modality: 'TEXT', tokenCount: candidates }];
    if (this.thinks) usage.thoughtsTokenCount = thoughts;
    return usage;
  }
}

function streamError(): string {
  return `${JSON.stringify({ error: { code: 503, message: OVERLOADED, status: 'UNAVAILABLE' } }, null, 2)}\n`;
}

export function embedContent(req: MockRequest, model: string): Reply {
  const body = record(req.body);
  if (!isRecord(body.content)) return geminiError(400, req, '1', '* EmbedContentRequest.content: content is not specified\n');
  return jsonReply(200, { embedding: embedding(body, model) }, JSON_HEADERS, true);
}

export function batchEmbedContents(req: MockRequest, model: string): Reply {
  const requests = asArray(record(req.body).requests).filter(isRecord);
  if (requests.length === 0) return geminiError(400, req, '1', '* BatchEmbedContentsRequest.requests: requests is not specified\n');
  return jsonReply(200, { embeddings: requests.map((r) => embedding(r, typeof r.model === 'string' ? r.model : model)) }, JSON_HEADERS, true);
}

function embedding(request: Json, model: string): { values: number[] } {
  const dims = field(request, 'outputDimensionality', 'output_dimensionality');
  const dimensions = typeof dims === 'number' && dims > 0 ? Math.floor(dims) : model.includes('text-embedding-004') ? 768 : modelDimensions(model);
  return { values: Array.from(embedText(partsText(asArray(record(request.content).parts)), dimensions)) };
}

export function countGeminiTokens(req: MockRequest): Reply {
  const body = record(req.body);
  const contents = Array.isArray(body.contents) ? body : record(field(body, 'generateContentRequest', 'generate_content_request'));
  const tokens = readContents({ ...contents, contents: asArray(contents.contents) }).promptTokens;
  return jsonReply(200, { totalTokens: tokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: tokens }] }, JSON_HEADERS, true);
}

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'],
  403: ['PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."],
  404: ['NOT_FOUND', 'is not found for API version v1beta, or is not supported for generateContent. Call ModelService.ListModels to see the list of available models and their supported methods.'],
  429: ['RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.'],
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  503: ['UNAVAILABLE', OVERLOADED],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

/** Google's error envelope ({error: {code, message, status, details?}}), pretty-printed as Google sends it. */
export function geminiError(status: number, req: MockRequest, retryAfter: string, message?: string, details?: Json[]): Reply {
  const [name, text] = STATUS_NAMES[status] ?? [status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `Request failed with status ${status}.`];
  const model = /models\/([^:/]+)/.exec(req.path)?.[1] ?? 'gemini-2.5-flash';
  const error: Json = { code: status, message: message ?? (status === 404 ? `models/${model} ${text}` : text), status: name };
  if (details) error.details = details;
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (status === 429) {
    error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` }];
    headers['retry-after'] = retryAfter;
  }
  return jsonReply(status, { error }, headers, true);
}

/** Gemini refuses a missing key with 403 and a wrong one with 400 API_KEY_INVALID (error-400-api-key-invalid.json). */
export function geminiKeyCheck(req: MockRequest, apiKey: string): Reply | undefined {
  const key = header(req.headers, 'x-goog-api-key') ?? req.query.get('key') ?? undefined;
  if (key === apiKey) return undefined;
  if (key === undefined) return geminiError(403, req, '0');
  const message = 'API key not valid. Please pass a valid API key.';
  const details = [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ];
  return geminiError(400, req, '0', message, details);
}
