// A client's Responses API request body -> CanonicalRequest. Consecutive assistant-side
// items (reasoning, assistant messages, function calls) form one assistant turn, as
// the other APIs need them. Built-in tools and items that only OpenAI's own Responses
// backend can run are noted as untranslatable (see ../untranslatable.ts): relayed to
// OpenAI as they came, refused by a translated route.
import { invalidField, invalidRequest } from '../../canonical/errors.ts';
import type { AssistantContent, CanonicalRequest, Message, ResponseFormat, ToolChoice, ToolDefinition, Untranslatable, UserContent } from '../../canonical/types.ts';
import {
  isObject, missingField, optionalBoolean, optionalImageDetail, optionalJsonSchema, optionalMetadata, optionalNumberInRange,
  optionalPositiveInteger, optionalReasoningEffort, optionalString, parseImageUrl, parseJsonSchemaFormat, requireName,
  requireNonEmptyString, requireObject, requireString, withoutKeys,
} from '../openai-chat/fields.ts';
import { joinTextParts } from '../fields.ts';
import type { JsonObject } from '../openai-chat/fields.ts';
import { reasoningPartOf } from './response.ts';
import { NotTranslatable, attachNotes, tolerate, tolerateList } from '../untranslatable.ts';

const HANDLED_FIELDS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'text',
  'max_output_tokens', 'temperature', 'top_p', 'stream', 'metadata', 'user',
]);

const BUILT_IN = "It is a built-in of OpenAI's Responses API; use function tools for other models.";

export function parseResponsesRequest(body: unknown): CanonicalRequest {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object with "model" and "input".', null, 'invalid_body');
  const notes: Untranslatable[] = [];
  const model = requireNonEmptyString(body.model, 'model', 'a model id string');
  const messages: Message[] = [];
  const instructions = tolerate(notes, body.instructions, optionalString, body.instructions, 'instructions');
  if (instructions) messages.push({ role: 'system', content: instructions });
  parseInput(body.input, messages, notes);
  const request: CanonicalRequest = {
    model,
    messages,
    stream: optionalBoolean(body.stream, 'stream') ?? false,
  };
  const maxOutput = optionalPositiveInteger(body.max_output_tokens, 'max_output_tokens');
  if (maxOutput !== undefined) request.maxOutputTokens = maxOutput;
  const tools = parseTools(body.tools, notes);
  if (tools !== undefined) request.tools = tools;
  const toolChoice = tolerate(notes, undefined, parseToolChoice, body.tool_choice, tools);
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const parallel = tolerate(notes, undefined, optionalBoolean, body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const temperature = tolerate(notes, undefined, optionalNumberInRange, body.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = tolerate(notes, undefined, optionalNumberInRange, body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const user = tolerate(notes, undefined, optionalString, body.user, 'user');
  if (user !== undefined) request.user = user;
  const metadata = tolerate(notes, undefined, optionalMetadata, body.metadata, 'metadata');
  if (metadata !== undefined) request.metadata = metadata;
  let extra = unknownFields(body);
  const reasoning = tolerate(notes, undefined, parseReasoning, body.reasoning, request);
  if (reasoning !== undefined) (extra ??= {}).reasoning = reasoning;
  const text = tolerate(notes, body.text, parseText, body.text, request);
  if (text !== undefined) (extra ??= {}).text = text;
  if (extra !== undefined) request.extra = extra;
  return attachNotes(request, notes);
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

function parseInput(value: unknown, messages: Message[], notes: Untranslatable[]): void {
  if (typeof value === 'string') {
    messages.push({ role: 'user', content: [{ type: 'text', text: value }] });
    return;
  }
  // `input` may be left out (previous_response_id): OpenAI judges that; a translation cannot.
  if (value === undefined || value === null) return void tolerate(notes, undefined, () => { throw missingField('input', 'a string or an array of input items'); });
  if (!Array.isArray(value)) throw invalidField('input', 'a string or a non-empty array of input items', value);
  if (value.length === 0) tolerate(notes, undefined, () => { throw invalidField('input', 'a string or a non-empty array of input items', value); });
  const input: InputState = { messages, notes, turn: undefined };
  for (let i = 0; i < value.length; i++) tolerate(notes, value[i], parseInputItem, value[i], `input[${i}]`, input);
}

/** The messages built so far, and the assistant turn that assistant-side items join. */
interface InputState {
  messages: Message[];
  notes: Untranslatable[];
  turn: AssistantContent[] | undefined;
}

function assistantTurn(input: InputState): AssistantContent[] {
  if (input.turn === undefined) {
    input.turn = [];
    input.messages.push({ role: 'assistant', content: input.turn });
  }
  return input.turn;
}

function parseInputItem(value: unknown, path: string, input: InputState): void {
  const item = requireObject(value, path);
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message':
      if (item.role === 'assistant') appendAssistantContent(assistantTurn(input), item.content, `${path}.content`);
      else {
        input.turn = undefined;
        input.messages.push(parseInputMessage(item, path, input.notes));
      }
      break;
    case 'function_call': {
      const call: AssistantContent = {
        type: 'tool_call',
        id: requireNonEmptyString(item.call_id, `${path}.call_id`, 'the call_id of the function call'),
        name: requireNonEmptyString(item.name, `${path}.name`, 'the function name'),
        arguments: requireString(item.arguments, `${path}.arguments`, 'the arguments as a JSON string'),
      };
      assistantTurn(input).push(call);
      break;
    }
    case 'reasoning':
      validateReasoningItem(item, path);
      assistantTurn(input).push(reasoningPartOf(item));
      break;
    case 'function_call_output': {
      const toolCallId = requireNonEmptyString(item.call_id, `${path}.call_id`, 'the call_id of the function call this answers');
      const content = functionOutputText(item.output, `${path}.output`);
      input.turn = undefined;
      input.messages.push({ role: 'tool', toolCallId, content });
      break;
    }
    case 'item_reference':
      throw new NotTranslatable(`${path}.type`, "'item_reference'", 'unsupported_value', 'Switchyard does not store responses; send the full item instead.');
    case undefined:
    case null:
      throw missingField(`${path}.type`, 'one of message, function_call, function_call_output, reasoning');
    default:
      if (typeof type === 'string') throw new NotTranslatable(`${path}.type`, `'${type}'`, 'unsupported_value', BUILT_IN);
      throw invalidField(`${path}.type`, 'one of message, function_call, function_call_output, reasoning', type);
  }
}

function parseInputMessage(item: JsonObject, path: string, notes: Untranslatable[]): Message {
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
      const parts: UserContent[] = [];
      for (let i = 0; i < content.length; i++) {
        const part = tolerate(notes, content[i], parseUserPart, content[i], `${path}.content[${i}]`, notes);
        if (part !== undefined) parts.push(part);
      }
      return { role: 'user', content: parts };
    }
    case undefined:
    case null:
      throw missingField(`${path}.role`, 'one of user, assistant, system, developer');
    default:
      if (typeof item.role === 'string') throw new NotTranslatable(`${path}.role`, `'${item.role}'`, 'unsupported_value', 'Roles Switchyard translates: user, assistant, system, developer.');
      throw invalidField(`${path}.role`, 'one of user, assistant, system, developer', item.role);
  }
}

function parseUserPart(value: unknown, path: string, notes: Untranslatable[]): UserContent {
  const part = requireObject(value, path);
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: requireString(part.text, `${path}.text`) };
    case 'input_image': {
      if (part.file_id !== undefined && part.file_id !== null && (part.image_url === undefined || part.image_url === null)) {
        throw new NotTranslatable(`${path}.file_id`, '(an OpenAI file id)', 'unsupported_value', "Switchyard cannot read OpenAI file storage; send 'image_url' (an http(s) or data: URL).");
      }
      const url = requireNonEmptyString(part.image_url, `${path}.image_url`, 'an http(s) URL or a base64 data URL');
      return parseImageUrl(url, `${path}.image_url`, tolerate(notes, undefined, optionalImageDetail, part.detail, `${path}.detail`));
    }
    case undefined:
    case null:
      throw missingField(`${path}.type`, 'one of input_text, input_image');
    default:
      if (typeof part.type === 'string') throw new NotTranslatable(`${path}.type`, `'${part.type}'`, 'unsupported_content_type', 'Content parts Switchyard translates: input_text, input_image.');
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

function parseTools(value: unknown, notes: Untranslatable[]): ToolDefinition[] | undefined {
  const tools = tolerateList(notes, value, 'tools', 'an array of tools', parseTool);
  return tools?.length ? tools : undefined;
}

function parseTool(value: unknown, path: string): ToolDefinition {
  const tool = requireObject(value, path);
  if (tool.type !== 'function') {
    if (tool.type === undefined || tool.type === null) throw missingField(`${path}.type`, "'function'");
    if (typeof tool.type === 'string') throw new NotTranslatable(`${path}.type`, `'${tool.type}'`, 'unsupported_tool_type', BUILT_IN);
    throw invalidField(`${path}.type`, "'function'", tool.type);
  }
  const definition: ToolDefinition = { name: requireName(tool.name, `${path}.name`) };
  const description = optionalString(tool.description, `${path}.description`);
  if (description !== undefined) definition.description = description;
  const parameters = optionalJsonSchema(tool.parameters, `${path}.parameters`);
  if (parameters !== undefined) definition.parameters = parameters;
  const strict = optionalBoolean(tool.strict, `${path}.strict`);
  if (strict !== undefined) definition.strict = strict;
  return definition;
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
