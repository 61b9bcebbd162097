import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerFeatures, checkArithmetic, createSparseVector, FEATURE_DIMENSION, HASH_BUCKETS, HAND_FEATURES, promptFeatures,
} from './features.ts';
import type { SparseVector } from './features.ts';

function snapshot(vector: SparseVector): [number, number][] {
  return Array.from({ length: vector.length }, (_, i): [number, number] => [vector.indices[i], vector.values[i]]);
}

function hand(vector: SparseVector, name: (typeof HAND_FEATURES)[number]): number {
  const slot = HASH_BUCKETS + HAND_FEATURES.indexOf(name);
  for (let i = 0; i < vector.length; i++) if (vector.indices[i] === slot) return vector.values[i];
  return NaN;
}

test('the same text gives the same features, whatever the buffer held before', () => {
  const buffer = createSparseVector();
  const first = snapshot(promptFeatures('Prove that the square root of 2 is irrational.', 1, buffer));
  promptFeatures('something else entirely, with ```code``` {}', 3, buffer);
  const again = snapshot(promptFeatures('Prove that the square root of 2 is irrational.', 1, buffer));
  assert.deepEqual(again, first);
  assert.ok(first.every(([index]) => index >= 0 && index < FEATURE_DIMENSION));
});

test('words are case-insensitive and punctuation splits them', () => {
  const a = snapshot(promptFeatures('Why is the SKY blue?', 1, createSparseVector()));
  const b = snapshot(promptFeatures('why is the sky blue?', 1, createSparseVector()));
  assert.deepEqual(a, b);
});

test('hand features see reasoning words, options, questions, code and turns', () => {
  const buffer = createSparseVector();
  promptFeatures('Why does it hold? Prove it step by step.\nA. yes\nB. no\nC. maybe\nD. never', 4, buffer);
  assert.ok(hand(buffer, 'reasoning_words') > 0);
  assert.equal(hand(buffer, 'choice_lines'), 1);
  assert.ok(hand(buffer, 'question_marks') > 0);
  assert.equal(hand(buffer, 'log_turns'), Math.fround(Math.log1p(3)));
  promptFeatures('function f() { return 1; }', 1, buffer);
  assert.ok(hand(buffer, 'code_markers') > 0);
  assert.equal(hand(buffer, 'reasoning_words'), 0);
});

test('multiple-choice features: option word overlap, all-numeric options, numbers in the stem, long words', () => {
  const buffer = createSparseVector();
  promptFeatures('A train covers 120 km in 1.5 hours. What is its speed?\nA. 60 km\nB. 80\nC. 90\nD. 120\nAnswer:', 1, buffer);
  assert.equal(hand(buffer, 'options_numeric'), 1);
  assert.ok(hand(buffer, 'stem_numbers') >= Math.fround(Math.log1p(3) / 2));
  promptFeatures('Which holds?\nA. the cell wall is rigid\nB. the cell wall is flexible\nC. mitochondria divide\nD. none', 1, buffer);
  assert.equal(hand(buffer, 'options_numeric'), 0);
  assert.equal(hand(buffer, 'stem_numbers'), 0);
  assert.equal(hand(buffer, 'option_max_overlap'), Math.fround(4 / 6));
  assert.ok(hand(buffer, 'option_overlap') > 0 && hand(buffer, 'option_overlap') < hand(buffer, 'option_max_overlap'));
  promptFeatures('Explain photosynthesis in a sentence.', 1, buffer);
  assert.equal(hand(buffer, 'option_max_overlap'), 0);
  assert.equal(hand(buffer, 'long_word_share'), Math.fround(10 / 5));
});

test('a huge prompt is read only at its head and tail, so the work and the vector stay bounded', () => {
  const buffer = createSparseVector();
  const huge = 'lorem ipsum dolor sit amet '.repeat(40_000);
  promptFeatures(huge, 1, buffer);
  assert.ok(buffer.length < 4000, String(buffer.length));
  assert.ok(hand(buffer, 'log_chars') > Math.log1p(1_000_000) / 4 - 1e-6);
});

test('arithmetic claims are re-checked: plain, with $ and commas, in <<…>> annotations and escaped \\*', () => {
  assert.deepEqual(checkArithmetic('She has 16 - 3 = 13 eggs left, sells 9 * $2 = $18.'), { claims: 2, wrong: 0, lastResult: 18 });
  assert.equal(checkArithmetic('So 13 - 4 = 8 eggs are left.').wrong, 1);
  assert.equal(checkArithmetic('He runs 3 x 60 = <<3*60=180>>180 meters.').wrong, 0);
  assert.equal(checkArithmetic('It costs 12 \\* $2 = $<<12*2=26>>26.').wrong, 2);
  assert.equal(checkArithmetic('Total 80,000 + 50,000 = $130,000').wrong, 0);
  assert.equal(checkArithmetic('($100 / $1000) * 100 = 10%').wrong, 0);
  assert.equal(checkArithmetic('2 + 1/2 = 5/2 = 2.5 bolts').wrong, 0);
  assert.equal(checkArithmetic('x = 5 and the answer is 7').claims, 0);
});

test('answer features flag a wrong claim and a missing final answer', () => {
  const buffer = createSparseVector();
  const prompt = 'Janet has 16 eggs and eats 3. How many are left?';
  answerFeatures(prompt, 'She has 16 - 3 = 12 eggs.\n#### 12', buffer);
  assert.equal(hand(buffer, 'a_any_wrong'), 1);
  assert.equal(hand(buffer, 'a_final_marker'), 1);
  assert.equal(hand(buffer, 'a_question_numbers_used'), 1);
  answerFeatures(prompt, 'She has 16 - 3 = 13 eggs, but since', buffer);
  assert.equal(hand(buffer, 'a_any_wrong'), 0);
  assert.equal(hand(buffer, 'a_truncated'), 1);
});
