// Local models: OLLAMA_HOST is asked for its models at start; they are listed at price 0
// and served through Ollama's OpenAI-compatible /v1 API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from './support/gateway.ts';
import { GATEWAY_KEY } from './support/stack.ts';

test('models discovered from OLLAMA_HOST are listed free and callable', async () => {
  const seen: string[] = [];
  const ollama = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: [{ name: 'llama3.2:3b', model: 'llama3.2:3b' }, { name: 'qwen3:8b', model: 'qwen3:8b' }] }));
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const model = JSON.parse(body).model;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'local hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } }));
    });
  });
  await new Promise<void>((r) => ollama.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(ollama.address() as AddressInfo).port}`;
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OLLAMA_HOST: host } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const models = (await client.models.list()).data as any[];
    const llama = models.find((m) => m.id === 'llama3.2:3b');
    assert.ok(llama, 'discovered model listed');
    assert.equal(llama.owned_by, 'ollama');
    assert.deepEqual([llama.pricing.input, llama.pricing.output], [0, 0]);
    assert.ok(models.some((m) => m.id === 'qwen3:8b'));
    const { data, response } = await client.chat.completions.create({ model: 'qwen3:8b', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(data.choices[0].message.content, 'local hello');
    assert.equal(Number(response.headers.get('x-switchyard-cost-usd')), 0);
    assert.ok(seen.includes('POST /v1/chat/completions'), 'called through Ollama\'s /v1 API');
  } finally {
    await gw.close();
    ollama.close();
  }
});

test('an unreachable OLLAMA_HOST does not stop the start', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OLLAMA_HOST: '127.0.0.1:9' } });
  try {
    const res = await fetch(`${gw.origin}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await gw.close();
  }
});
