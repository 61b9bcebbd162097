// The mock's default answers read as finished text, in every wire format: the echo ends
// like a sentence and the filler that pads it to the stream's chunk count is whole sentences.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { planAnswer, type AnswerInput } from './content.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { post, sseJson } from './test-support.ts';

const base: AnswerInput = { echoSource: 'hello', calls: [], hiddenReasoningTokens: 0, thinking: false, chunks: 8 };
const FINISHED = /[.!?…]["')\]]*$/u;

test('every default answer ends with a finished sentence, whatever the text and chunk count', () => {
  for (const echoSource of ['Hello!', 'Say OK', 'what is up?', '', '   ', 'word '.repeat(400), '{"city":"Lyon"}']) {
    for (const chunks of [1, 2, 8, 13, 40]) {
      const plan = planAnswer({ ...base, echoSource, chunks });
      assert.match(plan.text, FINISHED, `${JSON.stringify(echoSource)} in ${chunks} chunks: ${plan.text}`);
      assert.match(plan.text, /^Echo: /);
      assert.equal(plan.pieces.join(''), plan.text);
      assert.ok(!/\b(the|from|comes)$/.test(plan.text.slice(0, -1)), plan.text);
    }
  }
  assert.equal(planAnswer({ ...base, echoSource: 'Say OK', chunks: 1 }).text, 'Echo: Say OK.');
  assert.equal(planAnswer({ ...base, echoSource: 'Hello!', chunks: 8 }).text, 'Echo: Hello! This answer comes from the Switchyard mock upstream.');
});

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const ask = 'Say OK';

test('chat completions, responses, Anthropic messages and Gemini answer finished sentences, streamed or not', async () => {
  const texts: Record<string, string> = {};
  const chat = { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: ask }] };
  texts.chat = JSON.parse((await post(mock, '/v1/chat/completions', chat)).text).choices[0].message.content;
  texts.chatStream = sseJson((await post(mock, '/v1/chat/completions', { ...chat, stream: true })).text).map((c) => c.choices[0]?.delta?.content ?? '').join('');
  texts.responses = JSON.parse((await post(mock, '/v1/responses', { model: 'gpt-5.4-mini', input: ask })).text).output.find((o: any) => o.type === 'message').content[0].text;
  const claude = { model: 'claude-haiku-4-5', max_tokens: 1024, messages: [{ role: 'user', content: ask }] };
  texts.anthropic = JSON.parse((await post(mock, '/v1/messages', claude)).text).content[0].text;
  texts.anthropicStream = sseJson((await post(mock, '/v1/messages', { ...claude, stream: true })).text).map((e) => e.delta?.text ?? '').join('');
  const gemini = { contents: [{ role: 'user', parts: [{ text: ask }] }] };
  texts.gemini = JSON.parse((await post(mock, '/v1beta/models/gemini-2.5-flash:generateContent', gemini)).text).candidates[0].content.parts[0].text;
  texts.geminiStream = sseJson((await post(mock, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', gemini)).text).map((c) => c.candidates[0].content.parts[0]?.text ?? '').join('');
  for (const [format, text] of Object.entries(texts)) {
    assert.match(text, /^Echo: Say OK\. /, format);
    assert.match(text, FINISHED, `${format}: ${text}`);
  }
});
