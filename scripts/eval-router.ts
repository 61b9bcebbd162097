// npm run eval:router -- --data FILE [--json] [--svg FILE] [--scores-out FILE] [--weak MODEL] [--strong MODEL] [--cv K] [--seed N]
// Scores eval rows (JSONL {"prompt", "weak", "strong", "weak_answer"?, "task"?}, or a benchmark
// folder such as fixtures/routing-data/mmlu, converted in memory) with the shipped router and
// cascade check (or, with --cv K, K-fold cross-validated ones trained by the train-router
// recipe) and reports APGR, CPT(50%), CPT(80%), the strong share reaching 95% of the strong
// model's quality, and the cost per 1,000 requests at that share, against random routing.
// --seed N (with --cv) deals the folds and orders training by another seed than the recipe's 7.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadRouterModels } from '../src/router/classifier.ts';
import { catalogPricing, costPer1k, rowCosts } from './lib/cost.ts';
import { metricsFromCurve, pgrCurve, qualityCurve, rowsSentStrong } from './lib/metrics.ts';
import type { RouterMetrics } from './lib/metrics.ts';
import { readEvalRows } from './lib/routing-data.ts';
import type { EvalRow } from './lib/routing-data.ts';
import { crossValidatedCascade, crossValidatedDifficulty } from './lib/router-training.ts';
import { basename } from 'node:path';
import { pgrSvg } from './lib/svg.ts';
import type { PlotSeries } from './lib/svg.ts';

interface Summary extends RouterMetrics {
  /** Cost per 1,000 requests at the strong share of strong_share_at_95 (all strong when never reached). */
  cost_per_1k_at_95: number;
}

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    json: { type: 'boolean', default: false },
    svg: { type: 'string' },
    'scores-out': { type: 'string' },
    weak: { type: 'string', default: 'gpt-5.4-mini' },
    strong: { type: 'string', default: 'gpt-5.4' },
    cv: { type: 'string' },
    seed: { type: 'string' },
  },
});

if (!args.data) {
  console.error('usage: npm run eval:router -- --data FILE.jsonl|fixtures/routing-data/mmlu [--json] [--svg FILE] [--scores-out FILE] [--weak MODEL] [--strong MODEL] [--cv K] [--seed N]');
  process.exit(2);
}
const folds = args.cv === undefined ? undefined : Number(args.cv);
if (folds !== undefined && !(Number.isInteger(folds) && folds >= 2)) {
  console.error('--cv needs a whole number of folds, 2 or more');
  process.exit(2);
}
const seed = args.seed === undefined ? undefined : Number(args.seed);
if (seed !== undefined && !Number.isInteger(seed)) {
  console.error('--seed needs a whole number');
  process.exit(2);
}

function fail(message: string): never {
  console.error(`eval-router: ${message}`);
  process.exit(1);
}

function attempt<T>(what: () => T): T {
  try {
    return what();
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

const dataPath = args.data;
const rows = attempt(() => readEvalRows(dataPath));
if (rows.length === 0) fail(`${dataPath} holds no rows`);
const weakCosts = attempt(() => rowCosts(rows, catalogPricing(args.weak ?? 'gpt-5.4-mini')));
const strongCosts = attempt(() => rowCosts(rows, catalogPricing(args.strong ?? 'gpt-5.4')));
const cascadeRows = rows.flatMap((row, i) => (typeof row.weak_answer === 'string' ? [i] : []));

function routerScores(): Float64Array {
  if (folds !== undefined) return crossValidatedDifficulty(rows, folds, undefined, seed);
  const models = loadRouterModels();
  return Float64Array.from(rows, (row) => models.scoreDifficulty(row.prompt, 1));
}

function cascadeScores(): Float64Array {
  const subset = cascadeRows.map((i) => rows[i]);
  if (folds !== undefined) return crossValidatedCascade(subset, folds, undefined, seed);
  const models = loadRouterModels();
  return Float64Array.from(subset, (row) => models.scoreAnswer(row.prompt, row.weak_answer ?? ''));
}

function summarise(scores: ArrayLike<number>, subset: EvalRow[], indices: number[], cascade: boolean): { summary: Summary; pgr: Float64Array | null } {
  const curve = qualityCurve(scores, subset);
  const metrics = metricsFromCurve(curve);
  const share = metrics.strong_share_at_95 ?? 1;
  const restrict = (costs: Float64Array) => Float64Array.from(indices, (i) => costs[i]);
  const cost = costPer1k(restrict(weakCosts), restrict(strongCosts), rowsSentStrong(scores, share), cascade);
  return { summary: { ...metrics, cost_per_1k_at_95: cost }, pgr: pgrCurve(curve) };
}

const allIndices = rows.map((_, i) => i);
const routerScore = routerScores();
const router = summarise(routerScore, rows, allIndices, false);
const cascadeScore = cascadeRows.length ? cascadeScores() : undefined;
const cascade = cascadeScore ? summarise(cascadeScore, cascadeRows.map((i) => rows[i]), cascadeRows, true) : undefined;
const random = summarise(new Float64Array(rows.length), rows, allIndices, false);
// random routing sends a random share: its expected cost is the share's blend of the two prices
const mean = (costs: Float64Array) => costs.reduce((a, b) => a + b, 0) / Math.max(1, costs.length);
const randomShare = random.summary.strong_share_at_95 ?? 1;
random.summary.cost_per_1k_at_95 = Math.round(((1 - randomShare) * mean(weakCosts) + randomShare * mean(strongCosts)) * 1000 * 1e4) / 1e4;

const quality = (key: 'weak' | 'strong') => rows.reduce((a, row) => a + row[key], 0) / Math.max(1, rows.length);
const report = {
  rows: rows.length,
  cv: folds ?? null,
  weak_model: args.weak,
  strong_model: args.strong,
  quality: { weak: quality('weak'), strong: quality('strong') },
  router: router.summary,
  cascade: cascade ? { ...cascade.summary, rows: cascadeRows.length } : null,
  random: random.summary,
  always_weak: { quality: quality('weak'), strong_share: 0, cost_per_1k: Math.round(mean(weakCosts) * 1e7) / 1e4 },
  always_strong: { quality: quality('strong'), strong_share: 1, cost_per_1k: Math.round(mean(strongCosts) * 1e7) / 1e4 },
};

const svgPath = args.svg ?? `${basename(args.data.replace(/\/+$/, '')).replace(/\.jsonl?$/, '')}.pgr.svg`;
const series: PlotSeries[] = [];
if (router.pgr) series.push({ name: folds ? `router (${folds}-fold CV)` : 'router', color: '#1f77b4', pgr: router.pgr });
if (cascade?.pgr) series.push({ name: folds ? `cascade (${folds}-fold CV)` : 'cascade', color: '#d62728', pgr: cascade.pgr });
if (random.pgr) series.push({ name: 'random', color: '#7f7f7f', pgr: random.pgr });
writeFileSync(svgPath, pgrSvg(`PGR vs strong share — ${rows.length} rows`, series));

if (args['scores-out']) {
  const cascadeByRow = new Map(cascadeRows.map((row, k) => [row, cascadeScore![k]]));
  const lines = rows.map((_, i) => JSON.stringify({ router: routerScore[i], cascade: cascadeByRow.get(i) ?? null }));
  writeFileSync(args['scores-out'], lines.join('\n') + (lines.length ? '\n' : ''));
}

if (args.json) {
  process.stdout.write(JSON.stringify(report) + '\n');
} else {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const num = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  console.log(`${rows.length} rows${folds ? `, ${folds}-fold cross-validated scores` : ', shipped weights'}; weak ${args.weak} ${pct(report.quality.weak)}, strong ${args.strong} ${pct(report.quality.strong)}`);
  console.log('               APGR    CPT(50%)  CPT(80%)  strong@95%  $/1k requests');
  const line = (name: string, s: Summary) =>
    console.log(`${name.padEnd(14)} ${num(s.apgr).padStart(5)}   ${pct(s.cpt50).padStart(7)}   ${pct(s.cpt80).padStart(7)}   ${pct(s.strong_share_at_95).padStart(7)}    ${s.cost_per_1k_at_95.toFixed(4)}`);
  line('router', router.summary);
  if (cascade) line(`cascade`, cascade.summary);
  line('random', random.summary);
  console.log(`${'always-weak'.padEnd(14)}     —         —         —        0.0%    ${report.always_weak.cost_per_1k.toFixed(4)}`);
  console.log(`${'always-strong'.padEnd(14)}     —         —         —      100.0%    ${report.always_strong.cost_per_1k.toFixed(4)}`);
  console.log(`PGR curve: ${svgPath}`);
}
