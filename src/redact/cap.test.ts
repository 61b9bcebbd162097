import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capBody } from './cap.ts';

test('text within the cap is returned unchanged', () => {
  assert.deepEqual(capBody('hello', 5), { text: 'hello', truncated: false });
  assert.deepEqual(capBody('', 0), { text: '', truncated: false });
});

test('a cut body fits the cap, marker included, and says how many bytes were left out', () => {
  const text = 'a'.repeat(1000);
  const { text: capped, truncated } = capBody(text, 100);
  assert.equal(truncated, true);
  assert.ok(Buffer.byteLength(capped) <= 100);
  const match = /^(a*)…\[TRUNCATED: (\d+) bytes\]$/.exec(capped);
  assert.ok(match, capped);
  assert.equal(match[1].length + Number(match[2]), 1000);
  assert.equal(Buffer.byteLength(capped), 100);
});

test('never splits a multi-byte character', () => {
  const text = '€'.repeat(100) + '😀'.repeat(100); // 3 and 4 bytes each
  for (let max = 30; max < 700; max += 7) {
    const { text: capped } = capBody(text, max);
    assert.ok(!capped.includes('\uFFFD'), `no replacement character at max=${max}`);
    assert.ok(Buffer.byteLength(capped) <= max);
    const kept = capped.slice(0, capped.indexOf('…['));
    const removed = Number(/(\d+) bytes\]$/.exec(capped)![1]);
    assert.equal(Buffer.byteLength(kept) + removed, Buffer.byteLength(text));
    assert.ok(text.startsWith(kept));
  }
});

test('a cap smaller than the marker yields the marker alone', () => {
  assert.deepEqual(capBody('x'.repeat(50), 3), { text: '…[TRUNCATED: 50 bytes]', truncated: true });
});
