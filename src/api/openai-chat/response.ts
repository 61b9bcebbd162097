// chat.completion bodies <-> CanonicalResponse.
//
// Decisions:
// - Only choice 0 is translated (canonical answers are single-choice); n > 1 works
//   only where the pipeline passes bodies through unchanged.
// - A `refusal` becomes ordinary text: the canonical types have no refusal part, and
//   text keeps it visible to clients of every API. A chat client therefore sees a
//   translated refusal in `content`, with `refusal: null`.
// - Upstreams that answer with tool calls but finish_reason "stop" (several
//   OpenAI-compatible servers) are reported as "tool_calls", so other APIs see a tool turn.
import { GatewayError } from '../../canonical/errors.ts';
import { emptyUsage } from '../../canonical/types.ts';
import { readChatUsage } from '../../providers/usage.ts';
import type { AssistantContent, CanonicalResponse, FinishReason, Usage } from '../../canonical/types.ts';

export function fromChatResponse(json: any): CanonicalResponse {
  const choice = Array.isArray(json?.choices) ? (json.choices.find((c: any) => (c?.index ?? 0) === 0) ?? json.choices[0]) : undefined;
  if (choice === undefined || choice === null || typeof choice.message !== 'object' || choice.message === null) {
    throw new GatewayError({
      status: 502, type: 'upstream_error', code: 'upstream_invalid_response',
      message: 'The upstream answered without a choices[0].message; its response is not a chat.completion.',
    });
  }
  const message = choice.message;
  const content: AssistantContent[] = [];
  const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : message.reasoning;
  if (typeof reasoning === 'string' && reasoning.length > 0) content.push({ type: 'reasoning', text: reasoning });
  if (typeof message.content === 'string' && message.content.length > 0) content.push({ type: 'text', text: message.content });
  if (typeof message.refusal === 'string' && message.refusal.length > 0) content.push({ type: 'text', text: message.refusal });
  let hasToolCalls = false;
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      hasToolCalls = true;
      content.push({ type: 'tool_call', id: String(call.id ?? ''), name: String(call.function?.name ?? ''), arguments: String(call.function?.arguments ?? '') });
    }
  }
  const raw = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  const response: CanonicalResponse = {
    id: String(json.id ?? ''),
    model: String(json.model ?? ''),
    created: typeof json.created === 'number' ? json.created : Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonFromChat(raw, hasToolCalls),
    usage: usageFromChat(json.usage),
  };
  if (raw !== undefined) response.providerFinishReason = raw;
  return response;
}

export function finishReasonFromChat(raw: string | null | undefined, hasToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'length': return 'length';
    case 'content_filter': return 'content_filter';
    case 'tool_calls':
    case 'function_call': return 'tool_calls';
    default: return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

/** A chat `usage` object -> canonical usage (DeepSeek's prompt_cache_hit_tokens counted as cached). */
export function usageFromChat(usage: any): Usage {
  // The one chat usage reader, shared with the relay path (it validates the counts).
  return readChatUsage(usage) ?? emptyUsage();
}


/** Canonical finish reason -> chat's; chat has no "error", so a failed answer reads "stop". */
export function chatFinishReason(reason: FinishReason): string {
  return reason === 'error' ? 'stop' : reason;
}

/** Canonical usage -> the chat `usage` object, with both details objects. */
export function chatUsage(usage: Usage): object {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0,
    },
  };
}

/** CanonicalResponse -> the chat.completion a client receives. */
export function toChatCompletion(response: CanonicalResponse, model: string): object {
  let text: string | null = null;
  let reasoning: string | undefined;
  let toolCalls: object[] | undefined;
  for (const part of response.content) {
    if (part.type === 'text') text = text === null ? part.text : text + part.text;
    else if (part.type === 'reasoning') reasoning = reasoning === undefined ? part.text : reasoning + part.text;
    else (toolCalls ??= []).push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null, annotations: [] };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls !== undefined) message.tool_calls = toolCalls;
  return {
    id: response.id,
    object: 'chat.completion',
    created: response.created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: chatFinishReason(response.finishReason) }],
    usage: chatUsage(response.usage),
  };
}
