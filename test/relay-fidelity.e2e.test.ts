// A relay route passes what the gateway does not need to understand as it came; only a
// translated route refuses it, naming the field, the type and the models that take it.
// Driven with the requests real clients send: Codex CLI's /v1/responses call (tools of
// type namespace and web_search), Claude Code's system messages inside `messages`
// (the mid-conversation-system beta), through the official SDKs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { ledgerRow } from './support/gateway.ts';
import { readFixtureJson } from '../src/testing/fixtures.ts';

let stack: Stack;
let anthropic: Anthropic;
before(async () => {
  stack = await startStack({
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: k-anthropic, forward_headers: [x-mock-*] }
  gemini: { base_url: ${url}, api_key: k-gemini }`,
  });
  anthropic = new Anthropic({ baseURL: stack.gw.origin, apiKey: GATEWAY_KEY, maxRetries: 0 });
});
after(() => stack.close());

async function rejects<T extends Error>(promise: Promise<unknown>, kind: new (...args: any[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${(err as Error).constructor.name}: ${(err as Error).message}`);
    return err;
  }
  assert.fail(`expected ${kind.name}, but the call succeeded`);
}

/** The body of the last upstream request to a path ending in `suffix`, and how many went there. */
function upstreamRequests(suffix: string): { count: number; last: any } {
  const matching = stack.mock.requests.filter((r) => r.path.split('?')[0].endsWith(suffix));
  return { count: matching.length, last: matching.at(-1) };
}

/** Codex CLI's default /v1/responses request: function, namespace (MCP) and web_search tools. */
function codexRequest(model: string): Record<string, any> {
  return {
    model,
    instructions: 'You are Codex, a coding agent running in a terminal.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions instructions>sandbox: workspace-write</permissions instructions>' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context><cwd>/work</cwd></environment_context>' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hi' }] },
    ],
    tools: [
      { type: 'function', name: 'shell_command', description: 'Runs a shell command.', strict: false, parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'], additionalProperties: false } },
      { type: 'namespace', name: 'mcp__docs__', description: 'Tools of the docs MCP server.', tools: [{ type: 'function', name: 'search', description: 'Search the docs.', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] },
      { type: 'web_search', external_web_access: false },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    stream: true,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '019a2f1e-codex-session',
    text: { verbosity: 'low' },
  };
}

test('Codex CLI: namespace and web_search tools are relayed to an OpenAI Responses model exactly as they came', async () => {
  const body = codexRequest('gpt-5.4');
  const res = await fetch(`${stack.gw.baseURL}/responses`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  const text = await res.text();
  assert.match(text, /event: response\.completed/);
  const received = upstreamRequests('/responses').last.body;
  assert.equal(JSON.stringify(received.tools), JSON.stringify(body.tools), 'tools byte-equal in JSON');
  assert.equal(JSON.stringify(received.input), JSON.stringify(body.input));
  const { model: _m, ...sent } = body;
  const { model: _u, ...got } = received;
  assert.deepEqual(got, sent, 'every other field as it came');
  const row = await ledgerRow(stack.gw.ledger, res.headers.get('x-request-id')!);
  assert.equal(row.status, 200);
  assert.ok(row.usage.inputTokens > 0);
});

for (const model of ['claude-haiku-4-5', 'gemini-2.5-flash', 'local-llama']) {
  test(`Codex CLI: to ${model} (translated) the namespace tool is a 400 unsupported_tool_type naming the models that take it`, async () => {
    const client = new OpenAI({ baseURL: stack.gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
    const before = stack.mock.requests.length;
    const err = await rejects(client.responses.create(codexRequest(model) as never), OpenAI.BadRequestError);
    assert.equal(err.code, 'unsupported_tool_type');
    assert.equal(err.param, 'tools[1].type');
    assert.match(err.message, /tools\[1\]\.type 'namespace' can only be relayed to an OpenAI Responses model such as gpt-5\.5, /);
    assert.match(err.message, new RegExp(`'${model}' is served by \\w+ through translation`));
    assert.equal(err.headers.get('x-switchyard-error-source'), 'gateway');
    assert.equal(stack.mock.requests.length, before, 'nothing was sent upstream');
    const row = await ledgerRow(stack.gw.ledger, err.headers.get('x-request-id')!);
    assert.equal(row.status, 400);
    assert.equal(row.errorCode, 'unsupported_tool_type');
    assert.equal(row.costUsd, 0, 'nothing billed');
  });
}

test('a value the gateway does not need is left to the provider on a relay route, refused by a translation', async () => {
  const client = new OpenAI({ baseURL: stack.gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const request = { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot', tools: [{ type: 'custom', custom: { name: 'grammar', format: { type: 'text' } } }] };
  await client.chat.completions.create(request as never);
  const received = upstreamRequests('/chat/completions').last.body;
  assert.equal(received.temperature, 'hot');
  assert.deepEqual(received.tools, request.tools);
  const toolErr = await rejects(client.chat.completions.create({ ...request, model: 'claude-haiku-4-5' } as never), OpenAI.BadRequestError);
  assert.equal(toolErr.param, 'tools[0].type');
  assert.match(toolErr.message, /'custom' can only be relayed to an OpenAI-compatible Chat Completions model such as gpt-5\.5/);
  const { tools: _tools, ...withoutTools } = request;
  const err = await rejects(client.chat.completions.create({ ...withoutTools, model: 'claude-haiku-4-5' } as never), OpenAI.BadRequestError);
  assert.equal(err.param, 'temperature');
  assert.match(err.message, /Invalid value for 'temperature': expected a number from 0 to 2/);
});

const MID_CONVERSATION = 'mid-conversation-system-2026-04-07';
/** Claude Code's shape: a system message inside `messages`, after the first user turn. */
const claudeCodeMessages = [
  { role: 'user', content: [{ type: 'text', text: 'List the files' }] },
  { role: 'system', content: 'The user switched to plan mode.' },
  { role: 'user', content: 'Now say hi' },
] as unknown as Anthropic.MessageParam[];

test('Claude Code: system messages inside messages are relayed to Claude as they came, with the beta header', async () => {
  const params = { model: 'claude-haiku-4-5', max_tokens: 64, system: 'You are Claude Code.', messages: claudeCodeMessages };
  const message = await anthropic.messages.create(params, { headers: { 'anthropic-beta': MID_CONVERSATION } });
  assert.equal(message.type, 'message');
  const { last } = upstreamRequests('/v1/messages');
  assert.equal(last.headers['anthropic-beta'], MID_CONVERSATION);
  assert.equal(JSON.stringify(last.body.messages), JSON.stringify(params.messages));
});

test('Claude Code: to an OpenAI model the system message keeps its place in the chat messages', async () => {
  const { data, response } = await anthropic.messages
    .create({ model: 'gpt-5.4-mini', max_tokens: 64, system: 'You are Claude Code.', messages: claudeCodeMessages }, { headers: { 'anthropic-beta': MID_CONVERSATION } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.match(data.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), /say hi/);
  const sent = upstreamRequests('/chat/completions').last.body;
  assert.deepEqual(sent.messages.map((m: any) => m.role), ['system', 'user', 'system', 'user']);
  assert.equal(sent.messages[2].content, 'The user switched to plan mode.');
});

test('Claude Code: to a Gemini model the system message moves into systemInstruction, with a warning', async () => {
  const { data, response } = await anthropic.messages
    .create({ model: 'gemini-2.5-flash', max_tokens: 64, system: 'You are Claude Code.', messages: claudeCodeMessages }, { headers: { 'anthropic-beta': MID_CONVERSATION } })
    .withResponse();
  assert.equal(data.type, 'message');
  const sent = upstreamRequests(':generateContent').last.body;
  assert.deepEqual(sent.systemInstruction.parts.map((p: any) => p.text), ['You are Claude Code.', 'The user switched to plan mode.']);
  assert.ok(sent.contents.every((c: any) => c.role === 'user' || c.role === 'model'));
  assert.match(response.headers.get('x-switchyard-warnings') ?? '', /systemInstruction/);
});

test('a translated /v1/messages stream reports the counted prompt tokens in message_start, the provider numbers at the end', async () => {
  const stream = anthropic.messages.stream({ model: 'gpt-5.4-mini', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Count my tokens, please, all of them.' }] });
  let startInput: number | undefined;
  stream.on('streamEvent', (event) => {
    if (event.type === 'message_start') startInput = event.message.usage.input_tokens;
  });
  const final = await stream.finalMessage();
  const { response } = await stream.withResponse();
  assert.ok(startInput !== undefined && startInput > 10, `message_start input_tokens: ${startInput}`);
  const row = await ledgerRow(stack.gw.ledger, response.headers.get('x-request-id')!);
  assert.equal(final.usage.input_tokens, row.usage.inputTokens, 'the final usage is the provider-reported one, as billed');
  assert.ok(Math.abs(startInput! - final.usage.input_tokens) <= 8, `the gateway count ${startInput} is close to the provider's ${final.usage.input_tokens}`);
});

test('invalid base64 in an image data URL is refused on every route, naming the field', async () => {
  const client = new OpenAI({ baseURL: stack.gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  const before = stack.mock.requests.length;
  const content = [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,@@@' } }];
  for (const model of ['gpt-5.4-mini', 'claude-haiku-4-5']) {
    const err = await rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content }] } as never), OpenAI.BadRequestError);
    assert.equal(err.param, 'messages[0].content[1].image_url.url', model);
    assert.match(err.message, /not valid base64/);
  }
  const err = await rejects(anthropic.messages.create({
    model: 'claude-haiku-4-5', max_tokens: 16,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'not base64!' } }] }],
  }), Anthropic.BadRequestError);
  assert.match(err.message, /messages\[0\]\.content\[0\]\.source\.data/);
  assert.equal(stack.mock.requests.length, before, 'nothing was sent upstream');
});

test('embeddings: input [1.5] is a 400 naming input; token arrays and strings pass', async () => {
  const client = new OpenAI({ baseURL: stack.gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  for (const input of [[1.5], [1, -2], [[1, 2], [0.5]]]) {
    const err = await rejects(client.embeddings.create({ model: 'text-embedding-3-small', input } as never), OpenAI.BadRequestError);
    assert.match(err.param ?? '', /^input(\[1\])?$/, JSON.stringify(input));
  }
  for (const input of ['hi', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input } as never);
    assert.ok(res.data.length >= 1, JSON.stringify(input));
  }
});

// Requests recorded from the real clients (fixtures/clients/), replayed as they were sent.
interface RecordedClientRequest {
  path: string;
  /** How the client sent its key: "x-api-key", or {header, format}. */
  auth: string | { header: string };
  headers: Record<string, string>;
  body: Record<string, any>;
}

async function replay(name: string, change: Record<string, unknown> = {}): Promise<{ res: Response; text: string; sent: Record<string, any> }> {
  const recorded = readFixtureJson<RecordedClientRequest>(`clients/${name}.request.json`);
  const sent = { ...recorded.body, ...change };
  const { 'accept-encoding': _encoding, ...headers } = recorded.headers;
  const authHeader = typeof recorded.auth === 'string' ? recorded.auth.split(':')[0] : recorded.auth.header;
  const auth: Record<string, string> = authHeader.toLowerCase() === 'x-api-key' ? { 'x-api-key': GATEWAY_KEY } : { authorization: `Bearer ${GATEWAY_KEY}` };
  const res = await fetch(`${stack.gw.origin}${recorded.path}`, { method: 'POST', headers: { ...headers, ...auth }, body: JSON.stringify(sent) });
  return { res, text: await res.text(), sent };
}

test('recorded Codex CLI request: relayed to gpt-5.4-mini with its namespace and web_search tools byte-equal', async () => {
  const { res, text, sent } = await replay('codex-exec');
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(text, /event: response\.completed/);
  const received = upstreamRequests('/responses').last.body;
  assert.ok(sent.tools.some((t: any) => t.type === 'namespace') && sent.tools.some((t: any) => t.type === 'web_search'));
  assert.equal(JSON.stringify(received.tools), JSON.stringify(sent.tools));
  assert.equal(JSON.stringify(received.input), JSON.stringify(sent.input));
});

test('recorded Codex CLI request: to a Claude model a 400 naming the namespace tool and the models that take it', async () => {
  const { res, text } = await replay('codex-exec', { model: 'claude-sonnet-4-5' });
  assert.equal(res.status, 400);
  const error = JSON.parse(text).error;
  assert.equal(error.code, 'unsupported_tool_type');
  assert.equal(error.param, 'tools[4].type');
  assert.match(error.message, /'namespace' can only be relayed to an OpenAI Responses model such as gpt-5\.5/);
});

test('recorded Claude Code request (Claude model): relayed as it came, beta header passed on', async () => {
  const before = upstreamRequests('/v1/messages').count;
  const { res, text, sent } = await replay('claude-code-claude-sonnet-4-5');
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(text, /event: message_start/);
  const { count, last } = upstreamRequests('/v1/messages');
  assert.equal(count, before + 1);
  assert.deepEqual(last.body, sent, 'the whole body as it came');
  assert.equal(last.headers['anthropic-beta'], readFixtureJson<RecordedClientRequest>('clients/claude-code-claude-sonnet-4-5.request.json').headers['anthropic-beta']);
});

for (const model of ['gpt-5.4-mini', 'gemini-2.5-flash']) {
  test(`recorded Claude Code request (user, system messages) to ${model}: translated, the system message kept`, async () => {
    const { res, text, sent } = await replay('claude-code-gpt-5.4-mini', { model });
    assert.equal(res.status, 200, text.slice(0, 300));
    assert.match(text, /event: message_stop/);
    const start = /event: message_start\ndata: (.*)\n/.exec(text);
    assert.ok(start && JSON.parse(start[1]).message.usage.input_tokens > 1000, 'message_start counts the long Claude Code prompt');
    const systemText = sent.messages[1].content[0].text as string;
    if (model.startsWith('gpt')) {
      const chat = upstreamRequests('/chat/completions').last.body;
      assert.deepEqual(chat.messages.map((m: any) => m.role), ['system', 'user', 'system']);
      assert.equal(chat.messages[2].content, systemText);
    } else {
      const gemini = upstreamRequests(':streamGenerateContent').last.body;
      assert.ok(gemini.systemInstruction.parts.some((p: any) => p.text === systemText));
      assert.match(res.headers.get('x-switchyard-warnings') ?? '', /systemInstruction/);
    }
  });
}
