// Settings of a key that are valid but cannot do what they say: a budget for a model the
// key may not call would never be charged. The admin API and the CLI return these as
// `warnings` with the created or changed key, instead of refusing it.
import { matchesAny } from '../limits/patterns.ts';

interface KeySettings {
  allowed_models: string[] | null;
  budgets: Array<{ model: string | null; limit_usd: number; period: string }>;
}

const CLASS_SELECTOR = /^(tier|provider):/;
const GLOB = /[*?]/;

export function keyWarnings(key: KeySettings): string[] {
  const allowed = key.allowed_models;
  // Which models a tier: or provider: selector admits is the catalog's business: no guess.
  if (!allowed || allowed.some((pattern) => CLASS_SELECTOR.test(pattern))) return [];
  const warnings: string[] = [];
  for (const budget of key.budgets) {
    const model = budget.model;
    if (model === null || GLOB.test(model) || CLASS_SELECTOR.test(model)) continue;
    if (matchesAny(allowed, { id: model })) continue;
    warnings.push(`The budget for '${model}' ($${budget.limit_usd}/${budget.period}) can never be spent: this key may only call ${allowed.join(', ')}. Add '${model}' to the key's allowed models (--models / allowed_models), or budget a model the key can call.`);
  }
  return warnings;
}
