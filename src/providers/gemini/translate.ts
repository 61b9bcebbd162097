// Canonical <-> Gemini generateContent, as pure functions. Wire shapes follow the
// recordings in fixtures/gemini/.
//
// Images: base64 data (or a data: URL) is sent as inlineData; an http(s) URL is sent
// as fileData.fileUri, which Gemini fetches itself (the gateway downloads nothing;
// models or URLs Gemini cannot fetch are refused by Gemini with a 400, relayed as such).
//
// Thought signatures: a signature on a function call travels in the tool-call id
// (see ids.ts); a signature on a thought part is that ReasoningPart's signature; a
// signature on a text part becomes an empty ReasoningPart right before that text.
// All are stored as `gemini:<signature>` and go back onto the same kind of part.
import { randomUUID } from 'node:crypto';
import { invalidRequest } from '../../canonical/errors.ts';
import type {
  AssistantContent,
  CanonicalRequest,
  CanonicalResponse,
  FinishReason,
  ImagePart,
  Message,
  ToolChoice,
  Usage,
} from '../../canonical/types.ts';
import { hasLaterSystemMessage } from '../../canonical/types.ts';
import type { EmbeddingsRequest, EmbeddingsResponse, Target } from '../types.ts';
import { GEMINI_SIGNATURE_PREFIX, SKIP_SIGNATURE_VALIDATION, geminiSignature, signatureOfToolCallId, toolCallId, toolCallIdBase } from './ids.ts';
import { toGeminiSchema } from './schema.ts';
import { readGeminiUsage } from '../usage.ts';

export type GeminiPart = Record<string, unknown>;
export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}
export interface GeminiRequestBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parameters?: Record<string, unknown> }> }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig: Record<string, unknown>;
}

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' };

/** The generateContent body for a canonical request. Fields Gemini cannot take are described in `warnings`. */
export function toGeminiRequest(request: CanonicalRequest, target: Target, warnings: string[] = []): GeminiRequestBody {
  const requireSignatures = /gemini-3/.test(target.deployment.upstreamModel);
  const { system, contents } = toGeminiContents(request.messages, requireSignatures);
  const body: GeminiRequestBody = { contents, generationConfig: generationConfig(request, target, warnings) };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (hasLaterSystemMessage(request.messages)) warnings.push('system messages inside the conversation were moved into systemInstruction (Gemini has no other place for them).');
  if (request.tools?.length) {
    body.tools = [{
      functionDeclarations: request.tools.map((tool) => {
        const declaration: { name: string; description?: string; parameters?: Record<string, unknown> } = { name: tool.name };
        if (tool.description !== undefined) declaration.description = tool.description;
        if (tool.parameters) declaration.parameters = toGeminiSchema(tool.parameters);
        return declaration;
      }),
    }];
    if (request.toolChoice !== undefined) body.toolConfig = { functionCallingConfig: functionCalling(request.toolChoice) };
    if (request.tools.some((tool) => tool.strict)) warnings.push('strict tool schemas are not enforced by Gemini; the schemas were sent in its supported subset.');
    if (request.parallelToolCalls === false) warnings.push('parallel_tool_calls=false is not supported by Gemini; the model may still call several tools at once.');
  }
  if (request.n !== undefined && request.n > 1) warnings.push(`n=${request.n} is not supported through Gemini here; one answer was generated.`);
  if (request.user) warnings.push("'user' is not supported by Gemini and was not sent.");
  if (request.metadata && Object.keys(request.metadata).length > 0) warnings.push('metadata is not supported by Gemini and was not sent.');
  for (const key of Object.keys(request.extra ?? {})) warnings.push(`'${key}' is not supported by Gemini and was not sent.`);
  return body;
}

function generationConfig(request: CanonicalRequest, target: Target, warnings: string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (request.maxOutputTokens !== undefined) config.maxOutputTokens = request.maxOutputTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.stop?.length) config.stopSequences = request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  const format = request.responseFormat;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    const { $schema: _drop, ...schema } = format.schema;
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = schema;
  }
  const level = request.reasoningEffort;
  if (level !== undefined) {
    const mapped = target.model.reasoning?.map?.[level];
    if (typeof mapped === 'number') config.thinkingConfig = mapped === 0 ? { thinkingBudget: 0 } : { thinkingBudget: mapped, includeThoughts: true };
    else if (typeof mapped === 'string') config.thinkingConfig = { thinkingLevel: mapped, includeThoughts: true };
    else if (level !== 'none') warnings.push(`reasoning_effort '${level}' was not sent: ${target.model.id} has no thinking setting configured for it.`);
  }
  return config;
}

function functionCalling(choice: ToolChoice): NonNullable<GeminiRequestBody['toolConfig']>['functionCallingConfig'] {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.name] };
}

function toGeminiContents(messages: Message[], requireSignatures: boolean): { system: string[]; contents: GeminiContent[] } {
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  // Gemini answers tool calls by function name; the canonical tool message carries only the id.
  const toolNames = new Map<string, string>();
  const append = (role: GeminiContent['role'], parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
        if (message.content) system.push(message.content);
        break;
      case 'user':
        append('user', message.content.map((part) => (part.type === 'text' ? { text: part.text } : imagePart(part))));
        break;
      case 'assistant':
        append('model', modelParts(message.content, toolNames, requireSignatures, i));
        break;
      case 'tool': {
        const name = toolNames.get(message.toolCallId);
        if (!name) throw invalidRequest(`messages[${i}] answers tool call '${message.toolCallId}', which no earlier assistant message made; Gemini needs the function name.`, `messages[${i}].tool_call_id`);
        append('user', [{ functionResponse: { name, response: functionResponse(message.content, message.isError) } }]);
        break;
      }
    }
  });
  return { system, contents };
}

function imagePart(part: ImagePart): GeminiPart {
  if (part.data) return { inlineData: { mimeType: part.mediaType ?? 'image/png', data: part.data } };
  const url = part.url ?? '';
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (inline) return { inlineData: { mimeType: inline[1], data: inline[2] } };
  const mimeType = part.mediaType ?? IMAGE_TYPES[/\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? ''];
  return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
}

function modelParts(content: AssistantContent[], toolNames: Map<string, string>, requireSignatures: boolean, messageIndex: number): GeminiPart[] {
  const parts: GeminiPart[] = [];
  let pendingSignature: string | undefined;
  for (const part of content) {
    if (part.type === 'reasoning') {
      // Only Gemini's own signed thoughts mean anything to Gemini; summaries and other providers' reasoning are dropped.
      const signature = geminiSignature(part.signature);
      if (!signature) continue;
      if (part.text) parts.push({ text: part.text, thought: true, thoughtSignature: signature });
      else pendingSignature = signature;
    } else if (part.type === 'text') {
      if (!part.text && !pendingSignature) continue;
      parts.push(pendingSignature ? { text: part.text, thoughtSignature: pendingSignature } : { text: part.text });
      pendingSignature = undefined;
    } else {
      toolNames.set(part.id, part.name);
      const signature = signatureOfToolCallId(part.id) ?? pendingSignature ?? (requireSignatures ? SKIP_SIGNATURE_VALIDATION : undefined);
      pendingSignature = undefined;
      const call: GeminiPart = { functionCall: { name: part.name, args: parseArguments(part.arguments, part.name, messageIndex) } };
      if (signature) call.thoughtSignature = signature;
      parts.push(call);
    }
  }
  if (pendingSignature) parts.push({ text: '', thoughtSignature: pendingSignature });
  return parts;
}

function parseArguments(text: string, name: string, messageIndex: number): unknown {
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw invalidRequest(`messages[${messageIndex}]: the arguments of the tool call to '${name}' are not a JSON object; Gemini needs function arguments as objects.`, `messages[${messageIndex}].tool_calls`);
}

/** Gemini wants an object: a JSON object result is sent as it is, anything else wrapped. */
function functionResponse(content: string, isError: boolean | undefined): Record<string, unknown> {
  let value: unknown = content;
  try {
    value = JSON.parse(content);
  } catch {
    // plain text result
  }
  if (isError) return { error: value };
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { result: value };
}

// ---- response ----

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiDecodeOptions {
  warnings?: string[];
  /** Reported as the model when the response names none. */
  model?: string;
}

/** A generateContent response as canonical. */
export function fromGeminiResponse(json: unknown, options: GeminiDecodeOptions = {}): CanonicalResponse {
  const response = json as Record<string, any>;
  const candidate = response.candidates?.[0];
  const base = toolCallIdBase(response.responseId);
  const content: AssistantContent[] = [];
  let toolCalls = 0;
  for (const part of (candidate?.content?.parts ?? []) as Array<Record<string, any>>) {
    if (part.thought) appendThought(content, part.text ?? '', part.thoughtSignature);
    else if (part.functionCall) {
      content.push({ type: 'tool_call', id: toolCallId(base, toolCalls++, part.thoughtSignature), name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) });
    } else if (typeof part.text === 'string') {
      if (part.thoughtSignature) content.push({ type: 'reasoning', text: '', signature: GEMINI_SIGNATURE_PREFIX + part.thoughtSignature });
      if (part.text) appendText(content, part.text);
    }
  }
  const blocked = response.promptFeedback?.blockReason as string | undefined;
  const rawReason = (candidate?.finishReason as string | undefined) ?? (blocked ? `PROMPT_${blocked}` : undefined);
  const out: CanonicalResponse = {
    id: response.responseId ?? `gemini-${randomUUID()}`,
    model: response.modelVersion ?? options.model ?? '',
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: geminiFinishReason(rawReason, toolCalls > 0),
    usage: geminiUsage(response.usageMetadata),
  };
  if (rawReason) out.providerFinishReason = rawReason;
  if (options.warnings?.length) out.warnings = options.warnings;
  return out;
}

function appendThought(content: AssistantContent[], text: string, signature: string | undefined): void {
  const last = content[content.length - 1];
  if (last?.type === 'reasoning' && !last.signature) last.text += text;
  else content.push({ type: 'reasoning', text });
  if (signature) (content[content.length - 1] as { signature?: string }).signature = GEMINI_SIGNATURE_PREFIX + signature;
}

function appendText(content: AssistantContent[], text: string): void {
  const last = content[content.length - 1];
  if (last?.type === 'text') last.text += text;
  else content.push({ type: 'text', text });
}

export function geminiFinishReason(reason: string | undefined, madeToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY': case 'RECITATION': case 'BLOCKLIST': case 'PROHIBITED_CONTENT': case 'SPII':
    case 'IMAGE_SAFETY': case 'IMAGE_PROHIBITED_CONTENT': case 'IMAGE_RECITATION':
      return 'content_filter';
    case 'MALFORMED_FUNCTION_CALL': case 'UNEXPECTED_TOOL_CALL': case 'TOO_MANY_TOOL_CALLS':
      return 'error';
    default:
      if (reason?.startsWith('PROMPT_')) return 'content_filter';
      // Gemini says STOP also when it called functions.
      return madeToolCalls ? 'tool_calls' : 'stop';
  }
}

/** promptTokenCount already includes cached tokens; output is candidates plus thoughts. */
export function geminiUsage(usage: GeminiUsageMetadata | undefined): Usage {
  return readGeminiUsage(usage);
}

// ---- embeddings ----

/** embedContent for one input, batchEmbedContents for several. */
export function toGeminiEmbedRequest(request: EmbeddingsRequest, upstreamModel: string): { method: 'embedContent' | 'batchEmbedContents'; body: Record<string, unknown> } {
  const one = (text: string): Record<string, unknown> => {
    const item: Record<string, unknown> = { model: `models/${upstreamModel}`, content: { parts: [{ text }] } };
    if (request.dimensions !== undefined) item.outputDimensionality = request.dimensions;
    return item;
  };
  if (request.input.length === 1) return { method: 'embedContent', body: one(request.input[0]) };
  return { method: 'batchEmbedContents', body: { requests: request.input.map(one) } };
}

export function fromGeminiEmbedResponse(json: unknown, model: string): EmbeddingsResponse {
  const response = json as { embedding?: { values?: number[] }; embeddings?: Array<{ values?: number[] }>; usageMetadata?: GeminiUsageMetadata };
  const vectors = response.embeddings ?? (response.embedding ? [response.embedding] : []);
  return {
    model,
    embeddings: vectors.map((vector) => vector.values ?? []),
    // Gemini's embedding answers usually carry no token counts: 0 here means "not reported".
    usage: geminiUsage(response.usageMetadata),
  };
}
