import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalRequest, Message } from '../../canonical/types.ts';
import { fixtureIndex, fixtureJson, makeTarget } from './test-support.ts';
import { anthropicOutputBudget, fromAnthropicResponse, jsonToolName, toAnthropicRequest } from './translate.ts';

const STOP_REASONS: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' };

function request(messages: Message[], extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'claude-sonnet-4-5', messages, stream: false, ...extra };
}

/** A recorded request body without the fields that say nothing about translation. */
function recordedBody(name: string, drop: string[] = []): Record<string, unknown> {
  const body = fixtureJson(name);
  if (body.stream === false) delete body.stream;
  for (const key of drop) delete body[key];
  return body;
}

/** Target whose catalog reasoning map sends `budget` for the 'medium' level. */
function targetWithBudget(upstreamModel: string, budget: number) {
  const target = makeTarget('anthropic', 'claude-sonnet-4-5', { upstreamModel });
  target.model = { ...target.model, reasoning: { levels: ['none', 'medium'], map: { none: 0, medium: budget } } };
  return target;
}

describe('fromAnthropicResponse on every recorded response', () => {
  for (const { file } of fixtureIndex('anthropic', ['response'])) {
    it(`${file}: text, thinking, tool calls, stop reason and usage survive`, () => {
      const raw = fixtureJson(file);
      const response = fromAnthropicResponse(raw);
      const blocks = raw.content as Array<Record<string, any>>;
      assert.deepEqual(
        response.content.map((part) => part.type),
        blocks.map((block) => ({ text: 'text', thinking: 'reasoning', redacted_thinking: 'reasoning', tool_use: 'tool_call' })[block.type as string]),
      );
      blocks.forEach((block, i) => {
        const part = response.content[i];
        if (block.type === 'text') assert.deepEqual(part, { type: 'text', text: block.text });
        if (block.type === 'thinking') assert.deepEqual(part, { type: 'reasoning', text: block.thinking, signature: block.signature });
        if (block.type === 'tool_use') {
          assert.ok(part.type === 'tool_call');
          assert.equal(part.id, block.id);
          assert.equal(part.name, block.name);
          assert.deepEqual(JSON.parse(part.arguments), block.input);
        }
      });
      assert.equal(response.finishReason, STOP_REASONS[raw.stop_reason]);
      assert.equal(response.providerFinishReason, raw.stop_reason);
      assert.equal(response.id, raw.id);
      assert.equal(response.model, raw.model);
      const u = raw.usage;
      assert.deepEqual(response.usage, {
        inputTokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
        cachedInputTokens: u.cache_read_input_tokens,
        cacheWriteTokens: u.cache_creation_input_tokens,
        outputTokens: u.output_tokens,
        reasoningTokens: 0,
      });
    });
  }

  it('sums cached reads and cache writes into input tokens (messages-cache-read)', () => {
    const { usage } = fromAnthropicResponse(fixtureJson('anthropic/messages-cache-read.response.json'));
    assert.deepEqual(usage, { inputTokens: 3 + 1111 + 418, cachedInputTokens: 1111, cacheWriteTokens: 418, outputTokens: 33, reasoningTokens: 0 });
  });

  it('keeps four parallel tool calls in order with their arguments', () => {
    const response = fromAnthropicResponse(fixtureJson('anthropic/messages-parallel-tool-use.response.json'));
    const calls = response.content.filter((part) => part.type === 'tool_call');
    assert.deepEqual(calls.map((call) => JSON.parse(call.arguments).name), ['Alice', 'Bob', 'Charlie', 'Daisy']);
    assert.equal(response.finishReason, 'tool_calls');
  });

  it('turns a call of the JSON-answer tool into text and a normal stop', () => {
    const raw = fixtureJson('anthropic/messages-tool-use-json.json');
    const response = fromAnthropicResponse(raw, { jsonToolName: 'json' });
    assert.equal(response.content.length, 1);
    assert.ok(response.content[0].type === 'text');
    assert.deepEqual(JSON.parse(response.content[0].text), raw.content[0].input);
    assert.equal(response.finishReason, 'stop');
  });

  it('keeps redacted thinking as opaque data and maps refusal to content_filter', () => {
    const response = fromAnthropicResponse({ id: 'm', model: 'c', content: [{ type: 'redacted_thinking', data: 'EqkE' }, { type: 'text', text: 'no' }], stop_reason: 'refusal', usage: { input_tokens: 1, output_tokens: 1 } });
    assert.deepEqual(response.content[0], { type: 'reasoning', text: '', redacted: 'EqkE' });
    assert.equal(response.finishReason, 'content_filter');
  });
});

describe('toAnthropicRequest against recorded requests', () => {
  it('thinking request: budget from the reasoning map, max_tokens kept (messages-thinking)', () => {
    const recorded = recordedBody('anthropic/messages-thinking.request.json');
    const body = toAnthropicRequest(
      request([{ role: 'user', content: [{ type: 'text', text: 'How do I cross the street?' }] }], { maxOutputTokens: 4096, reasoningEffort: 'minimal' }),
      makeTarget('anthropic', 'claude-sonnet-4-5'),
    );
    assert.deepEqual(body, recorded);
  });

  it('streamed thinking request sets stream: true (messages-stream-thinking)', () => {
    const recorded = recordedBody('anthropic/messages-stream-thinking.request.json');
    const body = toAnthropicRequest(
      request([{ role: 'user', content: [{ type: 'text', text: 'How do I cross the street?' }] }], { maxOutputTokens: 4096, reasoningEffort: 'minimal', stream: true }),
      makeTarget('anthropic', 'claude-sonnet-4-5', { upstreamModel: 'claude-sonnet-4-0' }),
    );
    assert.deepEqual(body, recorded);
  });

  const countryTool = { name: 'get_user_country', description: '', parameters: { additionalProperties: false, properties: {}, type: 'object' } };

  it('tools with thinking (messages-thinking-tool-use)', () => {
    const recorded = recordedBody('anthropic/messages-thinking-tool-use.request.json');
    const body = toAnthropicRequest(
      request([{ role: 'user', content: [{ type: 'text', text: 'What is the largest city in the user country?' }] }], {
        maxOutputTokens: 4096, reasoningEffort: 'medium', tools: [countryTool], toolChoice: 'auto',
      }),
      targetWithBudget('claude-sonnet-4-0', 3000),
    );
    assert.deepEqual(body, recorded);
  });

  it('replays signed thinking, text and tool_use, then the tool result (messages-thinking-tool-result)', () => {
    const recorded = recordedBody('anthropic/messages-thinking-tool-result.request.json');
    const turn = recorded.messages as any[];
    const [thinking, text, toolUse] = turn[1].content;
    const body = toAnthropicRequest(
      request([
        { role: 'user', content: [{ type: 'text', text: turn[0].content[0].text }] },
        { role: 'assistant', content: [
          { type: 'reasoning', text: thinking.thinking, signature: thinking.signature },
          { type: 'text', text: text.text },
          { type: 'tool_call', id: toolUse.id, name: toolUse.name, arguments: '{}' },
        ] },
        { role: 'tool', toolCallId: toolUse.id, content: 'Mexico', isError: false },
      ], { maxOutputTokens: 4096, reasoningEffort: 'medium', tools: [countryTool], toolChoice: 'auto' }),
      targetWithBudget('claude-sonnet-4-0', 3000),
    );
    assert.deepEqual(body, recorded);
  });

  it('system prompt, parallel tool calls and their results merged into one user turn (messages-parallel-tool-result)', () => {
    const recorded = recordedBody('anthropic/messages-parallel-tool-result.request.json');
    const turn = recorded.messages as any[];
    const calls = turn[1].content.slice(1) as Array<{ id: string; name: string; input: unknown }>;
    const results = turn[2].content as Array<{ content: string }>;
    const tool = (recorded.tools as any[])[0];
    const body = toAnthropicRequest(
      request([
        { role: 'system', content: recorded.system as string },
        { role: 'user', content: [{ type: 'text', text: turn[0].content[0].text }] },
        { role: 'assistant', content: [
          { type: 'text', text: turn[1].content[0].text },
          ...calls.map((call) => ({ type: 'tool_call' as const, id: call.id, name: call.name, arguments: JSON.stringify(call.input) })),
        ] },
        ...calls.map((call, i): Message => ({ role: 'tool', toolCallId: call.id, content: results[i].content, isError: false })),
      ], {
        maxOutputTokens: 4096, toolChoice: 'auto',
        tools: [{ name: tool.name, description: tool.description, parameters: tool.input_schema }],
      }),
      makeTarget('anthropic', 'claude-haiku-4-5'),
    );
    assert.deepEqual(body, recorded);
  });

  it('image by URL becomes a url source (messages-image-url)', () => {
    const recorded = recordedBody('anthropic/messages-image-url.request.json');
    const image = (recorded.messages as any[])[0].content[1].source;
    const body = toAnthropicRequest(
      request([{ role: 'user', content: [{ type: 'text', text: 'What is this vegetable?' }, { type: 'image', url: image.url }] }], { maxOutputTokens: 4096 }),
      makeTarget('anthropic', 'claude-haiku-4-5'),
    );
    assert.deepEqual(body, recorded);
  });

  it('base64 image becomes a base64 source, also when given as a data: URL (messages-image-base64)', () => {
    const recorded = recordedBody('anthropic/messages-image-base64.request.json');
    const image = (recorded.messages as any[])[0].content[1].source;
    for (const part of [{ data: image.data, mediaType: image.media_type }, { url: `data:${image.media_type};base64,${image.data}` }]) {
      const body = toAnthropicRequest(
        request([{ role: 'user', content: [{ type: 'text', text: 'What is this vegetable?' }, { type: 'image', ...part }] }], { maxOutputTokens: 4096 }),
        makeTarget('anthropic', 'claude-haiku-4-5'),
      );
      assert.deepEqual(body, recorded);
    }
  });

  it('multi-turn with a system prompt (messages-cache-read, cache_control aside)', () => {
    const recorded = recordedBody('anthropic/messages-cache-read.request.json', ['cache_control']);
    const turns = recorded.messages as any[];
    const body = toAnthropicRequest(
      request([
        { role: 'system', content: recorded.system as string },
        { role: 'user', content: [{ type: 'text', text: turns[0].content[0].text }] },
        { role: 'assistant', content: [{ type: 'text', text: turns[1].content[0].text }] },
        { role: 'user', content: [{ type: 'text', text: turns[2].content[0].text }] },
      ], { maxOutputTokens: 4096 }),
      makeTarget('anthropic', 'claude-sonnet-4-5'),
    );
    assert.deepEqual(body, recorded);
  });
});

describe('toAnthropicRequest rules', () => {
  const hello: Message[] = [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }];

  it("uses the catalog's max output when the caller sets none, and caps (with a warning) a larger request", () => {
    const target = makeTarget('anthropic', 'claude-opus-4-1');
    assert.equal(toAnthropicRequest(request(hello), target).max_tokens, target.model.maxOutputTokens);
    const warnings: string[] = [];
    assert.equal(toAnthropicRequest(request(hello, { maxOutputTokens: 100_000 }), target, warnings).max_tokens, target.model.maxOutputTokens);
    assert.match(warnings.join(), /100000/);
  });

  it('thinks within the output cap: the budget shrinks to half of it, with a warning; temperature is dropped', () => {
    const warnings: string[] = [];
    const body = toAnthropicRequest(request(hello, { maxOutputTokens: 4096, reasoningEffort: 'medium', temperature: 0.2 }), makeTarget('anthropic', 'claude-sonnet-4-5'), warnings);
    assert.equal(body.max_tokens, 4096, 'never more than the cap the call was reserved for');
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.equal(body.temperature, undefined);
    assert.match(warnings.join('\n'), /thinks with 2048 tokens instead of 8192/);
    assert.match(warnings.join('\n'), /temperature/);
  });

  it('a cap too small for the minimum thinking budget sends no thinking, and says so', () => {
    const warnings: string[] = [];
    const body = toAnthropicRequest(request(hello, { maxOutputTokens: 1000, reasoningEffort: 'medium' }), makeTarget('anthropic', 'claude-sonnet-4-5'), warnings);
    assert.equal(body.max_tokens, 1000);
    assert.equal(body.thinking, undefined);
    assert.match(warnings.join('\n'), /without thinking.*at least 2048/);
  });

  it('a budget that fits under the cap is sent as mapped, without a warning', () => {
    const warnings: string[] = [];
    const body = toAnthropicRequest(request(hello, { maxOutputTokens: 20_000, reasoningEffort: 'medium' }), makeTarget('anthropic', 'claude-sonnet-4-5'), warnings);
    assert.equal(body.max_tokens, 20_000);
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 8192 });
    assert.deepEqual(warnings, []);
  });

  it('for every effort and cap, max_tokens stays within the cap and the budget below it', () => {
    const target = makeTarget('anthropic', 'claude-opus-4-1');
    for (const effort of ['low', 'medium', 'high', 'xhigh'] as const) {
      for (const cap of [1, 1024, 2047, 2048, 4096, 9000, 32_000, 100_000]) {
        const { maxTokens, thinkingBudget } = anthropicOutputBudget(request(hello, { maxOutputTokens: cap, reasoningEffort: effort }), target);
        assert.ok(maxTokens <= Math.min(cap, target.model.maxOutputTokens), `${effort}/${cap}: max_tokens ${maxTokens}`);
        assert.ok(thinkingBudget === 0 || (thinkingBudget >= 1024 && thinkingBudget < maxTokens), `${effort}/${cap}: budget ${thinkingBudget}`);
      }
    }
  });

  it("effort 'none' sends no thinking block", () => {
    assert.equal(toAnthropicRequest(request(hello, { reasoningEffort: 'none' }), makeTarget('anthropic', 'claude-sonnet-4-5')).thinking, undefined);
  });

  it('reports every field Anthropic cannot take instead of dropping it silently', () => {
    const warnings: string[] = [];
    const body = toAnthropicRequest(
      request(hello, { n: 2, seed: 7, metadata: { team: 'a' }, extra: { logit_bias: {}, service_tier: 'flex' }, user: 'u-1', stop: ['END'], temperature: 0.5 }),
      makeTarget('anthropic', 'claude-sonnet-4-5'),
      warnings,
    );
    for (const field of ['n=2', 'seed', 'metadata', 'logit_bias', 'service_tier']) assert.ok(warnings.some((w) => w.includes(field)), `no warning for ${field}`);
    assert.deepEqual(body.metadata, { user_id: 'u-1' });
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.equal(body.temperature, 0.5);
  });

  it('maps tool_choice and parallel_tool_calls: false', () => {
    const tools = [{ name: 'f', parameters: { type: 'object', properties: {} } }];
    const target = makeTarget('anthropic', 'claude-sonnet-4-5');
    assert.deepEqual(toAnthropicRequest(request(hello, { tools, toolChoice: 'required' }), target).tool_choice, { type: 'any' });
    assert.deepEqual(toAnthropicRequest(request(hello, { tools, toolChoice: 'none' }), target).tool_choice, { type: 'none' });
    assert.deepEqual(toAnthropicRequest(request(hello, { tools, toolChoice: { name: 'f' } }), target).tool_choice, { type: 'tool', name: 'f' });
    assert.deepEqual(toAnthropicRequest(request(hello, { tools, toolChoice: 'auto', parallelToolCalls: false }), target).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(toAnthropicRequest(request(hello, { tools, parallelToolCalls: false }), target).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  });

  it('asks for JSON output through a forced tool carrying the schema', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const req = request(hello, { responseFormat: { type: 'json_schema', name: 'answer', schema } });
    const body = toAnthropicRequest(req, makeTarget('anthropic', 'claude-sonnet-4-5'));
    const name = jsonToolName(req)!;
    assert.deepEqual(body.tools?.map((tool) => [tool.name, tool.input_schema]), [[name, schema]]);
    assert.deepEqual(body.tool_choice, { type: 'tool', name });
  });

  it('merges consecutive tool results and a following user message into one user turn', () => {
    const body = toAnthropicRequest(request([
      ...hello,
      { role: 'assistant', content: [{ type: 'tool_call', id: 'a', name: 'f', arguments: '{}' }, { type: 'tool_call', id: 'b', name: 'f', arguments: '{"x":1}' }] },
      { role: 'tool', toolCallId: 'a', content: '1' },
      { role: 'tool', toolCallId: 'b', content: 'boom', isError: true },
      { role: 'user', content: [{ type: 'text', text: 'and?' }] },
    ]), makeTarget('anthropic', 'claude-sonnet-4-5'));
    assert.deepEqual(body.messages.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.deepEqual(body.messages[2].content, [
      { type: 'tool_result', tool_use_id: 'a', content: '1' },
      { type: 'tool_result', tool_use_id: 'b', content: 'boom', is_error: true },
      { type: 'text', text: 'and?' },
    ]);
    assert.deepEqual(body.messages[1].content[1], { type: 'tool_use', id: 'b', name: 'f', input: { x: 1 } });
  });

  it('sends back only reasoning Anthropic signed; redacted thinking goes back as redacted_thinking', () => {
    const body = toAnthropicRequest(request([
      ...hello,
      { role: 'assistant', content: [
        { type: 'reasoning', text: 'from gemini', signature: 'gemini:CiIBVKhc' },
        { type: 'reasoning', text: 'unsigned summary' },
        { type: 'reasoning', text: '', redacted: 'EqkECkYIBxgC' },
        { type: 'reasoning', text: 'mine', signature: 'EqoBCkYIBxgC' },
        { type: 'text', text: 'answer' },
      ] },
    ]), makeTarget('anthropic', 'claude-sonnet-4-5'));
    assert.deepEqual(body.messages[1].content, [
      { type: 'redacted_thinking', data: 'EqkECkYIBxgC' },
      { type: 'thinking', thinking: 'mine', signature: 'EqoBCkYIBxgC' },
      { type: 'text', text: 'answer' },
    ]);
  });

  it('refuses tool-call arguments that are not a JSON object, naming the message', () => {
    assert.throws(
      () => toAnthropicRequest(request([...hello, { role: 'assistant', content: [{ type: 'tool_call', id: 'a', name: 'f', arguments: '{"x":' }] }]), makeTarget('anthropic', 'claude-sonnet-4-5')),
      (err: any) => err.status === 400 && /messages\[1\]/.test(err.message),
    );
  });
});
