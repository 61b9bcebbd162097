// The mock's fault controls: a broken body, a stream without its end or with a cut-off
// event, and usage numbers no provider should send.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../canonical/sse.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] };
async function post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}
const events = (text: string) => new SseParser().end(new SseParser().push(text));

test('x-mock-body: a 200 cut in half (a whole HTTP body of broken JSON), or HTML', async () => {
  const whole = await post('/v1/chat/completions', chat, {});
  const cut = await post('/v1/chat/completions', chat, { 'x-mock-body': 'truncated' });
  assert.equal(cut.status, 200);
  assert.equal(cut.text.length, whole.text.length >> 1);
  assert.throws(() => JSON.parse(cut.text));
  const html = await post('/v1/chat/completions', chat, { 'x-mock-body': 'not-json' });
  assert.equal(html.status, 200);
  assert.match(html.text, /^<html>/);
  const refused = await post('/v1/chat/completions', chat, { 'x-mock-body': 'truncated', 'x-mock-status': '429' });
  assert.doesNotThrow(() => JSON.parse(refused.text), 'error answers stay intact');
});

test('x-mock-stream-end: no-done drops each format\'s last event; malformed-event adds a cut-off one', async () => {
  const last = async (path: string, body: unknown) => {
    const all = events((await post(path, { ...body as object, stream: true }, {})).text);
    const dropped = events((await post(path, { ...body as object, stream: true }, { 'x-mock-stream-end': 'no-done' })).text);
    assert.equal(dropped.length, all.length - 1);
    return all[all.length - 1];
  };
  assert.equal((await last('/v1/chat/completions', chat)).data, '[DONE]');
  assert.equal((await last('/v1/responses', { model: 'gpt-5.4-mini', input: 'hi' })).event, 'response.completed');
  assert.equal((await last('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })).event, 'message_stop');

  const bad = events((await post('/v1/chat/completions', { ...chat, stream: true }, { 'x-mock-stream-end': 'malformed-event' })).text);
  const unparsable = bad.filter((e) => e.data !== '[DONE]' && (() => { try { JSON.parse(e.data); return false; } catch { return true; } })());
  assert.equal(unparsable.length, 1);
  assert.equal(bad[bad.length - 1].data, '[DONE]', 'the stream still ends as usual');
});

test('x-mock-usage: the named counts are written as the raw JSON given, in every format', async () => {
  const chatText = (await post('/v1/chat/completions', chat, { 'x-mock-usage': 'prompt_tokens="abc",completion_tokens=1e400' })).text;
  assert.match(chatText, /"prompt_tokens":"abc","completion_tokens":1e400/);
  const claude = JSON.parse((await post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }, { 'x-mock-usage': 'output_tokens=-1000000' })).text);
  assert.equal(claude.usage.output_tokens, -1000000);
  const gemini = JSON.parse((await post('/v1beta/models/gemini-2.5-flash:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, { 'x-mock-usage': 'promptTokenCount=17.5' })).text);
  assert.equal(gemini.usageMetadata.promptTokenCount, 17.5);
});
