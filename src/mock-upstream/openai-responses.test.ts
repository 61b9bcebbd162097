import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { readFixtureJson, readFixtureText } from '../testing/fixtures.ts';
import { startMockUpstream, type MockUpstream } from './server.ts';
import { assertSameShape, collapsedTypes, parseSse, post, sseJson } from './test-support.ts';

let mock: MockUpstream;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'mock', maxRetries: 0 });
});
after(() => mock.close());

async function responses(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await post(mock, '/v1/responses', body, headers);
  assert.equal(res.status, 200, res.text);
  return res.text;
}

/** Each event type's first payload, keyed by type. */
function firstOfEachType(payloads: any[]): Map<string, any> {
  const out = new Map<string, any>();
  for (const p of payloads) if (!out.has(p.type)) out.set(p.type, p);
  return out;
}

function assertStreamLikeRecording(mine: string, recorded: string): void {
  const ours = parseSse(mine);
  const theirs = parseSse(recorded);
  assert.ok(ours.every((e) => e.event === JSON.parse(e.data).type), 'every event: line names its payload type');
  const order = (events: typeof ours) => [...new Set(events.map((e) => e.event as string))];
  assert.deepEqual(order(ours), order(theirs), 'event types first appear in the recorded order');
  const recordedByType = firstOfEachType(sseJson(recorded));
  for (const [type, payload] of firstOfEachType(sseJson(mine))) assertSameShape(payload, recordedByType.get(type), [], type);
  const sequence = sseJson(mine).map((p) => p.sequence_number);
  assert.deepEqual(sequence, sequence.map((_, i) => i), 'sequence numbers count up from 0');
}

test('a reasoning model calling a function streams the recorded events, in order and shape', async () => {
  const request = readFixtureJson('openai/responses-stream-reasoning-function-call-usage.request.json');
  const mine = await responses(request);
  const recorded = readFixtureText('openai/responses-stream-reasoning-function-call-usage.response.sse');
  assertStreamLikeRecording(mine, recorded);
  assert.deepEqual(collapsedTypes(parseSse(mine).map((e) => e.event as string)), collapsedTypes(parseSse(recorded).map((e) => e.event as string)));
  const done = sseJson(mine).find((p) => p.type === 'response.function_call_arguments.done');
  assert.equal(Number.isInteger(JSON.parse(done.arguments).result), true, 'arguments follow the integer schema');
  const completed = sseJson(mine).at(-1);
  assert.ok(completed.response.usage.output_tokens_details.reasoning_tokens > 0);
});

test('a reasoning summary streams as summary parts before the message, like the recording', async () => {
  const request = readFixtureJson('openai/responses-stream-reasoning-summary.request.json');
  const mine = await responses(request);
  assertStreamLikeRecording(mine, readFixtureText('openai/responses-stream-reasoning-summary.response.sse'));
  const payloads = sseJson(mine);
  const summary = payloads.filter((p) => p.type === 'response.reasoning_summary_text.delta').map((p) => p.delta).join('');
  assert.equal(payloads.find((p) => p.type === 'response.reasoning_summary_text.done').text, summary);
  const text = payloads.filter((p) => p.type === 'response.output_text.delta').map((p) => p.delta).join('');
  assert.ok(text.startsWith('Echo: How do I cross the street?'), text);
  const reasoningItem = payloads.at(-1).response.output[0];
  assert.equal(typeof reasoningItem.encrypted_content, 'string', 'include: reasoning.encrypted_content is honoured');
});

test('non-stream answers have the keys and value types of recorded Response objects', async () => {
  const simple = JSON.parse(await responses(readFixtureJson('openai/responses-simple.request.json')));
  assertSameShape(simple, readFixtureJson('openai/responses-simple.response.json'));
  assert.equal(simple.output[0].content[0].text.startsWith('Echo: What is the capital of France?'), true);

  const call = JSON.parse(await responses(readFixtureJson('openai/responses-function-call.request.json')));
  assertSameShape(call, readFixtureJson('openai/responses-function-call.response.json'), ['billing']);
  assert.equal(typeof JSON.parse(call.output[0].arguments).country, 'string');

  const answer = JSON.parse(await responses(readFixtureJson('openai/responses-function-call-output.request.json')));
  assert.equal(answer.output[0].type, 'message', 'after a function_call_output the model answers in text');
});

test('max_output_tokens ends the response as incomplete', async () => {
  const body = { model: 'gpt-4o', input: 'please write a lot', max_output_tokens: 2 };
  const whole = JSON.parse(await responses(body));
  assert.equal(whole.status, 'incomplete');
  assert.deepEqual(whole.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(whole.usage.output_tokens, 2);
  const streamed = sseJson(await responses({ ...body, stream: true }));
  assert.equal(streamed.at(-1).type, 'response.incomplete');
  assert.equal(streamed.at(-1).response.status, 'incomplete');
});

test('the official SDK streams a response and assembles the final output', async () => {
  const stream = client.responses.stream({ model: 'gpt-4o', input: [{ role: 'user', content: 'Hello SDK' }], instructions: 'be brief' }, { headers: { 'x-mock-chunks': '4' } });
  const types: string[] = [];
  stream.on('event', (e) => types.push(e.type));
  const final = await stream.finalResponse();
  assert.ok(final.output_text.startsWith('Echo: Hello SDK'), final.output_text);
  assert.equal(types.filter((t) => t === 'response.output_text.delta').length, 4);
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(final.instructions, 'be brief');
  assert.ok(final.usage && final.usage.input_tokens > 0 && final.usage.total_tokens === final.usage.input_tokens + final.usage.output_tokens);
});

test('the official SDK gets function calls from a non-stream response', async () => {
  const response = await client.responses.create({
    model: 'gpt-4o',
    input: 'what time is it in Paris?',
    tools: [{ type: 'function', name: 'get_time', strict: true, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } }],
  });
  const call = response.output.find((item) => item.type === 'function_call');
  assert.ok(call && call.type === 'function_call');
  assert.equal(call.name, 'get_time');
  assert.equal(typeof JSON.parse(call.arguments).city, 'string');
});
