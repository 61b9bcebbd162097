import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/types.ts';
import { callContext, drain, fixtureText, foldStream, makeTarget, replayServer } from '../anthropic/test-support.ts';
import { signatureOfToolCallId } from './ids.ts';
import { geminiProvider, geminiUrl } from './index.ts';

const SSE = { 'content-type': 'text/event-stream' };
const hello: CanonicalRequest = { model: 'gemini-3-pro-preview', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], stream: false, user: 'u-1' };
const servers: Array<{ close(): Promise<void> }> = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function serve(...replies: Parameters<typeof replayServer>) {
  const server = await replayServer(...replies);
  servers.push(server);
  return server;
}

describe('geminiProvider against a local server replaying recorded bytes', () => {
  it('complete: generateContent with the key in x-goog-api-key only, recorded answer decoded', async () => {
    const server = await serve({ body: fixtureText('gemini/generate-function-call.vercel.json') });
    const target = makeTarget('gemini', 'gemini-3-pro-preview', { baseUrl: server.baseUrl });
    const response = await geminiProvider.complete(hello, target, callContext());
    const [sent] = server.requests;
    assert.equal(sent.url, '/v1beta/models/gemini-3-pro-preview:generateContent');
    assert.equal(sent.headers['x-goog-api-key'], target.deployment.apiKey);
    assert.ok(!sent.url.includes(target.deployment.apiKey!));
    assert.deepEqual(JSON.parse(sent.body).contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
    const call = response.content[0];
    assert.ok(call.type === 'tool_call');
    assert.deepEqual([call.name, JSON.parse(call.arguments)], ['weather', { location: 'San Francisco' }]);
    assert.ok(signatureOfToolCallId(call.id)?.startsWith('EskgCsYgAb4+9vtF'));
    assert.equal(response.finishReason, 'tool_calls');
    assert.deepEqual([response.usage.inputTokens, response.usage.outputTokens, response.usage.reasoningTokens], [29, 15 + 893, 893]);
    assert.match(response.warnings?.join() ?? '', /'user'/);
  });

  it('stream: streamGenerateContent?alt=sse, CRLF-separated bytes arriving in small pieces', async () => {
    const server = await serve({ headers: SSE, body: fixtureText('gemini/stream-text.response.sse'), chunkSize: 3 });
    const target = makeTarget('gemini', 'gemini-2.0-flash', { baseUrl: server.baseUrl });
    const got = foldStream(await drain(await geminiProvider.stream({ ...hello, stream: true }, target, callContext())));
    assert.equal(server.requests[0].url, '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    assert.equal(got.text, 'The capital of France is Paris.\n');
    assert.equal(got.finishReason, 'stop');
    assert.deepEqual([got.usage?.inputTokens, got.usage?.outputTokens], [13, 8]);
    assert.match(got.warnings?.join() ?? '', /'user'/);
  });

  it('stream: the bare JSON error written mid-stream becomes an error event after the text', async () => {
    const server = await serve({ headers: SSE, body: fixtureText('gemini/stream-error-mid-stream.vertex.firebase.sse'), chunkSize: 64 });
    const target = makeTarget('gemini', 'gemini-2.5-flash', { baseUrl: server.baseUrl });
    const got = foldStream(await drain(await geminiProvider.stream({ ...hello, stream: true }, target, callContext())));
    assert.deepEqual(got.shape, ['start', 'text-delta', 'error']);
    assert.equal(got.text, 'First Second ');
    assert.ok(got.error!.error.status >= 500);
  });

  it('429 throws with Retry-After taken from RetryInfo, for both calls', async () => {
    const server = await serve({ status: 429, body: fixtureText('gemini/error-429-retry-info.vercel.json') });
    const target = makeTarget('gemini', 'gemini-2.5-flash', { baseUrl: server.baseUrl });
    for (const call of [() => geminiProvider.complete(hello, target, callContext()), () => geminiProvider.stream({ ...hello, stream: true }, target, callContext())]) {
      await assert.rejects(call(), (err: unknown) => err instanceof GatewayError && err.status === 429 && err.headers?.['retry-after'] === '35');
    }
  });

  it('a bad key (400 API_KEY_INVALID) is reported as the gateway provider key, without the key', async () => {
    const server = await serve({ status: 400, body: fixtureText('gemini/error-400-api-key-invalid.firebase.json') });
    const target = makeTarget('gemini', 'gemini-2.5-flash', { baseUrl: server.baseUrl });
    await assert.rejects(geminiProvider.complete(hello, target, callContext()), (err: any) => err.status === 401 && /GEMINI_API_KEY/.test(err.message) && !err.message.includes(target.deployment.apiKey!));
  });

  it('embed: embedContent for one input, batchEmbedContents for several', async () => {
    const server = await serve(
      { body: JSON.stringify({ embedding: { values: [0.1, 0.2, 0.3] } }) },
      { body: JSON.stringify({ embeddings: [{ values: [1, 2] }, { values: [3, 4] }] }) },
    );
    const target = makeTarget('gemini', 'gemini-embedding-001', { baseUrl: server.baseUrl });
    const one = await geminiProvider.embed!({ model: 'gemini-embedding-001', input: ['a'], dimensions: 3 }, target, callContext());
    const two = await geminiProvider.embed!({ model: 'gemini-embedding-001', input: ['a', 'b'] }, target, callContext());
    assert.equal(server.requests[0].url, '/v1beta/models/gemini-embedding-001:embedContent');
    assert.deepEqual(JSON.parse(server.requests[0].body), { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 3 });
    assert.equal(server.requests[1].url, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    assert.deepEqual(JSON.parse(server.requests[1].body).requests.map((r: any) => r.content.parts[0].text), ['a', 'b']);
    assert.deepEqual(one.embeddings, [[0.1, 0.2, 0.3]]);
    assert.deepEqual(two.embeddings, [[1, 2], [3, 4]]);
  });

  it('builds URLs for base URLs with or without an API version', () => {
    assert.equal(geminiUrl('https://generativelanguage.googleapis.com', 'gemini-2.5-flash', 'generateContent'), 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(geminiUrl('https://proxy.example/v1beta/', 'models/gemini-2.5-flash', 'embedContent'), 'https://proxy.example/v1beta/models/gemini-2.5-flash:embedContent');
  });
});
