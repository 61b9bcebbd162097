// Provider secrets never leave the gateway, whatever their shape and however an upstream
// echoes them: a fake upstream repeats the credential it received in a JSON error body,
// a plain-text body, a header-shaped line, a response header, a mid-stream error event,
// and in Anthropic's and Gemini's own error formats. The client never sees it (body or
// headers), and no log line carries it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { GATEWAY_KEY } from './support/stack.ts';

// Shapes the pattern-based redaction does not know.
const OPENAI_KEY = 'az9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const HEADER_SECRET = 'org-hdr-5e4d3c2b1a0z9y8x7w';
const ANTHROPIC_KEY = 'claude-eu-7d6c5b4a392817069f8e';
const GEMINI_KEY = 'gm-0a1b2c3d4e5f6a7b8c9d0e';
const SECRETS = [OPENAI_KEY, HEADER_SECRET, ANTHROPIC_KEY, GEMINI_KEY];

/** What the credential looked like on arrival, the way each provider receives it. */
function credentialsOf(req: IncomingMessage): string {
  const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  return [bearer, req.headers['x-org-token'], req.headers['x-api-key'], req.headers['x-goog-api-key']].filter(Boolean).join(' / ');
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  const said = credentialsOf(req);
  const shape = String(req.headers['x-echo'] ?? '');
  const sse = (frames: string[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(frames.join(''));
  };
  const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'az-chat', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  switch (shape) {
    case 'json':
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${said}.`, type: 'invalid_request_error', param: said, code: `bad_key_${said}` } }));
    case 'text':
      res.writeHead(500, { 'content-type': 'text/plain' });
      return void res.end(`internal failure while checking credential ${said}`);
    case 'header-shaped':
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': OPENAI_KEY });
      return void res.end(JSON.stringify({ error: { message: `Rate limited. Request had Authorization: Bearer ${said}` } }));
    case 'stream-error':
      return sse([chunk('Hello'), `data: ${JSON.stringify({ error: { message: `key ${said} was revoked mid-stream`, type: 'server_error' } })}\n\n`, 'data: [DONE]\n\n']);
    case 'anthropic':
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${said}` } }));
    case 'anthropic-stream':
      return sse([
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 5, output_tokens: 1 } } })}\n\n`,
        `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: `overloaded for key ${said}` } })}\n\n`,
      ]);
    case 'gemini':
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { code: 400, message: `API key not valid: ${said}`, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', metadata: { key: said } }] } }));
    case 'gemini-stream':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.end(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] } }], modelVersion: 'gemini-2.5-flash' })}\n\n${JSON.stringify({ error: { code: 500, message: `internal error for ${said}`, status: 'INTERNAL' } })}\n`);
    default:
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no such echo shape '${shape}'` } }));
  }
}

let upstream: Server;
let gw: TestGateway;
const logLines: string[] = [];

before(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.once('end', () => echo(req, res));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startGateway({
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, SWITCHYARD_LOG_LEVEL: 'debug' },
    overrides: { logDestination: { write: (line: string) => void logLines.push(line) } },
    yaml: `
providers:
  azure-east: { kind: openai, base_url: ${url}/v1, api_key: ${OPENAI_KEY}, headers: { x-org-token: ${HEADER_SECRET} }, forward_headers: [x-echo] }
  claude-eu: { kind: anthropic, base_url: ${url}, api_key: ${ANTHROPIC_KEY}, forward_headers: [x-echo] }
  gem: { kind: gemini, base_url: ${url}, api_key: ${GEMINI_KEY}, forward_headers: [x-echo] }
models:
  az-chat: { provider: azure-east, endpoints: [chat, responses], context_window: 32768, pricing: { input: 1, output: 1 } }
  claude-sonnet-4-5: { provider: claude-eu }
  gemini-2.5-flash: { provider: gem }
`,
  });
});
after(async () => {
  await gw.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** The whole answer as a client receives it: status, every header, the body. */
async function call(path: string, body: unknown, shape: string): Promise<{ status: number; headers: string; text: string }> {
  const res = await fetch(`${gw.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json', 'x-echo': shape, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: JSON.stringify([...res.headers]), text };
}

function assertNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} carries a provider secret: ${text.slice(0, 400)}`);
}

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
const cases: Array<[string, string, unknown, string, number]> = [
  ['relayed chat, JSON error body (message, param, code)', '/chat/completions', chat('az-chat'), 'json', 401],
  ['relayed chat, plain-text error body', '/chat/completions', chat('az-chat'), 'text', 500],
  ['relayed chat, header-shaped value and a response header', '/chat/completions', chat('az-chat'), 'header-shaped', 429],
  ['relayed chat stream, in-band error event', '/chat/completions', chat('az-chat', true), 'stream-error', 200],
  ['translated Responses call, JSON error body', '/responses', { model: 'az-chat', input: 'hi' }, 'json', 401],
  ['translated chat to Claude, Anthropic error body', '/chat/completions', chat('claude-sonnet-4-5'), 'anthropic', 401],
  ['relayed Messages call, Anthropic error body', '/messages', { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, 'anthropic', 401],
  ['relayed Messages stream, Anthropic error event', '/messages', { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'anthropic-stream', 200],
  ['translated chat stream to Claude, Anthropic error event', '/chat/completions', chat('claude-sonnet-4-5', true), 'anthropic-stream', 200],
  ['relayed count_tokens, Anthropic error body', '/messages/count_tokens', { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }, 'anthropic', 401],
  ['translated chat to Gemini, Google error body', '/chat/completions', chat('gemini-2.5-flash'), 'gemini', 401],
  ['translated chat stream to Gemini, bare error mid-stream', '/chat/completions', chat('gemini-2.5-flash', true), 'gemini-stream', 200],
];

for (const [label, path, body, shape, status] of cases) {
  test(`${label}: the client never sees a provider secret`, async () => {
    const got = await call(path, body, shape);
    assert.equal(got.status, status, got.text);
    assertNoSecret('the body', got.text);
    assertNoSecret('the headers', got.headers);
    assert.match(got.text, /\*\*\*/, 'the secret was there, and masked');
  });
}

test('the SDKs see the masked error, with the provider named as configured', async () => {
  const openai = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const err = await openai.chat.completions.create({ model: 'az-chat', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-echo': 'json' } }).catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
  assert.match(err.message, /Provider azure-east/);
  assert.equal(err.headers?.get('x-switchyard-error-source'), 'provider:azure-east');
  assertNoSecret('the SDK error', `${err.message} ${err.code} ${err.param}`);

  const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const aerr = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-echo': 'anthropic' } }).catch((e: unknown) => e);
  assert.ok(aerr instanceof Anthropic.APIError, String(aerr));
  assert.equal(aerr.headers?.get('x-switchyard-error-source'), 'provider:claude-eu');
  assertNoSecret('the Anthropic SDK error', aerr.message);
});

test('no log line carries a provider secret, whatever logged it', async () => {
  gw.gateway.log.error({ detail: `upstream said ${OPENAI_KEY}`, nested: { header: HEADER_SECRET } }, `failure with ${ANTHROPIC_KEY} and ${GEMINI_KEY}`);
  const last = logLines[logLines.length - 1];
  assert.match(last, /failure with \*\*\* and \*\*\*/);
  assert.match(last, /upstream said \*\*\*/);
  for (const line of logLines) assertNoSecret('a log line', line);
});
