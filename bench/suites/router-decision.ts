// Time of one routing decision: scoreDifficulty on a ~4k-token prompt (features + dot product),
// measured after a warm-up, one performance.now() pair per call.
import { loadRouterModels } from '../../src/router/classifier.ts';
import { countTextTokens } from '../../src/tokens/count.ts';

const WARMUP = 1000;
const ITERATIONS = 5000;

function longPrompt(): string {
  const paragraph =
    'Consider the following service log and the attached configuration. Explain why the retry loop in ' +
    'handler.ts never terminates when the upstream returns 503, derive the worst-case number of attempts, ' +
    'and propose a fix with a bounded exponential backoff. ```ts\nfor (let i = 0; i < max; i++) { await call(); }\n```\n' +
    '1. The timeout is 30 s per attempt.\n2. The budget is 2 minutes.\nWhat is the expected latency at p99? ';
  let text = '';
  while (countTextTokens(text) < 4000) text += paragraph;
  return text;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export async function runRouterDecisionBench(): Promise<{ p50Ms: number; p99Ms: number; promptTokens: number }> {
  const models = loadRouterModels();
  const prompt = longPrompt();
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += models.scoreDifficulty(prompt, 3);
  const times = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    sink += models.scoreDifficulty(prompt, 3);
    times[i] = performance.now() - start;
  }
  if (!Number.isFinite(sink)) throw new Error('router score is not a number');
  times.sort();
  return { p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), promptTokens: countTextTokens(prompt) };
}
