// What the gateway sends clients, checked against OpenAI's official OpenAPI schema
// (fixtures/openai/openapi.yaml): chat completions and their chunks, Responses
// objects and every Responses stream event, embeddings, the models list and errors,
// for models relayed to an OpenAI-compatible upstream and models translated from
// Anthropic and Gemini. Raw bodies are validated (fetch, not the SDK's parsed objects).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, GATEWAY_KEY, PROVIDER_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { OpenApiSchemas, streamEventSchemaName } from './support/openapi.ts';
import type { SchemaPatch } from './support/openapi.ts';
import { SseParser } from '../src/canonical/sse.ts';
import { readFixtureJson, readFixtureJsonl, readFixtureSse } from '../src/testing/fixtures.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  gemini: { base_url: ${url}, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }`,
  });
});
after(() => stack.close());

// ---- where the document is stricter than OpenAI's own traffic ----

interface Evidence {
  /** A recorded OpenAI body in fixtures. */
  fixture: string;
  /** For a stream recording: the event type whose payload shows the deviation. */
  event?: string;
  schema: string;
}

/**
 * Each patch is proved by a recording of OpenAI's real API that breaks the unpatched
 * schema and passes with all patches (first test below), so none can hide a gateway bug.
 */
const RECORDED_DRIFT: ReadonlyArray<SchemaPatch & { evidence: Evidence }> = [
  {
    schema: 'ModelResponseProperties',
    why: 'OpenAI sends "user": null on every Response; the document allows only a string.',
    apply: (s) => { s.properties.user = { anyOf: [s.properties.user, { type: 'null' }] }; },
    evidence: { fixture: 'openai/responses-simple.response.json', schema: 'Response' },
  },
  {
    schema: 'Response',
    why: 'the response inside response.created / in_progress / failed carries "usage": null.',
    apply: (s) => { const props = s.allOf[2].properties; props.usage = { anyOf: [props.usage, { type: 'null' }] }; },
    evidence: { fixture: 'openai/responses-stream-reasoning-function-call-usage.response.sse', event: 'response.created', schema: 'ResponseCreatedEvent' },
  },
  {
    schema: 'ResponseFunctionCallArgumentsDoneEvent',
    why: 'response.function_call_arguments.done carries no "name" (the openai SDK type has none either).',
    apply: (s) => { s.required = s.required.filter((key: string) => key !== 'name'); },
    evidence: { fixture: 'openai/responses-stream-reasoning-function-call-usage.response.sse', event: 'response.function_call_arguments.done', schema: 'ResponseFunctionCallArgumentsDoneEvent' },
  },
  {
    schema: 'ResponseErrorEvent',
    why: 'the stream "error" event nests {type, code, message, param} under "error"; the document has them flat.',
    apply: (s) => {
      s.required = ['type', 'sequence_number', 'error'];
      s.properties = { type: s.properties.type, sequence_number: s.properties.sequence_number, error: { $ref: '#/components/schemas/Error' } };
    },
    evidence: { fixture: 'openai/responses-stream-error-insufficient-quota.jsonl', event: 'error', schema: 'ResponseErrorEvent' },
  },
  {
    schema: 'ResponseErrorCode',
    why: 'a failed response names codes outside the enum (e.g. insufficient_quota); clients must take any string.',
    apply: (s) => { delete s.enum; },
    evidence: { fixture: 'openai/responses-stream-error-insufficient-quota.jsonl', event: 'response.failed', schema: 'ResponseFailedEvent' },
  },
];

/** Recorded OpenAI Responses lack it, but the document and the openai SDK type require it. */
const CACHE_WRITE_DRIFT: SchemaPatch & { evidence: Evidence } = {
  schema: 'ResponseUsage',
  why: 'usage.input_tokens_details has no "cache_write_tokens" in recorded OpenAI Responses.',
  apply: (s) => { s.properties.input_tokens_details.required = ['cached_tokens']; },
  evidence: { fixture: 'openai/responses-simple.response.json', schema: 'Response' },
};

const strict = new OpenApiSchemas();
/** For everything the gateway relays or builds: OpenAI's real behaviour is accepted. */
const asOpenAiSends = new OpenApiSchemas([...RECORDED_DRIFT, CACHE_WRITE_DRIFT]);
/** For Responses the gateway builds itself: it knows the cache writes, so it must say them. */
const asSpecified = new OpenApiSchemas(RECORDED_DRIFT);

function evidenceValue(evidence: Evidence): unknown {
  if (!evidence.event) return readFixtureJson(evidence.fixture);
  const payloads = evidence.fixture.endsWith('.jsonl')
    ? readFixtureJsonl<{ type: string }>(evidence.fixture)
    : readFixtureSse(evidence.fixture).map((e) => JSON.parse(e.data) as { type: string });
  const found = payloads.find((payload) => payload.type === evidence.event);
  assert.ok(found, `${evidence.fixture} has a ${evidence.event} event`);
  return found;
}

test('each tolerated deviation from the document is one OpenAI\'s recorded traffic shows, and is needed', () => {
  const all = [...RECORDED_DRIFT, CACHE_WRITE_DRIFT];
  for (const drift of all) {
    const value = evidenceValue(drift.evidence);
    const label = `${drift.evidence.fixture}${drift.evidence.event ? ` (${drift.evidence.event})` : ''}`;
    assert.equal(strict.matches(drift.evidence.schema, value), false, `${label} should break the unpatched ${drift.evidence.schema} schema`);
    asOpenAiSends.assertMatches(drift.evidence.schema, value, `${label} with every patch`);
    const withoutThis = new OpenApiSchemas(all.filter((other) => other !== drift));
    assert.equal(withoutThis.matches(drift.evidence.schema, value), false, `the ${drift.schema} patch is what lets ${label} through: ${drift.why}`);
  }
});

// ---- helpers ----

const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];
const responsesTools = [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: tools[0].function.parameters }];

async function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.gw.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function json(path: string, body: unknown, headers: Record<string, string> = {}, status = 200): Promise<any> {
  const res = await call(path, body, headers);
  const text = await res.text();
  assert.equal(res.status, status, `POST ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

interface StreamEventData {
  event?: string;
  data: string;
}

async function sse(path: string, body: unknown, headers: Record<string, string> = {}): Promise<StreamEventData[]> {
  const res = await call(path, body, headers);
  const text = await res.text();
  assert.equal(res.status, 200, `POST ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const parser = new SseParser();
  return parser.end(parser.push(text));
}

/** Validates every chat chunk; an in-band error payload is checked as ErrorResponse. Returns the chunks. */
function checkChatStream(events: StreamEventData[], label: string): any[] {
  assert.equal(events[events.length - 1]?.data, '[DONE]', `${label}: the stream ends with [DONE]`);
  const chunks: any[] = [];
  for (const [i, event] of events.slice(0, -1).entries()) {
    const payload = JSON.parse(event.data);
    if (payload.error) asOpenAiSends.assertMatches('ErrorResponse', payload, `${label} in-band error`);
    else {
      asOpenAiSends.assertMatches('CreateChatCompletionStreamResponse', payload, `${label} chunk ${i}`);
      chunks.push(payload);
    }
  }
  return chunks;
}

/** Validates every Responses stream event against the schema of its type. Returns the payloads. */
function checkResponsesStream(events: StreamEventData[], schemas: OpenApiSchemas, label: string): any[] {
  const payloads = events.map((event, i) => {
    const payload = JSON.parse(event.data);
    const schema = streamEventSchemaName(payload.type);
    assert.ok(schema, `${label} event ${i}: '${payload.type}' is not a Responses stream event type OpenAI defines`);
    if (event.event !== undefined) assert.equal(event.event, payload.type, `${label} event ${i}: the SSE event name is the payload type`);
    schemas.assertMatches(schema, payload, `${label} event ${i} (${payload.type})`);
    if (payload.type === 'error') strict.assertMatches('Error', payload.error, `${label} error event's error`);
    return payload;
  });
  assert.deepEqual(payloads.map((p) => p.sequence_number), payloads.map((_, i) => i), `${label}: sequence_number counts 0, 1, 2...`);
  return payloads;
}

const CHAT_MODELS = [
  ['gpt-5.4-mini', 'relayed'],
  ['claude-sonnet-4-5', 'translated from Anthropic'],
  ['gemini-2.5-flash', 'translated from Gemini'],
] as const;

const RESPONSES_MODELS = [
  ['gpt-5.4-mini', 'relayed'],
  ['local-llama', 'translated onto chat'],
  ['claude-sonnet-4-5', 'translated from Anthropic'],
  ['gemini-2.5-flash', 'translated from Gemini'],
] as const;

// ---- chat completions ----

for (const [model, how] of CHAT_MODELS) {
  test(`${model} (${how}): chat.completion with text and usage matches CreateChatCompletionResponse`, async () => {
    const body = await json('/chat/completions', { model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Describe the sea' }] });
    asOpenAiSends.assertMatches('CreateChatCompletionResponse', body, `${model} chat.completion`);
    assert.ok(body.choices[0].message.content.length > 0);
    assert.ok(body.usage.total_tokens > 0, 'usage is reported');
  });

  test(`${model} (${how}): chat.completion with tool calls and reasoning matches CreateChatCompletionResponse`, async () => {
    const body = await json('/chat/completions', { model, tools, reasoning_effort: 'high', messages: [{ role: 'user', content: 'Weather in Rome?' }] });
    asOpenAiSends.assertMatches('CreateChatCompletionResponse', body, `${model} chat.completion with tool calls`);
    assert.equal(body.choices[0].finish_reason, 'tool_calls');
    assert.equal(body.choices[0].message.tool_calls[0].function.name, 'get_weather');
  });

  test(`${model} (${how}): every chunk of a text stream with reasoning, and the usage chunk, match CreateChatCompletionStreamResponse`, async () => {
    const events = await sse('/chat/completions', { model, stream: true, stream_options: { include_usage: true }, reasoning_effort: 'high', messages: [{ role: 'user', content: 'Stream about rivers' }] });
    const chunks = checkChatStream(events, `${model} text stream`);
    assert.ok(chunks.some((c) => c.choices[0]?.delta?.content), 'text deltas were sent');
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
    assert.ok(last.usage.completion_tokens > 0);
  });

  test(`${model} (${how}): every chunk of a tool-call stream matches CreateChatCompletionStreamResponse`, async () => {
    const events = await sse('/chat/completions', { model, tools, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Weather in Rome?' }] });
    const chunks = checkChatStream(events, `${model} tool stream`);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    assert.ok(calls.some((c: any) => c.id && c.function?.name === 'get_weather'), 'a tool-call delta opened the call');
    assert.ok(calls.some((c: any) => !c.id && c.function?.arguments), 'argument fragments followed');
    assert.ok(chunks[chunks.length - 1].usage, 'the usage chunk came last');
  });

  test(`${model} (${how}): an in-band stream error and upstream error statuses match ErrorResponse`, async () => {
    const events = await sse('/chat/completions', { model, stream: true, messages: [{ role: 'user', content: 'Tell me more' }] }, { 'x-mock-error-after-chunks': '2' });
    const payloads = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
    const errors = payloads.filter((p) => p.error);
    assert.equal(errors.length, 1, 'one error payload ends the stream');
    asOpenAiSends.assertMatches('ErrorResponse', errors[0], `${model} in-band error`);
    for (const status of [401, 429, 500]) {
      const res = await call('/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, { 'x-mock-status': String(status) });
      assert.ok(res.status >= 400);
      asOpenAiSends.assertMatches('ErrorResponse', await res.json(), `${model} upstream ${status}`);
    }
  });
}

// ---- Responses ----

for (const [model, how] of RESPONSES_MODELS) {
  test(`${model} (${how}): the response object with reasoning and text matches Response`, async () => {
    const body = await json('/responses', { model, instructions: 'Be brief.', input: 'Think about the sea', reasoning: { effort: 'high', summary: 'auto' } });
    asOpenAiSends.assertMatches('Response', body, `${model} response`);
    assert.equal(body.status, 'completed');
    assert.ok(body.output.some((item: any) => item.type === 'message'));
  });

  test(`${model} (${how}): the response object with a function call matches Response`, async () => {
    const body = await json('/responses', { model, input: 'Weather in Rome?', tools: responsesTools });
    asOpenAiSends.assertMatches('Response', body, `${model} response with a function call`);
    assert.ok(body.output.some((item: any) => item.type === 'function_call' && item.name === 'get_weather'));
  });

  test(`${model} (${how}): every event of a reasoning + text stream matches its Responses event schema`, async () => {
    const events = await sse('/responses', { model, input: 'Think, then answer', stream: true, reasoning: { effort: 'high', summary: 'auto' } });
    const payloads = checkResponsesStream(events, asOpenAiSends, `${model} text stream`);
    assert.equal(payloads[0].type, 'response.created');
    assert.equal(payloads[payloads.length - 1].type, 'response.completed');
    assert.ok(payloads.some((p) => p.type === 'response.output_text.delta'));
  });

  test(`${model} (${how}): every event of a function-call stream matches its Responses event schema`, async () => {
    const events = await sse('/responses', { model, input: 'Weather in Rome?', tools: responsesTools, stream: true });
    const payloads = checkResponsesStream(events, asOpenAiSends, `${model} function-call stream`);
    assert.ok(payloads.some((p) => p.type === 'response.function_call_arguments.delta'));
    assert.equal(payloads[payloads.length - 1].type, 'response.completed');
  });

  test(`${model} (${how}): a stream that fails midway ends with error and response.failed events that match their schemas`, async () => {
    const events = await sse('/responses', { model, input: 'Tell me more', stream: true }, { 'x-mock-error-after-chunks': '3' });
    const payloads = checkResponsesStream(events, asOpenAiSends, `${model} failed stream`);
    assert.deepEqual(payloads.slice(-2).map((p) => p.type), ['error', 'response.failed']);
  });
}

for (const [model, how] of RESPONSES_MODELS.filter(([, how]) => how !== 'relayed')) {
  test(`${model} (${how}): Responses usage the gateway builds names input_tokens_details.cache_write_tokens, as the schema and the SDK type require`, async () => {
    const body = await json('/responses', { model, input: 'Describe the sea' });
    asSpecified.assertMatches('Response', body, `${model} response`);
    const events = await sse('/responses', { model, input: 'Describe the sea', stream: true });
    checkResponsesStream(events, asSpecified, `${model} stream`);
  });
}

// ---- embeddings, models, errors ----

for (const [model, how] of [['text-embedding-3-small', 'relayed'], ['gemini-embedding-001', 'translated from Gemini']] as const) {
  test(`${model} (${how}): a float embeddings list matches CreateEmbeddingResponse`, async () => {
    // The document types `embedding` as numbers only, so the base64 form is not checked here.
    const body = await json('/embeddings', { model, input: ['the cat sat', 'on the mat'], encoding_format: 'float' });
    asOpenAiSends.assertMatches('CreateEmbeddingResponse', body, `${model} embeddings`);
    assert.equal(body.data.length, 2);
  });
}

test('the models list and one model match ListModelsResponse and Model, with our extra fields in them', async () => {
  const headers = { authorization: `Bearer ${GATEWAY_KEY}` };
  const list = await (await fetch(`${stack.gw.baseURL}/models`, { headers })).json();
  asOpenAiSends.assertMatches('ListModelsResponse', list, 'GET /v1/models');
  const claude = list.data.find((m: any) => m.id === 'claude-sonnet-4-5');
  assert.ok(claude && claude.context_window > 0 && claude.pricing, 'the extra catalog fields are there');
  const one = await (await fetch(`${stack.gw.baseURL}/models/gemini-2.5-flash`, { headers })).json();
  asOpenAiSends.assertMatches('Model', one, 'GET /v1/models/gemini-2.5-flash');
});

test('gateway errors (bad key, unknown path, unknown model, invalid body, Responses upstream 429) match ErrorResponse', async () => {
  const badKey = await fetch(`${stack.gw.baseURL}/models`, { headers: { authorization: 'Bearer sy-not-a-key-000000000' } });
  assert.equal(badKey.status, 401);
  asOpenAiSends.assertMatches('ErrorResponse', await badKey.json(), '401 bad key');
  const noV1 = await fetch(`${stack.gw.origin}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: '{}' });
  assert.equal(noV1.status, 404);
  asOpenAiSends.assertMatches('ErrorResponse', await noV1.json(), '404 unknown path');
  asOpenAiSends.assertMatches('ErrorResponse', await json('/chat/completions', { model: 'gpt-5.4-minii', messages: [{ role: 'user', content: 'x' }] }, {}, 404), '404 unknown model');
  asOpenAiSends.assertMatches('ErrorResponse', await json('/chat/completions', { model: 'gpt-5.4-mini', messages: [] }, {}, 400), '400 invalid body');
  asOpenAiSends.assertMatches('ErrorResponse', await json('/responses', { model: 'claude-sonnet-4-5', input: 'x' }, { 'x-mock-status': '429' }, 429), 'Responses 429 from Anthropic');
});
