import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toGeminiSchema } from './schema.ts';

describe('toGeminiSchema', () => {
  it('drops keywords Gemini rejects and upper-cases types', () => {
    assert.deepEqual(
      toGeminiSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false, properties: { a: { type: 'string', format: 'uri', minLength: 1 } }, required: ['a', 'ghost'] }),
      { type: 'OBJECT', properties: { a: { type: 'STRING', minLength: 1 } }, required: ['a'] },
    );
  });

  it('turns nullable unions and type lists into nullable', () => {
    assert.deepEqual(toGeminiSchema({ type: 'object', properties: { a: { anyOf: [{ type: 'integer' }, { type: 'null' }] }, b: { type: ['string', 'null'] } } }), {
      type: 'OBJECT',
      properties: { a: { type: 'INTEGER', nullable: true }, b: { type: 'STRING', nullable: true } },
    });
  });

  it('inlines $ref from $defs, maps oneOf to anyOf and const to a one-value enum', () => {
    const schema = {
      type: 'object',
      $defs: { Pet: { type: 'object', properties: { kind: { const: 'cat' } }, required: ['kind'] } },
      properties: { pet: { $ref: '#/$defs/Pet' }, id: { oneOf: [{ type: 'string' }, { type: 'number', format: 'double' }] } },
    };
    assert.deepEqual(toGeminiSchema(schema), {
      type: 'OBJECT',
      properties: {
        pet: { type: 'OBJECT', properties: { kind: { type: 'STRING', enum: ['cat'] } }, required: ['kind'] },
        id: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER', format: 'double' }] },
      },
    });
  });

  it('merges allOf, converts array items and stops on recursive $refs', () => {
    const schema = {
      definitions: { Node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/definitions/Node' } } } } },
      allOf: [{ type: 'object', properties: { a: { type: 'boolean' } } }, { properties: { tree: { $ref: '#/definitions/Node' } }, required: ['tree'] }],
    };
    const out = toGeminiSchema(schema) as any;
    assert.equal(out.type, 'OBJECT');
    assert.deepEqual(out.required, ['tree']);
    assert.deepEqual(out.properties.a, { type: 'BOOLEAN' });
    assert.equal(out.properties.tree.properties.children.type, 'ARRAY');
    assert.equal(out.properties.tree.properties.children.items.type, 'OBJECT');
    assert.ok(JSON.stringify(out).length < 50_000);
  });
});
