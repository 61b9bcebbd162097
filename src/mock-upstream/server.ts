// The mock upstream: a fake OpenAI / Anthropic / Gemini server for trying the
// gateway without a provider key, for tests, and for benchmarks. Plain node:http;
// answers are built once per distinct request body and replayed with fresh ids.
//
// Routes
//   POST /v1/chat/completions, /v1/responses, /v1/embeddings      OpenAI (Bearer key)
//   GET  /v1/models, /v1/models/{id}                               OpenAI; Anthropic's shape when anthropic-version is sent
//   POST /v1/messages, /v1/messages/count_tokens                   Anthropic (x-api-key)
//   POST /v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse]
//        | :embedContent | :batchEmbedContents | :countTokens      Gemini (x-goog-api-key or ?key=); /v1/ also
//   GET  /v1beta/models                                            Gemini model list
//   GET  /healthz                                                  "ok"
//
// Per-request controls (request headers)
//   x-mock-status: <code>             answer with that provider's real error body for the status (>= 400);
//                                     429 carries retry-after (and Gemini's RetryInfo)
//   x-mock-retry-after: <seconds>     the retry-after of a 429 (default: option retryAfterSeconds, 1)
//   x-mock-latency-ms: <ms>           wait this long before the first byte (headers)
//   x-mock-chunk-delay-ms: <ms>       wait this long between stream events
//   x-mock-chunks: <n>                cut the answer text into n stream deltas (filler words are added to reach n)
//   x-mock-fail-after-chunks: <n>     stream: send n events, then destroy the socket (an upstream dying
//                                     mid-stream); non-stream: send the headers and half the body, then destroy
//   x-mock-error-after-chunks: <n>    stream: send n events, then the provider's in-band error (OpenAI chat
//                                     `data: {"error":…}`, Responses `error` + `response.failed`, Anthropic
//                                     `event: error` overloaded_error, Gemini a bare JSON error) and end;
//                                     non-stream: the provider's overloaded error (OpenAI 503, Anthropic 529, Gemini 503)
//   x-mock-fixture: <path>            replay fixtures/<path> byte for byte (a request file or bare
//                                     exchange name plays its response); x-mock-status overrides its status
//   x-mock-cached-tokens: <n>         report n input tokens as read from the provider's prompt cache
//   x-mock-body: truncated|not-json   a 2xx non-stream answer cut in half (content-length matching the cut),
//                                     or an HTML page instead of JSON
//   x-mock-stream-end: no-done|malformed-event
//                                     a stream without its last event ([DONE], response.completed,
//                                     message_stop, Gemini's last chunk), or with a cut-off copy of its second event
//   x-mock-usage: <field>=<json>,…    usage numbers written as that raw JSON text, e.g.
//                                     prompt_tokens="abc",completion_tokens=-1000000 or input_tokens=1e400
//   x-mock-hang: 1                    never answer (for timeout tests); the socket stays open until closed
// Server options --fail-rate / failRate answer a random share of requests with 429/500/503 (Anthropic: 529
// instead of 503); --api-key / apiKey makes requests without that key get the provider's real 401 (Gemini:
// 403 when missing, 400 API_KEY_INVALID when wrong). A client that disconnects stops all writing to it.
//
// What the "model" answers (Echo: <last user text or tool result>, tool calls whose arguments follow the
// tool's JSON Schema, structured output, thinking) and how tokens are counted (o200k) is in content.ts;
// Anthropic's prompt-cache simulation (cache_control) is in anthropic.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixtureLibrary } from './fixture-replay.ts';
import { findRoute, PROVIDERS, type Route } from './routes.ts';
import { openaiBadRequest, openaiNotFoundPath } from './openai.ts';
import { sendReply, type SendControls } from './send.ts';
import { header, type MockRequest, type Reply } from './wire.ts';

const CACHE_MAX_ENTRIES = 2000;
const CACHE_MAX_BODY = 1 << 20;
const CACHE_MAX_BYTES = 64 << 20;
const MAX_BODY_BYTES = 64 << 20;

export interface MockOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  latencyMs?: number;
  chunkDelayMs?: number;
  /** Stream deltas per answer text; default 8. */
  chunks?: number;
  /** Share of requests (0..1) answered with a random 429/500/503. */
  failRate?: number;
  /** When set, requests must carry this key the provider's way. */
  apiKey?: string;
  /** Seconds in the retry-after of 429 answers; default 1. */
  retryAfterSeconds?: number;
  /** Keep the last requests in `requests`; default true. */
  record?: boolean;
  /** How many requests `requests` keeps; default 1000. */
  maxRecorded?: number;
  /** Where x-mock-fixture looks; default the repository's fixtures/. */
  fixturesDir?: string;
  /** Source of randomness for failRate (tests pass a fixed one). */
  random?: () => number;
  /** Called once per finished request (the CLI prints it unless --quiet); a ?key= value in the path is starred. */
  onRequest?: (entry: { method: string; path: string; status: number; ms: number; outcome: 'served' | 'aborted' | 'broken' }) => void;
}

export interface RecordedRequest {
  method: string;
  /** The request target as sent, query string included. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

export interface MockUpstream {
  /** e.g. http://127.0.0.1:4010 (no /v1). */
  url: string;
  port: number;
  /** The last requests received, oldest first (a ring of `maxRecorded`). */
  requests: RecordedRequest[];
  /** Requests answered in full. */
  readonly servedCount: number;
  /** Requests whose client went away before the answer was complete. */
  readonly abortedCount: number;
  /** Requests the mock cut off on purpose (x-mock-fail-after-chunks). */
  readonly brokenCount: number;
  readonly inFlight: number;
  /** Forget recorded requests and cached prompt prefixes, and zero the counters. */
  reset(): void;
  close(): Promise<void>;
}

interface Controls extends SendControls {
  hang: boolean;
  status?: number;
  fixture?: string;
  retryAfter: string;
  chunks: number;
  cachedTokens: number;
}

function numberHeader(req: IncomingMessage, name: string): number | undefined {
  const value = header(req.headers, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

class MockServer implements MockUpstream {
  url = '';
  port = 0;
  requests: RecordedRequest[] = [];
  servedCount = 0;
  abortedCount = 0;
  brokenCount = 0;
  inFlight = 0;
  private readonly server: Server;
  private readonly options: MockOptions;
  private readonly fixtures: FixtureLibrary;
  private readonly replies = new Map<string, Reply>();
  private replyBytes = 0;
  private readonly promptCache = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly broken = new WeakSet<ServerResponse>();
  private readonly markBroken = (res: ServerResponse): void => {
    this.broken.add(res);
  };

  constructor(options: MockOptions) {
    this.options = options;
    this.fixtures = new FixtureLibrary(options.fixturesDir);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.receive(req, res));
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.servedCount = this.abortedCount = this.brokenCount = 0;
    this.promptCache.clear();
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    const started = this.options.onRequest ? performance.now() : 0;
    res.once('close', () => this.settle(req, res, started));
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.once('end', () => {
      const raw = parts.length === 1 ? parts[0].toString() : Buffer.concat(parts).toString();
      this.answer(req, res, raw, size > MAX_BODY_BYTES).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`mock upstream error: ${(err as Error).message}`);
      });
    });
  }

  private settle(req: IncomingMessage, res: ServerResponse, started: number): void {
    this.inFlight--;
    this.hanging.delete(res);
    let outcome: 'served' | 'aborted' | 'broken';
    if (this.broken.has(res)) outcome = 'broken';
    else if (res.writableFinished) outcome = 'served';
    else outcome = 'aborted';
    if (outcome === 'served') this.servedCount++;
    else if (outcome === 'broken') this.brokenCount++;
    else this.abortedCount++;
    // Gemini clients may send their key as ?key=: it never reaches a log line.
    this.options.onRequest?.({ method: req.method ?? 'GET', path: (req.url ?? '/').replace(/([?&]key=)[^&]*/, '$1***'), status: res.statusCode, ms: Math.round(performance.now() - started), outcome });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, raw: string, tooLarge: boolean): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    let body: unknown;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    if (this.options.record !== false) this.remember({ method, path: target, headers: req.headers, body });
    const controls = this.controls(req);
    if (controls.hang) {
      this.hanging.add(res);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const mockReq: MockRequest = { method, path, query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)), headers: req.headers, body, chunks: controls.chunks, cachedTokens: controls.cachedTokens, promptCache: this.promptCache };
    const route = findRoute(method, path, header(req.headers, 'anthropic-version') !== undefined);
    const reply = route ? await this.decide(route, mockReq, raw, controls, badJson, tooLarge) : openaiNotFoundPath(mockReq);
    sendReply(res, reply, controls, route && PROVIDERS[route.provider].requestIdHeader, this.markBroken);
  }

  private async decide(route: Route, req: MockRequest, raw: string, controls: Controls, badJson: boolean, tooLarge: boolean): Promise<Reply> {
    const rules = PROVIDERS[route.provider];
    if (this.options.apiKey !== undefined) {
      const refused = rules.keyCheck(req, this.options.apiKey);
      if (refused) return refused;
    }
    if (controls.fixture !== undefined) {
      const recorded = await this.fixtures.reply(controls.fixture);
      if (!recorded) return openaiBadRequest(`No fixture named '${controls.fixture}' under the fixtures directory (x-mock-fixture).`, null);
      return controls.status === undefined ? recorded : { ...recorded, status: controls.status };
    }
    if (controls.status !== undefined) return rules.error(controls.status, req, controls.retryAfter);
    const failRate = this.options.failRate ?? 0;
    if (failRate > 0) {
      const random = this.options.random ?? Math.random;
      if (random() < failRate) return rules.error(rules.randomFailures[Math.floor(random() * rules.randomFailures.length) % rules.randomFailures.length], req, controls.retryAfter);
    }
    if (tooLarge) return rules.error(413, req, controls.retryAfter);
    if (badJson) return rules.invalidJson(req);
    const reply = this.build(route, req, raw);
    if (controls.errorAfter !== undefined && !reply.frames) return rules.error(rules.overloaded, req, controls.retryAfter);
    return reply;
  }

  /** The route's reply, shared by identical requests (same target, body and content controls). */
  private build(route: Route, req: MockRequest, raw: string): Reply {
    if (!route.reusable || raw.length > CACHE_MAX_BODY) return route.handle(req);
    const key = `${req.method} ${req.path}?${req.query}\n${req.chunks}\n${req.cachedTokens}\n${raw}`;
    const known = this.replies.get(key);
    if (known) return known;
    const reply = route.handle(req);
    if (!reply.cacheable) return reply;
    const bytes = key.length + replySize(reply);
    if (this.replies.size >= CACHE_MAX_ENTRIES || this.replyBytes + bytes > CACHE_MAX_BYTES) {
      this.replies.clear();
      this.replyBytes = 0;
    }
    this.replies.set(key, reply);
    this.replyBytes += bytes;
    return reply;
  }

  private controls(req: IncomingMessage): Controls {
    const status = numberHeader(req, 'x-mock-status');
    const retryAfter = numberHeader(req, 'x-mock-retry-after') ?? this.options.retryAfterSeconds ?? 1;
    const fixture = header(req.headers, 'x-mock-fixture');
    return {
      hang: header(req.headers, 'x-mock-hang') === '1',
      status: status !== undefined && status >= 400 && status <= 599 ? status : undefined,
      fixture: fixture ? fixture.trim() : undefined,
      retryAfter: String(retryAfter),
      chunks: Math.max(1, numberHeader(req, 'x-mock-chunks') ?? this.options.chunks ?? 8),
      cachedTokens: numberHeader(req, 'x-mock-cached-tokens') ?? 0,
      latencyMs: numberHeader(req, 'x-mock-latency-ms') ?? this.options.latencyMs ?? 0,
      chunkDelayMs: numberHeader(req, 'x-mock-chunk-delay-ms') ?? this.options.chunkDelayMs ?? 0,
      failAfter: numberHeader(req, 'x-mock-fail-after-chunks'),
      errorAfter: numberHeader(req, 'x-mock-error-after-chunks'),
      bodyFault: oneOf(header(req.headers, 'x-mock-body'), ['truncated', 'not-json'] as const),
      streamEnd: oneOf(header(req.headers, 'x-mock-stream-end'), ['no-done', 'malformed-event'] as const),
      usage: usageOverrides(header(req.headers, 'x-mock-usage')),
    };
  }

  private remember(request: RecordedRequest): void {
    const cap = this.options.maxRecorded ?? 1000;
    if (cap <= 0) return;
    if (this.requests.length >= cap) this.requests.splice(0, this.requests.length - cap + 1);
    this.requests.push(request);
  }
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return allowed.find((a) => a === value?.trim());
}

/** `prompt_tokens="abc",completion_tokens=-5` -> [["prompt_tokens", '"abc"'], ["completion_tokens", "-5"]]. */
function usageOverrides(value: string | undefined): Array<[string, string]> | undefined {
  if (!value) return undefined;
  const out: Array<[string, string]> = [];
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at).trim();
    if (at > 0 && /^\w+$/.test(field)) out.push([field, pair.slice(at + 1).trim()]);
  }
  return out.length > 0 ? out : undefined;
}

function replySize(reply: Reply): number {
  let size = 0;
  for (const t of reply.frames ?? (reply.body ? [reply.body] : [])) for (const literal of t.literals) size += literal.length;
  return size;
}

/** Start a mock upstream. Listens on 127.0.0.1 and a free port unless told otherwise. */
export async function startMockUpstream(options: MockOptions = {}): Promise<MockUpstream> {
  const mock = new MockServer(options);
  await mock.listen();
  return mock;
}
