// Cost per 1,000 requests at catalog prices. Input tokens are the prompt's o200k count; output
// tokens are the weak answer's count where the row has one, else a fixed estimate (both models
// are assumed to answer at about the same length).
import { readFileSync } from 'node:fs';
import { countTextTokens } from '../../src/tokens/count.ts';
import type { EvalRow } from './routing-data.ts';

export const DEFAULT_OUTPUT_TOKENS = 300;

interface Pricing {
  input: number;
  output: number;
}

interface CatalogFile {
  aliases: Record<string, string>;
  models: { id: string; pricing?: Pricing }[];
}

export function catalogPricing(model: string): Pricing {
  const catalog = JSON.parse(readFileSync(new URL('../../src/catalog/models.json', import.meta.url), 'utf8')) as CatalogFile;
  const id = catalog.aliases[model] ?? model;
  const found = catalog.models.find((m) => m.id === id);
  if (!found?.pricing) throw new Error(`model ${model} is not in src/catalog/models.json (or has no pricing)`);
  return found.pricing;
}

/** USD per call of each row on one model. */
export function rowCosts(rows: EvalRow[], pricing: Pricing): Float64Array {
  return Float64Array.from(rows, (row) => {
    const input = countTextTokens(row.prompt);
    const output = row.weak_answer ? countTextTokens(row.weak_answer) : DEFAULT_OUTPUT_TOKENS;
    return (input * pricing.input + output * pricing.output) / 1e6;
  });
}

/** Cost per 1,000 requests when the rows in `strongRows` go strong (cascade: they pay both calls). */
export function costPer1k(weakCosts: Float64Array, strongCosts: Float64Array, strongRows: Set<number>, cascade: boolean): number {
  let total = 0;
  for (let i = 0; i < weakCosts.length; i++) {
    const strong = strongRows.has(i);
    total += (cascade || !strong ? weakCosts[i] : 0) + (strong ? strongCosts[i] : 0);
  }
  return Math.round((total / Math.max(1, weakCosts.length)) * 1000 * 1e4) / 1e4;
}
