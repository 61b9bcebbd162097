// CanonicalRequest -> a Responses API body, for models an upstream serves only
// through /v1/responses (so a Chat or Anthropic client can still reach them).
import type { AssistantContent, CanonicalRequest, Message } from '../../canonical/types.ts';
import { imageUrlOf, isObject } from '../openai-chat/fields.ts';
import type { JsonObject } from '../openai-chat/fields.ts';
import { encryptedContentOf, responsesTextFormat, responsesToolChoice, responsesTools } from './response.ts';

/** `extra` keys only Chat Completions knows; the Responses API rejects them. */
const CHAT_ONLY_FIELDS = new Set([
  'messages', 'logprobs', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'modalities', 'audio', 'prediction',
  'web_search_options', 'functions', 'function_call', 'max_tokens', 'max_completion_tokens', 'response_format',
  'reasoning_effort', 'verbosity', 'stream_options',
]);

export function toResponsesRequest(request: CanonicalRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const extra = request.extra;
  if (extra !== undefined) for (const key in extra) if (!CHAT_ONLY_FIELDS.has(key)) body[key] = extra[key];
  body.model = upstreamModel;
  const { instructions, input } = toInput(request.messages);
  if (instructions !== undefined) body.instructions = instructions;
  body.input = input;
  if (request.tools !== undefined) body.tools = responsesTools(request.tools);
  if (request.toolChoice !== undefined) body.tool_choice = responsesToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  const text: JsonObject = { ...(isObject(body.text) ? body.text : undefined) };
  if (extra?.verbosity !== undefined && text.verbosity === undefined) text.verbosity = extra.verbosity;
  if (request.responseFormat !== undefined) text.format = responsesTextFormat(request.responseFormat);
  if (Object.keys(text).length > 0) body.text = text;
  if (request.reasoningEffort !== undefined) body.reasoning = { ...(isObject(body.reasoning) ? body.reasoning : undefined), effort: request.reasoningEffort };
  if (request.maxOutputTokens !== undefined) body.max_output_tokens = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.user !== undefined) body.user = request.user;
  if (request.metadata !== undefined) body.metadata = request.metadata;
  body.stream = request.stream;
  return body;
}

/** What toResponsesRequest cannot send (Responses has no stop, seed or n), for warnings. */
export function responsesDroppedFields(request: CanonicalRequest): string[] {
  const dropped: string[] = [];
  if (request.stop !== undefined) dropped.push('stop');
  if (request.seed !== undefined) dropped.push('seed');
  if (request.n !== undefined && request.n > 1) dropped.push('n');
  if (request.extra !== undefined) {
    for (const key in request.extra) if (CHAT_ONLY_FIELDS.has(key) && key !== 'stream_options' && key !== 'verbosity') dropped.push(key);
  }
  return dropped;
}

function toInput(messages: Message[]): { instructions?: string; input: object[] } {
  let start = 0;
  let instructions: string | undefined;
  while (start < messages.length && messages[start].role === 'system') {
    const content = (messages[start] as { content: string }).content;
    instructions = instructions === undefined ? content : `${instructions}\n\n${content}`;
    start++;
  }
  const input: object[] = [];
  for (let i = start; i < messages.length; i++) {
    const message = messages[i];
    switch (message.role) {
      case 'system':
        input.push({ role: 'developer', content: message.content });
        break;
      case 'user':
        input.push({
          role: 'user',
          content: message.content.map((part) => part.type === 'text'
            ? { type: 'input_text', text: part.text }
            : { type: 'input_image', image_url: imageUrlOf(part), detail: part.detail ?? 'auto' }),
        });
        break;
      case 'tool':
        input.push({ type: 'function_call_output', call_id: message.toolCallId, output: message.content });
        break;
      case 'assistant':
        appendAssistantItems(input, message.content);
        break;
    }
  }
  return instructions === undefined ? { input } : { instructions, input };
}

function appendAssistantItems(input: object[], content: AssistantContent[]): void {
  let text: string | undefined;
  const flushText = () => {
    if (text !== undefined) input.push({ role: 'assistant', content: text });
    text = undefined;
  };
  for (const part of content) {
    if (part.type === 'text') text = text === undefined ? part.text : text + part.text;
    else if (part.type === 'tool_call') {
      flushText();
      input.push({ type: 'function_call', call_id: part.id, name: part.name, arguments: part.arguments });
    } else {
      // Reasoning is only worth sending back with its opaque state; the item id is
      // not kept in the canonical form, and OpenAI accepts encrypted reasoning without it.
      const encrypted = encryptedContentOf(part);
      if (encrypted === undefined || part.signature !== undefined) continue;
      flushText();
      input.push({ type: 'reasoning', summary: part.text.length > 0 ? [{ type: 'summary_text', text: part.text }] : [], encrypted_content: encrypted });
    }
  }
  flushText();
}
