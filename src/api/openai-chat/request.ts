// CanonicalRequest -> a Chat Completions body for an OpenAI-compatible upstream.
import type { CanonicalRequest, Message, ToolChoice } from '../../canonical/types.ts';
import { imageUrlOf, isObject } from './fields.ts';

/**
 * `extra` keys that only the Responses API knows (they arrive when a Responses
 * client reaches a chat upstream). A chat endpoint rejects them, so they are left
 * out; `chatDroppedFields` names them for the caller's warnings.
 */
const RESPONSES_ONLY_FIELDS = new Set([
  'input', 'instructions', 'include', 'previous_response_id', 'conversation', 'truncation', 'background',
  'max_tool_calls', 'max_output_tokens', 'prompt', 'reasoning', 'text',
]);

export function toChatRequest(request: CanonicalRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const extra = request.extra;
  if (extra !== undefined) {
    for (const key in extra) if (!RESPONSES_ONLY_FIELDS.has(key)) body[key] = extra[key];
    const verbosity = isObject(extra.text) ? extra.text.verbosity : undefined;
    if (verbosity !== undefined && body.verbosity === undefined) body.verbosity = verbosity;
  }
  body.model = upstreamModel;
  body.messages = request.messages.map(toChatMessage);
  if (request.tools !== undefined) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters, strict: tool.strict },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = toChatToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat !== undefined) {
    const format = request.responseFormat;
    body.response_format = format.type !== 'json_schema' ? { type: format.type } : {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, strict: format.strict, description: format.description },
    };
  }
  if (request.maxOutputTokens !== undefined) body.max_completion_tokens = request.maxOutputTokens;
  if (request.reasoningEffort !== undefined) body.reasoning_effort = request.reasoningEffort;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.n !== undefined) body.n = request.n;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.user !== undefined) body.user = request.user;
  if (request.metadata !== undefined) body.metadata = request.metadata;
  body.stream = request.stream;
  // Usage is always requested so every streamed call can be billed; the client's
  // own include_usage decides only what it is shown.
  if (request.stream) body.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : undefined), include_usage: true };
  else delete body.stream_options;
  return body;
}

/**
 * The `extra` keys toChatRequest leaves out (a Responses client's fields that Chat
 * cannot carry), as warnings: never dropped silently. `text` carrying only verbosity
 * is not among them (verbosity is sent).
 */
export function chatDroppedFields(request: CanonicalRequest): string[] {
  const dropped: string[] = [];
  const extra = request.extra;
  if (extra === undefined) return dropped;
  for (const key in extra) {
    if (!RESPONSES_ONLY_FIELDS.has(key)) continue;
    const value = extra[key];
    if (key === 'text' && isObject(value) && Object.keys(value).every((k) => k === 'verbosity')) continue;
    dropped.push(key);
  }
  return dropped;
}

/** The warning for the fields chatDroppedFields names (none: no warning). */
export function chatDroppedWarning(request: CanonicalRequest): string | undefined {
  const dropped = chatDroppedFields(request);
  if (dropped.length === 0) return undefined;
  return `${dropped.map((key) => `'${key}'`).join(', ')} ${dropped.length === 1 ? 'is a Responses API field' : 'are Responses API fields'} that Chat Completions cannot carry; not sent to this model's upstream`;
}

function toChatToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function toChatMessage(message: Message): Record<string, unknown> {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'user': {
      const parts = message.content;
      const content = parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts.map((part) => part.type === 'text'
        ? { type: 'text', text: part.text }
        : { type: 'image_url', image_url: part.detail === undefined ? { url: imageUrlOf(part) } : { url: imageUrlOf(part), detail: part.detail } });
      return message.name === undefined ? { role: 'user', content } : { role: 'user', content, name: message.name };
    }
    case 'assistant': {
      // Reasoning of earlier turns is dropped: chat has no request field for it.
      let text: string | null = null;
      let toolCalls: object[] | undefined;
      for (const part of message.content) {
        if (part.type === 'text') text = text === null ? part.text : text + part.text;
        else if (part.type === 'tool_call') {
          (toolCalls ??= []).push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
        }
      }
      const out: Record<string, unknown> = { role: 'assistant', content: text };
      if (toolCalls !== undefined) out.tool_calls = toolCalls;
      if (message.name !== undefined) out.name = message.name;
      return out;
    }
  }
}
