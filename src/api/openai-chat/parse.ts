// A client's Chat Completions request body -> CanonicalRequest, naming the exact path
// of an invalid field. Fields it does not know are kept in `extra`, unchanged, for
// OpenAI-compatible upstreams. What the gateway needs itself (model, messages as an
// array, stream, output cap, image data) is refused at once; everything else that is
// invalid or untranslatable is noted on the request (see ../untranslatable.ts).
import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type {
  AssistantContent, CanonicalRequest, Message, ResponseFormat, ToolChoice, ToolDefinition, Untranslatable, UserContent,
} from '../../canonical/types.ts';
import {
  isObject, missingField, optionalBoolean, optionalImageDetail, optionalInteger, optionalJsonSchema, optionalMetadata,
  optionalNumberInRange, optionalPositiveInteger, optionalReasoningEffort, optionalString, parseImageUrl,
  parseJsonSchemaFormat, requireName, requireNonEmptyString, requireObject, requireString,
} from './fields.ts';
import type { JsonObject } from './fields.ts';
import { joinTextParts } from '../fields.ts';
import { NotTranslatable, attachNotes, tolerate, tolerateList } from '../untranslatable.ts';

const HANDLED_FIELDS = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'max_tokens',
  'max_completion_tokens', 'reasoning_effort', 'temperature', 'top_p', 'n', 'stop', 'seed', 'user', 'metadata',
  'stream', 'stream_options',
]);

const ROLES = 'one of system, developer, user, assistant, tool';

export function parseChatRequest(body: unknown): CanonicalRequest {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object with "model" and "messages".', null, 'invalid_body');
  const notes: Untranslatable[] = [];
  const request: CanonicalRequest = {
    model: requireNonEmptyString(body.model, 'model', 'a model id string'),
    messages: parseMessages(body.messages, notes),
    stream: optionalBoolean(body.stream, 'stream') ?? false,
  };
  const maxTokens = optionalPositiveInteger(body.max_tokens, 'max_tokens');
  const maxCompletionTokens = optionalPositiveInteger(body.max_completion_tokens, 'max_completion_tokens');
  const maxOutput = maxCompletionTokens ?? maxTokens;
  if (maxOutput !== undefined) request.maxOutputTokens = maxOutput;
  for (const field of LEGACY_FUNCTIONS) tolerate(notes, body[field], rejectLegacyFunctions, body, field);
  const tools = parseTools(body.tools, notes);
  if (tools !== undefined) request.tools = tools;
  const toolChoice = tolerate(notes, undefined, parseToolChoice, body.tool_choice, tools);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const parallel = tolerate(notes, undefined, optionalBoolean, body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const format = tolerate(notes, body.response_format, parseResponseFormat, body.response_format);
  if (format !== undefined) request.responseFormat = format;
  const effort = tolerate(notes, undefined, optionalReasoningEffort, body.reasoning_effort, 'reasoning_effort');
  if (effort !== undefined) request.reasoningEffort = effort;
  parseSampling(body, request, notes);
  const user = tolerate(notes, undefined, optionalString, body.user, 'user');
  if (user !== undefined) request.user = user;
  const metadata = tolerate(notes, undefined, optionalMetadata, body.metadata, 'metadata');
  if (metadata !== undefined) request.metadata = metadata;
  tolerate(notes, undefined, validateStreamOptions, body.stream_options);
  const extra = unknownFields(body);
  if (extra !== undefined) request.extra = extra;
  return attachNotes(request, notes);
}

function parseSampling(body: JsonObject, request: CanonicalRequest, notes: Untranslatable[]): void {
  const temperature = tolerate(notes, undefined, optionalNumberInRange, body.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = tolerate(notes, undefined, optionalNumberInRange, body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const n = tolerate(notes, undefined, optionalInteger, body.n, 'n', 1, 'an integer of at least 1');
  if (n !== undefined) request.n = n;
  const stop = tolerate(notes, undefined, parseStop, body.stop);
  if (stop !== undefined) request.stop = stop;
  const seed = tolerate(notes, undefined, optionalInteger, body.seed, 'seed', Number.MIN_SAFE_INTEGER, 'an integer');
  if (seed !== undefined) request.seed = seed;
}

/**
 * Whether the client asked for the final usage chunk (`stream_options.include_usage`).
 * `stream_options` stays in `extra` as the client sent it.
 */
export function includeUsageRequested(request: CanonicalRequest): boolean {
  const options = request.extra?.stream_options;
  return isObject(options) && options.include_usage === true;
}

function unknownFields(body: JsonObject): JsonObject | undefined {
  let extra: JsonObject | undefined;
  for (const key in body) {
    if (!HANDLED_FIELDS.has(key)) (extra ??= {})[key] = body[key];
  }
  if (body.stream_options !== undefined && body.stream_options !== null) (extra ??= {}).stream_options = body.stream_options;
  return extra;
}

const LEGACY_FUNCTIONS = ['functions', 'function_call'] as const;

function rejectLegacyFunctions(body: JsonObject, field: (typeof LEGACY_FUNCTIONS)[number]): void {
  if (body[field] === undefined || body[field] === null) return;
  throw new NotTranslatable(field, '(the deprecated functions API)', 'unsupported_parameter',
    `Declare functions in 'tools' ({"type": "function", "function": {...}}) and pick one with 'tool_choice'.`);
}

function parseMessages(value: unknown, notes: Untranslatable[]): Message[] {
  if (value === undefined || value === null) throw missingField('messages', 'a non-empty array of messages');
  if (!Array.isArray(value)) throw invalidField('messages', 'a non-empty array of messages', value);
  if (value.length === 0) tolerate(notes, undefined, () => { throw invalidField('messages', 'a non-empty array of messages', value); });
  const messages: Message[] = [];
  for (let i = 0; i < value.length; i++) {
    const message = tolerate(notes, value[i], parseMessage, value[i], `messages[${i}]`, notes);
    if (message !== undefined) messages.push(message);
  }
  return messages;
}

function parseMessage(value: unknown, path: string, notes: Untranslatable[]): Message {
  const message = requireObject(value, path);
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinTextParts(message.content, `${path}.content`) };
    case 'user':
      return parseUserMessage(message, path, notes);
    case 'assistant':
      return parseAssistantMessage(message, path);
    case 'tool':
      return {
        role: 'tool',
        toolCallId: requireNonEmptyString(message.tool_call_id, `${path}.tool_call_id`, 'the id of the tool call this message answers'),
        content: joinTextParts(message.content, `${path}.content`),
      };
    case 'function':
      throw new NotTranslatable(`${path}.role`, "'function' (the deprecated functions API)", 'unsupported_value',
        "Send the result as role 'tool' with 'tool_call_id'.");
    case undefined:
    case null:
      throw missingField(`${path}.role`, ROLES);
    default:
      if (typeof message.role === 'string') throw new NotTranslatable(`${path}.role`, `'${message.role}'`, 'unsupported_value', `Roles Switchyard translates: ${ROLES}.`);
      throw invalidField(`${path}.role`, ROLES, message.role);
  }
}

function parseUserMessage(message: JsonObject, path: string, notes: Untranslatable[]): Message {
  const content = message.content;
  let parts: UserContent[];
  if (typeof content === 'string') parts = [{ type: 'text', text: content }];
  else if (content === undefined || content === null) throw missingField(`${path}.content`, 'a string or an array of content parts');
  else if (!Array.isArray(content)) throw invalidField(`${path}.content`, 'a string or an array of content parts', content);
  else {
    parts = [];
    for (let i = 0; i < content.length; i++) {
      const part = tolerate(notes, content[i], parseUserPart, content[i], `${path}.content[${i}]`, notes);
      if (part !== undefined) parts.push(part);
    }
  }
  const name = tolerate(notes, undefined, optionalString, message.name, `${path}.name`);
  return name === undefined ? { role: 'user', content: parts } : { role: 'user', content: parts, name };
}

function parseUserPart(value: unknown, path: string, notes: Untranslatable[]): UserContent {
  const part = requireObject(value, path);
  switch (part.type) {
    case 'text':
      return { type: 'text', text: requireString(part.text, `${path}.text`) };
    case 'image_url': {
      const image = requireObject(part.image_url, `${path}.image_url`);
      const url = requireNonEmptyString(image.url, `${path}.image_url.url`, 'an http(s) URL or a base64 data URL');
      return parseImageUrl(url, `${path}.image_url.url`, tolerate(notes, undefined, optionalImageDetail, image.detail, `${path}.image_url.detail`));
    }
    case undefined:
    case null:
      throw missingField(`${path}.type`, 'one of text, image_url');
    default:
      if (typeof part.type === 'string') {
        throw new NotTranslatable(`${path}.type`, `'${part.type}'`, 'unsupported_content_type', 'Content parts Switchyard translates: text, image_url.');
      }
      throw invalidField(`${path}.type`, 'one of text, image_url', part.type);
  }
}

function parseAssistantMessage(message: JsonObject, path: string): Message {
  for (const field of ['function_call', 'audio']) {
    if (message[field] !== undefined && message[field] !== null) {
      throw new NotTranslatable(`${path}.${field}`, field === 'audio' ? '(an audio reply)' : '(the deprecated function_call)', 'unsupported_parameter',
        field === 'audio' ? 'Audio replies cannot be replayed through a translation.' : "Use 'tool_calls' instead.");
    }
  }
  const parts: AssistantContent[] = [];
  const reasoning = optionalString(message.reasoning_content, `${path}.reasoning_content`) ?? optionalString(message.reasoning, `${path}.reasoning`);
  if (reasoning) parts.push({ type: 'reasoning', text: reasoning });
  appendAssistantText(parts, message.content, `${path}.content`);
  const refusal = optionalString(message.refusal, `${path}.refusal`);
  if (refusal) parts.push({ type: 'text', text: refusal });
  appendToolCalls(parts, message.tool_calls, `${path}.tool_calls`);
  const name = optionalString(message.name, `${path}.name`);
  return name === undefined ? { role: 'assistant', content: parts } : { role: 'assistant', content: parts, name };
}

function appendAssistantText(parts: AssistantContent[], content: unknown, path: string): void {
  if (content === undefined || content === null) return;
  if (typeof content === 'string') {
    if (content.length > 0) parts.push({ type: 'text', text: content });
    return;
  }
  if (!Array.isArray(content)) throw invalidField(path, 'a string, null or an array of text parts', content);
  for (let i = 0; i < content.length; i++) {
    const part = requireObject(content[i], `${path}[${i}]`);
    if (part.type === 'text') parts.push({ type: 'text', text: requireString(part.text, `${path}[${i}].text`) });
    else if (part.type === 'refusal') parts.push({ type: 'text', text: requireString(part.refusal, `${path}[${i}].refusal`) });
    else throw invalidField(`${path}[${i}].type`, 'one of text, refusal', part.type);
  }
}

function appendToolCalls(parts: AssistantContent[], value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw invalidField(path, 'an array of tool calls', value);
  for (let i = 0; i < value.length; i++) {
    const call = requireObject(value[i], `${path}[${i}]`);
    if (call.type !== undefined && call.type !== 'function') throw invalidField(`${path}[${i}].type`, "'function'", call.type);
    const fn = requireObject(call.function, `${path}[${i}].function`);
    parts.push({
      type: 'tool_call',
      id: requireNonEmptyString(call.id, `${path}[${i}].id`, 'the tool call id'),
      name: requireNonEmptyString(fn.name, `${path}[${i}].function.name`, 'the function name'),
      arguments: requireString(fn.arguments, `${path}[${i}].function.arguments`, 'the arguments as a JSON string'),
    });
  }
}

function parseTools(value: unknown, notes: Untranslatable[]): ToolDefinition[] | undefined {
  const tools = tolerateList(notes, value, 'tools', 'an array of function tools', parseTool);
  return tools?.length ? tools : undefined;
}

function parseTool(value: unknown, path: string): ToolDefinition {
  const tool = requireObject(value, path);
  if (tool.type !== 'function') {
    if (tool.type === undefined || tool.type === null) throw missingField(`${path}.type`, "'function'");
    if (typeof tool.type === 'string') throw new NotTranslatable(`${path}.type`, `'${tool.type}'`, 'unsupported_tool_type', "Switchyard translates tools of type 'function' only.");
    throw invalidField(`${path}.type`, "'function' (the only tool type Switchyard translates)", tool.type);
  }
  const fn = requireObject(tool.function, `${path}.function`);
  const definition: ToolDefinition = { name: requireName(fn.name, `${path}.function.name`) };
  const description = optionalString(fn.description, `${path}.function.description`);
  if (description !== undefined) definition.description = description;
  const parameters = optionalJsonSchema(fn.parameters, `${path}.function.parameters`);
  if (parameters !== undefined) definition.parameters = parameters;
  const strict = optionalBoolean(fn.strict, `${path}.function.strict`);
  if (strict !== undefined) definition.strict = strict;
  return definition;
}

const TOOL_CHOICE_EXPECTED = `'none', 'auto', 'required' or {"type": "function", "function": {"name": "..."}}`;

function parseToolChoice(value: unknown, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'none' || value === 'auto' || value === 'required') return value;
  if (!isObject(value) || value.type !== 'function') throw invalidField('tool_choice', TOOL_CHOICE_EXPECTED, value);
  const fn = requireObject(value.function, 'tool_choice.function');
  const name = requireNonEmptyString(fn.name, 'tool_choice.function.name', 'the name of a declared tool');
  if (tools !== undefined && !tools.some((tool) => tool.name === name)) {
    throw invalidField('tool_choice.function.name', `the name of a tool declared in 'tools' (${tools.map((t) => t.name).join(', ')})`, name);
  }
  return { name };
}

function parseResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const format = requireObject(value, 'response_format');
  switch (format.type) {
    case 'text':
    case 'json_object':
      return { type: format.type };
    case 'json_schema':
      return parseJsonSchemaFormat(requireObject(format.json_schema, 'response_format.json_schema'), 'response_format.json_schema');
    default:
      throw invalidField('response_format.type', 'one of text, json_object, json_schema', format.type);
  }
}

function parseStop(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length > 4) throw invalidField('stop', 'a string or an array of at most 4 strings', value);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') throw invalidField(`stop[${i}]`, 'a string', value[i]);
  }
  return value.length === 0 ? undefined : (value as string[]);
}

function validateStreamOptions(value: unknown): void {
  if (value === undefined || value === null) return;
  const options = requireObject(value, 'stream_options');
  optionalBoolean(options.include_usage, 'stream_options.include_usage');
}
