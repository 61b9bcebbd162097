// Account stage: what a call may cost before it is sent, and what it did cost after.
import type { CanonicalRequest, Usage } from './canonical/types.ts';
import { costOf, worstCaseCost } from './catalog/cost.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Route } from './routing/resolve.ts';
import { autoWorstCase } from './router/budget.ts';
import type { Admitted, CostEstimate } from './services.ts';
import type { Attempt } from './call-state.ts';
import { usageProblems, type UsageField } from './providers/usage.ts';
import { countInputTokens, countTextTokens } from './tokens/count.ts';

/**
 * What admission reserves. With a fallback chain it is the chain's worst case (the most
 * any one of its models could cost), so a hard budget holds whichever model answers.
 */
export function estimateCost(request: CanonicalRequest, route: Route, fallbacks: readonly ModelInfo[] = []): CostEstimate {
  const maxOutputTokens = request.maxOutputTokens ?? route.model.maxOutputTokens;
  let worstCaseUsd = worstCaseCost(route.inputTokens, maxOutputTokens, route.model.pricing);
  for (const model of fallbacks) {
    const output = request.maxOutputTokens ?? model.maxOutputTokens;
    worstCaseUsd = Math.max(worstCaseUsd, worstCaseCost(route.inputTokens, output, model.pricing));
  }
  const estimate: CostEstimate = { inputTokens: route.inputTokens, maxOutputTokens, worstCaseUsd };
  const auto = route.auto;
  if (auto && (auto.ladder || auto.validator)) {
    const answering = [route.model, ...fallbacks];
    estimate.worstCaseFor = (cap) => autoWorstCase(auto, answering, route.inputTokens, cap);
    estimate.worstCaseUsd = estimate.worstCaseFor(maxOutputTokens);
  }
  return estimate;
}

/** Admission may lower (or default) the output cap; the request then carries it. */
export function applyOutputCap(request: CanonicalRequest, admitted: Admitted): void {
  if (admitted.outputCap !== undefined) request.maxOutputTokens = admitted.outputCap;
}

export function costFor(usage: Usage, model: ModelInfo): number {
  return costOf(usage, model.pricing);
}

/** What the attempts before the answering one cost; failed attempts carry no usage and cost nothing. */
export function earlierCost(attempts: readonly Attempt[]): { usage?: Usage; costUsd: number } {
  let usage: Usage | undefined;
  let costUsd = 0;
  for (let i = 0; i < attempts.length - 1; i++) {
    const a = attempts[i];
    if (!a.usage) continue;
    usage = usage ? sumUsage(usage, a.usage) : a.usage;
    costUsd += costFor(a.usage, a.model);
  }
  return { usage, costUsd };
}

/** What a whole answer cost with every attempt before it (a cascade's tiers, samples, judges), as respond() bills it. */
export function spentOn(answer: { usage: Usage; model: ModelInfo; attempts: readonly Attempt[] }): { usage: Usage; costUsd: number } {
  const earlier = earlierCost(answer.attempts);
  const costUsd = costFor(answer.usage, answer.model) + earlier.costUsd;
  return { usage: earlier.usage ? sumUsage(earlier.usage, answer.usage) : answer.usage, costUsd };
}

export function sumUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
  if (a.cacheWriteTokens || b.cacheWriteTokens) sum.cacheWriteTokens = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  return sum;
}

/** Output tokens from a stream that ended before the upstream reported usage. */
export function estimatedUsage(inputTokens: number, outputTokens: number): Usage {
  return { inputTokens, cachedInputTokens: 0, outputTokens, reasoningTokens: 0 };
}

/**
 * The usage to bill: the provider's, except where its numbers cannot be token counts
 * (see src/providers/usage.ts) or exceed what the model can do; those are replaced by
 * the gateway's own count, and `warnings` says so. Without reported usage, the count.
 * The same value is booked to the spend and written to the ledger. `outputEstimate` is
 * called only when the count is needed (it walks the whole answer).
 */
export async function billableUsage(reported: Usage | undefined, request: CanonicalRequest, model: ModelInfo, outputEstimate: () => number, warnings: string[]): Promise<Usage> {
  if (!reported) return estimatedUsage(await countInputTokens(request), outputEstimate());
  if (reportsNothing(reported)) {
    // An answer whose usage is absent (read as all zeros): every prompt has tokens, so count them.
    warnings.push('the provider reported no usage for this answer; the gateway\'s own count was billed instead');
    return estimatedUsage(await countInputTokens(request), outputEstimate());
  }
  const problems = [...usageProblems(reported), ...beyondModel(reported, request, model)];
  if (problems.length === 0) return reported;
  const bad = new Set(problems.map((p) => p.field));
  const usage: Usage = {
    inputTokens: bad.has('inputTokens') ? await countInputTokens(request) : reported.inputTokens,
    cachedInputTokens: bad.has('cachedInputTokens') || bad.has('inputTokens') ? 0 : reported.cachedInputTokens,
    outputTokens: bad.has('outputTokens') ? outputEstimate() : reported.outputTokens,
    reasoningTokens: bad.has('reasoningTokens') || bad.has('outputTokens') ? 0 : reported.reasoningTokens,
  };
  const cacheWrite = bad.has('cacheWriteTokens') || bad.has('inputTokens') ? 0 : reported.cacheWriteTokens;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  const said = problems.map((p) => `${FIELD_NAMES[p.field]} ${p.reported}`).join(', ');
  warnings.push(`the provider reported usage that is not a valid token count (${said}); the gateway's own count was billed instead`);
  return usage;
}

function reportsNothing(usage: Usage): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0 && usage.cachedInputTokens === 0 && !usage.cacheWriteTokens;
}

const FIELD_NAMES: Record<UsageField, string> = {
  inputTokens: 'input tokens',
  cachedInputTokens: 'cached input tokens',
  cacheWriteTokens: 'cache write tokens',
  outputTokens: 'output tokens',
  reasoningTokens: 'reasoning tokens',
};

/**
 * Counts no call to this model can reach. Catalog limits can be a little off (a local
 * model's context window is a default), so only twice the limit is refused.
 */
function beyondModel(usage: Usage, request: CanonicalRequest, model: ModelInfo): Array<{ field: UsageField; reported: string }> {
  const out: Array<{ field: UsageField; reported: string }> = [];
  if (usage.inputTokens > 2 * model.contextWindow) out.push({ field: 'inputTokens', reported: `${usage.inputTokens} (above ${model.id}'s context window)` });
  const outputLimit = Math.max(model.maxOutputTokens, request.maxOutputTokens ?? 0, model.contextWindow);
  if (usage.outputTokens > 2 * outputLimit) out.push({ field: 'outputTokens', reported: `${usage.outputTokens} (above ${model.id}'s output limit)` });
  return out;
}

const NOT_GENERATED = new Set(['id', 'object', 'model', 'type', 'role', 'status', 'finish_reason', 'stop_reason', 'system_fingerprint', 'service_tier', 'call_id', 'signature', 'encrypted_content', 'created']);

/** An estimate of the output tokens in an answer (a JSON body or canonical content): every generated string counted. */
export function countAnswerTokens(answer: unknown): number {
  let total = 0;
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (!NOT_GENERATED.has(key)) total += countTextTokens(value);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
    } else if (typeof value === 'object' && value !== null && key !== 'usage' && key !== 'usageMetadata') {
      for (const [k, v] of Object.entries(value)) visit(v, k);
    }
  };
  visit(answer, '');
  return total;
}
