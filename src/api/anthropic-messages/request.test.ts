import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../canonical/errors.ts';
import type { Message } from '../../canonical/types.ts';
import { effortForThinkingBudget, parseMessagesRequest } from './request.ts';
import { parsedForTranslation } from '../test-support.ts';
import { fixtureNames, readFixtureJson, type Json } from './testing.ts';

const requestFixtures = fixtureNames('.request.json');

test('every recorded request parses, keeping model, max_tokens, stream and every message', () => {
  assert.ok(requestFixtures.length >= 9);
  for (const name of requestFixtures) {
    const body = readFixtureJson(name);
    const request = parseMessagesRequest(body);
    assert.equal(request.model, body.model, name);
    assert.equal(request.maxOutputTokens, body.max_tokens, name);
    assert.equal(request.stream, body.stream, name);
    const turns = request.messages.filter((m) => m.role !== 'system' && m.role !== 'tool').length;
    const toolOnlyTurns = body.messages.filter((m: Json) => Array.isArray(m.content) && m.content.every((b: Json) => b.type === 'tool_result')).length;
    assert.equal(turns, body.messages.length - toolOnlyTurns, `${name}: one canonical turn per recorded turn`);
    assert.equal(request.extra, undefined, `${name}: nothing unrecognised`);
  }
});

test('system string and tools survive (parallel tool use request)', () => {
  const body = readFixtureJson('messages-parallel-tool-use.request.json');
  const request = parseMessagesRequest(body);
  assert.deepEqual(request.messages[0], { role: 'system', content: body.system });
  assert.deepEqual(request.tools, [{ name: 'retrieve_entity_info', description: body.tools[0].description, parameters: body.tools[0].input_schema }]);
  assert.equal(request.toolChoice, 'auto');
});

test('parallel tool results become tool messages with their tool_use ids, after the assistant tool calls', () => {
  const body = readFixtureJson('messages-parallel-tool-result.request.json');
  const request = parseMessagesRequest(body);
  const assistant = request.messages.find((m) => m.role === 'assistant')!;
  assert.equal(assistant.role, 'assistant');
  const calls = assistant.content.filter((p) => p.type === 'tool_call');
  assert.deepEqual(calls.map((c) => c.type === 'tool_call' && JSON.parse(c.arguments)), body.messages[1].content.slice(1).map((b: Json) => b.input));
  const tools = request.messages.filter((m) => m.role === 'tool');
  assert.deepEqual(tools, body.messages[2].content.map((b: Json) => ({ role: 'tool', toolCallId: b.tool_use_id, content: b.content })));
  assert.equal(request.messages.at(-1)!.role, 'tool', 'a turn of tool results only adds no empty user message');
});

test('thinking block with signature is replayed as reasoning, and budget 3000 maps to low', () => {
  const body = readFixtureJson('messages-thinking-tool-result.request.json');
  const request = parseMessagesRequest(body);
  const assistant = request.messages[1];
  assert.equal(assistant.role, 'assistant');
  const recorded = body.messages[1].content[0];
  assert.deepEqual(assistant.content[0], { type: 'reasoning', text: recorded.thinking, signature: recorded.signature });
  assert.deepEqual(assistant.content[2], { type: 'tool_call', id: 'toolu_01YGzqpRE16Vricda3Aqcejo', name: 'get_user_country', arguments: '{}' });
  assert.deepEqual(request.messages[2], { role: 'tool', toolCallId: 'toolu_01YGzqpRE16Vricda3Aqcejo', content: 'Mexico' });
  assert.equal(request.reasoningEffort, 'low');
  assert.equal(parseMessagesRequest(readFixtureJson('messages-thinking.request.json')).reasoningEffort, 'minimal');
});

test('images survive: base64 bytes with media type, and URL', () => {
  const base64Body = readFixtureJson('messages-image-base64.request.json');
  const base64 = parseMessagesRequest(base64Body).messages[0];
  assert.equal(base64.role, 'user');
  assert.deepEqual(base64.content[1], { type: 'image', data: base64Body.messages[0].content[1].source.data, mediaType: 'image/jpeg' });
  const urlBody = readFixtureJson('messages-image-url.request.json');
  const url = parseMessagesRequest(urlBody).messages[0];
  assert.equal(url.role, 'user');
  assert.deepEqual(url.content[1], { type: 'image', url: urlBody.messages[0].content[1].source.url });
});

test('top-level cache_control is a hint and is not forwarded', () => {
  const request = parseMessagesRequest(readFixtureJson('messages-cache-read.request.json'));
  assert.equal(request.extra, undefined);
  assert.deepEqual(request.messages[0], { role: 'system', content: 'You are a helpful assistant.' });
});

const base = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

test('a user turn mixing tool results, text and a tool image: tool messages first, then one user message, order kept', () => {
  const request = parseMessagesRequest({
    ...base,
    messages: [
      { role: 'user', content: 'look' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }, { type: 'tool_use', id: 't2', name: 'ls', input: { dir: '/' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'screenshot' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
          { type: 'text', text: 'and then' },
          { type: 'tool_result', tool_use_id: 't2', content: 'boom', is_error: true },
          { type: 'text', text: 'thanks' },
        ],
      },
    ],
  });
  const tail: Message[] = request.messages.slice(2);
  assert.deepEqual(tail, [
    { role: 'tool', toolCallId: 't1', content: 'screenshot\n(The tool returned 1 image; it follows in the next user message.)' },
    { role: 'tool', toolCallId: 't2', content: 'boom', isError: true },
    {
      role: 'user',
      content: [
        { type: 'image', data: 'AAAA', mediaType: 'image/png' },
        { type: 'text', text: 'and then' },
        { type: 'text', text: 'thanks' },
      ],
    },
  ]);
});

test('system as text blocks, tool_choice, stop sequences, sampling, metadata and unknown fields', () => {
  const request = parseMessagesRequest({
    ...base,
    system: [{ type: 'text', text: 'You are Claude Code.' }, { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    tools: [{ name: 'f', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
    tool_choice: { type: 'tool', name: 'f', disable_parallel_tool_use: true },
    stop_sequences: ['END'],
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    metadata: { user_id: 'u-1' },
    stream: true,
    service_tier: 'auto',
  });
  assert.deepEqual(request.messages[0], { role: 'system', content: 'You are Claude Code.\n\nBe brief.' });
  assert.deepEqual(request.tools, [{ name: 'f', parameters: { type: 'object' } }]);
  assert.deepEqual(request.toolChoice, { name: 'f' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.stop, ['END']);
  assert.equal(request.temperature, 0.2);
  assert.equal(request.topP, 0.9);
  assert.equal(request.user, 'u-1');
  assert.equal(request.stream, true);
  assert.deepEqual(request.extra, { service_tier: 'auto', top_k: 40 });
  assert.equal(parseMessagesRequest({ ...base, tool_choice: { type: 'any' } }).toolChoice, 'required');
  assert.equal(parseMessagesRequest({ ...base, tool_choice: { type: 'none' } }).toolChoice, 'none');
});

test('thinking budgets map to the nearest level; disabled is none; output_config.effort wins', () => {
  const levels = [[1024, 'minimal'], [1025, 'low'], [4096, 'low'], [8000, 'medium'], [12288, 'medium'], [20000, 'high'], [28000, 'high'], [28001, 'xhigh'], [64000, 'xhigh']];
  for (const [budget, level] of levels) {
    assert.equal(effortForThinkingBudget(budget as number), level);
    assert.equal(parseMessagesRequest({ ...base, thinking: { type: 'enabled', budget_tokens: budget } }).reasoningEffort, level);
  }
  assert.equal(parseMessagesRequest({ ...base, thinking: { type: 'disabled' } }).reasoningEffort, 'none');
  assert.equal(parseMessagesRequest({ ...base, thinking: { type: 'adaptive' } }).reasoningEffort, undefined);
  assert.equal(parseMessagesRequest({ ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }).reasoningEffort, 'xhigh');
  assert.equal(parseMessagesRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 2000 }, output_config: { effort: 'high' } }).reasoningEffort, 'high');
});

test('structured output: output_config.format and output_format become a strict json_schema', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  const want = { type: 'json_schema', name: 'output', schema, strict: true };
  assert.deepEqual(parseMessagesRequest({ ...base, output_config: { format: { type: 'json_schema', schema } } }).responseFormat, want);
  assert.deepEqual(parseMessagesRequest({ ...base, output_format: { type: 'json_schema', schema } }).responseFormat, want);
});

test('redacted thinking in an assistant turn is kept as opaque reasoning', () => {
  const request = parseMessagesRequest({
    ...base,
    messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'EqkEC==' }, { type: 'text', text: 'a' }] }, { role: 'user', content: 'more' }],
  });
  assert.deepEqual(request.messages[1], { role: 'assistant', content: [{ type: 'reasoning', text: '', redacted: 'EqkEC==' }, { type: 'text', text: 'a' }] });
});

/** Refused on a translated route; on a relay route refused too, or noted for the provider to judge. */
function assert400(body: unknown, param: string, messagePart?: RegExp): void {
  let relayed: ReturnType<typeof parseMessagesRequest> | undefined;
  try {
    relayed = parseMessagesRequest(body);
  } catch (error) {
    assert.ok(error instanceof GatewayError && error.param === param, `refused on every route naming ${param}`);
  }
  if (relayed) assert.equal(relayed.untranslatable?.[0].param, param, 'noted for a relay to pass on');
  assert.throws(() => parsedForTranslation(parseMessagesRequest, body), (error: unknown) => {
    assert.ok(error instanceof GatewayError, 'a GatewayError');
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    assert.ok(error.message.includes(param), `message names ${param}: ${error.message}`);
    if (messagePart) assert.match(error.message, messagePart);
    assert.equal(error.toAnthropic().error.type, 'invalid_request_error');
    return true;
  });
}

const withUser = (content: unknown) => ({ ...base, messages: [{ role: 'user', content }] });
const withAssistant = (content: unknown) => ({ ...base, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content }] });

test('bad requests give 400s naming the field and what is expected', () => {
  assert400('nope', 'body');
  assert400({ messages: base.messages, max_tokens: 10 }, 'model');
  assert400({ model: 'm', messages: base.messages }, 'max_tokens', /positive integer/);
  assert400({ ...base, max_tokens: 0 }, 'max_tokens', /positive integer/);
  assert400({ ...base, max_tokens: 1.5 }, 'max_tokens');
  assert400({ model: 'm', max_tokens: 5 }, 'messages');
  assert400({ ...base, messages: [] }, 'messages');
  assert400({ ...base, messages: [{ role: 5, content: 'x' }] }, 'messages[0].role', /"user", "assistant" or "system"/);
  assert400({ ...base, messages: [{ role: 'user', content: 'a' }, { role: 'tool', content: 'x' }] }, 'messages[1].role');
  assert400(withUser(42), 'messages[0].content');
  assert400(withUser([{ text: 'no type' }]), 'messages[0].content[0]');
  assert400(withUser([{ type: 'text' }]), 'messages[0].content[0].text');
  assert400(withUser([{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA' } }]), 'messages[0].content[0].source.media_type', /image\/png/);
  assert400(withUser([{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }]), 'messages[0].content[0].source.data');
  assert400(withUser([{ type: 'text', text: 'a' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: '@@@' } }]), 'messages[0].content[1].source.data', /base64/);
  assert400(withUser([{ type: 'image', source: { type: 'url', url: 'file:///etc/passwd' } }]), 'messages[0].content[0].source.url', /http/);
  assert400(withUser([{ type: 'image', source: { type: 'file', file_id: 'f' } }]), 'messages[0].content[0].source.type', /not supported/);
  assert400(withUser([{ type: 'image' }]), 'messages[0].content[0].source');
  assert400(withUser([{ type: 'tool_result', content: 'x' }]), 'messages[0].content[0].tool_use_id', /tool_use/);
  assert400(withUser([{ type: 'tool_result', tool_use_id: 't', is_error: 'yes' }]), 'messages[0].content[0].is_error');
  assert400(withUser([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document' }] }]), 'messages[0].content[0].content[0].type');
  assert400(withUser([{ type: 'tool_use', id: 't', name: 'f', input: {} }]), 'messages[0].content[0].type', /assistant/);
  assert400(withUser([{ type: 'document', source: {} }]), 'messages[0].content[0].type', /not supported/);
  assert400(withAssistant([{ type: 'tool_use', name: 'f', input: {} }]), 'messages[1].content[0].id');
  assert400(withAssistant([{ type: 'tool_use', id: 't', name: 'f', input: 'x' }]), 'messages[1].content[0].input');
  assert400(withAssistant([{ type: 'thinking', signature: 's' }]), 'messages[1].content[0].thinking');
  assert400(withAssistant([{ type: 'redacted_thinking' }]), 'messages[1].content[0].data');
  assert400(withAssistant([{ type: 'tool_result', tool_use_id: 't' }]), 'messages[1].content[0].type', /user/);
  assert400({ ...base, system: [{ type: 'image' }] }, 'system[0].type');
  assert400({ ...base, system: 5 }, 'system');
  assert400({ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type', /Server tools/);
  assert400({ ...base, tools: [{ name: 'f' }] }, 'tools[0].input_schema');
  assert400({ ...base, tools: [{ input_schema: {} }] }, 'tools[0].name');
  assert400({ ...base, tool_choice: { type: 'sometimes' } }, 'tool_choice.type');
  assert400({ ...base, tool_choice: { type: 'tool' } }, 'tool_choice.name');
  assert400({ ...base, tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'tool', name: 'g' } }, 'tool_choice.name');
  assert400({ ...base, temperature: 1.5 }, 'temperature', /0 to 1/);
  assert400({ ...base, top_p: -1 }, 'top_p');
  assert400({ ...base, top_k: -1 }, 'top_k');
  assert400({ ...base, stop_sequences: 'END' }, 'stop_sequences');
  assert400({ ...base, stop_sequences: [''] }, 'stop_sequences[0]');
  assert400({ ...base, metadata: { user_id: 7 } }, 'metadata.user_id');
  assert400({ ...base, stream: 'yes' }, 'stream');
  assert400({ ...base, thinking: { type: 'enabled' } }, 'thinking.budget_tokens');
  assert400({ ...base, thinking: { type: 'on' } }, 'thinking.type');
  assert400({ ...base, output_config: { effort: 'extreme' } }, 'output_config.effort');
  assert400({ ...base, output_format: { type: 'json_schema' } }, 'output_format.schema');
  assert400({ ...base, output_config: { format: { type: 'xml' } } }, 'output_config.format.type');
});

test('a system message inside messages becomes a system message at that position', () => {
  const request = parseMessagesRequest({
    ...base,
    system: 'top',
    messages: [
      { role: 'user', content: 'q1' },
      { role: 'system', content: [{ type: 'text', text: 'mid' }, { type: 'text', text: 'conversation' }] },
      { role: 'assistant', content: 'a1' },
      { role: 'system', content: 'again' },
      { role: 'user', content: 'q2' },
    ],
  });
  assert.deepEqual(request.messages.map((m) => m.role), ['system', 'user', 'system', 'assistant', 'system', 'user']);
  assert.deepEqual(request.messages[2], { role: 'system', content: 'mid\n\nconversation' });
  assert.deepEqual(request.messages[4], { role: 'system', content: 'again' });
  assert.equal(request.untranslatable, undefined, 'nothing a translation cannot carry');
});

test('server tools and unknown blocks are noted for a relay to Claude, kept as they came for counting', () => {
  const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
  const documentBlock = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } };
  const request = parseMessagesRequest({ ...base, tools: [webSearch], messages: [{ role: 'user', content: [documentBlock, { type: 'text', text: 'q' }] }], temperature: 'hot' });
  assert.deepEqual(request.untranslatable?.map((n) => [n.param, n.code]), [
    ['messages[0].content[0].type', 'unsupported_content_type'],
    ['tools[0].type', 'unsupported_tool_type'],
    ['temperature', 'invalid_value'],
  ]);
  assert.deepEqual(request.untranslatable?.[0].json, documentBlock);
  assert.deepEqual(request.untranslatable?.[1].json, webSearch);
  assert.deepEqual(request.messages, [{ role: 'user', content: [{ type: 'text', text: 'q' }] }]);
});
