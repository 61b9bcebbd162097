import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret, hashSecret, isWellFormedKey, shownPrefix } from './secret.ts';

test('secrets carry their environment, are well-formed and unique', () => {
  const live = generateSecret('live');
  const test_ = generateSecret('test');
  assert.match(live, /^sy_live_[A-Za-z0-9]{32}$/);
  assert.match(test_, /^sy_test_[A-Za-z0-9]{32}$/);
  assert.ok(isWellFormedKey(live) && isWellFormedKey(test_));
  assert.equal(isWellFormedKey(`${live}x`), false);
  assert.equal(isWellFormedKey('sy_prod_' + 'a'.repeat(32)), false);
  const many = new Set(Array.from({ length: 1000 }, () => generateSecret('live')));
  assert.equal(many.size, 1000);
});

test('the hash is SHA-256 hex and the shown prefix never reveals most of a key', () => {
  const secret = generateSecret('live');
  assert.match(hashSecret(secret), /^[0-9a-f]{64}$/);
  assert.notEqual(hashSecret(secret), hashSecret(generateSecret('live')));
  assert.equal(shownPrefix(secret), secret.slice(0, 12));
  assert.equal(shownPrefix('sk-abc'), 'sk');
});
