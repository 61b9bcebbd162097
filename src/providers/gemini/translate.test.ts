import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AssistantContent, CanonicalRequest, Message } from '../../canonical/types.ts';
import { fixtureEvents, fixtureIndex, fixtureJson, foldStream, makeTarget } from '../anthropic/test-support.ts';
import { SKIP_SIGNATURE_VALIDATION, signatureOfToolCallId } from './ids.ts';
import { GeminiStreamDecoder } from './stream.ts';
import { fromGeminiResponse, toGeminiRequest } from './translate.ts';

type Part = Record<string, any>;
const toStandardBase64 = (text: string) => text.replace(/-/g, '+').replace(/_/g, '/');

function request(messages: Message[], extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'gemini-2.5-flash', messages, stream: false, ...extra };
}

function parts(file: string): Part[] {
  return fixtureJson(file).candidates?.[0]?.content?.parts ?? [];
}

/** Recorded contents without the function-call ids pydantic-ai adds (Gemini itself sends none). */
function withoutIds(contents: Array<{ role: string; parts: Part[] }>) {
  return contents.map((content) => ({
    role: content.role,
    parts: content.parts.map((part) => {
      const copy = structuredClone(part);
      delete copy.functionCall?.id;
      delete copy.functionResponse?.id;
      return copy;
    }),
  }));
}

describe('fromGeminiResponse on every recorded response', () => {
  for (const { file } of fixtureIndex('gemini', ['response'])) {
    it(`${file}: text, thoughts, function calls, signatures, finish and usage survive`, () => {
      const raw = fixtureJson(file);
      const recorded = parts(file);
      const response = fromGeminiResponse(raw);
      const of = <T extends AssistantContent['type']>(type: T) => response.content.filter((p): p is Extract<AssistantContent, { type: T }> => p.type === type);
      assert.equal(of('text').map((p) => p.text).join(''), recorded.filter((p) => !p.thought && p.text).map((p) => p.text).join(''));
      assert.equal(of('reasoning').map((p) => p.text).join(''), recorded.filter((p) => p.thought).map((p) => p.text).join(''));
      const calls = recorded.filter((p) => p.functionCall);
      assert.deepEqual(of('tool_call').map((c) => [c.name, JSON.parse(c.arguments), signatureOfToolCallId(c.id)]), calls.map((p) => [p.functionCall.name, p.functionCall.args ?? {}, p.thoughtSignature]));
      assert.equal(new Set(of('tool_call').map((c) => c.id)).size, calls.length, 'tool-call ids are unique');
      const textSignatures = recorded.filter((p) => !p.functionCall && p.thoughtSignature).map((p) => `gemini:${p.thoughtSignature}`);
      assert.deepEqual(of('reasoning').filter((p) => p.signature).map((p) => p.signature), textSignatures);
      const reason = raw.candidates[0].finishReason;
      assert.equal(response.finishReason, reason === 'SAFETY' ? 'content_filter' : calls.length > 0 ? 'tool_calls' : 'stop');
      const u = raw.usageMetadata ?? {};
      assert.deepEqual(response.usage, {
        inputTokens: u.promptTokenCount ?? 0,
        cachedInputTokens: u.cachedContentTokenCount ?? 0,
        outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
        reasoningTokens: u.thoughtsTokenCount ?? 0,
      });
    });
  }

  it('cached content: input includes the cached part, thoughts count as output (generate-cached-content)', () => {
    const { usage } = fromGeminiResponse(fixtureJson('gemini/generate-cached-content.response.json'));
    assert.deepEqual(usage, { inputTokens: 3520, cachedInputTokens: 3512, outputTokens: 2 + 42, reasoningTokens: 42 });
  });

  it('a prompt blocked before any candidate is a content_filter finish with no content', () => {
    const response = fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7 } });
    assert.equal(response.finishReason, 'content_filter');
    assert.deepEqual(response.content, []);
    assert.equal(response.usage.inputTokens, 7);
  });
});

describe('toGeminiRequest against recorded requests', () => {
  it('system instruction and a user turn (generate-text)', () => {
    const recorded = fixtureJson('gemini/generate-text.request.json');
    const body = toGeminiRequest(request([{ role: 'system', content: 'You are a chatbot.' }, { role: 'user', content: [{ type: 'text', text: 'Hello!' }] }]), makeTarget('gemini', 'gemini-2.5-flash'));
    assert.deepEqual(body.contents, recorded.contents);
    assert.deepEqual(body.systemInstruction?.parts, recorded.systemInstruction.parts);
  });

  it('temperature goes into generationConfig (stream-text)', () => {
    const recorded = fixtureJson('gemini/stream-text.request.json');
    const body = toGeminiRequest(
      request([{ role: 'system', content: 'You are a helpful chatbot.' }, { role: 'user', content: [{ type: 'text', text: 'What is the capital of France?' }] }], { temperature: 0, stream: true }),
      makeTarget('gemini', 'gemini-2.0-flash'),
    );
    assert.deepEqual({ contents: body.contents, system: body.systemInstruction?.parts, config: body.generationConfig }, { contents: recorded.contents, system: recorded.systemInstruction.parts, config: recorded.generationConfig });
  });

  const tools = [
    { name: 'get_user_country', description: '', parameters: { type: 'object', properties: {}, additionalProperties: false } },
    { name: 'final_result', description: 'The final response which ends this conversation', parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false, properties: { city: { type: 'string' }, country: { type: 'string' } }, required: ['city', 'country'] } },
  ];

  it('function declarations in the schema subset Gemini accepts, tool_choice required -> ANY (generate-function-call)', () => {
    const recorded = fixtureJson('gemini/generate-function-call.request.json');
    const body = toGeminiRequest(request([{ role: 'user', content: [{ type: 'text', text: 'What is the largest city in the user country?' }] }], { tools, toolChoice: 'required' }), makeTarget('gemini', 'gemini-2.0-flash'));
    assert.deepEqual(body.tools, recorded.tools);
    assert.equal(body.toolConfig?.functionCallingConfig.mode, recorded.toolConfig.functionCallingConfig.mode);
    assert.deepEqual(body.contents, recorded.contents);
  });

  it('replays the function call and answers it by name (generate-function-response)', () => {
    const recorded = fixtureJson('gemini/generate-function-response.request.json');
    const call = fromGeminiResponse(fixtureJson('gemini/generate-function-call.response.json')).content[0];
    assert.ok(call.type === 'tool_call');
    const body = toGeminiRequest(request([
      { role: 'user', content: [{ type: 'text', text: 'What is the largest city in the user country?' }] },
      { role: 'assistant', content: [call] },
      { role: 'tool', toolCallId: call.id, content: JSON.stringify({ return_value: 'Mexico' }) },
    ], { tools, toolChoice: 'required' }), makeTarget('gemini', 'gemini-2.0-flash'));
    assert.deepEqual(body.contents, withoutIds(recorded.contents));
  });

  it('a recorded streamed call with its thoughtSignature goes back with that signature (stream-function-call -> stream-function-response)', () => {
    const recorded = fixtureJson('gemini/stream-function-response.request.json');
    const decoder = new GeminiStreamDecoder();
    const folded = foldStream(fixtureEvents('gemini/stream-function-call.response.sse').flatMap((event) => decoder.push(event)).concat(decoder.end()));
    const [call] = folded.toolCalls;
    const body = toGeminiRequest(request([
      { role: 'user', content: [{ type: 'text', text: recorded.contents[0].parts[0].text }] },
      { role: 'assistant', content: [{ type: 'tool_call', ...call }] },
      { role: 'tool', toolCallId: call.id, content: JSON.stringify({ return_value: 'Mexico' }) },
    ], { tools: [{ name: 'get_country', description: '', parameters: { additionalProperties: false, properties: {}, type: 'object' } }] }), makeTarget('gemini', 'gemini-3-pro-preview'));
    const want = withoutIds(recorded.contents);
    // google-genai re-encodes the signature in the URL-safe alphabet; the bytes are the same.
    want[1].parts[0].thoughtSignature = toStandardBase64(want[1].parts[0].thoughtSignature);
    assert.deepEqual(body.contents, want);
  });

  it('reasoning effort becomes thinkingConfig with includeThoughts (generate-thinking)', () => {
    const recorded = fixtureJson('gemini/generate-thinking.request.json');
    const body = toGeminiRequest(
      request([{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: [{ type: 'text', text: 'How do I cross the street?' }] }], {
        reasoningEffort: 'high', tools: [{ name: 'dummy', description: '', parameters: recorded.tools[0].functionDeclarations[0].parameters_json_schema }],
      }),
      makeTarget('gemini', 'gemini-3-pro-preview'),
    );
    assert.deepEqual(body.contents, recorded.contents);
    assert.equal(body.generationConfig.thinkingConfig && (body.generationConfig.thinkingConfig as any).includeThoughts, recorded.generationConfig.thinkingConfig.include_thoughts);
    assert.deepEqual(body.generationConfig.thinkingConfig, { thinkingLevel: 'high', includeThoughts: true });
    assert.deepEqual(body.tools?.[0].functionDeclarations[0], { name: 'dummy', description: '', parameters: { type: 'OBJECT', properties: {} } });
  });

  it('base64 image as inlineData (generate-image-inline)', () => {
    const recorded = fixtureJson('gemini/generate-image-inline.request.json');
    const inline = recorded.contents[0].parts[1].inlineData;
    const data = toStandardBase64(inline.data);
    const body = toGeminiRequest(request([
      { role: 'system', content: 'You are a helpful chatbot.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this vegetable?' }, { type: 'image', data, mediaType: inline.mimeType }] },
    ]), makeTarget('gemini', 'gemini-2.0-flash'));
    assert.deepEqual(body.contents, [{ role: 'user', parts: [recorded.contents[0].parts[0], { inlineData: { mimeType: inline.mimeType, data } }] }]);
  });
});

describe('toGeminiRequest rules', () => {
  const hello: Message[] = [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }];
  const target = makeTarget('gemini', 'gemini-2.5-flash');

  it('http image URLs become fileData with a MIME type guessed from the extension', () => {
    const body = toGeminiRequest(request([{ role: 'user', content: [{ type: 'image', url: 'https://example.com/a/potato.JPG?x=1' }, { type: 'image', url: 'https://example.com/img' }] }]), target);
    assert.deepEqual(body.contents[0].parts, [{ fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/a/potato.JPG?x=1' } }, { fileData: { fileUri: 'https://example.com/img' } }]);
  });

  it('json_schema output -> responseMimeType + responseJsonSchema', () => {
    const schema = { $schema: 'x', type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
    const body = toGeminiRequest(request(hello, { responseFormat: { type: 'json_schema', name: 'r', schema } }), target);
    assert.equal(body.generationConfig.responseMimeType, 'application/json');
    assert.deepEqual(body.generationConfig.responseJsonSchema, { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false });
  });

  it('numeric reasoning maps to thinkingBudget; none turns thinking off without asking for thoughts', () => {
    assert.deepEqual(toGeminiRequest(request(hello, { reasoningEffort: 'low' }), target).generationConfig.thinkingConfig, { thinkingBudget: 1024, includeThoughts: true });
    assert.deepEqual(toGeminiRequest(request(hello, { reasoningEffort: 'none' }), target).generationConfig.thinkingConfig, { thinkingBudget: 0 });
  });

  it('stop, max tokens, top_p, seed and tool_choice by name are sent; n, user, metadata, extra are warned about', () => {
    const warnings: string[] = [];
    const body = toGeminiRequest(request(hello, {
      stop: ['END'], maxOutputTokens: 50, topP: 0.9, seed: 4, n: 2, user: 'u', metadata: { a: 'b' }, extra: { logprobs: true },
      tools: [{ name: 'f' }], toolChoice: { name: 'f' }, parallelToolCalls: false,
    }), target, warnings);
    assert.deepEqual(body.generationConfig, { stopSequences: ['END'], maxOutputTokens: 50, topP: 0.9, seed: 4 });
    assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } });
    for (const field of ['n=2', "'user'", 'metadata', 'logprobs', 'parallel_tool_calls']) assert.ok(warnings.some((w) => w.includes(field)), `no warning for ${field}`);
  });

  it('parallel calls and their results: merged turns, names found by id, errors marked', () => {
    const calls = fromGeminiResponse(fixtureJson('gemini/generate-parallel-function-calls.vertex.firebase.json')).content;
    const ids = calls.map((call) => (call.type === 'tool_call' ? call.id : ''));
    const body = toGeminiRequest(request([
      ...hello,
      { role: 'assistant', content: calls },
      { role: 'tool', toolCallId: ids[0], content: '3' },
      { role: 'tool', toolCallId: ids[1], content: 'plain text' },
      { role: 'tool', toolCallId: ids[2], content: 'overflow', isError: true },
    ]), target);
    assert.deepEqual(body.contents.map((c) => c.role), ['user', 'model', 'user']);
    assert.deepEqual(body.contents[2].parts, [
      { functionResponse: { name: 'sum', response: { result: 3 } } },
      { functionResponse: { name: 'sum', response: { result: 'plain text' } } },
      { functionResponse: { name: 'sum', response: { error: 'overflow' } } },
    ]);
    assert.deepEqual(body.contents[1].parts.map((p) => p.functionCall), [{ name: 'sum', args: { y: 1, x: 2 } }, { name: 'sum', args: { y: 3, x: 4 } }, { name: 'sum', args: { y: 5, x: 6 } }]);
  });

  it('a tool result for an unknown call id is refused with the message index', () => {
    assert.throws(() => toGeminiRequest(request([...hello, { role: 'tool', toolCallId: 'nope', content: 'x' }]), target), (err: any) => err.status === 400 && /messages\[1\]/.test(err.message));
  });

  it('text signatures go back on their text part; unsigned thoughts and other providers reasoning stay home', () => {
    const answer = fromGeminiResponse(fixtureJson('gemini/generate-thinking.response.json'));
    const textPart = parts('gemini/generate-thinking.response.json')[1];
    const body = toGeminiRequest(request([...hello, { role: 'assistant', content: [{ type: 'reasoning', text: 'claude thought', signature: 'EqoB' }, ...answer.content] }]), makeTarget('gemini', 'gemini-3-pro-preview'));
    assert.deepEqual(body.contents[1].parts, [{ text: textPart.text, thoughtSignature: textPart.thoughtSignature }]);
  });

  it('Gemini 3 gets the documented bypass signature for a call that came from elsewhere', () => {
    const history: Message[] = [...hello, { role: 'assistant', content: [{ type: 'tool_call', id: 'toolu_01', name: 'f', arguments: '{"a":1}' }] }, { role: 'tool', toolCallId: 'toolu_01', content: 'ok' }];
    const gemini3 = toGeminiRequest(request(history), makeTarget('gemini', 'gemini-3-pro-preview'));
    assert.equal(gemini3.contents[1].parts[0].thoughtSignature, SKIP_SIGNATURE_VALIDATION);
    const gemini25 = toGeminiRequest(request(history), target);
    assert.equal(gemini25.contents[1].parts[0].thoughtSignature, undefined);
  });
});
