import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../canonical/errors.ts';
import { nestingDepthOver, parseJson, parseJsonBody } from './body.ts';

const nested = (levels: number, open = '[', close = ']') => open.repeat(levels) + close.repeat(levels);

test('nesting is measured over arrays and objects, at the limit and one past it', () => {
  assert.equal(nestingDepthOver(Buffer.from(nested(3)), 3), false);
  assert.equal(nestingDepthOver(Buffer.from(nested(4)), 3), true);
  assert.equal(nestingDepthOver(Buffer.from('{"a":{"b":[{"c":1}]}}'), 4), false);
  assert.equal(nestingDepthOver(Buffer.from('{"a":{"b":[{"c":1}]}}'), 3), true);
  // Siblings do not add up: depth is how deep, not how many.
  assert.equal(nestingDepthOver(Buffer.from(`[${Array(1000).fill('[1]').join(',')}]`), 2), false);
});

test('brackets inside strings do not count, escaped quotes included', () => {
  assert.equal(nestingDepthOver(Buffer.from(JSON.stringify({ text: '[[[[{{{{' })), 1), false);
  assert.equal(nestingDepthOver(Buffer.from(JSON.stringify({ text: 'say \\"[[[[ and \\\\', more: '{{{' })), 1), false);
  assert.equal(nestingDepthOver(Buffer.from(JSON.stringify({ text: 'a\\', deep: [[1]] })), 2), true);
  assert.equal(nestingDepthOver(Buffer.from('["unterminated [[[['), 1), false);
});

test('a body nested past the limit is a 400 nesting_too_deep naming the limit and the setting', () => {
  for (const body of [`{"messages":${nested(100_000)}}`, `{"tools":[{"parameters":${nested(200, '{"a":', '}')}}]}`]) {
    assert.throws(() => parseJsonBody(Buffer.from(body), 'application/json', 128), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'nesting_too_deep');
      assert.match(err.message, /128 levels/);
      assert.match(err.message, /server\.max_json_depth/);
      return true;
    });
  }
  assert.deepEqual(parseJson(Buffer.from('{"a":[[1]]}'), 3), { a: [[1]] });
});
