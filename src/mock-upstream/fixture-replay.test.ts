import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fixturePath, readFixtureJsonl } from '../testing/fixtures.ts';
import { splitEvents } from './fixture-replay.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { parseSse } from './test-support.ts';

let mock: MockUpstream;

before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

async function replay(fixture: string, path = '/v1/chat/completions', headers: Record<string, string> = {}): Promise<{ status: number; type: string; bytes: Buffer }> {
  const res = await fetch(mock.url + path, { method: 'POST', body: '{}', headers: { 'x-mock-fixture': fixture, ...headers } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', bytes: Buffer.from(await res.arrayBuffer()) };
}

test('recorded bodies are replayed byte for byte with their content type', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['openai/chat-basic.json', 'openai/chat-basic.json', /^application\/json/],
    ['anthropic/messages-stream-thinking.response.sse', 'anthropic/messages-stream-thinking.response.sse', /^text\/event-stream/],
    ['gemini/stream-text.response.sse', 'gemini/stream-text.response.sse', /^text\/event-stream/],
    ['openai/responses-stream-text.request.json', 'openai/responses-stream-text.response.sse', /^text\/event-stream/],
    ['gemini/generate-thinking', 'gemini/generate-thinking.response.json', /^application\/json/],
  ];
  for (const [name, file, type] of cases) {
    const got = await replay(name, '/v1/chat/completions', { 'x-mock-chunk-delay-ms': '1' });
    assert.equal(got.status, 200, name);
    assert.match(got.type, type, name);
    assert.ok(got.bytes.equals(readFileSync(fixturePath(file))), `${name}: bytes differ`);
  }
});

test('error fixtures come with their recorded status; x-mock-status overrides it', async () => {
  assert.equal((await replay('anthropic/error-401-authentication.json', '/v1/messages')).status, 401);
  assert.equal((await replay('gemini/error-429-resource-exhausted.json')).status, 429);
  assert.equal((await replay('openai/error-insufficient-quota.json')).status, 429, 'recorded without a status: the status OpenAI sends it with');
  assert.equal((await replay('openai/chat-basic.json', '/v1/chat/completions', { 'x-mock-status': '503' })).status, 503);
});

test('.jsonl fixtures replay as SSE rebuilt by the documented conventions', async () => {
  const anthropic = parseSse((await replay('anthropic/messages-stream-text.jsonl', '/v1/messages')).bytes.toString());
  const lines = readFixtureJsonl('anthropic/messages-stream-text.jsonl');
  assert.deepEqual(anthropic.map((e) => JSON.parse(e.data)), lines);
  assert.deepEqual(anthropic.map((e) => e.event), lines.map((l) => l.type));

  const chat = parseSse((await replay('openai/chat-stream-text-include-usage.jsonl')).bytes.toString());
  assert.equal(chat.at(-1)?.data, '[DONE]');
  assert.equal(chat.length, readFixtureJsonl('openai/chat-stream-text-include-usage.jsonl').length + 1);

  const gemini = (await replay('gemini/stream-text.vercel.jsonl')).bytes.toString();
  assert.ok(gemini.endsWith('\r\n\r\n') && !gemini.replaceAll('\r\n', '').includes('\n'), 'CRLF framing');
});

test('replays honour the stream controls: fail-after-chunks cuts a recorded stream after n events', async () => {
  const res = await fetch(`${mock.url}/v1/messages`, { method: 'POST', body: '{}', headers: { 'x-mock-fixture': 'anthropic/messages-stream-basic.sse', 'x-mock-fail-after-chunks': '2' } });
  let text = '';
  await assert.rejects(async () => {
    for await (const chunk of res.body!) text += Buffer.from(chunk).toString();
  });
  assert.equal(text, splitEvents(readFileSync(fixturePath('anthropic/messages-stream-basic.sse'), 'utf8')).slice(0, 2).join(''));
});

test('an unknown fixture, or a path outside the fixtures folder, is refused', async () => {
  assert.equal((await replay('openai/no-such-file.json')).status, 400);
  assert.equal((await replay('../SPEC.md')).status, 400);
  assert.equal((await replay('../../main/package.json')).status, 400);
});

test('splitEvents keeps every byte, whatever the line endings', () => {
  for (const file of ['gemini/stream-text.response.sse', 'anthropic/messages-stream-basic.sse', 'openai/chat-stream-tool-call-usage.sse', 'gemini/stream-error-mid-stream.vertex.firebase.sse']) {
    const text = readFileSync(fixturePath(file), 'utf8');
    const events = splitEvents(text);
    assert.equal(events.join(''), text, file);
    assert.ok(events.length >= 2, file);
  }
});
