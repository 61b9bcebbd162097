import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { groupWords, planAnswer, selectToolCalls, splitEven, type AnswerInput } from './content.ts';
import { sampleFromSchema } from './schema.ts';

const base: AnswerInput = { echoSource: 'hello', calls: [], hiddenReasoningTokens: 0, thinking: false, chunks: 4 };

test('schema samples satisfy the constraints tool schemas use', () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 12 },
      code: { type: 'string', maxLength: 3 },
      when: { type: 'string', format: 'date-time' },
      kind: { enum: ['a', 'b'] },
      fixed: { const: 42 },
      count: { type: 'integer', minimum: 5, maximum: 9 },
      ratio: { type: 'number', exclusiveMinimum: 0, maximum: 0.25 },
      step: { type: 'integer', minimum: 1, multipleOf: 4 },
      maybe: { type: ['null', 'boolean'] },
      tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
      pair: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }] },
      either: { anyOf: [{ type: 'null' }, { type: 'object', properties: { deep: { type: 'boolean' } }, required: ['deep'] }] },
      both: { allOf: [{ type: 'object', properties: { x: { type: 'integer' } } }, { properties: { y: { type: 'string' } }, required: ['y'] }] },
      ref: { $ref: '#/$defs/point' },
    },
    required: ['name', 'count'],
    $defs: { point: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat', 'lon'] } },
  };
  const value = sampleFromSchema(schema) as Record<string, any>;
  assert.ok(value.name.length >= 12);
  assert.ok(value.code.length <= 3);
  assert.ok(!Number.isNaN(Date.parse(value.when)));
  assert.ok(['a', 'b'].includes(value.kind));
  assert.equal(value.fixed, 42);
  assert.ok(Number.isInteger(value.count) && value.count >= 5 && value.count <= 9);
  assert.ok(value.ratio > 0 && value.ratio <= 0.25);
  assert.ok(value.step >= 1 && value.step % 4 === 0);
  assert.equal(typeof value.maybe, 'boolean');
  assert.ok(value.tags.length >= 2 && value.tags.every((t: unknown) => typeof t === 'string'));
  assert.ok(Number.isInteger(value.pair[0]) && typeof value.pair[1] === 'string');
  assert.equal(typeof value.either.deep, 'boolean');
  assert.ok(Number.isInteger(value.both.x) && typeof value.both.y === 'string');
  assert.ok(typeof value.ref.lat === 'number' && typeof value.ref.lon === 'number');
});

test('Gemini\'s upper-case types and a recursive schema give finite valid values', () => {
  const gemini = sampleFromSchema({ type: 'OBJECT', properties: { city: { type: 'STRING' }, n: { type: 'INTEGER' } }, required: ['city'] }) as Record<string, unknown>;
  assert.equal(typeof gemini.city, 'string');
  assert.ok(Number.isInteger(gemini.n));
  const tree = sampleFromSchema({ $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['label'] } } });
  assert.ok(JSON.stringify(tree).length < 100_000);
  assert.equal(typeof (tree as any).label, 'string');
});

test('pieces join back to the exact text', () => {
  for (const text of ['Echo: hello world  again ', 'one', '  padded', 'emoji 😀😀😀 here', '']) {
    for (const parts of [1, 2, 3, 7, 50]) {
      assert.equal(groupWords(text, parts).join(''), text);
      assert.equal(splitEven(text, parts).join(''), text);
      assert.ok(splitEven(text, parts).length <= parts);
      assert.ok(splitEven(text, parts).every((p) => !/^[\uDC00-\uDFFF]/.test(p)), 'no piece starts inside a surrogate pair');
    }
  }
});

test('the answer echoes the last text, filled to the chunk count, with its o200k count as output', () => {
  const plan = planAnswer({ ...base, echoSource: '  what is up?  ', chunks: 6 });
  assert.ok(plan.text.startsWith('Echo: what is up?'));
  assert.equal(plan.pieces.length, 6);
  assert.equal(plan.pieces.join(''), plan.text);
  assert.equal(plan.outputTokens, countTokens(plan.text));
  const long = planAnswer({ ...base, echoSource: 'word '.repeat(500), chunks: 2 });
  assert.ok(long.text.length < 320, 'the echo is capped');
  assert.equal(long.pieces.length, 2);
});

test('the output cap cuts reasoning first, then text, then tool arguments', () => {
  const capped = planAnswer({ ...base, maxOutputTokens: 3, hiddenReasoningTokens: 2 });
  assert.equal(capped.reasoningTokens, 2);
  assert.equal(capped.outputTokens, 3);
  assert.ok(capped.truncated);
  const tools = planAnswer({ ...base, calls: [{ name: 'f', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } }], maxOutputTokens: 2 });
  assert.equal(tools.calls[0].complete, false);
  assert.throws(() => JSON.parse(tools.calls[0].arguments));
  assert.equal(tools.outputTokens, 2);
  const free = planAnswer({ ...base, calls: [{ name: 'f', schema: {} }] });
  assert.equal(free.truncated, false);
});

test('tool selection follows tool_choice, parallel_tool_calls and the turn', () => {
  const tools = [{ name: 'a', schema: {} }, { name: 'b', schema: {} }];
  const names = (picked: Array<{ name: string }>) => picked.map((t) => t.name);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'auto' }, true, false)), ['a', 'b']);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'auto' }, false, false)), ['a']);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'auto' }, true, true)), []);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'required' }, true, true)), ['a', 'b']);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'required', name: 'b' }, true, true)), ['b']);
  assert.deepEqual(names(selectToolCalls(tools, { mode: 'none' }, true, false)), []);
});
