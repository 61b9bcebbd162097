import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { readFixtureJson, readFixtureText } from '../testing/fixtures.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { assertSameShape, distinctShapes, post, sseJson } from './test-support.ts';

let mock: MockUpstream;

before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const MODEL_PATH = '/v1beta/models/gemini-2.5-flash';

async function gemini(method: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await post(mock, `${MODEL_PATH}:${method}`, body, headers);
  assert.equal(res.status, 200, res.text);
  return res.text;
}

const user = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });
const CITY_TOOL = { functionDeclarations: [{ name: 'get_city', description: 'A city', parameters: { type: 'OBJECT', properties: { country: { type: 'STRING' }, size: { type: 'INTEGER', minimum: 3 } }, required: ['country', 'size'] } }] };

test('an SSE stream uses CRLF framing, Google JSON spacing and the recorded chunk shapes', async () => {
  const mine = await gemini('streamGenerateContent?alt=sse', readFixtureJson('gemini/stream-text.request.json'));
  const recorded = readFixtureText('gemini/stream-text.response.sse');
  assert.ok(mine.endsWith('\r\n\r\n'));
  const events = mine.slice(0, -4).split('\r\n\r\n');
  assert.ok(events.length >= 3);
  assert.ok(events.every((e) => e.startsWith('data: {"candidates": [{"content": {"parts": [') && !e.includes('\n')), 'one data: line per event');
  assert.deepEqual(distinctShapes(sseJson(mine)), distinctShapes(sseJson(recorded)));
  const chunks = sseJson(mine);
  assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
  const text = chunks.map((c) => c.candidates[0].content.parts[0].text).join('');
  assert.ok(text.startsWith('Echo: What is the capital of France?'), text);
  const usage = chunks.at(-1).usageMetadata;
  assert.equal(usage.promptTokenCount, 3 + 4 + countTokens('You are a helpful chatbot.') + 4 + countTokens('What is the capital of France?'));
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
});

test('non-stream answers have the recorded shapes: text, function call, and a thinking model\'s text', async () => {
  const text = JSON.parse(await gemini('generateContent', readFixtureJson('gemini/generate-text.request.json')));
  assertSameShape(text, readFixtureJson('gemini/generate-image-inline.response.json'), ['avgLogprobs']);
  assert.ok(text.candidates[0].content.parts[0].text.startsWith('Echo: Hello!'));

  const call = JSON.parse(await gemini('generateContent', readFixtureJson('gemini/generate-function-call.request.json')));
  assertSameShape(call, readFixtureJson('gemini/generate-function-call.response.json'), ['avgLogprobs']);
  const names = call.candidates[0].content.parts.map((p: any) => p.functionCall.name);
  assert.deepEqual(names, ['get_user_country', 'final_result'], 'mode ANY calls the allowed functions');
  assert.equal(typeof call.candidates[0].content.parts[1].functionCall.args.city, 'string');

  const thinking = JSON.parse(await gemini('generateContent', { ...user('strawberry?'), generationConfig: { thinkingConfig: { thinkingLevel: 'high' } } }));
  assertSameShape(thinking, readFixtureJson('gemini/generate-text.vercel.json'));
  assert.ok(thinking.usageMetadata.thoughtsTokenCount > 0);
  const usage = thinking.usageMetadata;
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount + usage.thoughtsTokenCount);

  const thinkingCall = JSON.parse(await gemini('generateContent', { ...user('weather?'), tools: [CITY_TOOL], generationConfig: { thinkingConfig: { thinkingBudget: 128 } } }));
  assertSameShape(thinkingCall, readFixtureJson('gemini/generate-function-call.vercel.json'), ['args']);
});

test('a thinking model streams a signed function call, then an empty final part, like the recording', async () => {
  const request = readFixtureJson('gemini/stream-function-call.request.json');
  const mine = await gemini('streamGenerateContent?alt=sse', { ...request, generationConfig: { ...request.generationConfig, thinkingConfig: {} } });
  assert.deepEqual(distinctShapes(sseJson(mine)), distinctShapes(sseJson(readFixtureText('gemini/stream-function-call.response.sse'))));
});

test('includeThoughts streams thought parts first; thinkingBudget 0 turns thinking off', async () => {
  const chunks = sseJson(await gemini('streamGenerateContent?alt=sse', { ...user('think first'), generation_config: { thinking_config: { include_thoughts: true } } }, { 'x-mock-chunks': '3' }));
  const parts = chunks.flatMap((c) => c.candidates[0].content.parts);
  const firstAnswer = parts.findIndex((p) => !p.thought);
  assert.ok(firstAnswer > 0 && parts.slice(firstAnswer).every((p) => !p.thought), 'thoughts, then the answer');
  assert.ok(parts.slice(0, firstAnswer).map((p) => p.text).join('').includes('think first'), 'the thoughts are about the request');
  assert.ok(chunks.at(-1).usageMetadata.thoughtsTokenCount > 0);

  const off = JSON.parse(await gemini('generateContent', { ...user('no thinking'), generationConfig: { thinkingConfig: { thinkingBudget: 0, includeThoughts: true } } }));
  assert.equal(off.usageMetadata.thoughtsTokenCount, undefined);
  assert.ok(off.candidates[0].content.parts.every((p: any) => !p.thought));
});

test('snake_case fields work: system_instruction, function_declarations, max_output_tokens -> MAX_TOKENS', async () => {
  const capped = JSON.parse(await gemini('generateContent', { ...user('a long reply'), system_instruction: { parts: [{ text: 'be long' }] }, generation_config: { max_output_tokens: 2 } }));
  assert.equal(capped.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(capped.usageMetadata.candidatesTokenCount, 2);
  const call = JSON.parse(await gemini('generateContent', { ...user('city'), tools: [{ function_declarations: [{ name: 'pick', parameters_json_schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }] }] }));
  assert.equal(call.candidates[0].content.parts[0].functionCall.name, 'pick');
  assert.equal(Number.isInteger(call.candidates[0].content.parts[0].functionCall.args.n), true);
});

test('after a functionResponse the answer is text echoing it; mode NONE never calls', async () => {
  const answered = JSON.parse(await gemini('generateContent', {
    contents: [
      { role: 'user', parts: [{ text: 'city?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_city', args: { country: 'FR', size: 3 } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_city', response: { city: 'Lyon' } } }] },
    ],
    tools: [CITY_TOOL],
  }));
  assert.ok(answered.candidates[0].content.parts[0].text.startsWith('Echo: {"city":"Lyon"}'));
  const none = JSON.parse(await gemini('generateContent', { ...user('city?'), tools: [CITY_TOOL], toolConfig: { functionCallingConfig: { mode: 'NONE' } } }));
  assert.equal(none.candidates[0].content.parts[0].functionCall, undefined);
});

test('streamGenerateContent without alt=sse streams one JSON array of the same chunks', async () => {
  const array = JSON.parse(await gemini('streamGenerateContent', user('array please'), { 'x-mock-chunks': '3' }));
  const sse = sseJson(await gemini('streamGenerateContent?alt=sse', user('array please'), { 'x-mock-chunks': '3' }));
  assert.ok(Array.isArray(array));
  assert.equal(array.length, sse.length);
  assert.deepEqual(array.map((c: any) => c.candidates[0].content.parts[0].text), sse.map((c) => c.candidates[0].content.parts[0].text));
});

test('embedContent and batchEmbedContents give deterministic unit vectors of the asked size', async () => {
  const one = JSON.parse(await gemini('embedContent', { content: { parts: [{ text: 'hello world' }] }, outputDimensionality: 16 }));
  assert.equal(one.embedding.values.length, 16);
  const norm = Math.sqrt(one.embedding.values.reduce((s: number, v: number) => s + v * v, 0));
  assert.ok(Math.abs(norm - 1) < 1e-5);
  const batch = JSON.parse(await gemini('batchEmbedContents', { requests: [{ model: 'models/gemini-2.5-flash', content: { parts: [{ text: 'other' }] }, outputDimensionality: 16 }, { model: 'models/gemini-2.5-flash', content: { parts: [{ text: 'hello world' }] }, outputDimensionality: 16 }] }));
  assert.equal(batch.embeddings.length, 2);
  assert.deepEqual(batch.embeddings[1].values, one.embedding.values);
  assert.notDeepEqual(batch.embeddings[0].values, one.embedding.values);
  const full = JSON.parse(await gemini('embedContent', { content: { parts: [{ text: 'x' }] } }));
  assert.ok(full.embedding.values.length > 16, 'the model default size without outputDimensionality');
});

test('countTokens counts what generateContent bills as prompt', async () => {
  const body = { ...user('count these words'), systemInstruction: { parts: [{ text: 'sys' }] } };
  const counted = JSON.parse(await gemini('countTokens', body));
  const billed = JSON.parse(await gemini('generateContent', body)).usageMetadata.promptTokenCount;
  assert.equal(counted.totalTokens, billed);
});
