import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRouterModels, thresholdFromQuantiles } from './classifier.ts';

const models = loadRouterModels();

const HARD = 'Prove that for every prime p > 3, p^2 - 1 is divisible by 24. Derive each step and explain why the argument holds for all such primes.';
const EASY = 'Reformat this list as CSV: apples, pears, plums';

test('the shipped weights load, and scores are probabilities', () => {
  for (const text of [HARD, EASY, '', 'x'.repeat(20_000)]) {
    const score = models.scoreDifficulty(text, 1);
    assert.ok(score > 0 && score < 1, `${score}`);
  }
  assert.equal(models.difficultyQuantiles.length, 101);
  assert.equal(models.answerQuantiles.length, 101);
});

test('an obviously hard reasoning prompt scores above a reformatting chore', () => {
  assert.ok(models.scoreDifficulty(HARD, 1) > models.scoreDifficulty(EASY, 1));
});

test('thresholdForShare: a larger strong share means a lower threshold', () => {
  const t10 = models.thresholdForShare(0.1);
  const t50 = models.thresholdForShare(0.5);
  assert.ok(t10 >= t50);
  assert.equal(models.thresholdForShare(0), models.difficultyQuantiles[100]);
  assert.equal(models.thresholdForShare(1), models.difficultyQuantiles[0]);
  assert.equal(thresholdFromQuantiles([0, 1], 0.25), 0.75);
});

test('scoreAnswer escalates an answer with a wrong arithmetic claim above the same answer done right', () => {
  const prompt = 'A baker makes 24 muffins and sells them for $3 each. She spends $20 on ingredients. How much profit does she make?';
  const right = 'She earns 24 * $3 = $<<24*3=72>>72.\nHer profit is $72 - $20 = $<<72-20=52>>52.\n#### 52';
  const wrong = 'She earns 24 * $3 = $<<24*3=72>>72.\nHer profit is $72 - $20 = $<<72-20=42>>42.\n#### 42';
  assert.ok(models.scoreAnswer(prompt, wrong) > models.scoreAnswer(prompt, right));
});

test('explain names the strongest features', () => {
  const top = models.explainDifficulty(HARD, 1, 3);
  assert.equal(top.length, 3);
  assert.ok(top.every((f) => typeof f.feature === 'string' && Number.isFinite(f.contribution)));
  assert.ok(models.explainAnswer('2 + 2?', '2 + 2 = 5\n#### 5').some((f) => f.feature === 'a_any_wrong'));
});
