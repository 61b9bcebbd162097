import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResetDuration, judgeWindow } from './window.ts';

test('a sliding window admits up to the limit and refuses past it', () => {
  assert.equal(judgeWindow(0, 59, 30_000, 60_000, 60, 1).allowed, true);
  assert.equal(judgeWindow(0, 60, 30_000, 60_000, 60, 1).allowed, false);
  // Half of the previous window still counts at mid-window.
  assert.equal(judgeWindow(60, 29, 30_000, 60_000, 60, 1).allowed, true);
  assert.equal(judgeWindow(60, 30, 30_000, 60_000, 60, 1).allowed, false);
});

test('retry-after is when the request fits again', () => {
  // Full previous window, nothing now, 10 s in: 50 of 60 still count; one more fits once used <= 59.
  const verdict = judgeWindow(60, 10, 10_000, 60_000, 60, 1);
  assert.equal(verdict.allowed, false);
  const later = judgeWindow(60, 10, 10_000 + verdict.retryAfterMs, 60_000, 60, 1);
  assert.equal(later.allowed, true);
  const before = judgeWindow(60, 10, 10_000 + verdict.retryAfterMs - 50, 60_000, 60, 1);
  assert.equal(before.allowed, false);
  // Current window full: wait into the next one.
  assert.ok(judgeWindow(0, 60, 59_000, 60_000, 60, 1).retryAfterMs >= 1_000);
  // Never fits.
  assert.equal(judgeWindow(0, 0, 0, 60_000, 100, 500).retryAfterMs, Infinity);
});

test('reset durations read like OpenAI\'s', () => {
  assert.equal(formatResetDuration(120), '120ms');
  assert.equal(formatResetDuration(1500), '1.5s');
  assert.equal(formatResetDuration(360_000), '6m0s');
  assert.equal(formatResetDuration(119_500), '2m0s');
});
