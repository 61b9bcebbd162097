// The official Anthropic SDK against a loopback server that speaks through this
// module: requests the SDK builds must parse, and our JSON and SSE must be what
// the SDK's own client and stream accumulator (messages.stream().finalMessage()) read.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../canonical/types.ts';
import { renderAnthropicError } from './errors.ts';
import { parseMessagesRequest } from './request.ts';
import { toMessagesResponse } from './response.ts';
import { MessagesStreamEncoder } from './stream.ts';
import { accumulate, canonicalFromRecordedMessage, canonicalFromRecording, readFixtureJson, readRecordedStream, type Json } from './testing.ts';

interface Reply {
  events?: StreamEvent[];
  response?: CanonicalResponse;
}

let server: Server;
let client: Anthropic;
let reply: Reply = {};
let lastRequest: { headers: IncomingHttpHeaders; canonical?: CanonicalRequest } | undefined;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      lastRequest = { headers: req.headers };
      let request: CanonicalRequest;
      try {
        request = parseMessagesRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        const rendered = renderAnthropicError(error as GatewayError, 'req_test');
        res.writeHead(rendered.status, rendered.headers).end(JSON.stringify(rendered.body));
        return;
      }
      lastRequest.canonical = request;
      if (request.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const encoder = new MessagesStreamEncoder({ model: request.model, stopSequences: request.stop });
        for (const event of reply.events ?? []) res.write(encoder.encode(event));
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(toMessagesResponse(reply.response!, request.model, { stopSequences: request.stop })));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new Anthropic({ apiKey: 'test-gateway-key', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function blocks(message: Json): Json[] {
  return message.content.map((block: Json) => {
    switch (block.type) {
      case 'text': return { type: 'text', text: block.text };
      case 'thinking': return { type: 'thinking', thinking: block.thinking, signature: block.signature };
      case 'redacted_thinking': return { type: 'redacted_thinking', data: block.data };
      case 'tool_use': return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
      default: return block;
    }
  });
}

const STREAMS = [
  'messages-stream-text.jsonl',
  'messages-stream-tool-use.sse',
  'messages-stream-tool-use-json.jsonl',
  'messages-stream-tool-use-no-args.jsonl',
  'messages-stream-thinking.response.sse',
  'messages-stream-redacted-thinking.response.sse',
];

for (const name of STREAMS) {
  test(`SDK stream accumulator over our SSE rebuilds the recorded message (${name})`, async () => {
    const recorded = readRecordedStream(name);
    reply = { events: canonicalFromRecording(recorded) };
    const want = accumulate(recorded);
    const message = await client.messages.stream({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.deepEqual(blocks(message), blocks(want));
    assert.equal(message.stop_reason, want.stop_reason);
    assert.equal(message.model, 'claude-test');
    assert.equal(message.usage.output_tokens, want.usage.output_tokens);
    assert.equal(message.usage.input_tokens, want.usage.input_tokens, 'input tokens reach the SDK through message_delta');
  });
}

test('SDK non-streaming create reads our message object', async () => {
  const recorded = readFixtureJson('messages-thinking-tool-use.response.json');
  reply = { response: canonicalFromRecordedMessage(recorded) };
  const message = await client.messages.create({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
  assert.deepEqual(blocks(message), blocks(recorded));
  assert.equal(message.stop_reason, 'tool_use');
  assert.equal(message.usage.input_tokens, recorded.usage.input_tokens);
});

test('a request built by the SDK parses to the canonical request; the key arrives in x-api-key or Authorization', async () => {
  reply = { response: canonicalFromRecordedMessage(readFixtureJson('messages-text.json')) };
  await client.messages.create({
    model: 'claude-test',
    max_tokens: 2048,
    system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
    thinking: { type: 'enabled', budget_tokens: 1024 },
    tools: [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    stop_sequences: ['END'],
    metadata: { user_id: 'user-7' },
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Use the tool.', signature: 'sig-1' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }] },
    ],
  });
  // Anthropic clients send the key as x-api-key (Claude Code, older SDKs) or, like this SDK, as a bearer token.
  const headers = lastRequest!.headers;
  assert.equal(headers['x-api-key'] ?? headers.authorization?.replace(/^Bearer /, ''), 'test-gateway-key');
  assert.deepEqual(lastRequest!.canonical, {
    model: 'claude-test',
    maxOutputTokens: 2048,
    stream: false,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'Use the tool.', signature: 'sig-1' }, { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { role: 'tool', toolCallId: 'toolu_1', content: '18C' },
    ],
    tools: [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    toolChoice: 'auto',
    parallelToolCalls: false,
    stop: ['END'],
    user: 'user-7',
    reasoningEffort: 'minimal',
  });
});

test('a bad request reaches the SDK as a BadRequestError naming the field', async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: '' } }] }] }),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.equal(error.status, 400);
      assert.match(error.message, /messages\[0\]\.content\[0\]\.source\.data/);
      assert.equal(error.requestID, 'req_test');
      return true;
    },
  );
});

test('a mid-stream error reaches the SDK as an APIError with the Anthropic error type', async () => {
  reply = { events: canonicalFromRecording(readRecordedStream('messages-stream-error-overloaded.sse')) };
  await assert.rejects(
    client.messages.stream({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.match(error.message, /overloaded_error|Overloaded/);
      return true;
    },
  );
});
