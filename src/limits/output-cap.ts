// Output caps: a default and a maximum max_tokens per key and per model (config),
// bounded by the model's own maximum. A request above the maximum is clamped, or
// refused when the key says so; the response says which.
import { GatewayError } from '../canonical/errors.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { OutputCapPolicy } from '../store/types.ts';
import { matchesPattern } from './patterns.ts';

export interface ModelOutputCap {
  default?: number;
  max?: number;
}

export interface OutputCapDecision {
  /** The max_tokens to send upstream and to reserve budget for. */
  maxOutputTokens: number;
  /** True when the request asked for more and was clamped. */
  clamped: boolean;
  /** `x-switchyard-output-cap` explaining a clamp or an applied default; empty otherwise. */
  headers: Record<string, string>;
}

export interface ResolvedCap {
  max: number;
  default: number;
  /** Which bound set `max`, for messages. */
  maxSource: string;
  onExceed: 'clamp' | 'refuse';
}

export function effectiveCap(model: ModelInfo, key: OutputCapPolicy | null | undefined, modelCaps: Record<string, ModelOutputCap> | undefined): ResolvedCap {
  let max = model.maxOutputTokens;
  let maxSource = `${model.id}'s maximum output`;
  let modelDefault: number | undefined;
  if (modelCaps) {
    for (const pattern in modelCaps) {
      if (!matchesPattern(pattern, model)) continue;
      const cap = modelCaps[pattern];
      if (cap.max !== undefined && cap.max < max) { max = cap.max; maxSource = `the gateway's cap for ${model.id}`; }
      modelDefault ??= cap.default;
    }
  }
  if (key?.max !== undefined && key.max < max) { max = key.max; maxSource = "this key's maximum"; }
  const fallbackDefault = key?.default ?? modelDefault ?? max;
  return { max, default: Math.min(fallbackDefault, max), maxSource, onExceed: key?.on_exceed ?? 'clamp' };
}

export function decideOutputCap(model: ModelInfo, cap: ResolvedCap, requested: number | undefined, param = 'max_tokens'): OutputCapDecision {
  if (requested === undefined) {
    const headers: Record<string, string> = cap.default < model.maxOutputTokens ? { 'x-switchyard-output-cap': `default ${param} ${cap.default} applied` } : {};
    return { maxOutputTokens: cap.default, clamped: false, headers };
  }
  if (requested <= cap.max) return { maxOutputTokens: requested, clamped: false, headers: {} };
  if (cap.onExceed === 'refuse') throw capExceeded(model, cap, requested, param);
  return {
    maxOutputTokens: cap.max,
    clamped: true,
    headers: { 'x-switchyard-output-cap': `${param} ${requested} clamped to ${cap.max} (${cap.maxSource})` },
  };
}

export function capExceeded(model: ModelInfo, cap: ResolvedCap, requested: number, param = 'max_tokens'): GatewayError {
  return new GatewayError({
    status: 400,
    type: 'invalid_request_error',
    code: 'max_tokens_too_large',
    param,
    message: `${param} ${requested} is above ${cap.maxSource} of ${cap.max} tokens for ${model.id}. Send ${param} <= ${cap.max}, or ask an admin to raise the key's max_output_tokens.max.`,
  });
}
