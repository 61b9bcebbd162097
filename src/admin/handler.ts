// The admin API over HTTP (SPEC §4), mounted by the server at /admin/. Bearer token: the
// master key, or a virtual key with a role; each route names the least role it needs
// (viewer < reviewer < admin). JSON in and out, errors in OpenAI's envelope. Lists answer
// {object: "list", data}.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import { errorText, type Logger } from '../ledger/logger.ts';
import { parseJson } from '../http/body.ts';
import type { KeyRole, ReviewDesk, Reviewer } from '../review/types.ts';
import { checkBodyText, checkQuery } from './plain-text.ts';
import type { AdminService } from './service.ts';
import { decisionInput, reviewListQuery, type DecisionAction } from './validate.ts';

/** Who called, as the bearer token says; `role` null: a key of this gateway without admin access. */
export interface AdminIdentity {
  keyId: string;
  name: string;
  role: KeyRole | null;
}

export interface AdminHandlerDeps {
  service: AdminService;
  /** The admin key; without it the admin API refuses every call. */
  masterKey?: string;
  /** Largest JSON body accepted; default 1 MiB. */
  maxBodyBytes?: number;
  log?: Logger;
  /** GET /admin/deployments: each deployment's breaker and balancing numbers (deployments.ts). */
  deployments?: () => Promise<object[]>;
  /**
   * Who a bearer token other than the master key is: a virtual key (its role, or null),
   * or undefined when it is no key of this gateway. May throw a 401 GatewayError (a
   * revoked, expired or rotated key), which is answered as is.
   */
  identify?: (token: string) => Promise<AdminIdentity | undefined>;
  /** The reviewers' desk (src/review/desk.ts); without it the /admin/reviews routes answer 404. */
  reviews?: ReviewDesk;
  /** GET /admin/models: what GET /v1/models lists to the master key (models, then auto routes). */
  models?: () => object[];
  /**
   * The dashboard's signed-in caller (src/dashboard/sessions.ts), asked only when a call has
   * no Authorization header: undefined without a session cookie; throws a 401 for a dead session.
   */
  session?: (req: IncomingMessage) => Promise<SessionCaller | undefined>;
}

/** A dashboard session as the admin API sees it: who, and the token every change must echo. */
export interface SessionCaller {
  identity: AdminIdentity;
  csrfToken: string;
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

interface Call {
  match: string[];
  url: URL;
  /** The JSON body; `optional`: an empty body is {} (a decision without a reason). */
  body: (optional?: boolean) => Promise<unknown>;
  /** The caller, whose role the route already accepted. */
  caller: Reviewer;
}

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: RegExp;
  /** The least role that may call it. */
  role: KeyRole;
  status?: number;
  run(call: Call): Promise<unknown>;
}

const ID = '([A-Za-z0-9_.-]+)';
const RANK: Record<KeyRole, number> = { viewer: 1, reviewer: 2, admin: 3 };
const MASTER: Reviewer = { keyId: 'master', name: 'master key', role: 'admin' };

function routes(service: AdminService, deployments?: () => Promise<object[]>, reviews?: ReviewDesk, models?: () => object[]): Route[] {
  const query = (url: URL) => Object.fromEntries(url.searchParams);
  const list = async (data: Promise<unknown[]>) => ({ object: 'list', data: await data });
  const desk = () => {
    if (!reviews) throw new GatewayError({ status: 404, type: 'not_found_error', code: 'reviews_disabled', message: 'reviews are not enabled on this gateway: it runs without a review desk, so there are no reviews to list or decide.' });
    return reviews;
  };
  return [
    { method: 'POST', path: /^\/admin\/keys$/, role: 'admin', status: 201, run: async ({ body }) => created(await service.createKey(await body())) },
    { method: 'GET', path: /^\/admin\/keys$/, role: 'admin', run: () => list(service.listKeys()) },
    { method: 'GET', path: new RegExp(`^/admin/keys/${ID}$`), role: 'admin', run: ({ match }) => service.getKey(match[1]) },
    { method: 'PATCH', path: new RegExp(`^/admin/keys/${ID}$`), role: 'admin', run: async ({ match, body }) => service.updateKey(match[1], await body()) },
    { method: 'POST', path: new RegExp(`^/admin/keys/${ID}/revoke$`), role: 'admin', run: ({ match }) => service.revokeKey(match[1]) },
    { method: 'POST', path: new RegExp(`^/admin/keys/${ID}/rotate$`), role: 'admin', run: async ({ match }) => created(await service.rotateKey(match[1])) },
    { method: 'POST', path: /^\/admin\/projects$/, role: 'admin', status: 201, run: async ({ body }) => service.createProject(await body()) },
    { method: 'GET', path: /^\/admin\/projects$/, role: 'admin', run: () => list(service.listProjects()) },
    { method: 'GET', path: new RegExp(`^/admin/projects/${ID}$`), role: 'admin', run: ({ match }) => service.getProject(match[1]) },
    { method: 'PATCH', path: new RegExp(`^/admin/projects/${ID}$`), role: 'admin', run: async ({ match, body }) => service.updateProject(match[1], await body()) },
    { method: 'POST', path: /^\/admin\/budgets$/, role: 'admin', status: 201, run: async ({ body }) => service.createBudget(await body()) },
    { method: 'GET', path: /^\/admin\/budgets$/, role: 'admin', run: ({ url }) => list(service.listBudgets(url.searchParams.get('scope') ?? undefined, url.searchParams.get('scope_id') ?? undefined)) },
    { method: 'GET', path: new RegExp(`^/admin/budgets/${ID}$`), role: 'admin', run: ({ match }) => service.getBudget(match[1]) },
    { method: 'PATCH', path: new RegExp(`^/admin/budgets/${ID}$`), role: 'admin', run: async ({ match, body }) => service.updateBudget(match[1], await body()) },
    { method: 'DELETE', path: new RegExp(`^/admin/budgets/${ID}$`), role: 'admin', run: ({ match }) => service.deleteBudget(match[1]) },
    { method: 'GET', path: /^\/admin\/usage$/, role: 'viewer', run: async ({ url }) => ({ object: 'list', ...(await service.usage(query(url))) }) },
    { method: 'GET', path: /^\/admin\/stats$/, role: 'viewer', run: ({ url }) => service.stats(query(url)) },
    { method: 'GET', path: /^\/admin\/stats\/context$/, role: 'viewer', run: ({ url }) => service.contextStats(query(url)) },
    { method: 'GET', path: /^\/admin\/requests$/, role: 'viewer', run: async ({ url }) => ({ object: 'list', ...(await service.requests(query(url))) }) },
    { method: 'GET', path: new RegExp(`^/admin/requests/${ID}$`), role: 'viewer', run: ({ match }) => service.requestDetail(match[1]) },
    { method: 'GET', path: /^\/admin\/reviews$/, role: 'viewer', run: async ({ url }) => ({ object: 'list', ...(await desk().list(reviewListQuery(query(url)))) }) },
    { method: 'GET', path: new RegExp(`^/admin/reviews/${ID}$`), role: 'viewer', run: ({ match }) => desk().get(match[1]) },
    {
      method: 'POST', path: new RegExp(`^/admin/reviews/${ID}/(approve|edit|reject)$`), role: 'reviewer',
      run: async ({ match, body, caller }) => desk().decide(match[1], decisionInput(match[2] as DecisionAction, await body(true)), caller),
    },
    ...(models ? [{ method: 'GET' as const, path: /^\/admin\/models$/, role: 'viewer' as const, run: async () => ({ object: 'list', data: models() }) }] : []),
    // Deployments are provider settings: an admin's.
    ...(deployments ? [{ method: 'GET' as const, path: /^\/admin\/deployments$/, role: 'admin' as const, run: () => list(deployments()) }] : []),
  ];
}

/** Create and rotate answer the record with the secret once, as `key`. */
function created(result: { record: object; key: string }): object {
  return { ...result.record, key: result.key };
}

export function createAdminHandler(deps: AdminHandlerDeps): AdminHandler {
  const table = routes(deps.service, deps.deployments, deps.reviews, deps.models);
  const masterDigest = deps.masterKey ? digest(deps.masterKey) : undefined;
  const maxBody = deps.maxBodyBytes ?? 1 << 20;
  return async (req, res, url) => {
    try {
      const identity = await authenticate(req, masterDigest, deps.identify, deps.session);
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const matching = table.filter((route) => route.path.test(path));
      if (matching.length === 0) throw notFound(path);
      const route = matching.find((r) => r.method === req.method);
      if (!route) throw methodNotAllowed(req.method ?? '', path, matching.map((r) => r.method));
      const caller = authorize(identity, route, path);
      checkQuery(url);
      const body = async (optional = false) => checkBodyText(await readJson(req, maxBody, optional));
      const result = await route.run({ match: route.path.exec(path)!, url, body, caller });
      send(res, route.status ?? 200, result);
    } catch (error) {
      if (error instanceof GatewayError) return send(res, error.status, error.toOpenAI(), error.responseHeaders());
      deps.log?.('error', 'admin API call failed', { method: req.method, path: url.pathname, error: errorText(error) });
      send(res, 500, { error: { message: 'The admin API hit an internal error; it is logged. Retry, and check the gateway log if it persists.', type: 'server_error', param: null, code: 'internal_error' } }, { 'x-should-retry': 'true' });
    }
  };
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Who called: the bearer token, else the dashboard session (whose changes need its CSRF token); a 401 for anything else. */
async function authenticate(req: IncomingMessage, masterDigest: Buffer | undefined, identify: AdminHandlerDeps['identify'], session: AdminHandlerDeps['session']): Promise<AdminIdentity> {
  if (!masterDigest) throw adminDisabled();
  const header = req.headers.authorization;
  if (header === undefined && session) {
    const caller = await session(req);
    if (caller) return requireCsrf(req, caller);
  }
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!token) {
    throw new GatewayError({
      status: 401, type: 'authentication_error', code: 'missing_admin_key',
      message: "Missing admin key: send 'Authorization: Bearer <admin key>' (the value of SWITCHYARD_MASTER_KEY, or a virtual key with a role).",
    });
  }
  return identifyToken(token, masterDigest, identify);
}

/**
 * Who an admin token is (the master key, or what `identify` says), for the admin API and
 * the dashboard's sign-in; a 401 for anything else.
 */
export function adminTokenIdentifier(masterKey: string | undefined, identify: AdminHandlerDeps['identify']): (token: string) => Promise<AdminIdentity> {
  const masterDigest = masterKey ? digest(masterKey) : undefined;
  return async (token) => {
    if (!masterDigest) throw adminDisabled();
    return identifyToken(token, masterDigest, identify);
  };
}

async function identifyToken(token: string, masterDigest: Buffer, identify: AdminHandlerDeps['identify']): Promise<AdminIdentity> {
  if (timingSafeEqual(digest(token), masterDigest)) return MASTER;
  const identity = identify ? await identify(token) : undefined;
  if (!identity) {
    throw new GatewayError({
      status: 401, type: 'authentication_error', code: 'invalid_admin_key',
      message: 'Invalid admin key: the admin API takes the master key (SWITCHYARD_MASTER_KEY) or a virtual key with a role (admin, reviewer or viewer), not a provider key.',
    });
  }
  return identity;
}

/** A change made with a session cookie must carry the session's CSRF token (a cross-site page cannot read it). */
export function requireCsrf(req: IncomingMessage, caller: SessionCaller): AdminIdentity {
  if (req.method === 'GET' || req.method === 'HEAD') return caller.identity;
  const sent = req.headers['x-csrf-token'];
  if (typeof sent === 'string' && sent.length > 0 && timingSafeEqual(digest(sent), digest(caller.csrfToken))) return caller.identity;
  throw new GatewayError({
    status: 403, type: 'permission_error', code: 'csrf_token_invalid',
    message: "This change was made with a dashboard session but without its CSRF token: send the session's csrf_token (from POST or GET /dashboard/session) as the 'x-csrf-token' header.",
  });
}

function adminDisabled(): GatewayError {
  return new GatewayError({
    status: 401, type: 'authentication_error', code: 'admin_disabled',
    message: 'The admin API is disabled: no admin key is configured. Set SWITCHYARD_MASTER_KEY (or the master key in switchyard.yaml) and restart the gateway.',
  });
}

/** The caller as the route sees it, when its role is at least the route's; else a 403 naming both roles. */
function authorize(identity: AdminIdentity, route: Route, path: string): Reviewer {
  const role = identity.role;
  if (role && RANK[role] >= RANK[route.role]) return { keyId: identity.keyId, name: identity.name, role };
  const has = role ? `the '${role}' role` : 'no role';
  const fix = identity.keyId.startsWith('config:')
    ? "Keys from the gateway's config have no role: use the master key or a virtual key with a role."
    : `An admin can change that: PATCH /admin/keys/${identity.keyId} with {"role": "${route.role}"}.`;
  throw new GatewayError({
    status: 403, type: 'permission_error', code: 'insufficient_role',
    message: `${route.method} ${path} needs the '${route.role}' role or higher; key '${identity.name}' (${identity.keyId}) has ${has}. ${fix}`,
  });
}

async function readJson(req: IncomingMessage, maxBytes: number, optional = false): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  if (size === 0 && optional) return {};
  if (size === 0) throw invalidRequest('The request body is empty: send a JSON object (Content-Type: application/json).', null, 'invalid_json');
  return parseJson(Buffer.concat(chunks, size));
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError({ status: 413, type: 'request_too_large', code: 'request_too_large', message: `The request body is larger than the admin API's limit of ${maxBytes} bytes.` });
}

function notFound(path: string): GatewayError {
  return new GatewayError({
    status: 404, type: 'not_found_error', code: 'unknown_admin_path',
    message: `No admin endpoint at ${path}. Endpoints: /admin/keys, /admin/keys/{id}, /admin/keys/{id}/revoke, /admin/keys/{id}/rotate, /admin/projects, /admin/projects/{id}, /admin/budgets, /admin/budgets/{id}, /admin/usage, /admin/stats, /admin/stats/context, /admin/requests, /admin/requests/{id}, /admin/reviews, /admin/reviews/{id}, /admin/reviews/{id}/approve|edit|reject, /admin/models, /admin/deployments.`,
  });
}

function methodNotAllowed(method: string, path: string, allowed: string[]): GatewayError {
  return new GatewayError({
    status: 405, type: 'invalid_request_error', code: 'method_not_allowed', headers: { allow: allowed.join(', ') },
    message: `${method} is not supported on ${path}; use ${allowed.join(' or ')}.`,
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // Create and rotate answers carry a secret: never cache any admin answer.
    'cache-control': 'no-store',
  });
  res.end(text);
}
