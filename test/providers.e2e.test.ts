// Claude- and Gemini-backed models behind the one OpenAI-compatible endpoint, driven
// by the official openai SDK: stream, tools, images, reasoning, usage and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, PROVIDER_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';
import { shippedCatalog } from '../src/catalog/catalog.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  gemini: { base_url: ${url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }`,
  });
});
after(() => stack.close());

const lastUpstream = () => stack.mock.requests[stack.mock.requests.length - 1];
const price = (id: string) => shippedCatalog().models.find((m) => m.id === id)!.pricing;
const tools = [{
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

for (const [model, provider] of [['claude-sonnet-4-5', 'anthropic'], ['gemini-2.5-flash', 'gemini']] as const) {
  test(`${model}: non-stream answer with the provider's usage, priced from the catalog`, async () => {
    const { data, response } = await stack.client.chat.completions
      .create({ model, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Describe the sea' }] })
      .withResponse();
    assert.match(data.choices[0].message.content ?? '', /Describe the sea/);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(response.headers.get('x-switchyard-provider'), provider);
    const u = data.usage!;
    assert.ok(u.prompt_tokens > 0 && u.completion_tokens > 0);
    const p = price(model);
    const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
    const expected = ((u.prompt_tokens - cached) * p.input + cached * p.cachedInput + u.completion_tokens * p.output) / 1e6;
    assert.ok(Math.abs(Number(response.headers.get('x-switchyard-cost-usd')) - expected) < 1e-6, 'cost from the provider usage');
    const sent = lastUpstream();
    if (provider === 'anthropic') {
      assert.equal(sent.headers['x-api-key'], PROVIDER_KEY);
      assert.equal((sent.body as any).system, 'You are terse.');
    } else {
      assert.equal(sent.headers['x-goog-api-key'], PROVIDER_KEY);
      assert.ok(!sent.path.includes(PROVIDER_KEY), 'the key is never in the URL');
      assert.match(JSON.stringify((sent.body as any).systemInstruction), /You are terse/);
    }
  });

  test(`${model}: stream with usage reassembles to the same text`, async () => {
    const stream = await stack.client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Stream about rivers' }] });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.match(text, /Stream about rivers/);
    assert.ok(usage && usage.completion_tokens > 0);
  });

  test(`${model}: streamed tool calls arrive whole through the SDK, and the tool result goes back`, async () => {
    const final = await stack.client.chat.completions.stream({ model, tools, messages: [{ role: 'user', content: 'Weather in Rome?' }] }).finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.ok(call && call.type === 'function' && call.function.name === 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
    const answer = await stack.client.chat.completions.create({
      model, tools,
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temp": 30}' },
      ],
    });
    assert.equal(answer.choices[0].finish_reason, 'stop');
    const sent = JSON.stringify(lastUpstream().body);
    assert.match(sent, /\{\\"temp\\": 30\}|"temp":30/);
  });

  test(`${model}: images (base64) are translated to the provider's image part`, async () => {
    await stack.client.chat.completions.create({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PIXEL } }] }] });
    const sent = JSON.stringify(lastUpstream().body);
    assert.ok(sent.includes(PIXEL.slice('data:image/png;base64,'.length)), 'the image bytes went upstream');
    assert.match(sent, provider === 'anthropic' ? /"media_type":"image\/png"/ : /"mimeType":"image\/png"/);
  });

  test(`${model}: reasoning effort maps to the provider's thinking control and reasoning tokens are billed as output`, async () => {
    const { data, response } = await stack.client.chat.completions
      .create({ model, reasoning_effort: 'high', messages: [{ role: 'user', content: 'Prove it' }] })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-reasoning-effort'), 'high');
    const body = lastUpstream().body as any;
    if (provider === 'anthropic') assert.equal(body.thinking?.type, 'enabled');
    else assert.ok(body.generationConfig?.thinkingConfig, 'thinkingConfig sent');
    assert.ok(((data.choices[0].message as { reasoning_content?: string }).reasoning_content ?? '').length > 0, 'the thinking text reaches the client');
    const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
    if (provider === 'gemini') {
      // Gemini reports thoughts separately; Anthropic counts thinking inside output_tokens.
      assert.ok((data.usage!.completion_tokens_details?.reasoning_tokens ?? 0) > 0, 'reasoning tokens reported');
      assert.ok(row.usage.reasoningTokens > 0 && row.usage.outputTokens >= row.usage.reasoningTokens);
    }
    assert.equal(row.usage.outputTokens, data.usage!.completion_tokens, 'thinking is billed as output');
  });

  for (const [status, kind] of [[429, OpenAI.RateLimitError], [401, OpenAI.AuthenticationError], [503, OpenAI.APIError]] as const) {
    test(`${model}: a provider ${status} maps to an OpenAI-envelope error naming ${provider}, never a key`, async () => {
      try {
        await stack.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-status': String(status) } });
        assert.fail('expected an error');
      } catch (err) {
        assert.ok(err instanceof kind, `got ${(err as Error).constructor.name}: ${(err as Error).message}`);
        assert.match((err as Error).message, new RegExp(provider, 'i'));
        assert.ok(!(err as Error).message.includes(PROVIDER_KEY));
        if (status === 429) assert.ok((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after'));
      }
    });
  }
}
