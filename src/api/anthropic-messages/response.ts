// CanonicalResponse -> Anthropic `message` object (non-streaming /v1/messages).
//
// Decisions:
// - Tool arguments: a JSON object is returned as `input`. Empty arguments give {}.
//   Arguments that are not valid JSON or not an object also give {}: Anthropic
//   clients require an object, and {} keeps the conversation replayable (the
//   next turn sends back valid JSON); the tool then reports its missing fields
//   to the model, which retries.
// - Reasoning: text and/or signature -> a `thinking` block; opaque `redacted`
//   data -> a `redacted_thinking` block (both, in that order, if a part has both).
// - stop_reason: stop -> end_turn, or stop_sequence when the provider said so
//   (providerFinishReason "stop_sequence"); `stop_sequence` is named only when the
//   caller gave exactly one, since the canonical response does not carry which one
//   matched. stop with tool calls in the content -> tool_use. error -> end_turn.
// - usage.input_tokens counts uncached input only, as Anthropic does:
//   canonical input - cache reads - cache writes.

import type { AssistantContent, CanonicalResponse, FinishReason, Usage } from '../../canonical/types.ts';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export interface MessagesResponseOptions {
  /** The request's stop_sequences, to name the one that ended the answer when it is unambiguous. */
  stopSequences?: readonly string[];
}

export function toMessagesResponse(response: CanonicalResponse, model: string, options?: MessagesResponseOptions): AnthropicMessage {
  const content: AnthropicContentBlock[] = [];
  let hasToolUse = false;
  for (const part of response.content) {
    if (part.type === 'tool_call') hasToolUse = true;
    appendBlocks(part, content);
  }
  const stopReason = toStopReason(response.finishReason, response.providerFinishReason, hasToolUse);
  return {
    id: toMessageId(response.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? knownStopSequence(options?.stopSequences) : null,
    usage: toAnthropicUsage(response.usage),
  };
}

function appendBlocks(part: AssistantContent, out: AnthropicContentBlock[]): void {
  switch (part.type) {
    case 'text':
      out.push({ type: 'text', text: part.text });
      return;
    case 'reasoning':
      if (part.text.length > 0 || part.signature !== undefined) {
        out.push({ type: 'thinking', thinking: part.text, signature: part.signature ?? '' });
      }
      if (part.redacted !== undefined) out.push({ type: 'redacted_thinking', data: part.redacted });
      return;
    case 'tool_call':
      out.push({ type: 'tool_use', id: part.id, name: part.name, input: toolInput(part.arguments) });
      return;
  }
}

/** The tool arguments as the object Anthropic clients expect; {} when they are empty or not a JSON object. */
export function toolInput(argumentsJson: string): Record<string, unknown> {
  if (argumentsJson.trim().length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(argumentsJson);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function toStopReason(finishReason: FinishReason, providerFinishReason: string | undefined, hasToolUse: boolean): AnthropicStopReason {
  switch (finishReason) {
    case 'length': return 'max_tokens';
    case 'tool_calls': return 'tool_use';
    case 'content_filter': return 'refusal';
    case 'stop':
      if (hasToolUse) return 'tool_use';
      return providerFinishReason === 'stop_sequence' ? 'stop_sequence' : 'end_turn';
    default: return 'end_turn';
  }
}

export function knownStopSequence(stopSequences: readonly string[] | undefined): string | null {
  return stopSequences !== undefined && stopSequences.length === 1 ? stopSequences[0] : null;
}

export function toAnthropicUsage(usage: Usage): AnthropicUsage {
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: usage.cachedInputTokens,
    output_tokens: usage.outputTokens,
  };
}

/** Anthropic message ids start with msg_; keep a provider id that already does. */
export function toMessageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id}`;
}
