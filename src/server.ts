// The HTTP server and its route table.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError, internalError } from './canonical/errors.ts';
import { chatApi, responsesApi, messagesApi, embeddingsApi } from './api/inbound.ts';
import type { InboundApi } from './api/inbound.ts';
import { handleModelCall } from './pipeline.ts';
import { handleReviewPoll } from './review/endpoint.ts';
import { sendError, sendJson } from './http/send.ts';
import { listModels, getModel } from './models-endpoint.ts';
import { handleCountTokens } from './count-tokens.ts';
import { answerOnSocket, clientErrorFor } from './http/client-error.ts';
import { expectationFailed, missingHost } from './http/protocol-errors.ts';
import { presentedKey } from './keys/presented-key.ts';
import type { Gateway } from './gateway.ts';
import type { Principal } from './services.ts';
import { metricsOnGatewayPort } from './observability/metrics-endpoint.ts';

type Handler = (gateway: Gateway, req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> | void;
type AuthedHandler = (gateway: Gateway, req: IncomingMessage, res: ServerResponse, path: string, principal: Principal) => Promise<void> | void;

const modelCall = (api: InboundApi): Handler => (gateway, req, res) => handleModelCall(gateway, api, req, res);

const routes: Record<string, Record<string, Handler>> = {
  '/v1/chat/completions': { POST: modelCall(chatApi) },
  '/v1/responses': { POST: modelCall(responsesApi) },
  '/v1/messages': { POST: modelCall(messagesApi) },
  '/v1/messages/count_tokens': { POST: (gateway, req, res) => handleCountTokens(gateway, req, res) },
  '/v1/embeddings': { POST: modelCall(embeddingsApi) },
  '/v1/models': { GET: withAuth(listModels) },
  '/healthz': { GET: (_g, _req, res) => sendJson(res, 200, { status: 'ok' }) },
  '/readyz': { GET: readyz },
  '/metrics': { GET: (gateway, req, res) => metricsOnGatewayPort(gateway, req, res) },
};

/** 200 when ready; 503 while draining or while the store or Redis is unreachable (a load balancer drains the instance). */
async function readyz(gateway: Gateway, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!gateway.readiness) return sendJson(res, gateway.shuttingDown ? 503 : 200, { status: gateway.shuttingDown ? 'draining' : 'ready' });
  const { ready, body } = await gateway.readiness();
  sendJson(res, ready ? 200 : 503, body);
}

function withAuth(handler: AuthedHandler): Handler {
  return async (gateway, req, res, path) => {
    let principal: Principal;
    try {
      principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    } catch (err) {
      return sendError({ res, api: errorApi(path) }, err as GatewayError);
    }
    return handler(gateway, req, res, path, principal);
  };
}

export function route(path: string, method: string): Handler | GatewayError {
  // HEAD is GET without the body (Node drops the body of a HEAD response itself).
  const verb = method === 'HEAD' ? 'GET' : method;
  const table = routes[path];
  if (table) return table[verb] ?? methodNotAllowed(path, method, allowedMethods(Object.keys(table)));
  if (path.startsWith('/v1/models/')) return verb === 'GET' ? withAuth(getModel) : methodNotAllowed(path, method, ['GET', 'HEAD']);
  if (path.startsWith('/v1/reviews/')) return verb === 'GET' ? (gateway, req, res) => handleReviewPoll(gateway, req, res, path.slice('/v1/reviews/'.length)) : methodNotAllowed(path, method, ['GET', 'HEAD']);
  return notFound(path);
}

/** The envelope an error on this path is written in: Anthropic's under /v1/messages, else OpenAI's. */
export function errorApi(path: string): InboundApi {
  return path === '/v1/messages' || path.startsWith('/v1/messages/') ? messagesApi : chatApi;
}

const allowedMethods = (methods: string[]) => (methods.includes('GET') ? [...methods, 'HEAD'] : methods);

function methodNotAllowed(path: string, method: string, allowed: string[]): GatewayError {
  return new GatewayError({
    status: 405,
    type: 'invalid_request_error',
    code: 'method_not_allowed',
    message: `${method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
    headers: { allow: allowed.join(', ') },
  });
}

function notFound(path: string): GatewayError {
  if (path.startsWith('/v1/messages/')) {
    return new GatewayError({ status: 404, type: 'not_found_error', code: 'unknown_path', message: `No route for ${path}. Switchyard serves the Anthropic Messages API as POST /v1/messages and POST /v1/messages/count_tokens (message batches are not supported).` });
  }
  const withV1 = `/v1${path}`;
  const hint = routes[withV1] || withV1.startsWith('/v1/models/')
    ? ` Your base URL is missing '/v1': set it to http://HOST:PORT/v1 (the path is ${withV1}).`
    : ' Switchyard serves the OpenAI API under the base URL http://HOST:PORT/v1 (e.g. POST /v1/chat/completions, /v1/responses, /v1/messages, GET /v1/models).';
  return new GatewayError({ status: 404, type: 'not_found_error', code: 'unknown_path', message: `No route for ${path}.${hint}` });
}

export function createHttpServer(gateway: Gateway): Server {
  const server = createServer(serverOptions(gateway), (req, res) => {
    const url = req.url ?? '/';
    const path = pathOf(url);
    if (req.headers.host === undefined && req.httpVersion === '1.1') return refuse(gateway, req, res, path, missingHost());
    if (path.startsWith('/admin/') && gateway.adminHandler) {
      track(gateway, res, gateway.adminHandler(req, res, new URL(url, 'http://localhost')), path);
      return;
    }
    if ((path === '/dashboard' || path.startsWith('/dashboard/')) && gateway.dashboardHandler) {
      track(gateway, res, gateway.dashboardHandler(req, res, new URL(url, 'http://localhost')), path);
      return;
    }
    const handler = route(path, req.method ?? 'GET');
    if (handler instanceof GatewayError) {
      req.resume();
      sendError({ res, api: errorApi(path) }, handler);
      return;
    }
    track(gateway, res, handler(gateway, req, res, path), path);
  });
  // Malformed framing and requests that do not arrive in time (headers, then the whole body).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const error = clientErrorFor(err, { headersMs: gateway.config.headersTimeoutMs, requestMs: gateway.config.requestTimeoutMs });
    // Counted like other refusals before authentication (by code), never a ledger row.
    if (answerOnSocket(socket, error)) gateway.refusals.add(error!.code);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => refuse(gateway, req, res, pathOf(req.url ?? '/'), expectationFailed(req.headers.expect ?? '')));
  return server;
}

/** The path routed on: no query, no trailing slash. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * Node times the request (headers, then headers and body) itself, on one interval for
 * every connection; a finished request's response (a long stream) is never cut off.
 */
function serverOptions(gateway: Gateway) {
  const { headersTimeoutMs, requestTimeoutMs } = gateway.config;
  const requestTimeout = Math.max(requestTimeoutMs, headersTimeoutMs);
  return {
    keepAliveTimeout: 65_000,
    headersTimeout: headersTimeoutMs,
    requestTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeoutMs / 4))),
    // Answered in the envelope by the handler instead of Node's bare 400.
    requireHostHeader: false,
  };
}

/** Refuse before routing, and close: what follows on this connection is not to be trusted. */
function refuse(gateway: Gateway, req: IncomingMessage, res: ServerResponse, path: string, error: GatewayError): void {
  gateway.refusals.add(error.code);
  req.resume();
  res.shouldKeepAlive = false;
  sendError({ res, api: errorApi(path) }, error);
}

function track(gateway: Gateway, res: ServerResponse, pending: Promise<void> | void, path: string): void {
  gateway.inflight++;
  const done = () => gateway.inflight--;
  if (!pending) {
    done();
    return;
  }
  pending.then(done, (err) => {
    done();
    gateway.log.error({ err }, 'unhandled error in request handler');
    if (!res.headersSent) sendError({ res, api: errorApi(path) }, internalError(String(res.getHeader('x-request-id') ?? 'none')));
    else res.destroy();
  });
}

export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** Stop taking connections, let open requests and streams finish (up to a limit), then close. */
export async function drainAndClose(server: Server, gateway: Gateway, graceMs = 30_000): Promise<void> {
  gateway.shuttingDown = true;
  gateway.reviews?.stopWaiting();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (gateway.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  server.closeAllConnections();
  await closed;
  await gateway.close();
}
