// What an auto route may cost at most, for admission's reservation: a cascade may pay
// every tier of its ladder (and second samples and verifier calls below the last), a
// critical route the Pro validation on top. Computed for the output cap admission
// settles on, so a key's max_tokens cap lowers it and a hard budget still holds.
import { worstCaseCost } from '../catalog/cost.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { AutoRoute } from './decide.ts';
import { JUDGE_MAX_OUTPUT_TOKENS } from './judge.ts';

/** Tokens the judge's instructions and framing add to the conversation and the answer. */
const JUDGE_FRAMING_TOKENS = 300;

export function autoWorstCase(auto: AutoRoute, answering: readonly ModelInfo[], inputTokens: number, maxOutputTokens: number): number {
  const call = (model: ModelInfo) => worstCaseCost(inputTokens, Math.min(maxOutputTokens, model.maxOutputTokens), model.pricing);
  const judge = (model: ModelInfo) => worstCaseCost(inputTokens + maxOutputTokens + JUDGE_FRAMING_TOKENS, JUDGE_MAX_OUTPUT_TOKENS, model.pricing);
  let total = 0;
  if (auto.ladder && auto.cascade) {
    const { checks } = auto.cascade;
    auto.ladder.forEach((rung, i) => {
      const below = i < auto.ladder!.length - 1;
      // A rung may fall back to its tier's other models: the most any of them could cost.
      const rungWorst = Math.max(call(rung.model), ...rung.alternatives.map(call));
      total += rungWorst * (below && checks.includes('consistency') ? 2 : 1);
      if (below && auto.verifier) total += judge(auto.verifier);
    });
  } else {
    // One tier answers (or one of its fallbacks): the most any of them could cost.
    for (const model of answering) total = Math.max(total, call(model));
  }
  if (auto.validator) total += judge(auto.validator);
  return total;
}
