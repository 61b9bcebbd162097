// Model patterns used by allowed-model lists, test-key confinement, per-model budgets
// and per-model limits: an exact id, a glob (`gpt-5.4-*`, `claude-?-*`), or a class
// selector `tier:<tier>` / `provider:<provider>`.
import type { ModelInfo } from '../catalog/types.ts';

type Matcher = (model: Pick<ModelInfo, 'id'> & Partial<Pick<ModelInfo, 'tier' | 'provider'>>) => boolean;

const compiled = new Map<string, Matcher>();

function compile(pattern: string): Matcher {
  if (pattern.startsWith('tier:')) {
    const tier = pattern.slice(5);
    return (model) => model.tier === tier;
  }
  if (pattern.startsWith('provider:')) {
    const provider = pattern.slice(9);
    return (model) => model.provider === provider;
  }
  if (!/[*?]/.test(pattern)) return (model) => model.id === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`);
  return (model) => regex.test(model.id);
}

export function matchesPattern(pattern: string, model: Pick<ModelInfo, 'id'> & Partial<Pick<ModelInfo, 'tier' | 'provider'>>): boolean {
  let matcher = compiled.get(pattern);
  if (!matcher) {
    matcher = compile(pattern);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, matcher);
  }
  return matcher(model);
}

export function matchesAny(patterns: readonly string[], model: Pick<ModelInfo, 'id'> & Partial<Pick<ModelInfo, 'tier' | 'provider'>>): boolean {
  for (const pattern of patterns) if (matchesPattern(pattern, model)) return true;
  return false;
}

/** A SQL LIKE pattern (escape character `\`) for a glob on model ids; null for class selectors. */
export function globToLike(pattern: string): string | null {
  if (pattern.startsWith('tier:') || pattern.startsWith('provider:')) return null;
  return pattern.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%').replace(/\?/g, '_');
}
