// The canonical request, response and stream-event shapes that sit between every
// inbound API (OpenAI chat, OpenAI responses, Anthropic messages) and every
// provider (OpenAI-compatible, Anthropic, Gemini). Inbound APIs translate to and
// from these; providers translate from and to these. Nothing here is a wire format.

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
export const REASONING_EFFORTS: readonly ReasoningEffort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

export interface TextPart {
  type: 'text';
  text: string;
}

/** An image given by URL (http(s)) or inline as base64 data. */
export interface ImagePart {
  type: 'image';
  /** http(s) URL; absent when `data` is set. */
  url?: string;
  /** base64 bytes without the `data:` prefix. */
  data?: string;
  /** e.g. image/png; required with `data`. */
  mediaType?: string;
  /** OpenAI's detail hint (low, high, auto); providers without it ignore it. */
  detail?: string;
}

/**
 * Model reasoning ("thinking"). `signature` (Anthropic) and `encrypted`
 * (OpenAI encrypted_content, Anthropic redacted_thinking data) must be sent back
 * unchanged in later turns, so they are kept.
 */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  signature?: string;
  /** Opaque, provider-encrypted reasoning (Anthropic redacted_thinking `data`). */
  redacted?: string;
}

export interface ToolCallPart {
  type: 'tool_call';
  id: string;
  name: string;
  /** JSON text of the arguments, exactly as the model produced it. */
  arguments: string;
}

export type UserContent = TextPart | ImagePart;
export type AssistantContent = TextPart | ReasoningPart | ToolCallPart;

export type Message =
  | { role: 'system'; content: string }
  | { role: 'user'; content: UserContent[]; name?: string }
  | { role: 'assistant'; content: AssistantContent[]; name?: string }
  | { role: 'tool'; toolCallId: string; content: string; isError?: boolean };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export interface CanonicalRequest {
  /** The model id the caller asked for (catalog id or alias, before routing). */
  model: string;
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  maxOutputTokens?: number;
  reasoningEffort?: ReasoningEffort;
  /** Ask the provider to return a reasoning summary / thinking text where it can. */
  temperature?: number;
  topP?: number;
  stop?: string[];
  n?: number;
  seed?: number;
  user?: string;
  metadata?: Record<string, string>;
  stream: boolean;
  /**
   * Fields the inbound API did not recognise. An OpenAI-compatible upstream gets
   * them as they came; a translating provider that cannot take one reports it in
   * `warnings` of the result instead of dropping it silently.
   */
  extra?: Record<string, unknown>;
  /**
   * What the inbound parser found but no translation can carry: a tool, content or
   * item type it does not translate, or an invalid value in a field the gateway does
   * not need itself. A relay passes the body as it came (the provider judges it); a
   * translated route refuses the request, naming the first one.
   */
  untranslatable?: Untranslatable[];
}

export interface Untranslatable {
  /** Its path in the client's body, e.g. `tools[0].type`. */
  param: string;
  /** What it is, as the refusal names it, e.g. `'web_search'`. */
  what: string;
  /** The error code a translated route refuses it with. */
  code: string;
  /** The fix to suggest besides a relayed model, if any. */
  hint?: string;
  /** For an invalid value: the exact refusal a translated route gives. */
  refusal?: import('./errors.ts').GatewayError;
  /** The item as it came when the canonical messages/tools lack it: counted as input tokens. */
  json?: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface Usage {
  /** All input tokens, cached ones included. */
  inputTokens: number;
  /** The part of inputTokens read from a provider cache (billed at the cached price). */
  cachedInputTokens: number;
  /** Input tokens written to a provider cache (Anthropic cache_creation), part of inputTokens. */
  cacheWriteTokens?: number;
  /** All output tokens, reasoning included. */
  outputTokens: number;
  /** The part of outputTokens spent on reasoning. */
  reasoningTokens: number;
}

export interface CanonicalResponse {
  id: string;
  /** The model name the provider reported. */
  model: string;
  created: number;
  content: AssistantContent[];
  finishReason: FinishReason;
  usage: Usage;
  /** Raw provider stop reason, for logs (e.g. "end_turn", "MAX_TOKENS"). */
  providerFinishReason?: string;
  /** Fields of the request this provider could not honour. */
  warnings?: string[];
}

/**
 * Stream events, in order: one `start`, then any interleaving of content events
 * (each tool call's deltas carry its `index`), then at most one `finish`, which
 * carries the usage. An `error` ends the stream early.
 */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number; warnings?: string[] }
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  /** The end of one reasoning block, with the signature to send back. */
  | { type: 'reasoning-end'; signature?: string; redacted?: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'tool-call-end'; index: number }
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; providerFinishReason?: string }
  | { type: 'error'; error: import('./errors.ts').GatewayError; usage?: Usage };

export function emptyUsage(): Usage {
  return { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
}

/** Whether a system message comes after the conversation started (a provider with one system slot cannot keep its place). */
export function hasLaterSystemMessage(messages: readonly Message[]): boolean {
  let started = false;
  for (const message of messages) {
    if (message.role !== 'system') started = true;
    else if (started && message.content) return true;
  }
  return false;
}
