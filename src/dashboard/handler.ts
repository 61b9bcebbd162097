// The dashboard over HTTP, mounted by the server at /dashboard: the page and its assets
// (files of src/dashboard/assets, named one by one: nothing else on disk is reachable),
// and the session calls (sign in, who am I, sign out). The pages read and change data
// through the admin API (/admin/...) with the session cookie. Every answer carries a
// Content-Security-Policy without inline script, so text from the store cannot run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import { parseJsonBody } from '../http/body.ts';
import { requireCsrf, type SessionCaller } from '../admin/handler.ts';
import { SESSION_COOKIE, type DashboardSessions } from './sessions.ts';

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Every file the dashboard serves, by URL name (the allow-list). */
const ASSETS = ['app.js', 'api.js', 'dom.js', 'format.js', 'signin.js', 'requests.js', 'keys.js', 'reviews.js', 'models.js', 'style.css', 'favicon.svg',
  'overview.js', 'router.js', 'deployments.js', 'diagnosis.js'];
/** Files of npm dependencies the pages load, by URL name → the exact file in the package (never a directory). */
const VENDOR: Record<string, string> = {
  'uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};
const MAX_SIGN_IN_BYTES = 8 * 1024;

interface Asset {
  body: Buffer;
  type: string;
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of ['index.html', ...ASSETS]) {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    assets.set(name, { body, type: TYPES[name.slice(name.lastIndexOf('.'))] });
  }
  const require = createRequire(import.meta.url);
  for (const [name, file] of Object.entries(VENDOR)) {
    assets.set(name, { body: readFileSync(require.resolve(file)), type: TYPES[name.slice(name.lastIndexOf('.'))] });
  }
  return assets;
}

export function createDashboardHandler(sessions: DashboardSessions): DashboardHandler {
  const assets = loadAssets();
  return async (req, res, url) => {
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    try {
      if (path === '/dashboard/session') return await session(sessions, req, res, method);
      const name = path === '/dashboard' ? 'index.html' : path.startsWith('/dashboard/assets/') ? path.slice('/dashboard/assets/'.length) : undefined;
      const asset = name === undefined ? undefined : assets.get(name);
      if (!asset) throw notFound(path);
      if (method !== 'GET') throw methodNotAllowed(req.method ?? '', path, ['GET', 'HEAD']);
      req.resume();
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
      res.end(asset.body);
    } catch (error) {
      req.resume();
      if (!(error instanceof GatewayError)) throw error;
      send(res, error.status, error.toOpenAI(), error.responseHeaders());
    }
  };
}

/** POST: sign in ({key}); GET: the session's caller and CSRF token; DELETE: sign out. */
async function session(sessions: DashboardSessions, req: IncomingMessage, res: ServerResponse, method: string | undefined): Promise<void> {
  if (method === 'POST') {
    const body = parseJsonBody(await readBody(req), requireJson(req.headers['content-type'])) as Record<string, unknown>;
    if (typeof body.key !== 'string' || body.key.trim() === '') throw invalidRequest("Send {\"key\": \"...\"}: the master key, or a virtual key with a role (admin, reviewer or viewer).", 'key', 'missing_key');
    const { id, caller } = await sessions.signIn(body.key.trim());
    const secure = overTls(req) ? '; Secure' : '';
    return send(res, 200, view(caller), { 'set-cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/${secure}` });
  }
  if (method === 'GET') {
    req.resume();
    const caller = await sessions.fromRequest(req);
    if (!caller) throw new GatewayError({ status: 401, type: 'authentication_error', code: 'not_signed_in', message: 'Not signed in: POST /dashboard/session with {"key": "..."} (the master key or a virtual key with a role).' });
    return send(res, 200, view(caller));
  }
  if (method === 'DELETE') {
    req.resume();
    const caller = await sessions.fromRequest(req).catch(() => undefined);
    if (caller) {
      requireCsrf(req, caller);
      sessions.signOut(req);
    }
    const secure = overTls(req) ? '; Secure' : '';
    return send(res, 200, { signed_out: true }, { 'set-cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}` });
  }
  throw methodNotAllowed(method ?? '', '/dashboard/session', ['GET', 'POST', 'DELETE']);
}

function view(caller: SessionCaller): object {
  return { object: 'session', key_id: caller.identity.keyId, name: caller.identity.name, role: caller.identity.role, csrf_token: caller.csrfToken };
}

/** Behind a TLS-terminating proxy the proxy says so; a direct TLS socket says so itself. */
function overTls(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const proto = req.headers['x-forwarded-proto'];
  return typeof proto === 'string' && proto.split(',')[0].trim().toLowerCase() === 'https';
}

/** Only JSON signs in: a cross-site form cannot send it without the browser's preflight. */
function requireJson(contentType: string | undefined): string {
  if (!contentType || !/^application\/json\b/i.test(contentType)) {
    throw invalidRequest('Sign in with Content-Type: application/json and the body {"key": "..."}.', null, 'unsupported_content_type');
  }
  return contentType;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SIGN_IN_BYTES) throw new GatewayError({ status: 413, type: 'request_too_large', code: 'request_too_large', message: `The sign-in body is larger than ${MAX_SIGN_IN_BYTES} bytes.` });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function notFound(path: string): GatewayError {
  return new GatewayError({ status: 404, type: 'not_found_error', code: 'unknown_path', message: `No dashboard page or asset at ${path}. Open /dashboard.` });
}

function methodNotAllowed(method: string, path: string, allowed: string[]): GatewayError {
  return new GatewayError({ status: 405, type: 'invalid_request_error', code: 'method_not_allowed', headers: { allow: allowed.join(', ') }, message: `${method} is not allowed on ${path}; use ${allowed.join(' or ')}.` });
}

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
