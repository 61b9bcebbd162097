import type { Usage } from '../canonical/types.ts';
import type { Pricing } from './types.ts';

const PER_TOKEN = 1 / 1_000_000;

/**
 * USD cost of one call. Cached input is billed at the cached price, cache writes at
 * the cache-write price, reasoning as output (it is part of outputTokens).
 */
export function costOf(usage: Usage, pricing: Pricing): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  const plain = usage.inputTokens - cached - written;
  const usd =
    plain * pricing.input +
    cached * pricing.cachedInput +
    written * (pricing.cacheWrite ?? pricing.input) +
    usage.outputTokens * pricing.output;
  return roundUsd(usd * PER_TOKEN);
}

/** Worst case before the call: every input token at full price, the whole output cap used. */
export function worstCaseCost(inputTokens: number, maxOutputTokens: number, pricing: Pricing): number {
  return roundUsd((inputTokens * pricing.input + maxOutputTokens * pricing.output) * PER_TOKEN);
}

/** Money is kept to a millionth of a cent, which float64 represents exactly enough. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}
