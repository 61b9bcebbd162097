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
//   x-mock-fixture: <path>            replay shared/fixtures/<path> byte for byte (a request file or bare
//                                     exchange name plays its response); x-mock-status overrides its status
//   x-mock-cached-tokens: <n>         report n input tokens as read from the provider's prompt cache
//   x-mock-hang: 1                    never answer (for timeout tests); the socket stays open until closed
// Server options --fail-rate / failRate answer a random share of requests with 429/500/503 (Anthropic: 529
// instead of 503); --api-key / apiKey makes requests without that key get the provider's real 401 (Gemini:
// 403 when missing, 400 API_KEY_INVALID when wrong). A client that disconnects stops all writing to it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicError, anthropicKeyCheck, countMessageTokens, getAnthropicModel, listAnthropicModels, messages } from './anthropic.ts';
import { FixtureLibrary } from './fixture-replay.ts';
import { batchEmbedContents, countGeminiTokens, embedContent, geminiError, geminiKeyCheck, generateContent, listGeminiModels } from './gemini.ts';
import { chatCompletions } from './openai-chat.ts';
import { responses } from './openai-responses.ts';
import { embeddings, getOpenAIModel, listOpenAIModels, openaiBadRequest, openaiError, openaiKeyCheck, openaiNotFoundPath } from './openai.ts';
import { sendReply, type SendControls } from './send.ts';
import { header, type MockRequest, type Reply, template } from './wire.ts';

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
  /** Where x-mock-fixture looks; default ../shared/fixtures beside the repository. */
  fixturesDir?: string;
  /** Source of randomness for failRate (tests pass a fixed one). */
  random?: () => number;
  /** Called once per finished request (the CLI prints it unless --quiet). */
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
  /** Forget recorded requests and zero the counters. */
  reset(): void;
  close(): Promise<void>;
}

type ProviderName = 'openai' | 'anthropic' | 'gemini';
type Handler = (req: MockRequest) => Reply;

interface Route {
  provider: ProviderName;
  handle: Handler;
  /** Built from the request body alone: the reply can be reused for an identical body. */
  reusable: boolean;
}

interface ProviderRules {
  error(status: number, req: MockRequest, retryAfter: string): Reply;
  keyCheck(req: MockRequest, apiKey: string): Reply | undefined;
  invalidJson(req: MockRequest): Reply;
  requestIdHeader?: string;
  /** Statuses of failRate's random failures. */
  randomFailures: number[];
  /** The non-stream answer to x-mock-error-after-chunks. */
  overloaded: number;
}

const PROVIDERS: Record<ProviderName, ProviderRules> = {
  openai: {
    error: openaiError,
    keyCheck: openaiKeyCheck,
    invalidJson: () => openaiBadRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", null),
    requestIdHeader: 'x-request-id',
    randomFailures: [429, 500, 503],
    overloaded: 503,
  },
  anthropic: {
    error: anthropicError,
    keyCheck: anthropicKeyCheck,
    invalidJson: (req) => ({ ...anthropicError(400, req, '0'), body: template('{"type":"error","error":{"type":"invalid_request_error","message":"There was an error parsing the body of your request: invalid JSON."}}') }),
    requestIdHeader: 'request-id',
    randomFailures: [429, 500, 529],
    overloaded: 529,
  },
  gemini: {
    error: geminiError,
    keyCheck: geminiKeyCheck,
    invalidJson: (req) => geminiError(400, req, '0', 'Invalid JSON payload received. Unexpected token.'),
    randomFailures: [429, 500, 503],
    overloaded: 503,
  },
};

const OPENAI_ROUTES: Record<string, Handler> = { '/v1/chat/completions': chatCompletions, '/v1/responses': responses, '/v1/embeddings': embeddings };
const GEMINI_PATH = /^\/(?:v1beta|v1|v1alpha)\/models\/([^:/]+):([A-Za-z]+)$/;
const CACHE_MAX_ENTRIES = 2000;
const CACHE_MAX_BODY = 1 << 20;
const CACHE_MAX_BYTES = 64 << 20;
const MAX_BODY_BYTES = 64 << 20;

function findRoute(method: string, path: string, anthropicClient: boolean): Route | undefined {
  if (method === 'POST') {
    const openai = OPENAI_ROUTES[path];
    if (openai) return { provider: 'openai', handle: openai, reusable: true };
    if (path === '/v1/messages') return { provider: 'anthropic', handle: messages, reusable: true };
    if (path === '/v1/messages/count_tokens') return { provider: 'anthropic', handle: countMessageTokens, reusable: true };
    const gemini = GEMINI_PATH.exec(path);
    if (gemini) return geminiRoute(gemini[1], gemini[2]);
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (path === '/v1beta/models') return { provider: 'gemini', handle: listGeminiModels, reusable: false };
  if (path === '/v1/models') return anthropicClient ? { provider: 'anthropic', handle: listAnthropicModels, reusable: false } : { provider: 'openai', handle: listOpenAIModels, reusable: false };
  if (path.startsWith('/v1/models/')) {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    return anthropicClient
      ? { provider: 'anthropic', handle: (req) => getAnthropicModel(req, id), reusable: false }
      : { provider: 'openai', handle: (req) => getOpenAIModel(req, id), reusable: false };
  }
  return undefined;
}

function geminiRoute(model: string, method: string): Route | undefined {
  switch (method) {
    case 'generateContent': return { provider: 'gemini', handle: (req) => generateContent(req, model, false), reusable: true };
    case 'streamGenerateContent': return { provider: 'gemini', handle: (req) => generateContent(req, model, true), reusable: true };
    case 'embedContent': return { provider: 'gemini', handle: (req) => embedContent(req, model), reusable: true };
    case 'batchEmbedContents': return { provider: 'gemini', handle: (req) => batchEmbedContents(req, model), reusable: true };
    case 'countTokens': return { provider: 'gemini', handle: countGeminiTokens, reusable: true };
    default: return undefined;
  }
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
  readonly server: Server;
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
    this.options.onRequest?.({ method: req.method ?? 'GET', path: req.url ?? '/', status: res.statusCode, ms: Math.round(performance.now() - started), outcome });
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
    const reply = route ? await this.decide(route, mockReq, raw, controls, badJson || tooLarge) : openaiNotFoundPath(mockReq);
    sendReply(res, reply, controls, route && PROVIDERS[route.provider].requestIdHeader, this.markBroken);
  }

  private async decide(route: Route, req: MockRequest, raw: string, controls: Controls, badBody: boolean): Promise<Reply> {
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
    if (badBody) return rules.invalidJson(req);
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
    };
  }

  private remember(request: RecordedRequest): void {
    const cap = this.options.maxRecorded ?? 1000;
    if (cap <= 0) return;
    if (this.requests.length >= cap) this.requests.splice(0, this.requests.length - cap + 1);
    this.requests.push(request);
  }
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
