// Account stage: what a call may cost before it is sent, and what it did cost after.
import type { CanonicalRequest, Usage } from './canonical/types.ts';
import { costOf, worstCaseCost } from './catalog/cost.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Route } from './routing/resolve.ts';
import type { Admitted, CostEstimate } from './services.ts';

export function estimateCost(request: CanonicalRequest, route: Route): CostEstimate {
  const maxOutputTokens = request.maxOutputTokens ?? route.model.maxOutputTokens;
  return { inputTokens: route.inputTokens, maxOutputTokens, worstCaseUsd: worstCaseCost(route.inputTokens, maxOutputTokens, route.model.pricing) };
}

/** Admission may lower (or default) the output cap; the request then carries it. */
export function applyOutputCap(request: CanonicalRequest, admitted: Admitted): void {
  if (admitted.outputCap !== undefined) request.maxOutputTokens = admitted.outputCap;
}

export function costFor(usage: Usage, model: ModelInfo): number {
  return costOf(usage, model.pricing);
}

/** Output tokens from a stream that ended before the upstream reported usage. */
export function estimatedUsage(inputTokens: number, outputTokens: number): Usage {
  return { inputTokens, cachedInputTokens: 0, outputTokens, reasoningTokens: 0 };
}
