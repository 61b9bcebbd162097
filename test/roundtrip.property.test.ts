// Property tests of the translators (pure functions, no network): random OpenAI chat
// requests, canonical responses and canonical streams go through another wire format
// and back, and every field a user relies on must come out as it went in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChatStreamDecoder, ChatStreamEncoder, fromChatResponse, parseChatRequest, toChatCompletion, toChatRequest } from '../src/api/openai-chat/index.ts';
import { MessagesStreamEncoder, parseMessagesRequest, toMessagesResponse } from '../src/api/anthropic-messages/index.ts';
import { AnthropicStreamDecoder, fromAnthropicResponse, toAnthropicRequest } from '../src/providers/anthropic/index.ts';
import { fromGeminiResponse, signatureOfToolCallId, toGeminiRequest } from '../src/providers/gemini/index.ts';
import { SseParser } from '../src/canonical/sse.ts';
import type { SseEvent } from '../src/canonical/sse.ts';
import { REASONING_EFFORTS } from '../src/canonical/types.ts';
import type { AssistantContent, CanonicalResponse, FinishReason, Message, StreamEvent, ToolDefinition, Usage } from '../src/canonical/types.ts';
import { foldStream, makeTarget } from '../src/providers/anthropic/test-support.ts';

const RUNS = { numRuns: 150 };
const CLAUDE = makeTarget('anthropic', 'claude-sonnet-4-5');
const GEMINI = makeTarget('gemini', 'gemini-2.5-flash');
const MODEL = 'any-model';

type Json = Record<string, any>;
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const none = { nil: undefined } as const;

// ---- arbitraries ----

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', '"quoted"', 'back\\slash', 'data: [DONE]\n\n', 'a\r\nb', 'event: ping') },
);
const someText = text.filter((t) => t.length > 0);
const visibleText = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }).filter((t) => t.trim().length > 0);
const toolName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,15}$/);
const idBody = fc.stringMatching(/^[A-Za-z0-9]{3,10}$/);
const idPrefix = fc.constantFrom('call_', 'toolu_', 'fc-');
const jsonObject = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const argsText = fc.oneof(jsonObject.map((o) => JSON.stringify(o)), jsonObject.map((o) => JSON.stringify(o, null, 2)), fc.constant(''));
const signature = fc.oneof(fc.base64String({ minLength: 4, maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }));
const imageUrl = fc.oneof(
  fc.tuple(fc.constantFrom('image/png', 'image/jpeg', 'image/gif', 'image/webp'), fc.base64String({ minLength: 4, maxLength: 32 }))
    .map(([mediaType, data]) => `data:${mediaType};base64,${data}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.constantFrom('.png', '.jpg', '.jpeg', '.webp', '.gif', ''))
    .map(([path, ext]) => `https://img.example.com/${path}${ext}`),
);
const imagePart = fc.tuple(imageUrl, fc.option(fc.constantFrom('low', 'high', 'auto'), none))
  .map(([url, detail]) => ({ type: 'image_url', image_url: detail ? { url, detail } : { url } }));
const userContent = fc.oneof(text, fc.array(fc.oneof(text.map((t) => ({ type: 'text', text: t })), imagePart), { minLength: 1, maxLength: 4 }));
const toolCall = fc.record({ prefix: idPrefix, id: idBody, name: toolName, args: argsText, result: fc.oneof(text, jsonObject.map((o) => JSON.stringify(o))) });
const step = fc.oneof(
  fc.record({ user: userContent, name: fc.option(toolName, none) }),
  fc.record({ assistant: fc.option(text, none), calls: fc.array(toolCall, { maxLength: 3 }), name: fc.option(toolName, none) }),
);
const toolDef = fc.record({
  name: toolName,
  description: fc.option(text, none),
  parameters: fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.constantFrom({ type: 'string' }, { type: 'number' }), { maxKeys: 3 })
    .map((properties) => ({ type: 'object', properties })), none),
  strict: fc.option(fc.boolean(), none),
}).map((fn) => ({ type: 'function', function: Object.fromEntries(Object.entries(fn).filter(([, v]) => v !== undefined)) }));

/** A JSON chat request body as a client sends it; `everything` adds names, top_p, seed, n, tool_choice, metadata. */
function chatRequest(options: { everything?: boolean; maxTemperature?: number } = {}): fc.Arbitrary<Json> {
  return fc.record({
    system: fc.array(fc.record({ role: fc.constantFrom('system', 'developer'), content: text }), { maxLength: 2 }),
    first: visibleText,
    steps: fc.array(step, { maxLength: 6 }),
    tools: fc.option(fc.uniqueArray(toolDef, { minLength: 1, maxLength: 3, selector: (t) => t.function.name }), none),
    stop: fc.option(fc.oneof(visibleText, fc.array(visibleText, { minLength: 1, maxLength: 4 })), none),
    maxTokens: fc.option(fc.tuple(fc.constantFrom('max_tokens', 'max_completion_tokens'), fc.integer({ min: 1, max: 100_000 })), none),
    temperature: fc.option(fc.double({ min: 0, max: options.maxTemperature ?? 1, noNaN: true }), none),
    reasoning_effort: fc.option(fc.constantFrom(...REASONING_EFFORTS), none),
    user: fc.option(visibleText, none),
    extra: options.everything ? fc.record({
      top_p: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), none),
      seed: fc.option(fc.integer(), none),
      n: fc.option(fc.integer({ min: 1, max: 4 }), none),
      parallel_tool_calls: fc.option(fc.boolean(), none),
      tool_choice: fc.option(fc.constantFrom('auto', 'none', 'required', 'first-tool'), none),
      metadata: fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.string({ maxLength: 5 }), { maxKeys: 2 }), none),
    }) : fc.constant({}),
  }).map((r) => wire(buildChatBody(r, options.everything === true)));
}

function buildChatBody(r: Json, names: boolean): Json {
  const messages: Json[] = [...r.system, { role: 'user', content: r.first }];
  let n = 0;
  for (const s of r.steps) {
    const name = names && s.name ? { name: s.name } : {};
    if ('user' in s) { messages.push({ role: 'user', content: s.user, ...name }); continue; }
    const calls = s.calls.map((c: Json) => ({ ...c, id: `${c.prefix}${c.id}${n++}` }));
    const assistant: Json = { role: 'assistant', content: s.assistant ?? null, ...name };
    if (calls.length > 0) assistant.tool_calls = calls.map((c: Json) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
    messages.push(assistant);
    for (const c of calls) messages.push({ role: 'tool', tool_call_id: c.id, content: c.result });
  }
  const body: Json = { model: MODEL, messages, tools: r.tools, stop: r.stop, temperature: r.temperature, reasoning_effort: r.reasoning_effort, user: r.user };
  if (r.maxTokens) body[r.maxTokens[0]] = r.maxTokens[1];
  const { tool_choice: choice, ...extra } = r.extra;
  Object.assign(body, extra);
  if (choice === 'first-tool') body.tool_choice = r.tools ? { type: 'function', function: { name: r.tools[0].function.name } } : 'auto';
  else if (choice) body.tool_choice = choice;
  return body;
}

// ---- what a user relies on, in comparable form ----

const argsValue = (args: string): unknown => (args.trim() === '' ? {} : JSON.parse(args));
const systemText = (messages: Message[]): string => messages.flatMap((m) => (m.role === 'system' && m.content ? [m.content] : [])).join('\n\n');

/** The conversation as a flat list: user text and images, assistant text, tool calls (arguments parsed), tool results. */
function conversation(messages: Message[]): Json[] {
  const items: Json[] = [];
  for (const m of messages) {
    if (m.role === 'user') {
      for (const p of m.content) {
        if (p.type === 'image') items.push({ image: p.data !== undefined ? { data: p.data, mediaType: p.mediaType } : { url: p.url } });
        else if (p.text) items.push({ user: p.text });
      }
    } else if (m.role === 'assistant') {
      for (const p of m.content) {
        if (p.type === 'tool_call') items.push({ call: { id: p.id, name: p.name, input: argsValue(p.arguments) } });
        else if (p.type === 'text' && p.text) items.push({ assistant: p.text });
      }
    } else if (m.role === 'tool') items.push({ result: { id: m.toolCallId, content: m.content } });
  }
  return items;
}

// ---- (a) OpenAI chat -> Anthropic -> Messages API parser ----

function anthropicRoundTrip(body: Json) {
  const a = parseChatRequest(body);
  const warnings: string[] = [];
  const sent = wire(toAnthropicRequest(a, CLAUDE, warnings));
  return { a, sent, warnings, b: parseMessagesRequest(sent) };
}

const expectedAnthropicTools = (tools: ToolDefinition[] | undefined) => tools?.map((t) => ({
  name: t.name, parameters: t.parameters ?? { type: 'object', properties: {} }, ...(t.description ? { description: t.description } : {}),
}));

test('(a) chat request -> Anthropic body -> Messages parser keeps the conversation, tools, stop sequences, max tokens and effort', () => {
  fc.assert(fc.property(chatRequest(), (body) => {
    const { a, sent, warnings, b } = anthropicRoundTrip(body);
    assert.deepEqual(conversation(b.messages), conversation(a.messages));
    assert.equal(systemText(b.messages), systemText(a.messages));
    assert.deepEqual(b.tools, expectedAnthropicTools(a.tools));
    assert.deepEqual(b.stop, a.stop);
    assert.equal(b.user, a.user);
    // Thinking counts against the cap: a cap too small for the level's budget shrinks it, or
    // (below Anthropic's minimum) sends none; either is said in a warning.
    const thinkingDropped = warnings.some((w) => w.includes('was sent without thinking'));
    const thinkingShrunk = warnings.some((w) => w.includes('thinks with'));
    if (thinkingShrunk) assert.ok(b.reasoningEffort !== undefined);
    else assert.equal(b.reasoningEffort, a.reasoningEffort === 'none' || thinkingDropped ? undefined : a.reasoningEffort);
    const thinking = sent.thinking !== undefined;
    assert.equal(b.temperature, thinking ? undefined : a.temperature);
    const cap = CLAUDE.model.maxOutputTokens;
    const asked = Math.min(a.maxOutputTokens ?? cap, cap);
    // The cap is the whole output, thinking included: never more than was reserved.
    assert.equal(b.maxOutputTokens, asked);
    if (thinking) assert.ok(sent.thinking!.budget_tokens < sent.max_tokens);
    if ((a.maxOutputTokens ?? 0) > cap) assert.ok(warnings.some((w) => w.includes('max_tokens')), 'a capped max_tokens is reported');
  }), RUNS);
});

/** A user turn, an assistant turn calling `f` once per id, and one result per call. */
const toolTurn = (ids: string[], args: string, result: string): Json => ({ model: MODEL, messages: [
  { role: 'user', content: 'go' },
  { role: 'assistant', content: null, tool_calls: ids.map((id) => ({ id, type: 'function', function: { name: 'f', arguments: args } })) },
  ...ids.map((id) => ({ role: 'tool', tool_call_id: id, content: result })),
] });

test('(a) a tool-call id with characters Anthropic refuses is rewritten the same way in the call and in its result', () => {
  const oddId = fc.stringMatching(/^[a-z.:_ ]{1,6}$/);
  fc.assert(fc.property(oddId, argsText, text, (id, args, result) => {
    const [, call, answer] = conversation(anthropicRoundTrip(toolTurn([id], args, result)).b.messages);
    assert.match(call.call.id, /^[A-Za-z0-9_-]+$/);
    assert.equal(answer.result.id, call.call.id);
  }), RUNS);
});

test('(a) distinct tool-call ids stay distinct in the Anthropic body', () => {
  const oddId = fc.stringMatching(/^[ab.:_]{1,3}$/);
  fc.assert(fc.property(fc.uniqueArray(oddId, { minLength: 2, maxLength: 3 }), (ids) => {
    const calls = conversation(anthropicRoundTrip(toolTurn(ids, '{}', 'done')).b.messages).filter((item) => item.call);
    assert.equal(new Set(calls.map((item) => item.call.id)).size, ids.length, `ids ${JSON.stringify(ids)} -> ${JSON.stringify(calls.map((c) => c.call.id))}`);
  }), RUNS);
});

test('(a) a chat temperature above 1 (OpenAI allows up to 2) still gives an Anthropic body Anthropic accepts, with a warning', () => {
  fc.assert(fc.property(fc.double({ min: 1, max: 2, minExcluded: true, noNaN: true }), (temperature) => {
    const warnings: string[] = [];
    const sent = wire(toAnthropicRequest(parseChatRequest({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], temperature }), CLAUDE, warnings));
    assert.doesNotThrow(() => parseMessagesRequest(sent), `temperature ${temperature} was sent as ${sent.temperature}`);
    assert.ok(warnings.some((w) => w.includes('temperature')), 'the change is reported');
  }), RUNS);
});

// ---- (b) OpenAI chat -> canonical -> OpenAI chat ----

test('(b) chat request -> canonical -> chat body -> canonical is the identity', () => {
  fc.assert(fc.property(chatRequest({ everything: true, maxTemperature: 2 }), (body) => {
    const a = parseChatRequest(body);
    const again = parseChatRequest(wire(toChatRequest(a, MODEL)));
    assert.deepEqual(again, a);
  }), RUNS);
});

// ---- (c) responses ----

const usage = fc.record({ fresh: fc.nat(1e6), cached: fc.nat(1e6), written: fc.nat(1e6), visible: fc.nat(1e6), reasoning: fc.nat(1e6) })
  .map((u): Usage => ({
    inputTokens: u.fresh + u.cached + u.written, cachedInputTokens: u.cached, cacheWriteTokens: u.written,
    outputTokens: u.visible + u.reasoning, reasoningTokens: u.reasoning,
  }));
const assistantPart = fc.oneof(
  text.map((t): AssistantContent => ({ type: 'text', text: t })),
  fc.record({ text, signature: fc.option(signature, none) })
    .map((r): AssistantContent => (r.signature === undefined ? { type: 'reasoning', text: r.text } : { type: 'reasoning', text: r.text, signature: r.signature })),
  signature.map((redacted): AssistantContent => ({ type: 'reasoning', text: '', redacted })),
  fc.record({ prefix: idPrefix, id: idBody, name: toolName, args: jsonObject }).map((c): AssistantContent => ({ type: 'tool_call', id: c.prefix + c.id, name: c.name, arguments: JSON.stringify(c.args) })),
);
/** Finish reasons that fit the content: tool calls end with tool_calls (or length). */
const finishFor = (hasCalls: boolean) => (hasCalls ? fc.constantFrom<FinishReason>('tool_calls', 'length') : fc.constantFrom<FinishReason>('stop', 'length', 'content_filter', 'error'));
const uniqueIds = (content: AssistantContent[]): AssistantContent[] => content.map((p, i) => (p.type === 'tool_call' ? { ...p, id: `${p.id}${i}` } : p));
const canonicalResponse = fc.array(assistantPart, { maxLength: 6 }).map(uniqueIds).chain((content) => fc.record({
  id: idBody, model: fc.constant('m'), created: fc.constant(1_700_000_000), content: fc.constant(content),
  finishReason: finishFor(content.some((p) => p.type === 'tool_call')), usage,
})).map((r): CanonicalResponse => wire(r));

/** Chat has no "error" finish reason; a failed answer reads "stop". */
const visibleFinish = (reason: FinishReason): FinishReason => (reason === 'error' ? 'stop' : reason);

/** Content as Anthropic can carry it: reasoning needs text, a signature or redacted data to be sent at all. */
function anthropicView(content: AssistantContent[]): Json[] {
  return content.flatMap((p): Json[] => {
    if (p.type === 'text') return [{ text: p.text }];
    if (p.type === 'tool_call') return [{ call: p.id, name: p.name, input: argsValue(p.arguments) }];
    if (p.redacted !== undefined) return [{ redacted: p.redacted }];
    return p.text || p.signature !== undefined ? [{ thinking: p.text, signature: p.signature ?? '' }] : [];
  });
}

const joined = (content: AssistantContent[], type: 'text' | 'reasoning') => content.map((p) => (p.type === type ? p.text : '')).join('');
const toolCallsOf = (content: AssistantContent[]) => content.flatMap((p) => (p.type === 'tool_call' ? [{ id: p.id, name: p.name, arguments: p.arguments }] : []));

test('(c) canonical response -> Anthropic message -> canonical keeps content in order, finish reason and usage', () => {
  fc.assert(fc.property(canonicalResponse, (response) => {
    const back = fromAnthropicResponse(wire(toMessagesResponse(response, 'claude-sonnet-4-5')));
    assert.deepEqual(anthropicView(back.content), anthropicView(response.content));
    assert.equal(back.finishReason, visibleFinish(response.finishReason));
    // Anthropic counts thinking inside output_tokens and reports no separate reasoning count.
    assert.deepEqual(back.usage, { ...response.usage, reasoningTokens: 0 });
  }), RUNS);
});

test('(c) canonical response -> chat.completion -> canonical keeps text, reasoning text, tool calls, finish reason and usage', () => {
  fc.assert(fc.property(canonicalResponse, (response) => {
    const back = fromChatResponse(wire(toChatCompletion(response, 'gpt-5.4-mini')));
    assert.equal(joined(back.content, 'text'), joined(response.content, 'text'));
    assert.equal(joined(back.content, 'reasoning'), joined(response.content, 'reasoning'));
    assert.deepEqual(toolCallsOf(back.content), toolCallsOf(response.content));
    assert.equal(back.finishReason, visibleFinish(response.finishReason));
    // Chat usage has no field for cache writes.
    const { cacheWriteTokens: _written, ...expected } = response.usage;
    assert.deepEqual(back.usage, expected);
  }), RUNS);
});

// ---- (d) streams ----

const streamBlock = fc.oneof(
  fc.array(someText, { minLength: 1, maxLength: 4 }).map((parts): StreamEvent[] => parts.map((t) => ({ type: 'text-delta', text: t }))),
  fc.record({ parts: fc.array(someText, { maxLength: 3 }), signature: fc.option(signature, none) }).map(({ parts, signature: s }): StreamEvent[] => [
    ...parts.map((t): StreamEvent => ({ type: 'reasoning-delta', text: t })), s === undefined ? { type: 'reasoning-end' } : { type: 'reasoning-end', signature: s },
  ]),
  signature.map((redacted): StreamEvent[] => [{ type: 'reasoning-end', redacted }]),
  fc.record({ prefix: idPrefix, id: idBody, name: toolName, args: argsText, cuts: fc.array(fc.nat(), { maxLength: 4 }) })
    .map((c): StreamEvent[] => [{ type: 'tool-call-start', index: -1, id: c.prefix + c.id, name: c.name }, ...pieces(c.args, c.cuts).map((d): StreamEvent => ({ type: 'tool-call-delta', index: -1, argumentsDelta: d })), { type: 'tool-call-end', index: -1 }]),
);

function pieces(textValue: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (textValue.length + 1)))].sort((x, y) => x - y);
  return [0, ...at].map((start, i, all) => textValue.slice(start, all[i + 1] ?? textValue.length)).filter((p) => p.length > 0);
}

/** start, content blocks (tool calls numbered 0, 1, ... with unique ids), finish. */
const canonicalStream = fc.array(streamBlock, { maxLength: 6 }).chain((blocks) => {
  let calls = 0;
  const content = blocks.flatMap((block) => {
    if (block[0].type !== 'tool-call-start') return block;
    const index = calls++;
    return block.map((e): StreamEvent => (e.type === 'tool-call-start' ? { ...e, index, id: `${e.id}${index}` } : { ...e, index } as StreamEvent));
  });
  return fc.record({ finishReason: finishFor(calls > 0), usage, cuts: fc.array(fc.nat(), { maxLength: 6 }) }).map(({ finishReason, usage: u, cuts }) => ({
    events: [{ type: 'start', id: 'msg_1', model: 'm', created: 1 } as StreamEvent, ...content, { type: 'finish', finishReason, usage: u } as StreamEvent],
    cuts,
  }));
});

/** Runs the encoder over the events, then parses its SSE text in arbitrary pieces. */
function encodeThenParse(events: StreamEvent[], encode: (e: StreamEvent) => string, cuts: number[]): SseEvent[] {
  const sseText = events.map(encode).join('');
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const piece of pieces(sseText, cuts)) parser.push(piece, out);
  return parser.end(out);
}

test('(d) canonical stream -> Anthropic SSE -> decoder gives back text, reasoning, signatures, tool calls, finish reason and usage', () => {
  fc.assert(fc.property(canonicalStream, ({ events, cuts }) => {
    const sent = foldStream(events);
    const encoder = new MessagesStreamEncoder({ model: 'claude-sonnet-4-5' });
    const decoder = new AnthropicStreamDecoder();
    const decoded: StreamEvent[] = [];
    for (const sse of encodeThenParse(events, (e) => encoder.encode(e), cuts)) decoder.push(sse, decoded);
    decoder.end(decoded);
    const got = foldStream(decoded);
    assert.equal(got.text, sent.text);
    assert.equal(got.reasoning, sent.reasoning);
    assert.deepEqual(got.signatures, sent.signatures);
    assert.deepEqual(got.redacted, sent.redacted);
    // A tool call without argument text arrives as {} (Anthropic inputs are objects).
    assert.deepEqual(got.toolCalls, sent.toolCalls.map((c) => ({ ...c, arguments: c.arguments || '{}' })));
    assert.equal(got.finishReason, visibleFinish(sent.finishReason!));
    assert.deepEqual(got.usage, { ...sent.usage, reasoningTokens: 0 });
  }), RUNS);
});

test('(d) canonical stream -> chat chunks -> decoder gives back text, reasoning, tool calls, finish reason and usage', () => {
  fc.assert(fc.property(canonicalStream, ({ events, cuts }) => {
    const sent = foldStream(events);
    const encoder = new ChatStreamEncoder({ model: 'gpt-5.4-mini', includeUsage: true });
    const decoder = new ChatStreamDecoder();
    const decoded: StreamEvent[] = [];
    for (const sse of encodeThenParse(events, (e) => encoder.encode(e), cuts)) {
      if (sse.data !== '[DONE]') decoded.push(...decoder.push(JSON.parse(sse.data)));
    }
    decoded.push(...decoder.finish());
    const got = foldStream(decoded);
    assert.equal(got.text, sent.text);
    assert.equal(got.reasoning, sent.reasoning);
    assert.deepEqual(got.toolCalls, sent.toolCalls);
    assert.equal(got.finishReason, visibleFinish(sent.finishReason!));
    const { cacheWriteTokens: _written, ...expected } = sent.usage!;
    assert.deepEqual(got.usage, expected);
  }), RUNS);
});

// ---- (e) Gemini ----

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };

/** What Gemini must receive for each canonical item, as [role, part]. */
function expectedGeminiParts(messages: Message[]): Array<[string, Json]> {
  const names = new Map<string, string>();
  const out: Array<[string, Json]> = [];
  for (const m of messages) {
    if (m.role === 'user') {
      for (const p of m.content) {
        if (p.type === 'text') out.push(['user', { text: p.text }]);
        else if (p.data !== undefined) out.push(['user', { inlineData: { mimeType: p.mediaType, data: p.data } }]);
        else {
          const mimeType = IMAGE_TYPES[/\.([a-z]+)$/.exec(p.url!)?.[1] ?? ''];
          out.push(['user', { fileData: mimeType ? { mimeType, fileUri: p.url } : { fileUri: p.url } }]);
        }
      }
    } else if (m.role === 'assistant') {
      for (const p of m.content) {
        if (p.type === 'text' && p.text) out.push(['model', { text: p.text }]);
        if (p.type === 'tool_call') {
          names.set(p.id, p.name);
          out.push(['model', { functionCall: { name: p.name, args: argsValue(p.arguments) } }]);
        }
      }
    } else if (m.role === 'tool') out.push(['user', { functionResponse: { name: names.get(m.toolCallId), response: functionResult(m.content) } }]);
  }
  return out;
}

/** Gemini takes an object: a JSON object result as it is, anything else (JSON or text) under "result". */
function functionResult(content: string): unknown {
  let value: unknown = content;
  try { value = JSON.parse(content); } catch { /* plain text */ }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { result: value };
}

test('(e) chat request -> canonical -> Gemini body keeps system text, text, images, function calls and their results', () => {
  fc.assert(fc.property(chatRequest(), (body) => {
    const a = parseChatRequest(body);
    const sent = wire(toGeminiRequest(a, GEMINI));
    const parts = sent.contents.flatMap((c) => c.parts.map((p): [string, Json] => [c.role, p]));
    assert.deepEqual(parts, expectedGeminiParts(a.messages));
    sent.contents.forEach((c, i) => assert.notEqual(c.role, sent.contents[i - 1]?.role, 'roles alternate'));
    const system = a.messages.flatMap((m) => (m.role === 'system' && m.content ? [{ text: m.content }] : []));
    assert.deepEqual(sent.systemInstruction?.parts ?? [], system);
    assert.deepEqual(sent.generationConfig.stopSequences, a.stop);
    assert.equal(sent.generationConfig.maxOutputTokens, a.maxOutputTokens);
  }), RUNS);
});

const geminiPart = fc.oneof(
  fc.record({ text, thoughtSignature: fc.option(signature, none) }),
  fc.record({ text: someText, thought: fc.constant(true), thoughtSignature: fc.option(signature, none) }),
  fc.record({ functionCall: fc.record({ name: toolName, args: jsonObject }), thoughtSignature: fc.option(signature, none) }),
).map((part) => wire(part) as Json);
const geminiResponse = fc.record({
  parts: fc.array(geminiPart, { maxLength: 6 }),
  finishReason: fc.constantFrom('STOP', 'MAX_TOKENS', 'SAFETY', 'RECITATION', 'MALFORMED_FUNCTION_CALL'),
  usage: fc.record({ promptTokenCount: fc.nat(1e6), cachedContentTokenCount: fc.nat(1e6), candidatesTokenCount: fc.nat(1e6), thoughtsTokenCount: fc.nat(1e6) }),
  responseId: fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/),
}).map((r) => ({ candidates: [{ content: { role: 'model', parts: r.parts }, finishReason: r.finishReason }], usageMetadata: r.usage, modelVersion: 'gemini-2.5-flash', responseId: r.responseId }));

/** Chat finish_reason per Gemini finishReason (chat has no "error": a malformed call reads "stop"). */
const GEMINI_FINISH: Record<string, (calls: boolean) => string> = {
  STOP: (calls) => (calls ? 'tool_calls' : 'stop'), MAX_TOKENS: () => 'length', SAFETY: () => 'content_filter', RECITATION: () => 'content_filter', MALFORMED_FUNCTION_CALL: () => 'stop',
};

test('(e) Gemini response -> canonical -> chat.completion keeps text, thoughts, function calls with their signatures, finish reason and usage', () => {
  fc.assert(fc.property(geminiResponse, (response) => {
    const parts = response.candidates[0].content.parts;
    const completion = wire(toChatCompletion(fromGeminiResponse(response), 'gemini-2.5-flash')) as Json;
    const message = completion.choices[0].message;
    const answer = parts.filter((p) => !p.thought && !p.functionCall).map((p) => p.text).join('');
    assert.equal(message.content, answer === '' ? null : answer);
    const thoughts = parts.filter((p) => p.thought).map((p) => p.text).join('');
    assert.equal(message.reasoning_content, thoughts === '' ? undefined : thoughts);
    const calls = parts.filter((p) => p.functionCall);
    const got = (message.tool_calls ?? []) as Json[];
    assert.deepEqual(got.map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) })), calls.map((p) => ({ name: p.functionCall.name, args: p.functionCall.args })));
    assert.equal(new Set(got.map((c) => c.id)).size, got.length, 'tool-call ids are distinct');
    assert.deepEqual(got.map((c) => signatureOfToolCallId(c.id)), calls.map((p) => p.thoughtSignature), 'each call id carries its thought signature');
    assert.equal(completion.choices[0].finish_reason, GEMINI_FINISH[response.candidates[0].finishReason](calls.length > 0));
    const u = response.usageMetadata;
    assert.deepEqual(
      [completion.usage.prompt_tokens, completion.usage.prompt_tokens_details.cached_tokens, completion.usage.completion_tokens, completion.usage.completion_tokens_details.reasoning_tokens],
      [u.promptTokenCount, u.cachedContentTokenCount, u.candidatesTokenCount + u.thoughtsTokenCount, u.thoughtsTokenCount],
    );
  }), RUNS);
});

test('(e) a Gemini 3 function call\'s thought signature survives a chat client sending the turn back', () => {
  const gemini3 = makeTarget('gemini', 'gemini-3-pro-preview');
  fc.assert(fc.property(geminiResponse, (response) => {
    const message = (wire(toChatCompletion(fromGeminiResponse(response), 'gemini-3-pro-preview')) as Json).choices[0].message;
    const calls = response.candidates[0].content.parts.filter((p) => p.functionCall);
    fc.pre(calls.length > 0);
    const results = message.tool_calls.map((c: Json) => ({ role: 'tool', tool_call_id: c.id, content: '{"ok":true}' }));
    const next = toGeminiRequest(parseChatRequest(wire({ model: MODEL, messages: [{ role: 'user', content: 'q' }, message, ...results] })), gemini3);
    const sentCalls = next.contents.flatMap((c) => c.parts).filter((p) => p.functionCall);
    assert.deepEqual(sentCalls.map((p) => p.functionCall), calls.map((p) => p.functionCall));
    // An unsigned call gets Google's documented "skip" value, which Gemini 3 requires on every call.
    assert.deepEqual(sentCalls.map((p) => p.thoughtSignature), calls.map((p) => p.thoughtSignature ?? 'skip_thought_signature_validator'));
  }), RUNS);
});
