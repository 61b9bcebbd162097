// The one training recipe shared by train-router (shipped weights) and eval-router --cv.
// Choices were made once by 5-fold CV on fixtures/routing-data (MMLU for the router, GSM8K for the
// cascade) and then left alone:
// - router: two logistic models over prompt features, P(strong right) and P(weak right); the score
//   is (1 + P(strong) − P(weak)) / 2, the expected quality gain of a strong call mapped to 0..1 —
//   the quantity routing by score should sort by. Each target is blended 50/50 with the row's task
//   (MMLU subject) mean, which denoises the per-row outcome towards the subject's rate. CV APGR on
//   MMLU (blend 0.5, same optimiser): weak-wrong 0.594, strong-right-and-weak-wrong 0.640, the gain
//   as one soft label 0.682, P(strong) − P(weak) 0.690 (fold seed 7; seeds 11 and 23 give 0.682).
//   For scale: a subject oracle that knows the subject, gaps from the training folds, gets 0.682.
//   The multiple-choice hand features (option word overlap, mean and max; all-numeric options;
//   long-word share; numbers in the stem) lift it to 0.701 / 0.696 / 0.695 at fold seeds 7 / 11 / 23
//   (`eval-router --cv 5 --seed N`); 10 epochs or rate 0.02 with them helped at one seed, not all three.
//   AdaGrad rate 0.01, 5 epochs, L2 0.01: smaller steps or more L2 were flat, larger ones lost 1-5 points.
//   2^19 hash buckets instead of 2^18 (fewer word collisions): 0.702 / 0.697 / 0.696, strong share at
//   95% quality 39.5% / 40.2% / 39.8% (was 40.1% / 40.5% / 40.6%); still ahead with each fold's models
//   pruned as shipped. Other ways of scoring with the same models lost at two or three seeds: the mean
//   of this score and the soft gain label's (or of their ranks), P(strong)·(1 − P(weak)), logit difference.
// - cascade: one logistic model over prompt + answer features on the soft label
//   (1 + strong − weak) / 2. CV APGR on GSM8K: 0.804, against 0.783 for the weak-wrong label and
//   0.783 for strong-right-and-weak-wrong. Its hand features (arithmetic re-check, final answer)
//   want little L2: rate 0.05, 5 epochs, L2 1e-5.
import { answerFeatures, createSparseVector, FEATURE_DIMENSION, promptFeatures } from '../../src/router/features.ts';
import type { EvalRow } from './routing-data.ts';
import type { CompactFeatures, LogisticModel, TrainOptions } from './train.ts';
import { blendedLabels, compact, crossValidatedScores, predict, trainLogistic } from './train.ts';

export const ROUTER_OPTIONS: TrainOptions = { dimension: FEATURE_DIMENSION, l2: 0.01, epochs: 5, learningRate: 0.01, seed: 7 };
export const CASCADE_OPTIONS: TrainOptions = { dimension: FEATURE_DIMENSION, l2: 1e-5, epochs: 5, learningRate: 0.05, seed: 7 };
export const TASK_WEIGHT = 0.5;

const buffer = createSparseVector();

export function difficultyFeatures(rows: EvalRow[]): CompactFeatures[] {
  return rows.map((row) => compact(promptFeatures(row.prompt, 1, buffer)));
}

export function cascadeFeatures(rows: EvalRow[]): CompactFeatures[] {
  return rows.map((row) => compact(answerFeatures(row.prompt, row.weak_answer ?? '', buffer)));
}

function outcomeLabels(rows: EvalRow[], model: 'weak' | 'strong'): (trainRows: number[]) => number[] {
  const tasks = new Set(rows.map((row) => row.task ?? ''));
  return (trainRows) => blendedLabels(rows, trainRows, (row) => row[model], tasks.size > 1 ? TASK_WEIGHT : 0);
}

function gainLabels(rows: EvalRow[]): (trainRows: number[]) => number[] {
  return (trainRows) => trainRows.map((r) => (rows[r].strong - rows[r].weak + 1) / 2);
}

const everyRow = (n: number) => Array.from({ length: n }, (_, i) => i);

export interface DifficultyModels {
  strong: LogisticModel;
  weak: LogisticModel;
}

export function trainDifficulty(rows: EvalRow[], features = difficultyFeatures(rows)): DifficultyModels {
  const all = everyRow(rows.length);
  return {
    strong: trainLogistic(features, outcomeLabels(rows, 'strong')(all), ROUTER_OPTIONS),
    weak: trainLogistic(features, outcomeLabels(rows, 'weak')(all), ROUTER_OPTIONS),
  };
}

export function trainCascade(rows: EvalRow[], features = cascadeFeatures(rows)): LogisticModel {
  return trainLogistic(features, gainLabels(rows)(everyRow(rows.length)), CASCADE_OPTIONS);
}

/** The router score from the two outcome probabilities. */
export function gainScore(strongProbability: number, weakProbability: number): number {
  return (1 + strongProbability - weakProbability) / 2;
}

/** `seed` (default the recipe's) deals the folds and orders the SGD passes: other seeds check a result is no fold accident. */
export function crossValidatedDifficulty(rows: EvalRow[], folds: number, features = difficultyFeatures(rows), seed = ROUTER_OPTIONS.seed): Float64Array {
  const options = { ...ROUTER_OPTIONS, seed };
  const strong = crossValidatedScores(features, outcomeLabels(rows, 'strong'), folds, options);
  const weak = crossValidatedScores(features, outcomeLabels(rows, 'weak'), folds, options);
  return strong.map((s, i) => gainScore(s, weak[i]));
}

export function crossValidatedCascade(rows: EvalRow[], folds: number, features = cascadeFeatures(rows), seed = CASCADE_OPTIONS.seed): Float64Array {
  return crossValidatedScores(features, gainLabels(rows), folds, { ...CASCADE_OPTIONS, seed });
}

export function difficultyScores(models: DifficultyModels, features: CompactFeatures[]): Float64Array {
  return Float64Array.from(features, (f) => gainScore(predict(models.strong, f), predict(models.weak, f)));
}
