// A client's Responses API request body -> CanonicalRequest. Consecutive assistant-side
// items (reasoning, assistant messages, function calls) form one assistant turn, as
// the other APIs need them. Built-in tools and items that only OpenAI's own Responses
// backend can run are refused with a 400 that says so.
import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type { AssistantContent, CanonicalRequest, Message, ResponseFormat, ToolChoice, ToolDefinition, UserContent } from '../../canonical/types.ts';
import {
  isObject, missingField, optionalBoolean, optionalImageDetail, optionalJsonSchema, optionalMetadata, optionalNumberInRange,
  optionalPositiveInteger, optionalReasoningEffort, optionalString, parseImageUrl, parseJsonSchemaFormat, requireName,
  requireNonEmptyString, requireObject, requireString, withoutKeys,
} from '../openai-chat/fields.ts';
import { joinTextParts } from '../fields.ts';
import type { JsonObject } from '../openai-chat/fields.ts';
import { reasoningPartOf } from './response.ts';

const HANDLED_FIELDS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'text',
  'max_output_tokens', 'temperature', 'top_p', 'stream', 'metadata', 'user',
]);

const NATIVE_ONLY = "works only when the model's upstream supports the Responses API natively (Switchyard relays those requests unchanged)";

export function parseResponsesRequest(body: unknown): CanonicalRequest {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object with "model" and "input".', null, 'invalid_body');
  const model = requireNonEmptyString(body.model, 'model', 'a model id string');
  const messages: Message[] = [];
  const instructions = optionalString(body.instructions, 'instructions');
  if (instructions) messages.push({ role: 'system', content: instructions });
  parseInput(body.input, messages);
  const request: CanonicalRequest = {
    model,
    messages,
    stream: optionalBoolean(body.stream, 'stream') ?? false,
  };
  const tools = parseTools(body.tools);
  if (tools !== undefined) request.tools = tools;
  const toolChoice = parseToolChoice(body.tool_choice, tools);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const parallel = optionalBoolean(body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const maxOutput = optionalPositiveInteger(body.max_output_tokens, 'max_output_tokens');
  if (maxOutput !== undefined) request.maxOutputTokens = maxOutput;
  const temperature = optionalNumberInRange(body.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumberInRange(body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const user = optionalString(body.user, 'user');
  if (user !== undefined) request.user = user;
  const metadata = optionalMetadata(body.metadata, 'metadata');
  if (metadata !== undefined) request.metadata = metadata;
  let extra = unknownFields(body);
  const reasoning = parseReasoning(body.reasoning, request);
  if (reasoning !== undefined) (extra ??= {}).reasoning = reasoning;
  const text = parseText(body.text, request);
  if (text !== undefined) (extra ??= {}).text = text;
  if (extra !== undefined) request.extra = extra;
  return request;
}

function unknownFields(body: JsonObject): JsonObject | undefined {
  let extra: JsonObject | undefined;
  for (const key in body) if (!HANDLED_FIELDS.has(key)) (extra ??= {})[key] = body[key];
  return extra;
}

/** reasoning.effort -> reasoningEffort; the other keys (summary, ...) are returned for `extra`. */
function parseReasoning(value: unknown, request: CanonicalRequest): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  const reasoning = requireObject(value, 'reasoning');
  const effort = optionalReasoningEffort(reasoning.effort, 'reasoning.effort');
  if (effort !== undefined) request.reasoningEffort = effort;
  return withoutKeys(reasoning, ['effort']);
}

/** text.format -> responseFormat; the other keys (verbosity, ...) are returned for `extra`. */
function parseText(value: unknown, request: CanonicalRequest): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  const text = requireObject(value, 'text');
  const format = parseTextFormat(text.format);
  if (format !== undefined) request.responseFormat = format;
  return withoutKeys(text, ['format']);
}

function parseTextFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const format = requireObject(value, 'text.format');
  switch (format.type) {
    case 'text':
    case 'json_object':
      return { type: format.type };
    case 'json_schema':
      return parseJsonSchemaFormat(format, 'text.format');
    default:
      throw invalidField('text.format.type', 'one of text, json_object, json_schema', format.type);
  }
}

function parseInput(value: unknown, messages: Message[]): void {
  if (typeof value === 'string') {
    messages.push({ role: 'user', content: [{ type: 'text', text: value }] });
    return;
  }
  if (value === undefined || value === null) throw missingField('input', 'a string or an array of input items');
  if (!Array.isArray(value) || value.length === 0) throw invalidField('input', 'a string or a non-empty array of input items', value);
  let turn: AssistantContent[] | undefined;
  const assistantTurn = (): AssistantContent[] => {
    if (turn === undefined) {
      turn = [];
      messages.push({ role: 'assistant', content: turn });
    }
    return turn;
  };
  for (let i = 0; i < value.length; i++) {
    const path = `input[${i}]`;
    const item = requireObject(value[i], path);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        if (item.role === 'assistant') appendAssistantContent(assistantTurn(), item.content, `${path}.content`);
        else {
          turn = undefined;
          messages.push(parseInputMessage(item, path));
        }
        break;
      case 'function_call':
        assistantTurn().push({
          type: 'tool_call',
          id: requireNonEmptyString(item.call_id, `${path}.call_id`, 'the call_id of the function call'),
          name: requireNonEmptyString(item.name, `${path}.name`, 'the function name'),
          arguments: requireString(item.arguments, `${path}.arguments`, 'the arguments as a JSON string'),
        });
        break;
      case 'reasoning':
        validateReasoningItem(item, path);
        assistantTurn().push(reasoningPartOf(item));
        break;
      case 'function_call_output':
        turn = undefined;
        messages.push({
          role: 'tool',
          toolCallId: requireNonEmptyString(item.call_id, `${path}.call_id`, 'the call_id of the function call this answers'),
          content: functionOutputText(item.output, `${path}.output`),
        });
        break;
      case 'item_reference':
        throw invalidRequest(`'${path}.type' is item_reference; Switchyard does not store responses, so send the full item instead.`, `${path}.type`, 'unsupported_value');
      case undefined:
      case null:
        throw missingField(`${path}.type`, 'one of message, function_call, function_call_output, reasoning');
      default:
        throw invalidRequest(
          `Input item type '${String(type)}' (${path}.type) belongs to a built-in tool; it ${NATIVE_ONLY}. Use function tools, or a model whose upstream is OpenAI's Responses API.`,
          `${path}.type`, 'unsupported_value');
    }
  }
}

function parseInputMessage(item: JsonObject, path: string): Message {
  switch (item.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinTextParts(item.content, `${path}.content`, 'input_text') };
    case 'user': {
      const content = item.content;
      if (typeof content === 'string') return { role: 'user', content: [{ type: 'text', text: content }] };
      if (!Array.isArray(content)) {
        if (content === undefined || content === null) throw missingField(`${path}.content`, 'a string or an array of content parts');
        throw invalidField(`${path}.content`, 'a string or an array of content parts', content);
      }
      const parts = new Array<UserContent>(content.length);
      for (let i = 0; i < content.length; i++) parts[i] = parseUserPart(content[i], `${path}.content[${i}]`);
      return { role: 'user', content: parts };
    }
    case undefined:
    case null:
      throw missingField(`${path}.role`, 'one of user, assistant, system, developer');
    default:
      throw invalidField(`${path}.role`, 'one of user, assistant, system, developer', item.role);
  }
}

function parseUserPart(value: unknown, path: string): UserContent {
  const part = requireObject(value, path);
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: requireString(part.text, `${path}.text`) };
    case 'input_image': {
      if (part.file_id !== undefined && part.file_id !== null && (part.image_url === undefined || part.image_url === null)) {
        throw invalidRequest(`'${path}.file_id' refers to OpenAI file storage, which Switchyard cannot read; send 'image_url' (an http(s) or data: URL).`, `${path}.file_id`, 'unsupported_value');
      }
      const url = requireNonEmptyString(part.image_url, `${path}.image_url`, 'an http(s) URL or a base64 data URL');
      return parseImageUrl(url, `${path}.image_url`, optionalImageDetail(part.detail, `${path}.detail`));
    }
    case 'input_file':
    case 'input_audio':
      throw invalidRequest(
        `Content parts of type '${part.type}' (${path}.type) are not supported by Switchyard yet. Send input_text and input_image parts.`,
        `${path}.type`, 'unsupported_content_type');
    case undefined:
    case null:
      throw missingField(`${path}.type`, 'one of input_text, input_image');
    default:
      throw invalidField(`${path}.type`, 'one of input_text, input_image', part.type);
  }
}

function appendAssistantContent(turn: AssistantContent[], content: unknown, path: string): void {
  if (typeof content === 'string') {
    if (content.length > 0) turn.push({ type: 'text', text: content });
    return;
  }
  if (content === undefined || content === null) throw missingField(path, 'a string or an array of output_text parts');
  if (!Array.isArray(content)) throw invalidField(path, 'a string or an array of output_text parts', content);
  for (let i = 0; i < content.length; i++) {
    const part = requireObject(content[i], `${path}[${i}]`);
    if (part.type === 'output_text' || part.type === 'input_text') turn.push({ type: 'text', text: requireString(part.text, `${path}[${i}].text`) });
    else if (part.type === 'refusal') turn.push({ type: 'text', text: requireString(part.refusal, `${path}[${i}].refusal`) });
    else throw invalidField(`${path}[${i}].type`, 'one of output_text, refusal', part.type);
  }
}

function validateReasoningItem(item: JsonObject, path: string): void {
  if (item.summary !== undefined && item.summary !== null) {
    if (!Array.isArray(item.summary)) throw invalidField(`${path}.summary`, 'an array of summary_text parts', item.summary);
    for (let i = 0; i < item.summary.length; i++) {
      const entry = requireObject(item.summary[i], `${path}.summary[${i}]`);
      requireString(entry.text, `${path}.summary[${i}].text`);
    }
  }
  optionalString(item.encrypted_content, `${path}.encrypted_content`);
}

/** A function_call_output's output: a string, or input_text parts. */
function functionOutputText(output: unknown, path: string): string {
  if (typeof output === 'string') return output;
  if (output === undefined || output === null) throw missingField(path, 'a string or an array of input_text parts');
  if (!Array.isArray(output)) throw invalidField(path, 'a string or an array of input_text parts', output);
  let text = '';
  for (let i = 0; i < output.length; i++) {
    const part = requireObject(output[i], `${path}[${i}]`);
    if (part.type !== 'input_text') {
      throw invalidField(`${path}[${i}].type`, "'input_text' (tool outputs carrying images or files are not supported yet)", part.type);
    }
    text += requireString(part.text, `${path}[${i}].text`);
  }
  return text;
}

function parseTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidField('tools', 'an array of function tools', value);
  if (value.length === 0) return undefined;
  const tools = new Array<ToolDefinition>(value.length);
  for (let i = 0; i < value.length; i++) {
    const path = `tools[${i}]`;
    const tool = requireObject(value[i], path);
    if (tool.type !== 'function') {
      if (tool.type === undefined || tool.type === null) throw missingField(`${path}.type`, "'function'");
      throw invalidRequest(
        `Tool type '${String(tool.type)}' (${path}.type) is a built-in tool of OpenAI's Responses API; it ${NATIVE_ONLY}. Use function tools, or a model whose upstream is OpenAI's Responses API.`,
        `${path}.type`, 'unsupported_tool_type');
    }
    const definition: ToolDefinition = { name: requireName(tool.name, `${path}.name`) };
    const description = optionalString(tool.description, `${path}.description`);
    if (description !== undefined) definition.description = description;
    const parameters = optionalJsonSchema(tool.parameters, `${path}.parameters`);
    if (parameters !== undefined) definition.parameters = parameters;
    const strict = optionalBoolean(tool.strict, `${path}.strict`);
    if (strict !== undefined) definition.strict = strict;
    tools[i] = definition;
  }
  return tools;
}

const TOOL_CHOICE_EXPECTED = `'none', 'auto', 'required' or {"type": "function", "name": "..."}`;

function parseToolChoice(value: unknown, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'none' || value === 'auto' || value === 'required') return value;
  if (!isObject(value) || value.type !== 'function') throw invalidField('tool_choice', TOOL_CHOICE_EXPECTED, value);
  const name = requireNonEmptyString(value.name, 'tool_choice.name', 'the name of a declared tool');
  if (tools !== undefined && !tools.some((tool) => tool.name === name)) {
    throw invalidField('tool_choice.name', `the name of a tool declared in 'tools' (${tools.map((t) => t.name).join(', ')})`, name);
  }
  return { name };
}
