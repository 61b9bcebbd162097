// The first request Claude Code and the Codex CLI really send (fixtures/clients/,
// recorded from the binaries; PROVENANCE.md there), replayed byte for byte
// through the gateway: for the model it was recorded with and for a model of the
// other kind (relayed vs translated). This runs where the agents cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFixtureJson } from '../src/testing/fixtures.ts';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

interface ClientRecording {
  client: { name: string; version: string };
  method: string;
  path: string;
  auth: { header: string; format: string };
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const CLAUDE_ON_GPT = 'clients/claude-code-gpt-5.4-mini.request.json';
const CLAUDE_ON_SONNET = 'clients/claude-code-claude-sonnet-4-5.request.json';
const CODEX = 'clients/codex-exec.request.json';

let stack: Stack;
before(async () => {
  stack = await startStack({ providersFor: (url) => `\n  anthropic: { base_url: ${url}, api_key: k-anthropic }` });
});
after(() => stack.close());

/** Sends the recording as the client did, with the test key in the client's auth header. */
async function replay(file: string, model?: string): Promise<{ status: number; text: string; recording: ClientRecording }> {
  const recording = readFixtureJson<ClientRecording>(file);
  const { 'accept-encoding': _encoding, ...headers } = recording.headers;
  headers[recording.auth.header] = recording.auth.format.replace('<key>', GATEWAY_KEY);
  const body = model === undefined ? recording.body : { ...recording.body, model };
  stack.mock.reset();
  const res = await fetch(`${stack.gw.origin}${recording.path}`, { method: recording.method, headers, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), recording };
}

function upstreamBody(path: string): Record<string, unknown> {
  const request = stack.mock.requests.find((r) => r.path.split('?')[0] === path);
  assert.ok(request, `the mock got no request at ${path}; it got: ${stack.mock.requests.map((r) => r.path).join(', ') || 'none'}`);
  return request.body as Record<string, unknown>;
}

function assertAnthropicStreamComplete(status: number, text: string): void {
  assert.equal(status, 200, text.slice(0, 1_000));
  assert.match(text, /^event: message_start$/m);
  assert.match(text, /"type":"text_delta","text":"Echo:|"type":"tool_use"/);
  assert.match(text, /^event: message_stop$/m);
  assert.doesNotMatch(text, /^event: error$/m);
}

test("Claude Code's request for an OpenAI model (system message inside messages) is answered, translated", async () => {
  const { status, text } = await replay(CLAUDE_ON_GPT);
  assertAnthropicStreamComplete(status, text);
  const sent = upstreamBody('/v1/chat/completions');
  assert.equal(sent.model, 'gpt-5.4-mini');
  const roles = (sent.messages as { role: string }[]).map((m) => m.role);
  assert.ok(roles.includes('user') && roles.some((r) => r === 'system' || r === 'developer'), `roles sent upstream: ${roles.join(', ')}`);
});

test("the same Claude Code request for a Claude model is relayed as it came, system message and betas included", async () => {
  const { status, text, recording } = await replay(CLAUDE_ON_GPT, 'claude-sonnet-4-5');
  assertAnthropicStreamComplete(status, text);
  const sent = upstreamBody('/v1/messages');
  assert.deepEqual(sent.messages, recording.body.messages);
  assert.deepEqual(sent.tools, recording.body.tools);
  assert.deepEqual(sent.context_management, recording.body.context_management);
  const upstream = stack.mock.requests.find((r) => r.path.startsWith('/v1/messages'));
  assert.equal(upstream?.headers['anthropic-beta'], recording.headers['anthropic-beta']);
});

test("Claude Code's request for a Claude model is relayed unchanged and answered", async () => {
  const { status, text, recording } = await replay(CLAUDE_ON_SONNET);
  assertAnthropicStreamComplete(status, text);
  const sent = upstreamBody('/v1/messages');
  assert.equal(sent.model, 'claude-sonnet-4-5');
  assert.deepEqual(sent.system, recording.body.system);
  assert.deepEqual(sent.thinking, recording.body.thinking);
});

test("Claude Code's request recorded for a Claude model also works for an OpenAI model", async () => {
  const { status, text } = await replay(CLAUDE_ON_SONNET, 'gpt-5.4-mini');
  assertAnthropicStreamComplete(status, text);
  assert.equal(upstreamBody('/v1/chat/completions').model, 'gpt-5.4-mini');
});

test("Codex CLI's Responses request (namespace and web_search tools) is relayed to OpenAI with its tools intact", async () => {
  const { status, text, recording } = await replay(CODEX);
  assert.equal(status, 200, text.slice(0, 1_000));
  assert.match(text, /"type":"response\.completed"/);
  assert.doesNotMatch(text, /"type":"response\.failed"|^event: error$/m);
  const sent = upstreamBody('/v1/responses');
  assert.equal(sent.model, 'gpt-5.4-mini');
  const types = (sent.tools as { type: string }[]).map((t) => t.type);
  assert.ok(types.includes('namespace') && types.includes('web_search'), `tool types sent upstream: ${types.join(', ')}`);
  assert.deepEqual(sent.tools, recording.body.tools);
});
