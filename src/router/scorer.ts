// What the router asks of the trained models (src/router/classifier.ts and its shipped
// weights), behind one small interface so tests can give a scorer of their own.
import { loadRouterModels } from './classifier.ts';

export interface RouterScorer {
  /** 0..1: how much this question needs a stronger model. */
  difficulty(text: string, turns: number): number;
  /** The difficulty score above which `share` of the training prompts lie. */
  thresholdForShare(share: number): number;
  /** 0..1: how likely a cheap model's answer to this question is wrong. */
  answerRisk(question: string, answer: string): number;
  /** The answer-risk score above which `share` of the training answers lie. */
  answerThresholdForShare(share: number): number;
  /** The features that pushed a question's difficulty score most, for the debug log. */
  explain?(text: string, turns: number): Array<{ feature: string; contribution: number }>;
}

let shipped: RouterScorer | undefined;

/**
 * The shipped classifier. Its weights (about 25 MB in memory once parsed) are read on the
 * first auto-routed request, about 30 ms once, so a gateway that never routes never pays.
 */
export function shippedScorer(): RouterScorer {
  if (shipped) return shipped;
  let loaded: ReturnType<typeof loadRouterModels> | undefined;
  const models = () => (loaded ??= loadRouterModels());
  shipped = {
    difficulty: (text, turns) => models().scoreDifficulty(text, turns),
    thresholdForShare: (share) => models().thresholdForShare(share),
    answerRisk: (question, answer) => models().scoreAnswer(question, answer),
    answerThresholdForShare: (share) => models().answerThresholdForShare(share),
    explain: (text, turns) => models().explainDifficulty(text, turns, 8),
  };
  return shipped;
}
