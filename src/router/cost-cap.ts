// x-switchyard-max-cost-usd: the most one request may cost. An auto route picks no tier
// whose worst case is over it (decide.ts); an explicit model over it is refused before
// it is called, since the gateway never swaps a model the caller named.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { CostEstimate } from '../services.ts';

export const MAX_COST_HEADER = 'x-switchyard-max-cost-usd';

export function maxCostOf(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers[MAX_COST_HEADER];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(value) || value <= 0 || typeof raw !== 'string' || raw.trim() === '') {
    throw invalidRequest(`${MAX_COST_HEADER} must be a positive number of US dollars (e.g. 0.05); got ${JSON.stringify(String(raw)).slice(0, 40)}.`, MAX_COST_HEADER, 'invalid_max_cost');
  }
  return value;
}

export function refuseOverCap(estimate: CostEstimate, capUsd: number, model: ModelInfo): void {
  if (estimate.worstCaseUsd <= capUsd) return;
  throw new GatewayError({
    status: 400, type: 'invalid_request_error', code: 'max_cost_too_low', headers: { 'x-should-retry': 'false' },
    message: `This request to '${model.id}' may cost up to $${estimate.worstCaseUsd.toFixed(6)} (${estimate.inputTokens} input tokens, up to ${estimate.maxOutputTokens} output tokens), over ${MAX_COST_HEADER} $${capUsd}. Lower max_tokens, raise the cap, or use an auto route to let the gateway pick a cheaper tier.`,
  });
}
