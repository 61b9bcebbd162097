import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { GatewayError } from '../../canonical/errors.ts';
import { fixturePath, readFixtureJson } from '../../testing/fixtures.ts';
import { includeUsageRequested, parseChatRequest } from './parse.ts';
import { parsedForTranslation } from '../test-support.ts';

const chatRequestFixtures = readdirSync(fixturePath('openai'))
  .filter((name) => /^(chat|spec-chat)-.*\.request\.json$/.test(name));

test('every recorded and documented chat request parses', () => {
  assert.ok(chatRequestFixtures.length >= 7);
  for (const name of chatRequestFixtures) {
    const body = readFixtureJson(`openai/${name}`);
    const request = parseChatRequest(body);
    assert.equal(request.model, body.model, name);
    assert.equal(request.messages.length, body.messages.length, name);
    assert.equal(request.stream, body.stream === true, name);
  }
});

test('developer becomes system; max_tokens becomes maxOutputTokens', () => {
  const defaults = parseChatRequest(readFixtureJson('openai/spec-chat-default.request.json'));
  assert.deepEqual(defaults.messages[0], { role: 'system', content: 'You are a helpful assistant.' });
  const image = parseChatRequest(readFixtureJson('openai/spec-chat-image-input.request.json'));
  assert.equal(image.maxOutputTokens, 300);
  const part = image.messages[0].role === 'user' ? image.messages[0].content[1] : undefined;
  assert.equal(part?.type === 'image' ? part.url : undefined, readFixtureJson('openai/spec-chat-image-input.request.json').messages[0].content[1].image_url.url);
});

test('a data: image URL becomes base64 data with its media type', () => {
  const body = readFixtureJson('openai/chat-image-base64.request.json');
  const request = parseChatRequest(body);
  const message = request.messages[0];
  assert.equal(message.role, 'user');
  const image = message.role === 'user' ? message.content[1] : undefined;
  assert.equal(image?.type, 'image');
  if (image?.type !== 'image') return;
  assert.equal(image.mediaType, 'image/jpeg');
  assert.equal(image.url, undefined);
  assert.equal(`data:image/jpeg;base64,${image.data}`, body.messages[0].content[1].image_url.url);
});

test('a tool turn keeps ids, names, arguments and the tool result', () => {
  const request = parseChatRequest(readFixtureJson('openai/chat-stream-after-tool-result.request.json'));
  assert.deepEqual(request.messages[1], {
    role: 'assistant',
    content: [{ type: 'tool_call', id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', name: 'get_capital', arguments: '{"country":"UK"}' }],
  });
  assert.deepEqual(request.messages[2], { role: 'tool', toolCallId: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', content: 'London' });
  assert.equal(request.tools?.[0].name, 'get_capital');
  assert.equal(request.tools?.[0].strict, true);
  assert.equal(request.toolChoice, 'auto');
  assert.equal(includeUsageRequested(request), true);
});

test('unknown fields go to extra unchanged, stream_options with all its keys', () => {
  const logprobs = parseChatRequest(readFixtureJson('openai/spec-chat-logprobs.request.json'));
  assert.deepEqual(logprobs.extra, { logprobs: true, top_logprobs: 2 });
  const request = parseChatRequest({
    model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true,
    stream_options: { include_usage: false, include_obfuscation: false }, service_tier: 'flex', prediction: { type: 'content', content: 'x' },
  });
  assert.deepEqual(request.extra, {
    stream_options: { include_usage: false, include_obfuscation: false }, service_tier: 'flex', prediction: { type: 'content', content: 'x' },
  });
  assert.equal(includeUsageRequested(request), false);
});

test('known fields map to the canonical request', () => {
  const request = parseChatRequest({
    model: 'm',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }], name: 'ann' },
      { role: 'assistant', content: 'b', reasoning_content: 'thinking' },
    ],
    max_tokens: 10, max_completion_tokens: 20, reasoning_effort: 'xhigh', temperature: 0, top_p: 1, n: 2, stop: 'END',
    seed: -5, user: 'u1', metadata: { team: 'x' }, parallel_tool_calls: false,
    response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
  });
  assert.deepEqual(request.messages[0], {
    role: 'user', name: 'ann',
    content: [{ type: 'text', text: 'a' }, { type: 'image', url: 'https://x/y.png', detail: 'low' }],
  });
  assert.deepEqual(request.messages[1], { role: 'assistant', content: [{ type: 'reasoning', text: 'thinking' }, { type: 'text', text: 'b' }] });
  assert.equal(request.maxOutputTokens, 20);
  assert.equal(request.reasoningEffort, 'xhigh');
  assert.equal(request.temperature, 0);
  assert.deepEqual(request.stop, ['END']);
  assert.equal(request.seed, -5);
  assert.equal(request.n, 2);
  assert.deepEqual(request.metadata, { team: 'x' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.responseFormat, { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true });
  assert.equal(request.extra, undefined);
});

const user = { role: 'user', content: 'hi' };
const withTool = { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] };

const invalid: [string, Record<string, unknown>, string][] = [
  ['missing model', { messages: [user] }, 'model'],
  ['model not a string', { model: 5, messages: [user] }, 'model'],
  ['missing messages', { model: 'm' }, 'messages'],
  ['empty messages', { model: 'm', messages: [] }, 'messages'],
  ['unknown role', { model: 'm', messages: [user, { role: 'robot', content: 'x' }] }, 'messages[1].role'],
  ['legacy function role', { model: 'm', messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role'],
  ['image URL scheme', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'messages[0].content[1].image_url.url'],
  ['data URL not base64', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,abc' } }] }] }, 'messages[0].content[0].image_url.url'],
  ['data URL with bad base64', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,@@@' } }] }] }, 'messages[0].content[1].image_url.url'],
  ['data URL not an image', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:text/plain;base64,aGk=' } }] }] }, 'messages[0].content[0].image_url.url'],
  ['image detail', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'ultra' } }] }] }, 'messages[0].content[0].image_url.detail'],
  ['audio part', { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0].type'],
  ['tool message without id', { model: 'm', messages: [user, { role: 'tool', content: 'x' }] }, 'messages[1].tool_call_id'],
  ['tool call arguments as object', { model: 'm', messages: [user, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] }, 'messages[1].tool_calls[0].function.arguments'],
  ['system content part type', { model: 'm', messages: [{ role: 'system', content: [{ type: 'image_url' }] }] }, 'messages[0].content[0].type'],
  ['tool type', { model: 'm', messages: [user], tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
  ['tool name pattern', { model: 'm', messages: [user], tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0].function.name'],
  ['tool parameters', { model: 'm', messages: [user], tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools[0].function.parameters'],
  ['tool_choice string', { model: 'm', messages: [user], tool_choice: 'sometimes' }, 'tool_choice'],
  ['tool_choice undeclared', { model: 'm', messages: [user], ...withTool, tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice.function.name'],
  ['response_format type', { model: 'm', messages: [user], response_format: { type: 'xml' } }, 'response_format.type'],
  ['json_schema without schema', { model: 'm', messages: [user], response_format: { type: 'json_schema', json_schema: { name: 'n' } } }, 'response_format.json_schema.schema'],
  ['json_schema name', { model: 'm', messages: [user], response_format: { type: 'json_schema', json_schema: { name: 'a b', schema: {} } } }, 'response_format.json_schema.name'],
  ['max_tokens zero', { model: 'm', messages: [user], max_tokens: 0 }, 'max_tokens'],
  ['max_completion_tokens fraction', { model: 'm', messages: [user], max_completion_tokens: 1.5 }, 'max_completion_tokens'],
  ['reasoning_effort', { model: 'm', messages: [user], reasoning_effort: 'extreme' }, 'reasoning_effort'],
  ['temperature', { model: 'm', messages: [user], temperature: 2.5 }, 'temperature'],
  ['top_p', { model: 'm', messages: [user], top_p: -0.1 }, 'top_p'],
  ['n', { model: 'm', messages: [user], n: 0 }, 'n'],
  ['stop too many', { model: 'm', messages: [user], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  ['stop element', { model: 'm', messages: [user], stop: [1] }, 'stop[0]'],
  ['seed', { model: 'm', messages: [user], seed: 1.5 }, 'seed'],
  ['user', { model: 'm', messages: [user], user: 5 }, 'user'],
  ['metadata value', { model: 'm', messages: [user], metadata: { a: 1 } }, 'metadata.a'],
  ['stream', { model: 'm', messages: [user], stream: 'yes' }, 'stream'],
  ['include_usage', { model: 'm', messages: [user], stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
  ['parallel_tool_calls', { model: 'm', messages: [user], parallel_tool_calls: 'no' }, 'parallel_tool_calls'],
  ['legacy functions', { model: 'm', messages: [user], functions: [{ name: 'f' }] }, 'functions'],
];

/** What the gateway needs itself (or the provider would certainly refuse): refused on a relay route too. */
const REFUSED_ON_EVERY_ROUTE = new Set([
  'missing model', 'model not a string', 'missing messages', 'image URL scheme', 'data URL not base64', 'data URL with bad base64',
  'data URL not an image', 'max_tokens zero', 'max_completion_tokens fraction', 'stream',
]);

for (const [what, body, param] of invalid) {
  test(`400 naming the field on a translated route: ${what}`, () => {
    assert.throws(() => parsedForTranslation(parseChatRequest, body), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 400);
      assert.equal(err.param, param);
      assert.ok(err.message.includes(param), `message names ${param}: ${err.message}`);
      return true;
    });
  });
  test(`on a relay route: ${what} ${REFUSED_ON_EVERY_ROUTE.has(what) ? 'is refused too' : 'is left to the provider'}`, () => {
    if (REFUSED_ON_EVERY_ROUTE.has(what)) {
      assert.throws(() => parseChatRequest(body), (err: unknown) => err instanceof GatewayError && err.param === param);
      return;
    }
    const request = parseChatRequest(body);
    assert.equal(request.untranslatable?.[0].param, param);
  });
}

test('the legacy function role says to use role tool', () => {
  assert.throws(() => parsedForTranslation(parseChatRequest, { model: 'm', messages: [{ role: 'function', name: 'f', content: 'x' }] }), /role 'tool'/);
});

test('an untranslatable tool type is refused naming the type and the models that relay it', () => {
  const body = { model: 'm', messages: [user], tools: [withTool.tools[0], { type: 'custom', custom: { name: 'grammar' } }] };
  assert.throws(() => parsedForTranslation(parseChatRequest, body), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'unsupported_tool_type');
    assert.equal(err.param, 'tools[1].type');
    assert.match(err.message, /'custom' can only be relayed to .* such as gpt-5\.5, gpt-5\.4; 'claude-sonnet-4-5' is served by anthropic through translation/);
    return true;
  });
  const relayed = parseChatRequest(body);
  assert.equal(relayed.tools?.length, 1, 'the function tool is still read (capability checks, counting)');
  assert.deepEqual(relayed.untranslatable?.[0].json, body.tools[1], 'the custom tool is kept as it came, for counting');
});

test('a body that is not an object is a 400', () => {
  for (const body of [null, 'text', [1]]) {
    assert.throws(() => parseChatRequest(body), (err: unknown) => err instanceof GatewayError && err.status === 400);
  }
});
