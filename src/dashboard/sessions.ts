// Dashboard sessions: a browser signs in once with an admin key (the master key or a
// virtual key with a role) and then holds only a random session id in an HttpOnly
// cookie. Sessions live in this process's memory (a restart signs everyone out), expire
// when idle, are bounded in number (the least recently used goes first), and re-check
// their key every few seconds, so a revoked or demoted key's session stops working.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import type { AdminIdentity, SessionCaller } from '../admin/handler.ts';

export const SESSION_COOKIE = 'sy_session';

export interface SessionOptions {
  /** Who an admin token is; throws a 401 GatewayError for a token that is no admin key (admin/handler.ts). */
  identify: (token: string) => Promise<AdminIdentity>;
  /** A session unused this long is gone; default 8 h. */
  idleMs?: number;
  /** At most this many sessions; default 1000. */
  maxSessions?: number;
  /** How often a session's key is looked up again; default 2 s. */
  recheckMs?: number;
  now?: () => number;
}

interface Session extends SessionCaller {
  /** The virtual key the session was opened with, kept here (never in the browser) to re-check it; none for the master key. */
  token?: string;
  lastUsed: number;
  checkedAt: number;
}

export class DashboardSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly identify: SessionOptions['identify'];
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(options: SessionOptions) {
    this.identify = options.identify;
    this.idleMs = options.idleMs ?? 8 * 3600_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.recheckMs = options.recheckMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  /** Opens a session for an admin key with a role; the id goes into the cookie, the CSRF token to the page. */
  async signIn(token: string): Promise<{ id: string; caller: SessionCaller }> {
    const identity = withRole(await this.identify(token));
    const now = this.now();
    const id = randomBytes(32).toString('base64url');
    const session: Session = { identity, csrfToken: randomBytes(32).toString('base64url'), lastUsed: now, checkedAt: now };
    if (identity.keyId !== 'master') session.token = token;
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, session);
    return { id, caller: { identity, csrfToken: session.csrfToken } };
  }

  /** The caller of a request's session cookie; undefined without one, a 401 when it is unknown, idle too long or its key no longer works. */
  async fromRequest(req: IncomingMessage): Promise<SessionCaller | undefined> {
    const id = sessionId(req);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    const now = this.now();
    if (!session || now - session.lastUsed > this.idleMs) {
      this.sessions.delete(id);
      throw sessionExpired();
    }
    if (session.token !== undefined && now - session.checkedAt >= this.recheckMs) {
      try {
        session.identity = withRole(await this.identify(session.token));
      } catch (error) {
        this.sessions.delete(id);
        throw error instanceof GatewayError ? new GatewayError({ status: 401, type: 'authentication_error', code: 'session_ended', message: `Your dashboard session ended: ${error.message} Sign in again with a working key.` }) : error;
      }
      session.checkedAt = now;
    }
    session.lastUsed = now;
    // Most recently used last: the bound evicts from the front.
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return { identity: session.identity, csrfToken: session.csrfToken };
  }

  signOut(req: IncomingMessage): void {
    const id = sessionId(req);
    if (id !== undefined) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** The session id in the request's Cookie header, if any. */
export function sessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function withRole(identity: AdminIdentity): AdminIdentity {
  if (identity.role) return identity;
  throw new GatewayError({
    status: 403, type: 'permission_error', code: 'insufficient_role',
    message: `Key '${identity.name}' (${identity.keyId}) has no admin role, so it cannot sign in to the dashboard. Use the master key, or a key with role admin, reviewer or viewer (an admin sets it: PATCH /admin/keys/${identity.keyId} {"role": "viewer"}).`,
  });
}

function sessionExpired(): GatewayError {
  return new GatewayError({ status: 401, type: 'authentication_error', code: 'session_expired', message: 'Your dashboard session has expired or was signed out (sessions end after 8 idle hours and when the gateway restarts). Sign in again.' });
}
