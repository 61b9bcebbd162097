import test from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { readFixtureText } from '../testing/fixtures.ts';
import { SseParser } from '../canonical/sse.ts';
import { pipeRelay, primeRelay } from './relay-stream.ts';
import { ChatStreamTap } from './openai/usage-tap.ts';
import { SecretMasker } from './secrets.ts';
import type { Deployment } from './types.ts';

const deployment = { id: 'openai:gpt-4o-mini#0', providerName: 'openai' } as Deployment;

/** What a client reads: the bytes the relay wrote. */
function fakeClient() {
  const written: string[] = [];
  const res = {
    socket: null,
    destroyed: false,
    write(piece: string | Buffer) {
      written.push(piece.toString());
      return true;
    },
  };
  return { res: res as unknown as ServerResponse, text: () => written.join('') };
}

/** Relay `chunks` as the upstream's body (the gateway asked for usage: `rewrite` when the client did not). */
async function relay(chunks: Buffer[], rewrite: boolean) {
  const tap = new ChatStreamTap(rewrite);
  const primed = await primeRelay({ statusCode: 200, headers: {}, body: Readable.from(chunks) as never }, tap, deployment, rewrite, new AbortController().signal);
  const client = fakeClient();
  const outcome = await pipeRelay(primed, { res: client.res, masker: new SecretMasker([]), errorEvent: () => 'data: {"error":{}}\n\n' });
  return { outcome, tap, text: client.text() };
}

function eventsOf(text: string): string[] {
  const parser = new SseParser();
  return parser.end(parser.push(text)).map((e) => e.data);
}

/** The body cut at the given byte offsets. */
function cut(body: Buffer, at: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, body.length]) {
    chunks.push(body.subarray(from, to));
    from = to;
  }
  return chunks;
}

const recorded = Buffer.from(readFixtureText('openai/chat-stream-tool-call-include-usage.response.sse'));
const recordedEvents = eventsOf(recorded.toString());
// What a client that did not ask for usage gets: no usage chunk, no "usage":null.
const expected = recordedEvents.filter((d) => !d.includes('"prompt_tokens"')).map((d) => d.replaceAll(',"usage":null', ''));

test('a client that did not ask for usage gets the recorded stream without the usage chunk and "usage":null, wherever the chunks are cut', async () => {
  assert.ok(recorded.includes(',"usage":null') && recordedEvents.some((d) => d.includes('"prompt_tokens"')), 'the recording carries what is taken out');
  const expectedText = expected.map((d) => `data: ${d}\n\n`).join('');
  for (let at = 1; at < recorded.length; at++) {
    const { text, tap, outcome } = await relay(cut(recorded, [at]), true);
    assert.equal(text, expectedText, `cut at byte ${at}`);
    assert.ok(tap.usage && tap.usage.inputTokens > 0, `cut at byte ${at}: usage read`);
    assert.equal(outcome.error, undefined);
  }
  const everyByte = Array.from({ length: recorded.length - 1 }, (_, i) => i + 1);
  assert.equal((await relay(cut(recorded, everyByte), true)).text, expectedText, 'a byte at a time');
});

test('a client that asked for usage gets the recorded bytes as they came', async () => {
  for (const at of [1, 100, 1000, recorded.length - 3]) {
    const { text } = await relay(cut(recorded, [at]), false);
    assert.equal(text, recorded.toString(), `cut at byte ${at}`);
  }
});

test('CR line endings, comments and an event of several data lines are still relayed event for event when rewriting', async () => {
  const crlf = Buffer.from(recorded.toString().replaceAll('\n', '\r\n'));
  for (const at of [1, 7, 500, crlf.length - 2]) {
    const { text } = await relay(cut(crlf, [at]), true);
    assert.deepEqual(eventsOf(text), expected, `CRLF, cut at byte ${at}`);
  }
  const first = recordedEvents[0];
  const usageChunk = recordedEvents.find((d) => d.includes('"prompt_tokens"'))!;
  const spread = usageChunk.replace('"usage":', '\n"usage":').split('\n');
  const odd = `: keep-alive\n\ndata: ${first}\n\ndata: ${spread[0]}\ndata: ${spread[1]}\n\ndata: [DONE]\n\n`;
  const { text, tap } = await relay(cut(Buffer.from(odd), [20]), true);
  assert.deepEqual(eventsOf(text), [first.replaceAll(',"usage":null', ''), '[DONE]']);
  assert.ok(tap.usage && tap.usage.outputTokens > 0, 'the usage of an event of two data lines is read');
});

test('a last event without its blank line is still sent, and a stream cut before its end says so', async () => {
  const whole = recorded.toString().trimEnd();
  const { text, outcome } = await relay([Buffer.from(whole)], true);
  assert.deepEqual(eventsOf(text), expected);
  assert.equal(outcome.error, undefined);
  const half = recorded.subarray(0, Math.floor(recorded.length / 2));
  const broken = await relay([half], true);
  assert.equal(broken.outcome.error?.code, 'upstream_invalid_response');
  assert.match(broken.text, /data: \{"error"/);
});
