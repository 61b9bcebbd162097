import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { post } from './test-support.ts';

let mock: MockUpstream;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'mock', maxRetries: 0 });
});
after(() => mock.close());

const cosine = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

test('embeddings are deterministic unit vectors of the model\'s size, or of `dimensions`', async () => {
  const first = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['the cat sat', 'quarterly revenue grew'] });
  const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'the cat sat' });
  assert.equal(first.data.length, 2);
  assert.equal(first.data[0].embedding.length, 1536, 'the catalog size of text-embedding-3-small');
  assert.deepEqual(again.data[0].embedding, first.data[0].embedding);
  assert.ok(Math.abs(cosine(first.data[0].embedding, first.data[0].embedding) - 1) < 1e-5);
  assert.equal(first.usage.prompt_tokens, countTokens('the cat sat') + countTokens('quarterly revenue grew'));
  const small = await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x', dimensions: 64 });
  assert.equal(small.data[0].embedding.length, 64);
});

test('texts that share words are closer than unrelated ones', async () => {
  const { data } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['the cat sat on the mat', 'the cat sat on a rug', 'quarterly revenue grew fast'] });
  const [a, b, c] = data.map((d) => d.embedding);
  assert.ok(cosine(a, b) > cosine(a, c) + 0.2);
});

test('encoding_format base64 carries the same float32 vector', async () => {
  const floats = JSON.parse((await post(mock, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'pack me', encoding_format: 'float', dimensions: 8 })).text);
  const packed = JSON.parse((await post(mock, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'pack me', encoding_format: 'base64', dimensions: 8 })).text);
  const bytes = Buffer.from(packed.data[0].embedding, 'base64');
  assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 8)), floats.data[0].embedding);
});

test('an embeddings request without input gets OpenAI\'s 400', async () => {
  const res = await post(mock, '/v1/embeddings', { model: 'text-embedding-3-small' });
  assert.equal(res.status, 400);
  assert.equal(JSON.parse(res.text).error.param, 'input');
});
