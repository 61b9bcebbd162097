// Streams are relayed as they arrive, never buffered; faults mid-stream reach the
// client as an error and are billed once.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, ledgerRow } from './support/gateway.ts';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

test('the client receives the first chunk before the upstream has sent the last', async () => {
  let releaseRest!: () => void;
  const rest = new Promise<void>((resolve) => (releaseRest = resolve));
  let upstreamFinished = false;
  const upstream = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk('first'));
    await rest; // the rest is held back until the client has seen the first chunk
    res.write(chunk(' second'));
    res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`);
    res.end('data: [DONE]\n\n');
    upstreamFinished = true;
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OPENAI_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, OPENAI_API_KEY: 'k' } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const seen: string[] = [];
    for await (const c of stream) {
      const text = c.choices[0]?.delta?.content;
      if (text) seen.push(text);
      if (seen.length === 1) {
        assert.equal(upstreamFinished, false, 'first chunk arrived while the upstream was still holding the rest');
        releaseRest();
      }
    }
    assert.deepEqual(seen, ['first', ' second']);
  } finally {
    releaseRest();
    await gw.close();
    upstream.close();
  }
});

test('an upstream that dies mid-stream ends the client stream with an error and the partial use is billed once', async () => {
  const { data: stream, response } = await stack.client.chat.completions
    .create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'tell me a long story please' }] }, { headers: { 'x-mock-fail-after-chunks': '3', 'x-mock-chunks': '12' } })
    .withResponse();
  let received = 0;
  let failure: unknown;
  try {
    for await (const c of stream) if (c.choices[0]?.delta?.content) received++;
  } catch (err) {
    failure = err;
  }
  assert.ok(failure instanceof OpenAI.APIError, `the client sees an error, got ${String(failure)}`);
  assert.match((failure as Error).message, /stopped in the middle of the stream/);
  assert.ok(received >= 1 && received < 12);
  const id = response.headers.get('x-request-id')!;
  const row = await ledgerRow(stack.gw.ledger, id);
  assert.equal(row.status, 502);
  assert.ok(row.usage.outputTokens >= received, 'billed for what was delivered');
  assert.equal(stack.gw.ledger.entries.filter((e) => e.requestId === id && e.attempt === 0).length, 1, 'billed once');
});

test('a client that goes away mid-stream stops the upstream call and is billed once', async () => {
  const controller = new AbortController();
  const { data: stream, response } = await stack.client.chat.completions
    .create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'a long one' }] }, { signal: controller.signal, headers: { 'x-mock-chunks': '50', 'x-mock-chunk-delay-ms': '20' } })
    .withResponse();
  let received = 0;
  try {
    for await (const c of stream) {
      if (c.choices[0]?.delta?.content) received++;
      if (received === 3) controller.abort();
    }
  } catch {
    // the abort
  }
  const id = response.headers.get('x-request-id')!;
  const row = await ledgerRow(stack.gw.ledger, id, 5_000);
  assert.equal(row.status, 499);
  assert.ok(row.usage.outputTokens >= 3 && row.usage.outputTokens < 50, `billed for what was generated: ${row.usage.outputTokens}`);
  assert.equal(stack.gw.ledger.entries.filter((e) => e.requestId === id && e.attempt === 0).length, 1);
});

test('an upstream whose connection dies in the middle of a non-stream answer: a 502 upstream_stream_interrupted the SDK exposes, and the prompt billed once', async () => {
  // Headers and half the declared body, then the connection cut.
  const upstream = createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-5.4-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'a long answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.write(body.slice(0, body.length >> 1));
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const gw = await startGateway({ env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, OPENAI_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, OPENAI_API_KEY: 'k' } });
  try {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const failure = await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (err: unknown) => err);
    assert.ok(failure instanceof OpenAI.APIError, `the client sees an error, got ${String(failure)}`);
    assert.equal(failure.status, 502);
    assert.equal((failure.error as { code?: string }).code, 'upstream_stream_interrupted');
    assert.match(failure.message, /stopped in the middle of its answer/);
    const id = failure.headers?.get('x-request-id');
    assert.ok(id);
    const row = await ledgerRow(gw.ledger, id);
    assert.equal(row.status, 502);
    assert.ok(row.usage.inputTokens > 0, 'the prompt is billed');
    assert.equal(row.usage.outputTokens, 0);
    assert.equal(gw.ledger.entries.filter((e) => e.requestId === id && e.attempt === 0).length, 1, 'billed once');
  } finally {
    await gw.close();
    upstream.close();
  }
});
