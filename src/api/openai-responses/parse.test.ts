import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { GatewayError } from '../../canonical/errors.ts';
import { fixturePath, readFixtureJson } from '../../testing/fixtures.ts';
import { parseResponsesRequest } from './parse.ts';
import { parsedForTranslation } from '../test-support.ts';

const requestFixtures = readdirSync(fixturePath('openai')).filter((name) => /^(responses|spec-responses)-.*\.request\.json$/.test(name));
/** Requests that use what only OpenAI's own Responses backend runs: built-in tools, stored files. */
const nativeOnly: Record<string, string> = {
  'responses-stream-web-search.request.json': 'tools[0].type',
  'spec-responses-web-search.request.json': 'tools[0].type',
  'spec-responses-file-search.request.json': 'tools[0].type',
  'spec-responses-file-input.request.json': 'input[0].content[1].type',
};

test('every recorded and documented Responses request parses; a translation names what needs a native upstream', () => {
  assert.ok(requestFixtures.length >= 15);
  for (const name of requestFixtures) {
    const body = readFixtureJson(`openai/${name}`);
    if (nativeOnly[name] !== undefined) {
      assert.equal(parseResponsesRequest(body).untranslatable?.[0].param, nativeOnly[name], `${name} is relayed as it came`);
      assert.throws(() => parsedForTranslation(parseResponsesRequest, body), (err: unknown) => {
        assert.ok(err instanceof GatewayError, name);
        assert.equal(err.status, 400, name);
        assert.equal(err.param, nativeOnly[name], name);
        return true;
      });
      continue;
    }
    const request = parseResponsesRequest(body);
    assert.equal(request.model, body.model, name);
    assert.equal(request.stream, body.stream === true, name);
    assert.ok(request.messages.some((message) => message.role === 'user'), name);
  }
});

test('built-in tools are refused by a translation, naming the models that relay them', () => {
  const body = readFixtureJson('openai/responses-stream-web-search.request.json');
  assert.throws(() => parsedForTranslation(parseResponsesRequest, body), /tools\[0\]\.type 'web_search\w*' can only be relayed to an OpenAI Responses model such as gpt-5\.5, gpt-5\.4/);
});

test('a function call and its output replay as an assistant tool call and a tool message', () => {
  const request = parseResponsesRequest(readFixtureJson('openai/responses-function-call-output.request.json'));
  assert.deepEqual(request.messages, [
    { role: 'user', content: [{ type: 'text', text: 'What is the capital of PotatoLand?' }] },
    { role: 'assistant', content: [{ type: 'tool_call', id: 'call_YfwRsW8sUxDKipwyhWTzOXCA', name: 'get_capital', arguments: '{"country":"PotatoLand"}' }] },
    { role: 'tool', toolCallId: 'call_YfwRsW8sUxDKipwyhWTzOXCA', content: 'Potato City' },
  ]);
  assert.deepEqual(request.tools, [{ name: 'get_capital', parameters: readFixtureJson('openai/responses-function-call-output.request.json').tools[0].parameters, strict: true }]);
  assert.equal(request.toolChoice, 'auto');
});

test('reasoning and function call items form one assistant turn; instructions become the system message', () => {
  const body = readFixtureJson('openai/responses-cached-tokens.request.json');
  const request = parseResponsesRequest(body);
  assert.deepEqual(request.messages.map((message) => message.role), ['system', 'user', 'assistant', 'tool']);
  assert.equal(request.messages[0].role === 'system' && request.messages[0].content, body.instructions);
  const turn = request.messages[2];
  assert.equal(turn.role, 'assistant');
  if (turn.role !== 'assistant') return;
  assert.deepEqual(turn.content.map((part) => part.type), ['reasoning', 'tool_call']);
  const reasoning = turn.content[0];
  assert.equal(reasoning.type === 'reasoning' && reasoning.redacted, body.input[1].encrypted_content);
  assert.equal(reasoning.type === 'reasoning' && reasoning.text, body.input[1].summary.map((part: any) => part.text).join('\n\n'));
  assert.equal(request.reasoningEffort, 'low');
  assert.deepEqual(request.extra, { include: ['reasoning.encrypted_content'], reasoning: { summary: 'detailed' } });
});

test('input_image keeps its URL and detail; empty instructions add no system message', () => {
  const body = readFixtureJson('openai/responses-image-url.request.json');
  const request = parseResponsesRequest(body);
  assert.deepEqual(request.messages, [{
    role: 'user',
    content: [{ type: 'text', text: 'hello' }, { type: 'image', url: body.input[0].content[1].image_url, detail: 'auto' }],
  }]);
});

test('string input, reasoning effort, text format and unknown fields', () => {
  const request = parseResponsesRequest({
    model: 'o3', input: 'hi', reasoning: { effort: 'high' }, max_output_tokens: 50, temperature: 1, top_p: 0.5, user: 'u',
    metadata: { k: 'v' }, parallel_tool_calls: false, store: false, previous_response_id: null,
    text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
  });
  assert.deepEqual(request.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  assert.equal(request.reasoningEffort, 'high');
  assert.equal(request.maxOutputTokens, 50);
  assert.equal(request.topP, 0.5);
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.responseFormat, { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true });
  assert.deepEqual(request.extra, { store: false, previous_response_id: null, text: { verbosity: 'low' } });
});

test('assistant message items, developer items and consecutive turns', () => {
  const request = parseResponsesRequest({
    model: 'm',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'be brief' }] },
      { role: 'user', content: 'q1' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a1', annotations: [] }] },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'r1' }] },
      { role: 'assistant', content: 'a2' },
    ],
  });
  assert.deepEqual(request.messages, [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: [{ type: 'text', text: 'q1' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'a1' }, { type: 'tool_call', id: 'c1', name: 'f', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'c1', content: 'r1' },
    { role: 'assistant', content: [{ type: 'text', text: 'a2' }] },
  ]);
});

const input = [{ role: 'user', content: 'hi' }];
const invalid: [string, Record<string, unknown>, string][] = [
  ['missing model', { input }, 'model'],
  ['missing input', { model: 'm' }, 'input'],
  ['empty input', { model: 'm', input: [] }, 'input'],
  ['role', { model: 'm', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role'],
  ['content part type', { model: 'm', input: [{ role: 'user', content: [{ type: 'image_url', image_url: 'https://x' }] }] }, 'input[0].content[0].type'],
  ['image URL', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'file:///etc/passwd' }] }] }, 'input[0].content[0].image_url'],
  ['image base64', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,@@@' }] }] }, 'input[0].content[0].image_url'],
  ['image file_id', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].file_id'],
  ['input_file', { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x/a.pdf' }] }] }, 'input[0].content[0].type'],
  ['function_call call_id', { model: 'm', input: [...input, { type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[1].call_id'],
  ['function_call arguments', { model: 'm', input: [...input, { type: 'function_call', call_id: 'c', name: 'f', arguments: { a: 1 } }] }, 'input[1].arguments'],
  ['function_call_output output', { model: 'm', input: [...input, { type: 'function_call_output', call_id: 'c', output: 5 }] }, 'input[1].output'],
  ['reasoning summary', { model: 'm', input: [...input, { type: 'reasoning', summary: 'x' }] }, 'input[1].summary'],
  ['built-in item', { model: 'm', input: [...input, { type: 'web_search_call', id: 'ws_1' }] }, 'input[1].type'],
  ['item_reference', { model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
  ['tool name', { model: 'm', input, tools: [{ type: 'function', name: 'no spaces' }] }, 'tools[0].name'],
  ['built-in tool', { model: 'm', input, tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, 'tools[0].type'],
  ['tool_choice', { model: 'm', input, tool_choice: { type: 'file_search' } }, 'tool_choice'],
  ['tool_choice undeclared', { model: 'm', input, tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }, 'tool_choice.name'],
  ['reasoning effort', { model: 'm', input, reasoning: { effort: 'max' } }, 'reasoning.effort'],
  ['text format', { model: 'm', input, text: { format: { type: 'yaml' } } }, 'text.format.type'],
  ['json_schema name', { model: 'm', input, text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name'],
  ['max_output_tokens', { model: 'm', input, max_output_tokens: -1 }, 'max_output_tokens'],
  ['temperature', { model: 'm', input, temperature: -1 }, 'temperature'],
  ['metadata', { model: 'm', input, metadata: { a: false } }, 'metadata.a'],
  ['instructions', { model: 'm', input, instructions: 3 }, 'instructions'],
];

/** What the gateway needs itself (or the provider would certainly refuse): refused on a relay route too. */
const REFUSED_ON_EVERY_ROUTE = new Set(['missing model', 'image URL', 'image base64', 'max_output_tokens']);

for (const [what, body, param] of invalid) {
  test(`400 naming the field on a translated route: ${what}`, () => {
    assert.throws(() => parsedForTranslation(parseResponsesRequest, body), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 400);
      assert.equal(err.param, param);
      assert.ok(err.message.includes(param), `message names ${param}: ${err.message}`);
      return true;
    });
  });
  test(`on a relay route: ${what} ${REFUSED_ON_EVERY_ROUTE.has(what) ? 'is refused too' : 'is left to the provider'}`, () => {
    if (REFUSED_ON_EVERY_ROUTE.has(what)) {
      assert.throws(() => parseResponsesRequest(body), (err: unknown) => err instanceof GatewayError && err.param === param);
      return;
    }
    assert.equal(parseResponsesRequest(body).untranslatable?.[0].param, param);
  });
}
