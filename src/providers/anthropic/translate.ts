// Canonical <-> Anthropic Messages API, as pure functions. Wire shapes follow the
// recordings in fixtures/anthropic/.
//
// JSON output: Anthropic has no response_format, so a JSON request becomes one extra
// tool (named by `jsonToolName`) whose input schema is the requested schema; the
// model answers by "calling" it and the decoders turn that call back into text.
// Without user tools the tool is forced; with user tools tool_choice becomes `any`
// so the answer still arrives through a tool. Forcing is not allowed while thinking
// is on, so then tool_choice stays `auto` (with a warning).
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
  UserContent,
} from '../../canonical/types.ts';
import { hasLaterSystemMessage } from '../../canonical/types.ts';
import type { Target } from '../types.ts';
import { readAnthropicUsage } from '../usage.ts';

export const ANTHROPIC_VERSION = '2023-06-01';
const JSON_TOOL = 'json';
const JSON_TOOL_FALLBACK = 'json_response';
/** Anthropic rejects a thinking budget below this. */
const MIN_THINKING_BUDGET = 1024;

type Block = Record<string, unknown>;
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Block[];
}
export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}
export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | Array<{ type: 'text'; text: string }>;
  tools?: AnthropicTool[];
  tool_choice?: { type: 'auto' | 'any' | 'none' | 'tool'; name?: string; disable_parallel_tool_use?: boolean };
  thinking?: { type: 'enabled'; budget_tokens: number };
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  stream?: boolean;
}

/** The name of the tool that carries a JSON answer, or undefined when none is asked for. */
export function jsonToolName(request: CanonicalRequest): string | undefined {
  const format = request.responseFormat;
  if (!format || format.type === 'text') return undefined;
  return request.tools?.some((tool) => tool.name === JSON_TOOL) ? JSON_TOOL_FALLBACK : JSON_TOOL;
}

/**
 * max_tokens and the thinking budget this request is sent with. The output cap the
 * request carries (the client's, or the one its key's budget was reserved for) is the
 * whole output, thinking included, as max_completion_tokens is on OpenAI: max_tokens
 * never exceeds it, so a hard budget holds. Anthropic needs budget < max_tokens, so a
 * mapped budget that does not fit shrinks to half the cap (Anthropic's minimum is
 * 1024), or thinking is left off when the cap is smaller than twice that; `note` says which.
 */
export function anthropicOutputBudget(request: CanonicalRequest, target: Target): { maxTokens: number; thinkingBudget: number; note?: string } {
  const modelMax = target.model.maxOutputTokens;
  const maxTokens = Math.min(request.maxOutputTokens ?? modelMax, modelMax);
  const level = request.reasoningEffort;
  const mapped = level === undefined ? undefined : target.model.reasoning?.map?.[level];
  const wanted = typeof mapped === 'number' && mapped > 0 ? mapped : 0;
  if (wanted === 0 || wanted < maxTokens) return { maxTokens, thinkingBudget: wanted };
  const budget = Math.floor(maxTokens / 2);
  if (budget < MIN_THINKING_BUDGET) {
    return { maxTokens, thinkingBudget: 0, note: `reasoning_effort '${level}' was sent without thinking: the output cap of ${maxTokens} tokens leaves no room for Anthropic's minimum thinking budget of ${MIN_THINKING_BUDGET} tokens plus an answer. Allow at least ${2 * MIN_THINKING_BUDGET} output tokens to think.` };
  }
  return { maxTokens, thinkingBudget: budget, note: `reasoning_effort '${level}' thinks with ${budget} tokens instead of ${wanted}: thinking counts against the output cap of ${maxTokens} tokens. Raise max_tokens (or the key's output cap) for the full budget.` };
}

/** The Messages API body for a canonical request. Fields Anthropic cannot take are described in `warnings`. */
export function toAnthropicRequest(request: CanonicalRequest, target: Target, warnings: string[] = []): AnthropicRequestBody {
  const { system, messages } = toAnthropicMessages(request.messages);
  const { maxTokens, thinkingBudget, note } = anthropicOutputBudget(request, target);
  const body: AnthropicRequestBody = { model: target.deployment.upstreamModel, max_tokens: maxTokens, messages };
  if (note) warnings.push(note);
  if (request.maxOutputTokens !== undefined && request.maxOutputTokens > target.model.maxOutputTokens) {
    warnings.push(`max_tokens ${request.maxOutputTokens} is above ${target.model.id}'s maximum output; ${target.model.maxOutputTokens} was sent.`);
  }
  if (system.length === 1) body.system = system[0];
  else if (system.length > 1) body.system = system.map((text) => ({ type: 'text' as const, text }));
  if (hasLaterSystemMessage(request.messages)) warnings.push('system messages inside the conversation were moved into the top-level system prompt.');
  if (thinkingBudget > 0) body.thinking = { type: 'enabled', budget_tokens: thinkingBudget };
  else if (request.reasoningEffort && request.reasoningEffort !== 'none' && !target.model.reasoning?.map) {
    warnings.push(`reasoning_effort '${request.reasoningEffort}' was not sent: ${target.model.id} has no thinking budget configured.`);
  }
  addTools(body, request, thinkingBudget > 0, warnings);
  addSampling(body, request, thinkingBudget > 0, warnings);
  if (request.stream) body.stream = true;
  return body;
}

function toAnthropicMessages(input: Message[]): { system: string[]; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const append = (role: 'user' | 'assistant', blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    // Consecutive tool results (and a user turn after them) form one user turn.
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (let i = 0; i < input.length; i++) {
    const message = input[i];
    switch (message.role) {
      case 'system':
        if (message.content) system.push(message.content);
        break;
      case 'user':
        append('user', message.content.flatMap(userBlock));
        break;
      case 'tool':
        append('user', [toolResultBlock(message)]);
        break;
      case 'assistant':
        append('assistant', assistantBlocks(message.content, i));
        break;
    }
  }
  return { system, messages };
}

function userBlock(part: UserContent): Block[] {
  if (part.type === 'text') return part.text ? [{ type: 'text', text: part.text }] : [];
  return [imageBlock(part)];
}

function imageBlock(part: ImagePart): Block {
  if (part.data) return { type: 'image', source: { type: 'base64', media_type: part.mediaType ?? 'image/png', data: part.data } };
  const inline = part.url ? /^data:([^;,]+);base64,(.*)$/s.exec(part.url) : null;
  if (inline) return { type: 'image', source: { type: 'base64', media_type: inline[1], data: inline[2] } };
  return { type: 'image', source: { type: 'url', url: part.url ?? '' } };
}

function toolResultBlock(message: Extract<Message, { role: 'tool' }>): Block {
  const block: Block = { type: 'tool_result', tool_use_id: anthropicToolId(message.toolCallId), content: message.content };
  if (message.isError !== undefined) block.is_error = message.isError;
  return block;
}

function assistantBlocks(content: AssistantContent[], messageIndex: number): Block[] {
  const blocks: Block[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text) blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'reasoning') {
      // Only Anthropic's own thinking can go back: it must carry Anthropic's signature.
      if (part.redacted && isAnthropicSignature(part.redacted)) blocks.push({ type: 'redacted_thinking', data: part.redacted });
      else if (part.signature && isAnthropicSignature(part.signature)) blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature });
    } else {
      blocks.push({ type: 'tool_use', id: anthropicToolId(part.id), name: part.name, input: parseToolArguments(part.arguments, messageIndex, part.name) });
    }
  }
  return blocks;
}

/** Anthropic signatures are base64; other providers' signatures are stored as `<provider>:<value>`. */
function isAnthropicSignature(value: string): boolean {
  return !value.includes(':');
}

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; ids minted elsewhere may not. */
const ENCODED_ID = 'syenc_';

/**
 * Anthropic takes tool ids of [A-Za-z0-9_-] only. Other ids are base64url-encoded
 * behind a prefix, which is one-to-one (two ids never collide), and the same id
 * maps the same way in the call and in its result.
 */
function anthropicToolId(id: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(id) && !id.startsWith(ENCODED_ID)) return id;
  return ENCODED_ID + Buffer.from(id, 'utf8').toString('base64url');
}

function parseToolArguments(text: string, messageIndex: number, name: string): unknown {
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw invalidRequest(
    `messages[${messageIndex}]: the arguments of the tool call to '${name}' are not a JSON object; Anthropic needs tool inputs as objects.`,
    `messages[${messageIndex}].tool_calls`,
  );
}

function addTools(body: AnthropicRequestBody, request: CanonicalRequest, thinking: boolean, warnings: string[]): void {
  const tools: AnthropicTool[] = (request.tools ?? []).map((tool) => {
    const out: AnthropicTool = { name: tool.name, input_schema: tool.parameters ?? { type: 'object', properties: {} } };
    if (tool.description !== undefined) out.description = tool.description;
    return out;
  });
  if (request.tools?.some((tool) => tool.strict)) warnings.push('strict tool schemas are not enforced by Anthropic; the schemas were sent as plain input schemas.');
  const jsonTool = jsonToolName(request);
  let choice = tools.length > 0 ? toolChoice(request.toolChoice) : undefined;
  if (jsonTool) {
    const format = request.responseFormat!;
    const schema = format.type === 'json_schema' ? format.schema : { type: 'object' };
    const description = format.type === 'json_schema' && format.description ? format.description : 'Give the final answer as a JSON object by calling this tool.';
    if (choice?.type === 'none' || tools.length === 0) choice = { type: 'tool', name: jsonTool };
    else if (!choice || choice.type === 'auto') choice = { type: 'any' };
    tools.push({ name: jsonTool, description, input_schema: schema });
  }
  if (tools.length === 0) return;
  body.tools = tools;
  if (choice && thinking && (choice.type === 'any' || choice.type === 'tool')) {
    warnings.push(`tool_choice '${choice.name ?? 'required'}' cannot be forced while thinking is enabled on Anthropic; it was sent as 'auto'.`);
    choice = { type: 'auto' };
  }
  if (request.parallelToolCalls === false) {
    choice ??= { type: 'auto' };
    if (choice.type !== 'none') choice.disable_parallel_tool_use = true;
  }
  if (choice) body.tool_choice = choice;
}

function toolChoice(choice: ToolChoice | undefined): NonNullable<AnthropicRequestBody['tool_choice']> | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any' };
  return { type: 'tool', name: choice.name };
}

function addSampling(body: AnthropicRequestBody, request: CanonicalRequest, thinking: boolean, warnings: string[]): void {
  if (request.temperature !== undefined) {
    if (thinking) warnings.push('temperature was not sent: Anthropic does not accept it while thinking is enabled.');
    else if (request.temperature > 1) {
      body.temperature = 1;
      warnings.push(`temperature ${request.temperature} was sent as 1: Anthropic accepts 0 to 1.`);
    } else body.temperature = request.temperature;
  }
  if (request.topP !== undefined) {
    if (thinking && request.topP < 0.95) warnings.push('top_p was not sent: with thinking enabled Anthropic accepts only values from 0.95 to 1.');
    else if (body.temperature !== undefined) warnings.push('top_p was not sent: Anthropic accepts temperature or top_p, not both.');
    else body.top_p = request.topP;
  }
  if (request.stop?.length) body.stop_sequences = request.stop;
  if (request.user) body.metadata = { user_id: request.user };
  if (request.n !== undefined && request.n > 1) warnings.push(`n=${request.n} is not supported by Anthropic; one answer was generated.`);
  if (request.seed !== undefined) warnings.push('seed is not supported by Anthropic and was not sent.');
  if (request.metadata && Object.keys(request.metadata).length > 0) warnings.push("metadata was not sent: Anthropic accepts only a user id (taken from 'user').");
  for (const key of Object.keys(request.extra ?? {})) warnings.push(`'${key}' is not supported by Anthropic and was not sent.`);
}

// ---- response ----

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export interface DecodeOptions {
  /** The JSON-answer tool of the request (see `jsonToolName`): its call becomes text. */
  jsonToolName?: string;
  warnings?: string[];
}

/** A non-streamed Messages API response as canonical. */
export function fromAnthropicResponse(json: unknown, options: DecodeOptions = {}): CanonicalResponse {
  const message = json as { id?: string; model?: string; content?: Block[]; stop_reason?: string | null; usage?: AnthropicUsage };
  const content: AssistantContent[] = [];
  let toolCalls = 0;
  for (const block of message.content ?? []) {
    switch (block.type) {
      case 'text':
        content.push({ type: 'text', text: String(block.text ?? '') });
        break;
      case 'thinking':
        content.push({ type: 'reasoning', text: String(block.thinking ?? ''), signature: block.signature as string | undefined });
        break;
      case 'redacted_thinking':
        content.push({ type: 'reasoning', text: '', redacted: String(block.data ?? '') });
        break;
      case 'tool_use': {
        const args = JSON.stringify(block.input ?? {});
        if (block.name === options.jsonToolName) content.push({ type: 'text', text: args });
        else {
          toolCalls++;
          content.push({ type: 'tool_call', id: String(block.id), name: String(block.name), arguments: args });
        }
        break;
      }
      // Server-tool blocks (web search and the like) have no canonical form.
    }
  }
  const response: CanonicalResponse = {
    id: message.id ?? '',
    model: message.model ?? '',
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: anthropicFinishReason(message.stop_reason, toolCalls > 0),
    usage: anthropicUsage(message.usage),
  };
  if (message.stop_reason) response.providerFinishReason = message.stop_reason;
  if (options.warnings?.length) response.warnings = options.warnings;
  return response;
}

export function anthropicFinishReason(stopReason: string | null | undefined, madeToolCalls: boolean): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      // A call to the JSON-answer tool is the answer itself, not a tool call.
      return madeToolCalls ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Anthropic reports input in three parts; canonical input is their sum (read by the one Anthropic usage reader). */
export function anthropicUsage(usage: AnthropicUsage | undefined): Usage {
  return readAnthropicUsage(usage);
}

/**
 * A stream's usage so far: message_start carries input and cache counts, message_delta
 * the final output (and, on newer models, repeated input counts). Nulls say nothing.
 */
export function mergeAnthropicUsage(into: Record<string, unknown>, reported: unknown): void {
  if (typeof reported !== 'object' || reported === null) return;
  const fields = reported as Record<string, unknown>;
  for (const key in fields) if (fields[key] !== null && fields[key] !== undefined) into[key] = fields[key];
}
