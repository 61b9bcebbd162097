import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToLike, matchesAny, matchesPattern } from './patterns.ts';

test('patterns match ids, globs, tiers and providers', () => {
  const mini = { id: 'gpt-5.4-mini', tier: 'mini' as const, provider: 'openai' as const };
  assert.equal(matchesPattern('gpt-5.4-*', mini), true);
  assert.equal(matchesPattern('gpt-5.4', mini), false);
  assert.equal(matchesPattern('gpt-5?4-mini', mini), true);
  assert.equal(matchesPattern('gpt-5x4-*', mini), false, 'a dot in a pattern is literal');
  assert.equal(matchesPattern('tier:mini', mini), true);
  assert.equal(matchesPattern('provider:ollama', mini), false);
  assert.equal(matchesAny(['provider:ollama', 'tier:nano'], mini), false);
  assert.equal(matchesAny(['provider:ollama', 'tier:mini'], mini), true);
});

test('globs become LIKE patterns with SQL wildcards escaped', () => {
  assert.equal(globToLike('gpt-5.4-*'), 'gpt-5.4-%');
  assert.equal(globToLike('my_model%'), 'my\\_model\\%');
  assert.equal(globToLike('tier:mini'), null);
});
