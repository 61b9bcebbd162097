// POST /v1/embeddings, relayed to OpenAI-compatible upstreams and translated for Gemini.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, PROVIDER_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({ providersFor: (url) => `\n  gemini: { base_url: ${url}, api_key: ${PROVIDER_KEY} }` });
});
after(() => stack.close());

for (const model of ['text-embedding-3-small', 'gemini-embedding-001']) {
  test(`${model}: vectors for each input, usage and cost (the SDK asks for base64 and decodes it)`, async () => {
    const { data, response } = await stack.client.embeddings.create({ model, input: ['the cat sat', 'on the mat', 'the cat sat'] }).withResponse();
    assert.equal(data.object, 'list');
    assert.deepEqual(data.data.map((d) => d.index), [0, 1, 2]);
    const [a, b, c] = data.data.map((d) => d.embedding);
    assert.ok(a.length > 8 && a.every((x) => Number.isFinite(x)));
    assert.deepEqual(a, c, 'the same text gives the same vector');
    assert.notDeepEqual(a, b);
    assert.ok(data.usage.prompt_tokens > 0);
    assert.equal(response.headers.get('x-switchyard-model'), model);
    const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
    assert.equal(row.endpoint, 'embeddings');
    assert.equal(row.usage.inputTokens, data.usage.prompt_tokens);
  });

  test(`${model}: float encoding returns plain arrays`, async () => {
    const res = await fetch(`${stack.gw.baseURL}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(stack.client as OpenAI).apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'hello', encoding_format: 'float' }),
    });
    assert.equal(res.status, 200);
    const json = await res.json();
    assert.ok(Array.isArray(json.data[0].embedding));
  });
}

test('a chat model on /v1/embeddings, or an embedding model on chat, is a 400 that says which to use', async () => {
  await assert.rejects(stack.client.embeddings.create({ model: 'gpt-5.4-mini', input: 'x' }), (err: unknown) => err instanceof OpenAI.BadRequestError && /not an embedding model/.test(err.message));
  await assert.rejects(
    stack.client.chat.completions.create({ model: 'text-embedding-3-small', messages: [{ role: 'user', content: 'x' }] }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /embedding model/.test(err.message),
  );
  await assert.rejects(stack.client.embeddings.create({ model: 'text-embedding-3-small', input: [] }), (err: unknown) => err instanceof OpenAI.BadRequestError && (err as InstanceType<typeof OpenAI.APIError>).param === 'input');
});
