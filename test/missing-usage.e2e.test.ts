// An OpenAI-compatible server (many local ones) that answers without a `usage` object:
// on a translated route (Responses onto Chat, Messages onto Chat) the answer is still
// billed, from the gateway's own count of the prompt and the answer, and the ledger
// row and the warning header say so. (Before, such answers were billed $0.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';

const ANSWER = 'Paris is the capital of France, and it has been for a very long time.';
let upstream: Server;
let gw: TestGateway;

before(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        id: 'chatcmpl-nousage', object: 'chat.completion', created: 1, model: 'tiny',
        choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: 'sy-nousage-key-0001' },
    yaml: `
providers:
  tinybox: { kind: openai, base_url: ${url}, api_key: tiny-provider-secret }
models:
  tiny: { provider: tinybox, endpoints: [chat], context_window: 32768, pricing: { input: 1, output: 2 } }
`,
  });
});
after(async () => {
  await gw.close();
  await new Promise((resolve) => upstream.close(resolve));
});

test('a translated answer without usage is billed from the gateway count, with a warning (Responses onto Chat)', async () => {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'sy-nousage-key-0001', maxRetries: 0 });
  const { data, response } = await client.responses.create({ model: 'tiny', input: 'What is the capital of France? Answer in one sentence.' }).withResponse();
  assert.equal(data.output_text, ANSWER);
  assert.match(response.headers.get('x-switchyard-warnings') ?? '', /reported no usage/);
  assert.ok(data.usage!.input_tokens > 5, 'the prompt is counted');
  assert.ok(data.usage!.output_tokens > 5, 'the answer is counted');
  const row = gw.ledger.forRequest(response.headers.get('x-request-id')!);
  assert.ok(row);
  assert.equal(row.usage.inputTokens, data.usage!.input_tokens);
  assert.equal(row.usage.outputTokens, data.usage!.output_tokens);
  assert.ok(row.costUsd > 0);
  assert.equal(Number(response.headers.get('x-switchyard-cost-usd')), Number(row.costUsd.toFixed(8)));
  assert.equal(row.provider, 'tinybox', 'the ledger names the provider as configured');
});

test('a translated answer without usage is billed from the gateway count (Messages onto Chat)', async () => {
  const client = new Anthropic({ baseURL: gw.origin, apiKey: 'sy-nousage-key-0001', maxRetries: 0 });
  const { data, response } = await client.messages.create({ model: 'tiny', max_tokens: 200, messages: [{ role: 'user', content: 'Capital of France?' }] }).withResponse();
  assert.equal(data.content[0].type === 'text' && data.content[0].text, ANSWER);
  assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 5);
  const row = gw.ledger.forRequest(response.headers.get('x-request-id')!);
  assert.ok(row && row.costUsd > 0);
});
