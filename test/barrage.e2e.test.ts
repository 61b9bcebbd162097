// A barrage of malformed requests over every endpoint and method: bad JSON, a wrong
// type in every top-level field, deep nesting in every field, huge headers, bad
// methods, paths and content types, empty and truncated bodies. Every one must be a
// 4xx in the envelope its SDK parses (Anthropic's under /v1/messages, OpenAI's
// elsewhere) that says not to retry, nothing refused may be billed, and the server
// must be healthy afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';

const MASTER_KEY = 'sy-barrage-master-key-0001';

let stack: Stack;
before(async () => {
  stack = await startStack({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY },
    providersFor: (url) => `
  anthropic: { base_url: ${url}, api_key: k-anthropic }`,
  });
});
after(() => stack.close());

interface Shot {
  what: string;
  path: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
}

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
const SAMPLES: Record<Kind, unknown> = { string: 'x', number: 1.5, integer: 3, boolean: true, array: [], object: {} };

/** A valid request per endpoint (on a translated route, where the gateway parses all of it), and its fields' types. */
const ENDPOINTS: Array<{ path: string; valid: Record<string, unknown>; fields: Record<string, Kind[]> }> = [
  {
    path: '/v1/chat/completions',
    valid: { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] },
    fields: { model: ['string'], messages: ['array'], temperature: ['number', 'integer'], top_p: ['number', 'integer'], max_tokens: ['integer'], max_completion_tokens: ['integer'], stream: ['boolean'], stop: ['string', 'array'], tools: ['array'], tool_choice: ['string', 'object'], response_format: ['object'], n: ['integer'], reasoning_effort: ['string'] },
  },
  {
    path: '/v1/responses',
    valid: { model: 'claude-haiku-4-5', input: 'hi' },
    fields: { model: ['string'], input: ['string', 'array'], instructions: ['string'], max_output_tokens: ['integer'], temperature: ['number', 'integer'], stream: ['boolean'], tools: ['array'], reasoning: ['object'], text: ['object'] },
  },
  {
    path: '/v1/messages',
    valid: { model: 'gpt-5.4-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
    fields: { model: ['string'], max_tokens: ['integer'], messages: ['array'], system: ['string', 'array'], temperature: ['number', 'integer'], stream: ['boolean'], stop_sequences: ['array'], tools: ['array'], tool_choice: ['object'] },
  },
  {
    path: '/v1/messages/count_tokens',
    valid: { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] },
    fields: { model: ['string'], messages: ['array'], system: ['string', 'array'], tools: ['array'] },
  },
  {
    path: '/v1/embeddings',
    valid: { model: 'text-embedding-3-small', input: 'hi' },
    fields: { model: ['string'], input: ['string', 'array'], dimensions: ['integer'], encoding_format: ['string'] },
  },
];

const deep = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

function modelCallShots(): Shot[] {
  const shots: Shot[] = [];
  const post = (path: string, what: string, body: string, headers: Record<string, string> = {}) =>
    shots.push({ what, path, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  for (const { path, valid, fields } of ENDPOINTS) {
    for (const [field, kinds] of Object.entries(fields)) {
      for (const [kind, sample] of Object.entries(SAMPLES)) {
        const fits = kinds.includes(kind as Kind) || (kind === 'integer' && kinds.includes('number'));
        if (!fits) post(path, `${field}: ${kind}`, JSON.stringify({ ...valid, [field]: sample }));
      }
      post(path, `${field} nested 200 deep`, JSON.stringify({ ...valid, [field]: deep(200) }));
    }
    post(path, 'nested 100k deep', `{"model":"x","messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const text = JSON.stringify(valid);
    for (const cut of [1, 5, Math.floor(text.length / 2), text.length - 1]) post(path, `truncated at ${cut}`, text.slice(0, cut));
    for (const bad of ['', ' ', 'null', '[]', '"x"', '42', 'true', '{"model":}', '{model: "x"}', "{'a':1}", '{"a":1,}', '\u0000', '{"a":"\ud800"']) post(path, `body ${JSON.stringify(bad)}`, bad);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      post(path, `content-type ${type}`, text, { 'content-type': type });
    }
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) shots.push({ what: `method ${method}`, path, method });
  }
  return shots;
}

function otherShots(): Shot[] {
  const shots: Shot[] = [];
  for (const path of ['/v1/chat', '/v1/chat/completions/x', '/v2/models', '/v1/messages/batches', '/v1/messages/x/y', '/v1/models/%ZZ', '/v1/models/%', '/%00', '/v1/..%2f..%2fetc', `/v1/${'a'.repeat(8_000)}`, '/v1/embeddings/1', '/chat/completions', '/admin/nothing']) {
    shots.push({ what: `path ${path.slice(0, 40)}`, path, method: 'GET' }, { what: `POST path ${path.slice(0, 40)}`, path, method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    shots.push({ what: `${method} /v1/models`, path: '/v1/models', method }, { what: `${method} /v1/models/id`, path: '/v1/models/gpt-5.4-mini', method });
  }
  // The admin API, with its key: bad bodies of every kind.
  const admin = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
  for (const path of ['/admin/keys', '/admin/projects', '/admin/budgets']) {
    for (const body of ['', '{', '[1]', '"x"', JSON.stringify({ name: 5 }), JSON.stringify({ name: 'n', metadata: deep(500) }), `{"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`]) {
      shots.push({ what: `admin ${path} ${body.slice(0, 30)}`, path, method: 'POST', body, headers: admin });
    }
  }
  return shots;
}

function isAnthropicPath(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages/');
}

async function fire(shot: Shot): Promise<void> {
  const headers = { authorization: `Bearer ${GATEWAY_KEY}`, ...shot.headers };
  const res = await fetch(stack.gw.origin + shot.path, { method: shot.method, headers, body: shot.body });
  const label = `${shot.method} ${shot.path.slice(0, 60)} (${shot.what})`;
  const text = await res.text();
  assert.ok(res.status >= 400 && res.status < 500, `${label}: status ${res.status} ${text.slice(0, 200)}`);
  assert.equal(res.headers.get('x-should-retry'), 'false', `${label}: x-should-retry`);
  if (shot.method === 'HEAD') return;
  assert.equal(res.headers.get('content-type'), 'application/json', label);
  const body = JSON.parse(text);
  if (isAnthropicPath(shot.path)) {
    assert.equal(body.type, 'error', `${label}: Anthropic envelope ${text.slice(0, 120)}`);
    assert.equal(typeof body.error?.type, 'string', label);
    assert.ok(body.error.message.length > 20, `${label}: ${body.error.message}`);
  } else {
    assert.equal(typeof body.error?.type, 'string', `${label}: OpenAI envelope ${text.slice(0, 120)}`);
    assert.equal(typeof body.error.code, 'string', label);
    assert.ok(body.error.message.length > 20, `${label}: ${body.error.message}`);
  }
}

test('hundreds of malformed requests: every one a 4xx in its SDK\'s envelope, none billed, the server healthy', async () => {
  const shots = [...modelCallShots(), ...otherShots()];
  assert.ok(shots.length >= 400, `${shots.length} requests`);
  const rowsBefore = stack.gw.ledger.entries.length;
  const failures: string[] = [];
  const tryShot = (shot: Shot) => fire(shot).catch((err: Error) => { failures.push(err.message.split('\n')[0]); });
  for (let i = 0; i < shots.length; i += 25) await Promise.all(shots.slice(i, i + 25).map(tryShot));
  assert.deepEqual(failures, []);
  // Headers too large, on every endpoint: answered by the HTTP layer.
  for (const { path } of ENDPOINTS) {
    const res = await fetch(stack.gw.origin + path, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'x-big': 'a'.repeat(100_000) }, body: '{}' });
    assert.equal(res.status, 431, path);
    assert.equal((await res.json()).error.code, 'headers_too_large');
  }
  await stack.gw.ledger.flush();
  const billed = stack.gw.ledger.entries.slice(rowsBefore).filter((e) => e.costUsd !== 0 || e.usage.inputTokens !== 0 || e.usage.outputTokens !== 0);
  assert.deepEqual(billed.map((e) => `${e.endpoint} ${e.status} ${e.errorCode}`), [], 'no refused request is billed');
  assert.equal((await fetch(`${stack.gw.origin}/healthz`)).status, 200);
  const ok = await stack.client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'still there?' }] });
  assert.match(ok.choices[0].message.content ?? '', /still there/);
});
