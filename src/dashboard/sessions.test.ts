import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import type { AdminIdentity } from '../admin/handler.ts';
import { DashboardSessions, sessionId } from './sessions.ts';

const withCookie = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;
const keys: Record<string, AdminIdentity> = {
  master: { keyId: 'master', name: 'master key', role: 'admin' },
  'sy_live_viewer': { keyId: 'key_v', name: 'vera', role: 'viewer' },
  'sy_live_plain': { keyId: 'key_p', name: 'plain', role: null },
};

function sessions(options: { idleMs?: number; maxSessions?: number; recheckMs?: number } = {}) {
  let now = 1_000_000;
  const revoked = new Set<string>();
  const store = new DashboardSessions({
    ...options,
    now: () => now,
    identify: async (token) => {
      if (revoked.has(token)) throw new GatewayError({ status: 401, type: 'authentication_error', code: 'key_revoked', message: 'This key was revoked.' });
      const found = keys[token];
      if (!found) throw new GatewayError({ status: 401, type: 'authentication_error', code: 'invalid_admin_key', message: 'Invalid admin key.' });
      return found;
    },
  });
  return { store, revoked, advance: (ms: number) => { now += ms; } };
}

const cookieOf = (id: string) => withCookie(`theme=dark; sy_session=${id}; other=1`);

test('a session id is 32 random bytes, found by its cookie among others; a key without a role or an unknown key opens none', async () => {
  const { store } = sessions();
  const a = await store.signIn('master');
  const b = await store.signIn('master');
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.caller.csrfToken, b.caller.csrfToken);
  assert.equal(Buffer.from(a.id, 'base64url').length, 32);
  assert.equal(sessionId(cookieOf(a.id)), a.id);
  assert.equal(sessionId(withCookie('sy_session_other=x')), undefined);
  assert.equal(await store.fromRequest(withCookie()), undefined, 'no cookie: no session, and no error');
  assert.deepEqual((await store.fromRequest(cookieOf(a.id)))?.identity, keys.master);
  await assert.rejects(store.signIn('sy_live_plain'), (e: GatewayError) => e.status === 403 && /no admin role/.test(e.message));
  await assert.rejects(store.signIn('nope'), (e: GatewayError) => e.code === 'invalid_admin_key');
  await assert.rejects(store.fromRequest(cookieOf('forged')), (e: GatewayError) => e.code === 'session_expired');
  store.signOut(cookieOf(a.id));
  await assert.rejects(store.fromRequest(cookieOf(a.id)), (e: GatewayError) => e.code === 'session_expired');
});

test('idle sessions expire; use keeps one alive', async () => {
  const { store, advance } = sessions({ idleMs: 1_000 });
  const kept = await store.signIn('master');
  const idle = await store.signIn('master');
  advance(800);
  await store.fromRequest(cookieOf(kept.id));
  advance(800);
  assert.ok(await store.fromRequest(cookieOf(kept.id)));
  await assert.rejects(store.fromRequest(cookieOf(idle.id)), (e: GatewayError) => e.code === 'session_expired');
});

test('the number of sessions is bounded: the least recently used is dropped first', async () => {
  const { store } = sessions({ maxSessions: 2 });
  const first = await store.signIn('master');
  const second = await store.signIn('master');
  await store.fromRequest(cookieOf(first.id));
  await store.signIn('master');
  assert.equal(store.size, 2);
  assert.ok(await store.fromRequest(cookieOf(first.id)));
  await assert.rejects(store.fromRequest(cookieOf(second.id)), (e: GatewayError) => e.code === 'session_expired');
});

test("a virtual key's session re-checks the key: once revoked, the session ends", async () => {
  const { store, revoked, advance } = sessions({ recheckMs: 2_000 });
  const viewer = await store.signIn('sy_live_viewer');
  revoked.add('sy_live_viewer');
  advance(1_000);
  assert.ok(await store.fromRequest(cookieOf(viewer.id)), 'within the re-check interval');
  advance(1_000);
  await assert.rejects(store.fromRequest(cookieOf(viewer.id)), (e: GatewayError) => e.code === 'session_ended' && /revoked/.test(e.message));
  await assert.rejects(store.fromRequest(cookieOf(viewer.id)), (e: GatewayError) => e.code === 'session_expired');
});
