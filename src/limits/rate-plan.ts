// Which rate limits apply to a request (the key's, the key's per-model ones, the
// gateway's per-model ones) and the OpenAI-style headers that report them.
import { GatewayError } from '../canonical/errors.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { KeyRateLimits, RateLimits } from '../store/types.ts';
import type { RateCharge, RateOutcome, SlotCharge } from './counters.ts';
import { matchesPattern } from './patterns.ts';
import { formatResetDuration } from './window.ts';

const MINUTE = 60_000;

export interface RatePlan {
  rates: RateCharge[];
  slots: SlotCharge[];
  /** Where each charge comes from, for messages ("key 'ci'", "key 'ci' for gpt-5.5", "model gpt-5.5"). */
  rateLabels: string[];
  slotLabels: string[];
}

export function planRates(
  keyId: string,
  keyName: string,
  keyLimits: KeyRateLimits | null | undefined,
  model: ModelInfo,
  modelLimits: Record<string, RateLimits> | undefined,
  tokens: number,
): RatePlan {
  const plan: RatePlan = { rates: [], slots: [], rateLabels: [], slotLabels: [] };
  if (keyLimits) {
    add(plan, `k:${keyId}`, `key '${keyName}'`, keyLimits, tokens);
    if (keyLimits.models) {
      for (const pattern in keyLimits.models) {
        if (matchesPattern(pattern, model)) add(plan, `k:${keyId}:m:${pattern}`, `key '${keyName}' for ${pattern}`, keyLimits.models[pattern], tokens);
      }
    }
  }
  if (modelLimits) {
    for (const pattern in modelLimits) {
      if (matchesPattern(pattern, model)) add(plan, `m:${pattern}`, `model ${pattern} (gateway-wide)`, modelLimits[pattern], tokens);
    }
  }
  return plan;
}

function add(plan: RatePlan, key: string, label: string, limits: RateLimits, tokens: number): void {
  if (limits.rpm) {
    plan.rates.push({ key: `${key}:rpm`, kind: 'requests', limit: limits.rpm, windowMs: MINUTE, amount: 1 });
    plan.rateLabels.push(label);
  }
  if (limits.tpm) {
    plan.rates.push({ key: `${key}:tpm`, kind: 'tokens', limit: limits.tpm, windowMs: MINUTE, amount: tokens });
    plan.rateLabels.push(label);
  }
  if (limits.concurrent) {
    plan.slots.push({ key, limit: limits.concurrent });
    plan.slotLabels.push(label);
  }
}

/** x-ratelimit-{limit,remaining,reset}-{requests,tokens}: the tightest limit of each kind. */
export function rateHeaders(plan: RatePlan, outcome: RateOutcome): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    let best = -1;
    for (let i = 0; i < plan.rates.length; i++) {
      if (plan.rates[i].kind !== kind) continue;
      if (best < 0 || outcome.states[i].remaining < outcome.states[best].remaining) best = i;
    }
    if (best < 0) continue;
    const state = outcome.states[best];
    headers[`x-ratelimit-limit-${kind}`] = String(state.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(state.remaining);
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(state.resetMs);
  }
  return headers;
}

export function rateLimitError(plan: RatePlan, outcome: Extract<RateOutcome, { ok: false }>): GatewayError {
  const headers = rateHeaders(plan, outcome);
  if (outcome.kind === 'slot') {
    const slot = plan.slots[outcome.index];
    headers['retry-after'] = '1';
    return new GatewayError({
      status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers,
      message: `Rate limit reached: ${plan.slotLabels[outcome.index]} allows ${slot.limit} concurrent requests and all are in use. Retry when one finishes (Retry-After: 1), or ask an admin to raise rate_limits.concurrent.`,
    });
  }
  const rate = plan.rates[outcome.index];
  const label = plan.rateLabels[outcome.index];
  const unit = rate.kind === 'requests' ? 'requests' : 'tokens';
  const per = `${rate.limit} ${unit} per minute`;
  if (!Number.isFinite(outcome.retryAfterMs)) {
    return new GatewayError({
      status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers,
      message: `Request too large for the rate limit: it needs up to ${rate.amount} tokens (input + max_tokens) but ${label} allows ${per}. Lower max_tokens or shorten the input.`,
    });
  }
  const seconds = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
  headers['retry-after'] = String(seconds);
  return new GatewayError({
    status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers,
    message: `Rate limit reached: ${label} allows ${per}${rate.kind === 'tokens' ? ` (this request counts ${rate.amount}: input + max_tokens)` : ''}. Retry after ${seconds} s.`,
  });
}
