// The offline-trained router models: a difficulty score of a prompt (higher = the strong
// model is more likely to be worth it) and a cascade score of a cheap answer (higher =
// escalate). Logistic regressions over src/router/features.ts, weights shipped as JSON
// (scripts/train-router.ts writes them), read once at startup.
import { readFileSync } from 'node:fs';
import { answerFeatures, createSparseVector, FEATURE_DIMENSION, featureName, promptFeatures } from './features.ts';
import type { SparseVector } from './features.ts';

export interface WeightsFile {
  format: 'switchyard-router-weights/1';
  model: 'difficulty' | 'cascade';
  label: string;
  /** "probability": σ(model 0). "strong-minus-weak": (1 + σ(strong) − σ(weak)) / 2, the expected gain of a strong call. */
  combine: 'probability' | 'strong-minus-weak';
  /** 101 ascending quantiles of the (cross-validated) scores of the training rows. */
  quantiles: number[];
  /** Names of the one or two logistic models, and their biases. */
  models: string[];
  biases: number[];
  /** Feature slots that have a weight, each as its gap from the previous one (the first from 0). */
  slotGaps: number[];
  /** Per model, the weight of each of those slots, times valueScale, rounded. */
  values: number[][];
  valueScale: number;
}

export interface FeatureContribution {
  feature: string;
  contribution: number;
}

export interface RouterModels {
  /** 0..1, higher = send to the stronger model: (1 + P(strong right) − P(weak right)) / 2. */
  scoreDifficulty(text: string, turns: number): number;
  difficultyQuantiles: readonly number[];
  /** The difficulty score above which a fraction `share` of the training prompts lie. */
  thresholdForShare(share: number): number;
  /**
   * 0..1, higher = escalate: (1 + expected quality gain of the strong model's answer over this one) / 2,
   * learned from GSM8K weak answers. Above 0.5 the strong model is expected to do better; for a
   * target escalation share use answerThresholdForShare.
   */
  scoreAnswer(prompt: string, answer: string): number;
  answerQuantiles: readonly number[];
  /** The answer score above which a fraction `share` of the training answers lie. */
  answerThresholdForShare(share: number): number;
  /** The features that pushed a prompt's difficulty score most (for logs). */
  explainDifficulty(text: string, turns: number, top?: number): FeatureContribution[];
  explainAnswer(prompt: string, answer: string, top?: number): FeatureContribution[];
}

/** One or two logistic models over the same features, weights interleaved per feature. */
interface DenseModel {
  width: 1 | 2;
  biases: Float64Array;
  weights: Float32Array;
}

function toDense(file: WeightsFile): DenseModel {
  const width = file.combine === 'strong-minus-weak' ? 2 : 1;
  if (file.values.length !== width || file.biases.length !== width) throw new Error(`router weights ${file.model}: ${file.combine} needs ${width} model(s)`);
  const weights = new Float32Array(FEATURE_DIMENSION * width);
  let slot = 0;
  file.slotGaps.forEach((gap, k) => {
    slot += gap;
    for (let m = 0; m < width; m++) weights[slot * width + m] = file.values[m][k] / file.valueScale;
  });
  return { width, biases: Float64Array.from(file.biases), weights };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function score(model: DenseModel, features: SparseVector): number {
  const { weights, width } = model;
  let first = model.biases[0];
  if (width === 1) {
    for (let i = 0; i < features.length; i++) first += weights[features.indices[i]] * features.values[i];
    return sigmoid(first);
  }
  let second = model.biases[1];
  for (let i = 0; i < features.length; i++) {
    const at = features.indices[i] * 2;
    const value = features.values[i];
    first += weights[at] * value;
    second += weights[at + 1] * value;
  }
  return (1 + sigmoid(first) - sigmoid(second)) / 2;
}

/** Per feature, its push on the score's logit (for two models: strong minus weak). */
function explain(model: DenseModel, features: SparseVector, top: number): FeatureContribution[] {
  const byFeature = new Map<number, number>();
  for (let i = 0; i < features.length; i++) {
    const index = features.indices[i];
    const at = index * model.width;
    const weight = model.width === 1 ? model.weights[at] : model.weights[at] - model.weights[at + 1];
    byFeature.set(index, (byFeature.get(index) ?? 0) + weight * features.values[i]);
  }
  return [...byFeature]
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, top)
    .map(([index, contribution]) => ({ feature: featureName(index), contribution: Number(contribution.toPrecision(3)) }));
}

/** Score above which a fraction `share` of the distribution lies (quantiles ascending, 101 points). */
export function thresholdFromQuantiles(quantiles: readonly number[], share: number): number {
  const at = Math.min(1, Math.max(0, 1 - share)) * (quantiles.length - 1);
  const low = Math.floor(at);
  const high = Math.min(quantiles.length - 1, low + 1);
  return quantiles[low] + (quantiles[high] - quantiles[low]) * (at - low);
}

export function readWeights(name: string): WeightsFile {
  const file = JSON.parse(readFileSync(new URL(`./weights/${name}.json`, import.meta.url), 'utf8')) as WeightsFile;
  if (file.format !== 'switchyard-router-weights/1') throw new Error(`src/router/weights/${name}.json: unknown format ${String(file.format)}`);
  return file;
}

export function buildRouterModels(difficultyFile: WeightsFile, cascadeFile: WeightsFile): RouterModels {
  const difficulty = toDense(difficultyFile);
  const cascade = toDense(cascadeFile);
  const buffer = createSparseVector();
  return {
    scoreDifficulty: (text, turns) => score(difficulty, promptFeatures(text, turns, buffer)),
    difficultyQuantiles: difficultyFile.quantiles,
    thresholdForShare: (share) => thresholdFromQuantiles(difficultyFile.quantiles, share),
    scoreAnswer: (prompt, answer) => score(cascade, answerFeatures(prompt, answer, buffer)),
    answerQuantiles: cascadeFile.quantiles,
    answerThresholdForShare: (share) => thresholdFromQuantiles(cascadeFile.quantiles, share),
    explainDifficulty: (text, turns, top = 5) => explain(difficulty, promptFeatures(text, turns, buffer), top),
    explainAnswer: (prompt, answer, top = 5) => explain(cascade, answerFeatures(prompt, answer, buffer), top),
  };
}

let shipped: RouterModels | undefined;

/** The shipped models (src/router/weights/*.json), loaded once. */
export function loadRouterModels(): RouterModels {
  shipped ??= buildRouterModels(readWeights('difficulty'), readWeights('cascade'));
  return shipped;
}

export function scoreDifficulty(text: string, turns: number): number {
  return loadRouterModels().scoreDifficulty(text, turns);
}

export function scoreAnswer(prompt: string, answer: string): number {
  return loadRouterModels().scoreAnswer(prompt, answer);
}

export function thresholdForShare(share: number): number {
  return loadRouterModels().thresholdForShare(share);
}
