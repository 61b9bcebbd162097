// Logistic regression over sparse features, trained with AdaGrad SGD and L2 (lazy, on the
// touched weights), seeded so every run gives the same weights; K-fold cross-validation.
import type { SparseVector } from '../../src/router/features.ts';

export interface CompactFeatures {
  indices: Int32Array;
  values: Float32Array;
}

export interface TrainOptions {
  dimension: number;
  l2: number;
  epochs: number;
  learningRate: number;
  seed: number;
}

export interface LogisticModel {
  bias: number;
  weights: Float64Array;
}

export function compact(vector: SparseVector): CompactFeatures {
  return { indices: vector.indices.slice(0, vector.length), values: vector.values.slice(0, vector.length) };
}

/** mulberry32: a small seeded generator, enough for shuffles. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function predict(model: LogisticModel, features: CompactFeatures): number {
  let z = model.bias;
  for (let i = 0; i < features.indices.length; i++) z += model.weights[features.indices[i]] * features.values[i];
  return sigmoid(z);
}

/** Labels are targets in 0..1 (soft labels allowed: cross-entropy against them). */
export function trainLogistic(rows: CompactFeatures[], labels: number[], options: TrainOptions): LogisticModel {
  const weights = new Float64Array(options.dimension);
  const squaredGradients = new Float64Array(options.dimension);
  const mean = labels.reduce((a, b) => a + b, 0) / Math.max(1, labels.length);
  const clamped = Math.min(0.99, Math.max(0.01, mean));
  const model: LogisticModel = { bias: Math.log(clamped / (1 - clamped)), weights };
  let biasSquared = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const r of shuffled(rows.length, options.seed + epoch)) {
      const row = rows[r];
      const error = predict(model, row) - labels[r];
      for (let i = 0; i < row.indices.length; i++) {
        const j = row.indices[i];
        const gradient = error * row.values[i] + options.l2 * weights[j];
        squaredGradients[j] += gradient * gradient;
        weights[j] -= (options.learningRate * gradient) / Math.sqrt(squaredGradients[j] + 1e-8);
      }
      biasSquared += error * error;
      model.bias -= (options.learningRate * error) / Math.sqrt(biasSquared + 1e-8);
    }
  }
  return model;
}

/** Out-of-fold scores in row order: rows are dealt into K folds by a seeded shuffle. */
export function crossValidatedScores(
  rows: CompactFeatures[],
  labels: number[] | ((trainRows: number[]) => number[]),
  folds: number,
  options: TrainOptions,
): Float64Array {
  const order = shuffled(rows.length, options.seed ^ 0x9e37);
  const foldOf = new Int32Array(rows.length);
  order.forEach((row, position) => { foldOf[row] = position % folds; });
  const scores = new Float64Array(rows.length);
  for (let fold = 0; fold < folds; fold++) {
    const train = order.filter((row) => foldOf[row] !== fold);
    const trainLabels = typeof labels === 'function' ? labels(train) : train.map((r) => labels[r]);
    const model = trainLogistic(train.map((r) => rows[r]), trainLabels, options);
    for (let r = 0; r < rows.length; r++) if (foldOf[r] === fold) scores[r] = predict(model, rows[r]);
  }
  return scores;
}

/** 101 quantiles (ascending) of a score distribution. */
export function quantilesOf(scores: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(scores).sort();
  return Array.from({ length: 101 }, (_, i) => {
    const at = (i / 100) * (sorted.length - 1);
    const low = Math.floor(at);
    const high = Math.min(sorted.length - 1, low + 1);
    return round4(sorted[low] + (sorted[high] - sorted[low]) * (at - low));
  });
}

export function round4(x: number): number {
  return Number(x.toPrecision(4));
}

/**
 * One or more models over the same features in the shipped weights layout: the `limit` slots with
 * the largest weight (in any model) plus every slot from `keepFrom` on (hand features), as gaps
 * between slots, each model's weights as integers of 1/valueScale.
 */
export function serialiseModels(models: LogisticModel[], limit: number, keepFrom: number, valueScale = 10_000) {
  const dimension = models[0].weights.length;
  const size = (i: number) => Math.max(...models.map((m) => Math.abs(m.weights[i])));
  const kept = Array.from({ length: dimension }, (_, i) => i)
    .filter((i) => i < keepFrom && Math.round(size(i) * valueScale) !== 0)
    .sort((a, b) => size(b) - size(a) || a - b)
    .slice(0, limit);
  for (let i = keepFrom; i < dimension; i++) kept.push(i);
  kept.sort((a, b) => a - b);
  return {
    biases: models.map((m) => round4(m.bias)),
    valueScale,
    slotGaps: kept.map((slot, k) => slot - (k ? kept[k - 1] : 0)),
    values: models.map((m) => kept.map((slot) => Math.round(m.weights[slot] * valueScale))),
  };
}

/**
 * Training targets: each row's own target blended with its task's mean target (computed on the
 * training rows only). A MMLU row's outcome is mostly noise around its subject's rate; the blend
 * lets the word weights learn the subject signal (see scripts/lib/router-training.ts).
 */
export function blendedLabels<Row extends { task?: string }>(
  rows: Row[],
  trainRows: number[],
  target: (row: Row) => number,
  taskWeight: number,
): number[] {
  const sums = new Map<string, { total: number; count: number }>();
  let overall = 0;
  for (const r of trainRows) {
    const task = rows[r].task ?? '';
    const entry = sums.get(task) ?? { total: 0, count: 0 };
    entry.total += target(rows[r]);
    entry.count++;
    sums.set(task, entry);
    overall += target(rows[r]) / trainRows.length;
  }
  return trainRows.map((r) => {
    const entry = sums.get(rows[r].task ?? '');
    // a task of few rows leans on the overall mean: 10 pseudo-rows
    const taskMean = entry ? (entry.total + 10 * overall) / (entry.count + 10) : overall;
    return (1 - taskWeight) * target(rows[r]) + taskWeight * taskMean;
  });
}
