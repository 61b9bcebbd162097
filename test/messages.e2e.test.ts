// The Anthropic Messages API inbound, driven by the official @anthropic-ai/sdk,
// against models of other providers behind the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';

let stack: Stack;
let client: Anthropic;
before(async () => {
  stack = await startStack({
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: k-anthropic }
  gemini: { base_url: ${url}, api_key: k-gemini }`,
  });
  client = new Anthropic({ baseURL: stack.gw.origin, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(() => stack.close());

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

for (const model of ['gpt-5.4-mini', 'local-llama', 'gemini-2.5-flash', 'claude-haiku-4-5']) {
  test(`${model}: messages.create answers in Anthropic's shape with usage`, async () => {
    const { data, response } = await client.messages
      .create({ model, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello from Claude Code' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.role, 'assistant');
    assert.equal(data.stop_reason, 'end_turn');
    const text = data.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    assert.match(text, /Hello from Claude Code/);
    assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
    assert.equal(row.endpoint, 'messages');
    assert.equal(row.usage.outputTokens, data.usage.output_tokens);
  });

  test(`${model}: messages.stream reassembles text and a tool call`, async () => {
    const final = await client.messages
      .stream({ model, max_tokens: 256, tools: [weather], messages: [{ role: 'user', content: 'Weather in Oslo?' }] })
      .finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const use = final.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    assert.equal(typeof (use.input as { city: unknown }).city, 'string');
    assert.ok(final.usage.output_tokens > 0);
  });
}

test('the x-api-key header is accepted as well as Authorization', async () => {
  const res = await fetch(`${stack.gw.origin}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'gpt-5.4-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).type, 'message');
});

test("errors come in Anthropic's envelope and the SDK's classes", async () => {
  await assert.rejects(
    client.messages.create({ model: 'gpt-5.4-mnii', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err: unknown) => err instanceof Anthropic.NotFoundError && /gpt-5\.4-mini/.test(err.message),
  );
  await assert.rejects(
    client.messages.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'x' }] } as never),
    (err: unknown) => err instanceof Anthropic.BadRequestError && /max_tokens/.test(err.message),
  );
  const bad = new Anthropic({ baseURL: stack.gw.origin, apiKey: 'sy-not-a-real-key-123456', maxRetries: 0 });
  await assert.rejects(bad.messages.create({ model: 'gpt-5.4-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), Anthropic.AuthenticationError);
});

test('a Claude model gets the Messages request relayed as it came: cache_control, beta header and unknown fields kept', async () => {
  const { data, response } = await client.messages
    .create(
      {
        model: 'claude-haiku-4-5',
        max_tokens: 64,
        system: [{ type: 'text', text: 'Long shared instructions. '.repeat(400), cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'Hi Claude' }],
        ...({ context_management: { edits: [] } } as object),
      },
      { headers: { 'anthropic-beta': 'context-management-2025-06-27' } },
    )
    .withResponse();
  const sent = stack.mock.requests[stack.mock.requests.length - 1];
  assert.equal(sent.path.split('?')[0], '/v1/messages');
  assert.deepEqual((sent.body as any).system[0].cache_control, { type: 'ephemeral' });
  assert.deepEqual((sent.body as any).context_management, { edits: [] });
  assert.equal(sent.headers['anthropic-beta'], 'context-management-2025-06-27');
  assert.equal(sent.headers['x-api-key'], 'k-anthropic', "the provider key, not the client's");
  assert.equal(response.headers.get('x-switchyard-provider'), 'anthropic');
  const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
  const cached = (data.usage.cache_read_input_tokens ?? 0) + (data.usage.cache_creation_input_tokens ?? 0);
  assert.equal(row.usage.inputTokens, data.usage.input_tokens + cached, 'input billed with cache reads and writes');
  assert.equal(row.usage.outputTokens, data.usage.output_tokens);
});

test('a relayed Claude stream reaches the SDK whole and is billed from its message_start and message_delta usage', async () => {
  const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 128, messages: [{ role: 'user', content: 'Stream to me' }] });
  const final = await stream.finalMessage();
  const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  assert.match(text, /Stream to me/);
  const id = (await stream.withResponse()).response.headers.get('x-request-id')!;
  const row = await ledgerRow(stack.gw.ledger, id);
  assert.equal(row.usage.outputTokens, final.usage.output_tokens);
  assert.ok(row.usage.inputTokens >= final.usage.input_tokens && row.usage.inputTokens > 0);
});
