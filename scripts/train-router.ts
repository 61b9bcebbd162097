// npm run train:router — trains the difficulty router (MMLU + GSM8K prompts) and the cascade
// check (GSM8K weak answers) on fixtures/routing-data, prints 5-fold cross-validated metrics,
// then trains on all rows and writes src/router/weights/{difficulty,cascade}.json.
import { writeFileSync, mkdirSync } from 'node:fs';
import { DATA_DIR, readBenchmarkFolder } from './lib/routing-data.ts';
import type { EvalRow } from './lib/routing-data.ts';
import { routerMetrics } from './lib/metrics.ts';
import type { RouterMetrics } from './lib/metrics.ts';
import { quantilesOf, serialiseModels } from './lib/train.ts';
import { HASH_BUCKETS } from '../src/router/features.ts';
import type { LogisticModel } from './lib/train.ts';
import type { WeightsFile } from '../src/router/classifier.ts';
import {
  cascadeFeatures, crossValidatedCascade, crossValidatedDifficulty, difficultyFeatures, trainCascade, trainDifficulty,
} from './lib/router-training.ts';

const FOLDS = 5;
/**
 * Word slots kept per weights file (of ~280,000 non-zero at 2^19 buckets): under 2 MB each. Pruning
 * each CV fold's models the same way costs MMLU APGR 0.0003-0.0017 at 100,000 slots (fold seeds 7, 11, 23).
 */
const MAX_WORD_WEIGHTS = 100_000;
const WEIGHTS_DIR = new URL('../src/router/weights/', import.meta.url);

function show(name: string, metrics: RouterMetrics): void {
  const f = (x: number | null) => (x === null ? '   n/a' : x.toFixed(3).padStart(6));
  console.log(`${name.padEnd(28)} APGR ${f(metrics.apgr)}  CPT50 ${f(metrics.cpt50)}  CPT80 ${f(metrics.cpt80)}  strong@95% ${f(metrics.strong_share_at_95)}`);
}

function subset<T>(values: ArrayLike<T>, from: number, to: number): T[] {
  return Array.from({ length: to - from }, (_, i) => values[from + i]);
}

function write(file: Omit<WeightsFile, 'format'>): number {
  const text = JSON.stringify({ format: 'switchyard-router-weights/1', ...file });
  mkdirSync(WEIGHTS_DIR, { recursive: true });
  writeFileSync(new URL(`${file.model}.json`, WEIGHTS_DIR), text + '\n');
  return text.length;
}

function layout(models: LogisticModel[]) {
  return serialiseModels(models, MAX_WORD_WEIGHTS, HASH_BUCKETS);
}

const started = performance.now();
const mmlu = readBenchmarkFolder(DATA_DIR + 'mmlu');
const gsm8k = readBenchmarkFolder(DATA_DIR + 'gsm8k');
const prompts: EvalRow[] = [...mmlu, ...gsm8k];
console.log(`rows: mmlu ${mmlu.length}, gsm8k ${gsm8k.length} (contaminated prompts dropped)`);
console.log(`${FOLDS}-fold cross-validated (folds over rows, seed 7):`);

const promptFeatureRows = difficultyFeatures(prompts);
const difficultyCv = crossValidatedDifficulty(prompts, FOLDS, promptFeatureRows);
show('router on mmlu', routerMetrics(subset(difficultyCv, 0, mmlu.length), mmlu));
show('router on gsm8k', routerMetrics(subset(difficultyCv, mmlu.length, prompts.length), gsm8k));
show('router on both', routerMetrics(difficultyCv, prompts));

const answerFeatureRows = cascadeFeatures(gsm8k);
const cascadeCv = crossValidatedCascade(gsm8k, FOLDS, answerFeatureRows);
show('cascade on gsm8k', routerMetrics(cascadeCv, gsm8k));

// quantiles of the out-of-fold scores: what the final models' scores on unseen prompts look like
const difficulty = trainDifficulty(prompts, promptFeatureRows);
const difficultySize = write({
  model: 'difficulty',
  label: 'P(strong right) and P(weak right), each blended 50/50 with the task mean',
  combine: 'strong-minus-weak',
  quantiles: quantilesOf(difficultyCv),
  models: ['strong', 'weak'],
  ...layout([difficulty.strong, difficulty.weak]),
});
const cascadeSize = write({
  model: 'cascade',
  label: '(1 + strong - weak) / 2 given the weak answer',
  combine: 'probability',
  quantiles: quantilesOf(cascadeCv),
  models: ['gain'],
  ...layout([trainCascade(gsm8k, answerFeatureRows)]),
});
console.log(`wrote src/router/weights/difficulty.json (${(difficultySize / 1024).toFixed(0)} KB), cascade.json (${(cascadeSize / 1024).toFixed(0)} KB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
