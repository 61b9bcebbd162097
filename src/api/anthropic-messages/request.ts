// POST /v1/messages body (Anthropic Messages API) -> CanonicalRequest.
//
// Reasoning: `thinking` carries a token budget; the gateway has one effort scale.
// The budget maps to the nearest level by these upper bounds (inclusive):
//   <= 1024 minimal, <= 4096 low, <= 12288 medium, <= 28000 high, above: xhigh.
// {type: "disabled"} -> none. {type: "adaptive"} leaves the level to the model's
// default unless `output_config.effort` names one (low, medium, high, xhigh;
// max -> xhigh). An explicit `output_config.effort` wins over a budget.
//
// Fields this module does not know go to `extra` (passed on as they came to
// OpenAI-compatible upstreams, reported by translating providers). The top-level
// `cache_control` is a caching hint like the per-block ones and is ignored.
//
// Refused at once: what the gateway needs (model, max_tokens, messages as an array,
// stream, image data). Everything else that is invalid, and server tools, is noted
// (../untranslatable.ts): a relay to Claude passes it, a translation refuses it.

import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type { CanonicalRequest, Message, ReasoningEffort, ResponseFormat, ToolChoice, ToolDefinition, Untranslatable } from '../../canonical/types.ts';
import {
  isObject,
  optionalBoolean,
  optionalNumberInRange,
  optionalString,
  requireArray,
  requireInteger,
  requireNonEmptyString,
  requireObject,
  type JsonObject,
} from '../fields.ts';
import { parseMessages, parseSystem } from './messages.ts';
import { NotTranslatable, attachNotes, tolerate, tolerateList } from '../untranslatable.ts';

/** Upper budget bound (inclusive) of each level, lowest first; above the last is xhigh. */
const THINKING_BUDGET_LEVELS: ReadonlyArray<readonly [number, ReasoningEffort]> = [
  [1024, 'minimal'],
  [4096, 'low'],
  [12288, 'medium'],
  [28000, 'high'],
];

const OUTPUT_EFFORTS: Readonly<Record<string, ReasoningEffort>> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' };

const KNOWN_FIELDS = new Set([
  'model', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'stop_sequences', 'temperature', 'top_p', 'top_k',
  'metadata', 'stream', 'thinking', 'output_format', 'output_config', 'cache_control',
]);

export function parseMessagesRequest(body: unknown): CanonicalRequest {
  const root = requireObject(body, 'body', 'a JSON object (the Messages API request)');
  const notes: Untranslatable[] = [];
  const model = requireNonEmptyString(root.model, 'model', 'a model id string');
  if (root.max_tokens === undefined) throw invalidRequest("Missing required field 'max_tokens': the Messages API needs the maximum number of tokens to generate (a positive integer).", 'max_tokens', 'missing_field');
  const maxOutputTokens = requireInteger(root.max_tokens, 'max_tokens', 1);

  const messages: Message[] = [];
  const system = tolerate(notes, root.system, parseSystem, root.system);
  if (system !== undefined) messages.push(system);
  if (root.messages === undefined) throw invalidRequest("Missing required field 'messages': send a non-empty array of user/assistant messages.", 'messages', 'missing_field');
  parseMessages(root.messages, messages, notes);

  const request: CanonicalRequest = { model, messages, maxOutputTokens, stream: optionalBoolean(root.stream, 'stream') ?? false };
  const tools = parseTools(root.tools, notes);
  if (tools !== undefined) request.tools = tools;
  tolerate(notes, undefined, parseToolChoice, root.tool_choice, tools, request);
  const stop = tolerate(notes, undefined, parseStopSequences, root.stop_sequences);
  if (stop !== undefined) request.stop = stop;
  const temperature = tolerate(notes, undefined, optionalNumberInRange, root.temperature, 'temperature', 0, 1);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = tolerate(notes, undefined, optionalNumberInRange, root.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const user = tolerate(notes, undefined, parseMetadataUser, root.metadata);
  if (user !== undefined) request.user = user;
  const effort = tolerate(notes, undefined, parseReasoningEffort, root.thinking, root.output_config);
  if (effort !== undefined) request.reasoningEffort = effort;
  const format = tolerate(notes, undefined, parseOutputFormat, root.output_format, root.output_config);
  if (format !== undefined) request.responseFormat = format;
  const extra = collectExtra(root, notes);
  if (extra !== undefined) request.extra = extra;
  return attachNotes(request, notes);
}

/** The level for an Anthropic thinking budget (see the table at the top). */
export function effortForThinkingBudget(budgetTokens: number): ReasoningEffort {
  for (const [upTo, level] of THINKING_BUDGET_LEVELS) if (budgetTokens <= upTo) return level;
  return 'xhigh';
}

function parseTools(value: unknown, notes: Untranslatable[]): ToolDefinition[] | undefined {
  return tolerateList(notes, value, 'tools', 'an array of tool definitions', parseTool);
}

function parseTool(value: unknown, path: string): ToolDefinition {
  const tool = requireObject(value, path, 'a tool {"name", "description", "input_schema"}');
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    if (typeof tool.type !== 'string') throw invalidField(`${path}.type`, '"custom" or a server tool type', tool.type);
    throw new NotTranslatable(`${path}.type`, `'${tool.type}'`, 'unsupported_tool_type',
      "Server tools run inside Anthropic's API; for other models define a custom tool with name, description and input_schema.");
  }
  const name = requireNonEmptyString(tool.name, `${path}.name`, 'a non-empty tool name');
  const parameters = requireObject(tool.input_schema, `${path}.input_schema`, 'a JSON Schema object for the tool input');
  const definition: ToolDefinition = { name, parameters };
  const description = optionalString(tool.description, `${path}.description`);
  if (description !== undefined && description.length > 0) definition.description = description;
  const strict = optionalBoolean(tool.strict, `${path}.strict`);
  if (strict !== undefined) definition.strict = strict;
  return definition;
}

function parseToolChoice(value: unknown, tools: ToolDefinition[] | undefined, request: CanonicalRequest): void {
  if (value === undefined || value === null) return;
  const choice = requireObject(value, 'tool_choice', 'an object {"type": "auto" | "any" | "tool" | "none"}');
  let toolChoice: ToolChoice;
  switch (choice.type) {
    case 'auto': toolChoice = 'auto'; break;
    case 'any': toolChoice = 'required'; break;
    case 'none': toolChoice = 'none'; break;
    case 'tool': {
      const name = requireNonEmptyString(choice.name, 'tool_choice.name', 'the name of the tool to call');
      if (tools !== undefined && !tools.some((tool) => tool.name === name)) {
        throw invalidField('tool_choice.name', `the name of one of the tools in 'tools'`, name);
      }
      toolChoice = { name };
      break;
    }
    default:
      throw invalidField('tool_choice.type', '"auto", "any", "tool" or "none"', choice.type);
  }
  request.toolChoice = toolChoice;
  if (optionalBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use') === true) request.parallelToolCalls = false;
}

function parseStopSequences(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = requireArray(value, 'stop_sequences', 'an array of strings');
  for (let i = 0; i < list.length; i++) requireNonEmptyString(list[i], `stop_sequences[${i}]`);
  return list.length === 0 ? undefined : (list as string[]);
}

function parseMetadataUser(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const metadata = requireObject(value, 'metadata', 'an object {"user_id": string}');
  const userId = optionalString(metadata.user_id, 'metadata.user_id');
  return userId === undefined || userId.length === 0 ? undefined : userId;
}

function parseReasoningEffort(thinkingValue: unknown, outputConfigValue: unknown): ReasoningEffort | undefined {
  const explicit = parseOutputEffort(outputConfigValue);
  if (thinkingValue === undefined || thinkingValue === null) return explicit;
  const thinking = requireObject(thinkingValue, 'thinking', 'an object {"type": "enabled", "budget_tokens": n} or {"type": "disabled"}');
  switch (thinking.type) {
    case 'disabled':
      return 'none';
    case 'enabled': {
      const budget = requireInteger(thinking.budget_tokens, 'thinking.budget_tokens', 1);
      return explicit ?? effortForThinkingBudget(budget);
    }
    case 'adaptive':
      return explicit;
    default:
      throw invalidField('thinking.type', '"enabled", "disabled" or "adaptive"', thinking.type);
  }
}

function parseOutputEffort(value: unknown): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  const config = requireObject(value, 'output_config', 'an object {"effort", "format"}');
  if (config.effort === undefined || config.effort === null) return undefined;
  const effort = typeof config.effort === 'string' ? OUTPUT_EFFORTS[config.effort] : undefined;
  if (effort === undefined) throw invalidField('output_config.effort', '"low", "medium", "high", "xhigh" or "max"', config.effort);
  return effort;
}

/** `output_config.format` (current) or `output_format` (structured-outputs beta): {type: "json_schema", schema}. */
function parseOutputFormat(outputFormat: unknown, outputConfig: unknown): ResponseFormat | undefined {
  const fromConfig = isObject(outputConfig) ? outputConfig.format : undefined;
  const [value, path] = fromConfig !== undefined && fromConfig !== null ? [fromConfig, 'output_config.format'] : [outputFormat, 'output_format'];
  if (value === undefined || value === null) return undefined;
  const format = requireObject(value, path, 'an object {"type": "json_schema", "schema": {...}}');
  if (format.type !== 'json_schema') throw invalidField(`${path}.type`, '"json_schema"', format.type);
  const schema = requireObject(format.schema, `${path}.schema`, 'a JSON Schema object');
  // Anthropic's structured outputs always constrain decoding to the schema: strict.
  return { type: 'json_schema', name: 'output', schema, strict: true };
}

function collectExtra(root: JsonObject, notes: Untranslatable[]): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key in root) {
    if (KNOWN_FIELDS.has(key)) continue;
    (extra ??= {})[key] = root[key];
  }
  const topK = root.top_k === undefined || root.top_k === null ? undefined : tolerate(notes, undefined, requireInteger, root.top_k, 'top_k', 0);
  if (topK !== undefined) (extra ??= {}).top_k = topK;
  return extra;
}
