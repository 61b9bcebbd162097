// The HTTP layer under the API: malformed framing, requests that never finish, HEAD,
// and paths that do not decode — over raw sockets, as a broken client or an attacker
// would send them. Each gets a status and a JSON envelope, never a bare status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { startGateway } from './support/gateway.ts';
import type { TestGateway } from './support/gateway.ts';
import { spawnGateway } from './support/child-gateway.ts';
import { localModelsYaml, GATEWAY_KEY } from './support/stack.ts';

let mock: MockUpstream;
let gw: TestGateway;
before(async () => {
  mock = await startMockUpstream();
  // Short request time limits, so a request that never completes is refused quickly.
  gw = await startGateway({
    yaml: `${localModelsYaml(mock.url)}server:\n  headers_timeout_ms: 300\n  request_timeout_ms: 600\n`,
    env: { SWITCHYARD_API_KEYS: GATEWAY_KEY },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
}

/** Write the bytes (and keep the socket open), read until the server closes it. */
function raw(bytes: string): Promise<RawAnswer> {
  const { port } = new URL(gw.origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4), closed: true });
    });
    socket.write(bytes);
  });
}

const key = `Authorization: Bearer ${GATEWAY_KEY}\r\n`;

function assertOpenAIEnvelope(answer: RawAnswer, status: number, code: string, what: string): void {
  assert.equal(answer.status, status, `${what}: ${answer.status} ${answer.body}`);
  assert.equal(answer.headers['content-type'], 'application/json', what);
  assert.equal(answer.headers.connection?.toLowerCase(), 'close', what);
  const body = JSON.parse(answer.body);
  assert.equal(body.error.code, code, what);
  assert.equal(typeof body.error.type, 'string', what);
  assert.ok(body.error.message.length > 30, `${what}: the message says something`);
  assert.ok(answer.closed, `${what}: the connection is closed`);
}

test('malformed HTTP framing is answered in the envelope, and the connection closed', async () => {
  const malformed: Array<[string, string, number, string]> = [
    ['Content-Length not a number', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Content-Length: abc\r\n\r\n`, 400, 'malformed_http'],
    ['Content-Length and Transfer-Encoding', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'malformed_http'],
    ['bad chunk size', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400, 'malformed_http'],
    ['invalid method', `G@T /v1/models HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'malformed_http'],
    ['100 KB header', `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['no Host header', `GET /v1/models HTTP/1.1\r\n${key}\r\n`, 400, 'missing_host'],
    ['Expect: bogus', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Expect: bogus\r\nContent-Length: 2\r\n\r\n{}`, 417, 'expectation_failed'],
  ];
  const refusals = gw.gateway.refusals;
  const before = { malformed: refusals.get('malformed_http'), large: refusals.get('headers_too_large'), host: refusals.get('missing_host'), expect: refusals.get('expectation_failed') };
  for (const [what, bytes, status, code] of malformed) {
    const answer = await raw(bytes);
    assertOpenAIEnvelope(answer, status, code, what);
    assert.equal(answer.headers['x-should-retry'], 'false', what);
  }
  // Counted by reason, as refusals (no ledger row: nothing was authenticated).
  assert.equal(refusals.get('malformed_http') - before.malformed, 4);
  assert.equal(refusals.get('headers_too_large') - before.large, 1);
  assert.equal(refusals.get('missing_host') - before.host, 1);
  assert.equal(refusals.get('expectation_failed') - before.expect, 1);
  assert.equal((await fetch(`${gw.origin}/healthz`)).status, 200);
});

test('Expect: bogus on /v1/messages is answered in Anthropic\'s envelope', async () => {
  // The Anthropic SDK adds ?beta=true to the path.
  const answer = await raw(`POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\n${key}Expect: bogus\r\nContent-Length: 2\r\n\r\n{}`);
  assert.equal(answer.status, 417);
  const body = JSON.parse(answer.body);
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /Expect/);
});

test('Expect: 100-continue is still honoured', async () => {
  const body = JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'continue' }] });
  const answer = await raw(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Expect: 100-continue\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  assert.equal(answer.status, 100);
  assert.match(answer.body, /^HTTP\/1\.1 200 OK/);
});

test('a body that never arrives (slow loris) gets 408 in the envelope, and the connection closes', async () => {
  const before = gw.gateway.refusals.get('request_timeout');
  const slow: Array<[string, string]> = [
    ['Content-Length larger than what is sent', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`],
    ['a chunked body that never ends', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"m\r\n`],
    ['headers that never end', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n`],
  ];
  for (const [what, bytes] of slow) {
    const answer = await raw(bytes);
    assertOpenAIEnvelope(answer, 408, 'request_timeout', what);
    assert.match(JSON.parse(answer.body).error.message, /request_timeout_ms/);
  }
  assert.equal(gw.gateway.refusals.get('request_timeout') - before, slow.length, 'each timeout is counted');
  await gw.ledger.flush();
  assert.ok(gw.ledger.entries.every((e) => e.costUsd === 0 || e.status === 200), 'no refused request is billed');
});

test('the request time limit does not cut off a streamed response that lasts longer', async () => {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  // 12 chunks 100 ms apart: the answer takes twice the request time limit.
  const stream = await client.chat.completions.create(
    { model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'a long answer please' }] },
    { headers: { 'x-mock-chunks': '12', 'x-mock-chunk-delay-ms': '100' } },
  );
  let text = '';
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'stop');
  assert.match(text, /a long answer please/);
});

test('HEAD on the model endpoints answers like GET without a body; on POST-only endpoints 405 with Allow', async () => {
  const list = await fetch(`${gw.baseURL}/models`, { method: 'HEAD', headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(list.status, 200);
  assert.equal(list.headers.get('content-type'), 'application/json');
  const get = await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(list.headers.get('content-length'), get.headers.get('content-length'));
  assert.equal((await list.arrayBuffer()).byteLength, 0);
  const one = await fetch(`${gw.baseURL}/models/gpt-5.4-mini`, { method: 'HEAD', headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(one.status, 200);
  const missing = await fetch(`${gw.baseURL}/models/no-such-model`, { method: 'HEAD', headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(missing.status, 404);
  const noKey = await fetch(`${gw.baseURL}/models`, { method: 'HEAD' });
  assert.equal(noKey.status, 401);
  for (const path of ['/chat/completions', '/responses', '/embeddings', '/messages']) {
    const res = await fetch(`${gw.baseURL}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
    assert.equal(res.status, 405, path);
    assert.equal(res.headers.get('allow'), 'POST', path);
  }
  const allowed = await fetch(`${gw.baseURL}/models`, { method: 'DELETE', headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  assert.equal(allowed.status, 405);
  assert.equal(allowed.headers.get('allow'), 'GET, HEAD');
});

test('a model id that does not percent-decode is a 400 naming the problem, not a 500', async () => {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: GATEWAY_KEY, maxRetries: 0 });
  for (const id of ['%ZZ', 'gpt%', '%E0%A4%A']) {
    const res = await fetch(`${gw.baseURL}/models/${id}`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
    assert.equal(res.status, 400, id);
    const body = await res.json();
    assert.equal(body.error.code, 'invalid_model_id');
    assert.match(body.error.message, /percent-encoding/);
  }
  const err = await client.models.retrieve('%ZZ').catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.APIError && err.status !== 500, String(err));
});

/**
 * Declare `declaredMb`, then send the body in 64 KB pieces as fast as the socket takes them
 * (as an upload does) until the answer's head and body have arrived; `keepSending`: go on
 * after it. Resolves with what was read and how long the gateway took to close after the answer.
 */
function uploadTooLarge(origin: string, declaredMb: number, keepSending: boolean): Promise<{ answer: string; closedAfterMs: number }> {
  const { port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const piece = Buffer.alloc(64 * 1024, 'a');
    let answer = '';
    let answeredAt = 0;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      answer += text;
      const head = answer.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? NaN);
      if (!answeredAt && head !== -1 && answer.length - head - 4 >= length) {
        answeredAt = performance.now();
        if (!keepSending) socket.end();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer, closedAfterMs: answeredAt ? performance.now() - answeredAt : NaN }));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${key}Content-Type: application/json\r\nContent-Length: ${declaredMb * 1024 * 1024}\r\n\r\n`);
    const pump = () => {
      while (!socket.destroyed && socket.writable && (keepSending || !answeredAt)) if (!socket.write(piece)) return void socket.once('drain', pump);
    };
    pump();
  });
}

test('a body over the limit, still being uploaded when the 413 goes out: the client reads the 413 every time (the gateway lingers instead of resetting), and the connection then closes', async () => {
  // Its own process: the race (the reset overtaking the answer) needs client and gateway running at once.
  const dir = mkdtempSync(join(tmpdir(), 'sy-linger-'));
  const child = await spawnGateway({ cwd: dir, env: { SWITCHYARD_API_KEYS: GATEWAY_KEY, SWITCHYARD_DB: join(dir, 'db.sqlite') } });
  try {
    // Without the linger about every second try is reset before its answer; with it, one reset
    // was seen in about 1,500 tries here (under load), so one in 40 is let pass.
    const resets: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { answer, closedAfterMs } = await uploadTooLarge(child.origin, 64, false);
      if (answer === '') {
        resets.push(`try ${i + 1}`);
        continue;
      }
      assert.match(answer, /^HTTP\/1\.1 413 /, `try ${i + 1}: ${JSON.stringify(answer.slice(0, 80))}`);
      assert.match(answer, /"code":"request_too_large"/);
      assert.ok(closedAfterMs < 1000, `try ${i + 1}: closed ${closedAfterMs} ms after the answer, once the client stopped`);
    }
    assert.ok(resets.length <= 1, `reset before the answer: ${resets.join(', ')}`);
    // A client that ignores the answer and keeps sending is cut off (within the linger time).
    const { answer, closedAfterMs } = await uploadTooLarge(child.origin, 64, true);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.ok(closedAfterMs < 3000, `closed ${closedAfterMs} ms after the answer`);
  } finally {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
