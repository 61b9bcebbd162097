// Responses API `response` objects <-> CanonicalResponse, and the pieces the stream
// encoder shares with the non-stream path (envelope, usage, items, ids).
import { GatewayError } from '../../canonical/errors.ts';
import { emptyUsage } from '../../canonical/types.ts';
import { readResponsesUsage } from '../../providers/usage.ts';
import type {
  AssistantContent, CanonicalRequest, CanonicalResponse, FinishReason, ReasoningPart, ResponseFormat, ToolChoice,
  ToolDefinition, Usage,
} from '../../canonical/types.ts';
import { isObject } from '../openai-chat/fields.ts';
import { streamedUpstreamError } from '../openai-chat/upstream-error.ts';

/**
 * A reasoning item's `encrypted_content` is the one opaque field a Responses client
 * sends back. OpenAI's own encrypted reasoning (and Anthropic's redacted thinking)
 * travel in it as they are; an Anthropic thinking signature travels behind this
 * prefix so the next turn can hand it back to Anthropic.
 */
const SIGNATURE_PREFIX = 'switchyard-signature:';

export function encryptedContentOf(part: { signature?: string; redacted?: string }): string | undefined {
  if (part.redacted !== undefined) return part.redacted;
  return part.signature === undefined ? undefined : SIGNATURE_PREFIX + part.signature;
}

export function reasoningFromEncrypted(encrypted: string): { signature?: string; redacted?: string } {
  return encrypted.startsWith(SIGNATURE_PREFIX) ? { signature: encrypted.slice(SIGNATURE_PREFIX.length) } : { redacted: encrypted };
}

/** Letters and digits of an upstream id, to build item ids that need no escaping. */
export function idBaseOf(id: string): string {
  const base = id.replace(/^resp_/, '').replace(/[^A-Za-z0-9]/g, '');
  return base.length > 0 ? base : crypto.randomUUID().replace(/-/g, '');
}

export function responsesUsage(usage: Usage): object {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens, cache_write_tokens: usage.cacheWriteTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export function usageFromResponses(usage: any): Usage {
  // The one Responses usage reader, shared with the relay path (it validates the counts).
  return readResponsesUsage(usage) ?? emptyUsage();
}


/** Status and incomplete_details for a finish reason. */
export function statusOf(reason: FinishReason): { status: 'completed' | 'incomplete'; incompleteDetails: object | null } {
  if (reason === 'length') return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter') return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  return { status: 'completed', incompleteDetails: null };
}

export function finishReasonFromIncomplete(details: any): FinishReason {
  return details?.reason === 'content_filter' ? 'content_filter' : 'length';
}

export function responsesTools(tools: ToolDefinition[] | undefined): object[] {
  if (tools === undefined) return [];
  return tools.map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.parameters ?? { type: 'object', properties: {} },
    strict: tool.strict ?? false,
  }));
}

export function responsesToolChoice(choice: ToolChoice | undefined): unknown {
  if (choice === undefined) return 'auto';
  return typeof choice === 'string' ? choice : { type: 'function', name: choice.name };
}

export function responsesTextFormat(format: ResponseFormat | undefined): object {
  if (format === undefined || format.type !== 'json_schema') return { type: format?.type ?? 'text' };
  const out: Record<string, unknown> = { type: 'json_schema', name: format.name, schema: format.schema };
  if (format.strict !== undefined) out.strict = format.strict;
  if (format.description !== undefined) out.description = format.description;
  return out;
}

/** The instructions a Responses client sent come back as the leading system message. */
function instructionsOf(request: CanonicalRequest): string | null {
  const first = request.messages[0];
  return first !== undefined && first.role === 'system' ? first.content : null;
}

export interface EnvelopeFields {
  id: string;
  createdAt: number;
  model: string;
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  output: object[];
  usage: Usage | null;
  incompleteDetails?: object | null;
  error?: object | null;
}

/** The `response` object with the request's settings echoed, as OpenAI returns it. */
export function responseEnvelope(request: CanonicalRequest, fields: EnvelopeFields): Record<string, unknown> {
  const extra = request.extra;
  const reasoning = isObject(extra?.reasoning) ? extra.reasoning : undefined;
  const text = isObject(extra?.text) ? extra.text : undefined;
  return {
    id: fields.id,
    object: 'response',
    created_at: fields.createdAt,
    status: fields.status,
    background: false,
    error: fields.error ?? null,
    incomplete_details: fields.incompleteDetails ?? null,
    instructions: instructionsOf(request),
    max_output_tokens: request.maxOutputTokens ?? null,
    max_tool_calls: null,
    model: fields.model,
    output: fields.output,
    parallel_tool_calls: request.parallelToolCalls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoningEffort ?? null, summary: reasoning?.summary ?? null },
    store: false,
    temperature: request.temperature ?? 1,
    text: { ...text, format: responsesTextFormat(request.responseFormat) },
    tool_choice: responsesToolChoice(request.toolChoice),
    tools: responsesTools(request.tools),
    top_p: request.topP ?? 1,
    truncation: 'disabled',
    usage: fields.usage === null ? null : responsesUsage(fields.usage),
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

export function reasoningItem(id: string, text: string, part: { signature?: string; redacted?: string }): object {
  const encrypted = encryptedContentOf(part);
  const summary = text.length > 0 ? [{ type: 'summary_text', text }] : [];
  return encrypted === undefined ? { id, type: 'reasoning', summary } : { id, type: 'reasoning', encrypted_content: encrypted, summary };
}

export function functionCallItem(id: string, status: string, callId: string, name: string, args: string): object {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

export function messageItem(id: string, status: string, text: string): object {
  return { id, type: 'message', status, content: [{ type: 'output_text', annotations: [], logprobs: [], text }], role: 'assistant' };
}

export function responseIdOf(id: string, base: string): string {
  return id.startsWith('resp_') ? id : `resp_${base}`;
}

/** CanonicalResponse -> the Responses API `response` object. */
export function toResponseObject(response: CanonicalResponse, request: CanonicalRequest, model: string): object {
  const base = idBaseOf(response.id);
  const output: object[] = [];
  let text: string | undefined;
  const flushText = () => {
    if (text !== undefined) output.push(messageItem(`msg_${base}_${output.length}`, 'completed', text));
    text = undefined;
  };
  for (const part of response.content) {
    if (part.type === 'text') text = text === undefined ? part.text : text + part.text;
    else {
      flushText();
      output.push(part.type === 'reasoning'
        ? reasoningItem(`rs_${base}_${output.length}`, part.text, part)
        : functionCallItem(`fc_${base}_${output.length}`, 'completed', part.id, part.name, part.arguments));
    }
  }
  flushText();
  const { status, incompleteDetails } = statusOf(response.finishReason);
  return responseEnvelope(request, {
    id: responseIdOf(response.id, base), createdAt: response.created, model, status, output, usage: response.usage, incompleteDetails,
  });
}

/** A Responses-native upstream's `response` object -> CanonicalResponse. */
export function fromResponsesResponse(json: any): CanonicalResponse {
  if (json?.status === 'failed') throw streamedUpstreamError(json.error, 'openai');
  if (!Array.isArray(json?.output)) {
    throw new GatewayError({
      status: 502, type: 'upstream_error', code: 'upstream_invalid_response',
      message: 'The upstream answered without an output array; its response is not a Responses API response.',
    });
  }
  const content: AssistantContent[] = [];
  let hasToolCalls = false;
  for (const item of json.output) {
    if (item?.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) {
        const text = part?.type === 'output_text' ? part.text : part?.type === 'refusal' ? part.refusal : undefined;
        if (typeof text === 'string' && text.length > 0) content.push({ type: 'text', text });
      }
    } else if (item?.type === 'reasoning') {
      content.push(reasoningPartOf(item));
    } else if (item?.type === 'function_call') {
      hasToolCalls = true;
      content.push({ type: 'tool_call', id: String(item.call_id ?? ''), name: String(item.name ?? ''), arguments: String(item.arguments ?? '') });
    }
  }
  const finishReason: FinishReason = json.status === 'incomplete'
    ? finishReasonFromIncomplete(json.incomplete_details)
    : hasToolCalls ? 'tool_calls' : 'stop';
  const response: CanonicalResponse = {
    id: String(json.id ?? ''),
    model: String(json.model ?? ''),
    created: typeof json.created_at === 'number' ? json.created_at : Math.floor(Date.now() / 1000),
    content,
    finishReason,
    usage: usageFromResponses(json.usage),
  };
  if (typeof json.status === 'string') response.providerFinishReason = json.incomplete_details?.reason ?? json.status;
  return response;
}

/** A reasoning item -> ReasoningPart. */
export function reasoningPartOf(item: any): ReasoningPart {
  const part: ReasoningPart = { type: 'reasoning', text: reasoningTextOf(item) };
  if (typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0) {
    Object.assign(part, reasoningFromEncrypted(item.encrypted_content));
  }
  return part;
}

/** A reasoning item's summary texts (or raw reasoning text) joined by blank lines. */
export function reasoningTextOf(item: any): string {
  const texts: string[] = [];
  const from = Array.isArray(item.summary) && item.summary.length > 0 ? item.summary : Array.isArray(item.content) ? item.content : [];
  for (const entry of from) if (typeof entry?.text === 'string') texts.push(entry.text);
  return texts.join('\n\n');
}
