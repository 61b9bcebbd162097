// The HTTP server and its route table.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from './canonical/errors.ts';
import { chatApi, responsesApi, messagesApi, embeddingsApi } from './api/inbound.ts';
import type { InboundApi } from './api/inbound.ts';
import { handleModelCall, sendError } from './pipeline.ts';
import { listModels, getModel } from './models-endpoint.ts';
import { presentedKey } from './keys/presented-key.ts';
import type { Gateway } from './gateway.ts';
import type { Principal } from './services.ts';

type Handler = (gateway: Gateway, req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> | void;
type AuthedHandler = (gateway: Gateway, req: IncomingMessage, res: ServerResponse, path: string, principal: Principal) => Promise<void> | void;

const modelCall = (api: InboundApi): Handler => (gateway, req, res) => handleModelCall(gateway, api, req, res);

const routes: Record<string, Record<string, Handler>> = {
  '/v1/chat/completions': { POST: modelCall(chatApi) },
  '/v1/responses': { POST: modelCall(responsesApi) },
  '/v1/messages': { POST: modelCall(messagesApi) },
  '/v1/embeddings': { POST: modelCall(embeddingsApi) },
  '/v1/models': { GET: withAuth(listModels) },
  '/healthz': { GET: (_g, _req, res) => sendJson(res, 200, { status: 'ok' }) },
  '/readyz': { GET: (g, _req, res) => sendJson(res, g.shuttingDown ? 503 : 200, { status: g.shuttingDown ? 'draining' : 'ready' }) },
};

function withAuth(handler: AuthedHandler): Handler {
  return async (gateway, req, res, path) => {
    let principal: Principal;
    try {
      principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    } catch (err) {
      return sendError({ res, api: chatApi }, err as GatewayError);
    }
    return handler(gateway, req, res, path, principal);
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function route(path: string, method: string): Handler | GatewayError {
  const table = routes[path];
  if (table) return table[method] ?? methodNotAllowed(path, method, Object.keys(table));
  if (path.startsWith('/v1/models/') && method === 'GET') return withAuth(getModel);
  return notFound(path);
}

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
  const withV1 = `/v1${path}`;
  const hint = routes[withV1] || withV1.startsWith('/v1/models/')
    ? ` Your base URL is missing '/v1': set it to http://HOST:PORT/v1 (the path is ${withV1}).`
    : ' Switchyard serves the OpenAI API under the base URL http://HOST:PORT/v1 (e.g. POST /v1/chat/completions, /v1/responses, /v1/messages, GET /v1/models).';
  return new GatewayError({ status: 404, type: 'not_found_error', code: 'unknown_path', message: `No route for ${path}.${hint}` });
}

export function createHttpServer(gateway: Gateway): Server {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (path.startsWith('/admin/') && gateway.adminHandler) {
      track(gateway, res, gateway.adminHandler(req, res, new URL(url, 'http://localhost')));
      return;
    }
    const handler = route(path, req.method ?? 'GET');
    if (handler instanceof GatewayError) {
      req.resume();
      sendError({ res, api: chatApi }, handler);
      return;
    }
    track(gateway, res, handler(gateway, req, res, path));
  });
  return server;
}

function track(gateway: Gateway, res: ServerResponse, pending: Promise<void> | void): void {
  gateway.inflight++;
  const done = () => gateway.inflight--;
  if (!pending) {
    done();
    return;
  }
  pending.then(done, (err) => {
    done();
    gateway.log.error({ err }, 'unhandled error in request handler');
    if (!res.headersSent) sendJson(res, 500, { error: { message: 'Switchyard hit an internal error.', type: 'server_error', param: null, code: 'internal_error' } });
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
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (gateway.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  server.closeAllConnections();
  await closed;
  await gateway.close();
}
