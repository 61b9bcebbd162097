import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/types.ts';
import { anthropicMessagesUrl, anthropicProvider } from './index.ts';
import { callContext, drain, fixtureText, foldStream, makeTarget, replayServer } from './test-support.ts';

const SSE = { 'content-type': 'text/event-stream' };
const hello: CanonicalRequest = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], stream: false, seed: 3 };
const servers: Array<{ close(): Promise<void> }> = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function serve(...replies: Parameters<typeof replayServer>) {
  const server = await replayServer(...replies);
  servers.push(server);
  return server;
}

describe('anthropicProvider against a local server replaying recorded bytes', () => {
  it('complete: posts to /v1/messages with the key headers and decodes the recorded answer', async () => {
    const server = await serve({ body: fixtureText('anthropic/messages-text.json') });
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: server.baseUrl, headers: { 'anthropic-beta': 'x' } });
    const response = await anthropicProvider.complete(hello, target, callContext());
    const [sent] = server.requests;
    assert.equal(sent.url, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], target.deployment.apiKey);
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.headers['anthropic-beta'], 'x');
    const body = JSON.parse(sent.body);
    assert.equal(body.model, 'claude-sonnet-4-5');
    assert.equal(body.stream, undefined);
    assert.ok(response.content[0].type === 'text' && response.content[0].text.startsWith("Hello! I'm doing well"));
    assert.deepEqual([response.usage.inputTokens, response.usage.outputTokens], [12, 29]);
    assert.match(response.warnings?.join() ?? '', /seed/);
  });

  it('stream: decodes recorded SSE bytes arriving in small pieces, with warnings on start', async () => {
    const server = await serve({ headers: SSE, body: fixtureText('anthropic/messages-stream-tool-use.sse'), chunkSize: 7 });
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: server.baseUrl });
    const events = await drain(await anthropicProvider.stream({ ...hello, stream: true }, target, callContext()));
    assert.equal(JSON.parse(server.requests[0].body).stream, true);
    const got = foldStream(events);
    assert.equal(got.text, "I'll check the current weather in Paris for you.");
    assert.deepEqual(got.toolCalls, [{ id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', arguments: '{"location": "Paris"}' }]);
    assert.equal(got.finishReason, 'tool_calls');
    assert.deepEqual([got.usage?.inputTokens, got.usage?.outputTokens], [377, 65]);
    assert.match(got.warnings?.join() ?? '', /seed/);
  });

  it('stream: an upstream error event mid-stream arrives after the content already delivered', async () => {
    const server = await serve({ headers: SSE, body: fixtureText('anthropic/messages-stream-error-overloaded.sse') });
    const target = makeTarget('anthropic', 'claude-haiku-4-5', { baseUrl: server.baseUrl });
    const got = foldStream(await drain(await anthropicProvider.stream({ ...hello, stream: true }, target, callContext())));
    assert.deepEqual(got.shape, ['start', 'text-delta', 'error']);
    assert.equal(got.error?.error.status, 503);
  });

  it('429 throws a GatewayError that keeps retry-after, for both calls', async () => {
    const server = await serve({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '30' },
      body: JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'rate limited' } }),
    });
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: server.baseUrl });
    for (const call of [() => anthropicProvider.complete(hello, target, callContext()), () => anthropicProvider.stream({ ...hello, stream: true }, target, callContext())]) {
      await assert.rejects(call(), (err: unknown) => err instanceof GatewayError && err.status === 429 && err.headers?.['retry-after'] === '30');
    }
  });

  it('401 names the provider key setting and never the key', async () => {
    const server = await serve({ status: 401, body: fixtureText('anthropic/error-401-authentication.json') });
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: server.baseUrl });
    await assert.rejects(anthropicProvider.complete(hello, target, callContext()), (err: any) => {
      assert.equal(err.status, 401);
      assert.match(err.message, /ANTHROPIC_API_KEY/);
      assert.ok(!err.message.includes(target.deployment.apiKey!));
      return true;
    });
  });

  it('a stream that fails before its first event throws instead of yielding', async () => {
    const server = await serve({ headers: SSE, body: 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n' });
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: server.baseUrl });
    await assert.rejects(anthropicProvider.stream({ ...hello, stream: true }, target, callContext()), (err: any) => err.status === 503);
  });

  it('an unreachable upstream is a 502 that names the provider', async () => {
    const target = makeTarget('anthropic', 'claude-sonnet-4-5', { baseUrl: 'http://127.0.0.1:1' });
    await assert.rejects(anthropicProvider.complete(hello, target, callContext()), (err: any) => err.status === 502 && /anthropic/.test(err.message));
  });

  it('builds the messages URL with or without /v1 in the base URL', () => {
    assert.equal(anthropicMessagesUrl('https://api.anthropic.com'), 'https://api.anthropic.com/v1/messages');
    assert.equal(anthropicMessagesUrl('https://api.anthropic.com/v1/'), 'https://api.anthropic.com/v1/messages');
  });
});
