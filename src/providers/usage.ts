// The one usage reader per wire format (chat, Responses, Anthropic Messages, Gemini),
// shared by the relay path and the translated path, so an answer is billed the same
// whichever way it went. Providers' numbers are checked here: a count that is not a
// non-negative safe integer of sane size is not trusted; the reader reports 0 for it
// and names it in `problems`, and dispatch replaces it by what the gateway counted.
import type { Usage } from '../canonical/types.ts';

/** No single call reads or writes more tokens than this. */
export const MAX_REPORTED_TOKENS = 1_000_000_000;

export type UsageField = 'inputTokens' | 'cachedInputTokens' | 'cacheWriteTokens' | 'outputTokens' | 'reasoningTokens';

/** Usage as a reader found it; `problems` lists the fields whose reported value was not a token count. */
export interface ReportedUsage extends Usage {
  problems?: Array<{ field: UsageField; reported: string }>;
}

/** The fields of `usage` a reader did not trust (empty for usage built by the gateway). */
export function usageProblems(usage: Usage): NonNullable<ReportedUsage['problems']> {
  return (usage as ReportedUsage).problems ?? [];
}

/** Collects the counts of one usage object, noting those that are not token counts. */
class UsageBuilder {
  problems: ReportedUsage['problems'];

  /** A reported count: absent (undefined/null) is 0; anything else must be a sane token count. */
  count(value: unknown, field: UsageField): number {
    if (value === undefined || value === null) return 0;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_REPORTED_TOKENS) return value;
    (this.problems ??= []).push({ field, reported: describe(value) });
    return 0;
  }

  // A part above its total (cached > input) is kept as reported: pricing caps it (src/catalog/cost.ts).
  done(usage: Usage): ReportedUsage {
    if (this.problems) (usage as ReportedUsage).problems = this.problems;
    return usage;
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Chat Completions (and embeddings) `usage` object; DeepSeek's prompt_cache_hit_tokens count as cached. */
export function readChatUsage(u: unknown): ReportedUsage | undefined {
  if (!isObject(u)) return undefined;
  const b = new UsageBuilder();
  const cached = u.prompt_tokens_details?.cached_tokens ?? u.prompt_cache_hit_tokens;
  return b.done({
    inputTokens: b.count(u.prompt_tokens, 'inputTokens'),
    cachedInputTokens: b.count(cached, 'cachedInputTokens'),
    outputTokens: b.count(u.completion_tokens, 'outputTokens'),
    reasoningTokens: b.count(u.completion_tokens_details?.reasoning_tokens, 'reasoningTokens'),
  });
}

/** A Responses API `usage` object (cache writes in input_tokens_details.cache_write_tokens). */
export function readResponsesUsage(u: unknown): ReportedUsage | undefined {
  if (!isObject(u)) return undefined;
  const b = new UsageBuilder();
  const usage: Usage = {
    inputTokens: b.count(u.input_tokens, 'inputTokens'),
    cachedInputTokens: b.count(u.input_tokens_details?.cached_tokens, 'cachedInputTokens'),
    outputTokens: b.count(u.output_tokens, 'outputTokens'),
    reasoningTokens: b.count(u.output_tokens_details?.reasoning_tokens, 'reasoningTokens'),
  };
  const cacheWrite = b.count(u.input_tokens_details?.cache_write_tokens, 'cacheWriteTokens');
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  return b.done(usage);
}

/** Anthropic's usage: input comes in three parts (plain, cache read, cache write), canonical input is their sum. */
export function readAnthropicUsage(u: unknown): ReportedUsage {
  const raw = isObject(u) ? u : {};
  const b = new UsageBuilder();
  const plain = b.count(raw.input_tokens, 'inputTokens');
  const cacheRead = b.count(raw.cache_read_input_tokens, 'cachedInputTokens');
  const cacheWrite = b.count(raw.cache_creation_input_tokens, 'cacheWriteTokens');
  return b.done({
    inputTokens: plain + cacheRead + cacheWrite,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: b.count(raw.output_tokens, 'outputTokens'),
    reasoningTokens: 0,
  });
}

/** Gemini's usageMetadata: promptTokenCount already includes cached tokens; output is candidates plus thoughts. */
export function readGeminiUsage(u: unknown): ReportedUsage {
  const raw = isObject(u) ? u : {};
  const b = new UsageBuilder();
  const thoughts = b.count(raw.thoughtsTokenCount, 'reasoningTokens');
  return b.done({
    inputTokens: b.count(raw.promptTokenCount, 'inputTokens') + b.count(raw.toolUsePromptTokenCount, 'inputTokens'),
    cachedInputTokens: b.count(raw.cachedContentTokenCount, 'cachedInputTokens'),
    outputTokens: b.count(raw.candidatesTokenCount, 'outputTokens') + thoughts,
    reasoningTokens: thoughts,
  });
}
