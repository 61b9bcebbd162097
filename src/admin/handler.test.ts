// The admin API over real HTTP, and the hash-at-rest proof: no secret in the database
// files, the log, or any admin answer but the one that created it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { MASTER_KEY, sqliteServices, type TestServices } from '../budget/testing.ts';
import type { ReviewRow } from '../review/types.ts';
import type { AccessServices } from './access.ts';
import { createAdminHandler, type AdminHandler } from './handler.ts';

interface Api {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  texts: string[];
  close(): Promise<void>;
}

async function serve(services: AccessServices | AdminHandler): Promise<Api> {
  const handler = typeof services === 'function' ? services : services.adminHandler;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const texts: string[] = [];
  return {
    texts,
    async call(method, path, body, headers = { authorization: `Bearer ${MASTER_KEY}` }) {
      const response = await fetch(`${base}${path}`, {
        method, headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      texts.push(text);
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, text };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function withApi(run: (api: Api, t: TestServices) => Promise<void>, extra = {}): Promise<void> {
  const t = await sqliteServices(extra);
  const api = await serve(t.services);
  try {
    await run(api, t);
  } finally {
    await api.close();
    await t.done();
  }
}

test('the admin API needs the admin key and says why it refuses', async () => {
  await withApi(async (api) => {
    const none = await api.call('GET', '/admin/keys', undefined, {});
    assert.deepEqual([none.status, none.body.error.code], [401, 'missing_admin_key']);
    const wrong = await api.call('GET', '/admin/keys', undefined, { authorization: 'Bearer nope' });
    assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_admin_key']);
    const created = await api.call('POST', '/admin/keys', { name: 'x' });
    const virtual = await api.call('GET', '/admin/keys', undefined, { authorization: `Bearer ${created.body.key}` });
    assert.deepEqual([virtual.status, virtual.body.error.code], [403, 'insufficient_role'], 'a key without a role is known, but may not');
  });
  await withApi(async (api) => {
    const disabled = await api.call('GET', '/admin/keys');
    assert.deepEqual([disabled.status, disabled.body.error.code], [401, 'admin_disabled']);
    assert.match(disabled.body.error.message, /SWITCHYARD_MASTER_KEY/);
  }, { masterKey: '' });
});

test('keys: create shows the secret once; show, patch, revoke and rotate never do', async () => {
  await withApi(async (api, t) => {
    const created = await api.call('POST', '/admin/keys', {
      name: 'ci', env: 'test', allowed_models: ['gpt-5.4-*'], max_output_tokens: { default: 512, max: 4096 },
      rate_limits: { rpm: 60, tpm: 100000, concurrent: 4 }, budgets: [{ limit_usd: 10, period: 'month' }, { limit_usd: 2, period: 'day', model: 'gpt-5.4-mini' }],
      expires_at: '2099-01-01T00:00:00Z', metadata: { team: 'platform' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const key = created.body;
    assert.match(key.key, /^sy_test_[A-Za-z0-9]{32}$/);
    assert.equal(key.prefix, key.key.slice(0, 12));
    assert.deepEqual([key.name, key.env, key.status, key.expires_at], ['ci', 'test', 'active', '2099-01-01T00:00:00.000Z']);
    assert.deepEqual(key.rate_limits, { rpm: 60, tpm: 100000, concurrent: 4 });
    assert.deepEqual(key.budgets.map((b: any) => [b.limit_usd, b.period, b.model, b.hard, b.spent_usd]), [[10, 'month', null, true, 0], [2, 'day', 'gpt-5.4-mini', true, 0]]);
    assert.match(key.budgets[0].resets_at, /^\d{4}-\d{2}-01T00:00:00\.000Z$/);
    assert.equal(key.hash, undefined);

    const shown = await api.call('GET', `/admin/keys/${key.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.key, undefined);
    assert.equal(shown.body.prefix, key.prefix);
    const list = await api.call('GET', '/admin/keys');
    assert.deepEqual([list.body.object, list.body.data.length, list.body.data[0].id], ['list', 1, key.id]);

    const patched = await api.call('PATCH', `/admin/keys/${key.id}`, { name: 'ci-2', budgets: [{ limit_usd: 20, period: 'month' }], expires_at: null });
    assert.deepEqual([patched.body.name, patched.body.expires_at, patched.body.budgets.length, patched.body.budgets[0].limit_usd], ['ci-2', null, 1, 20]);
    assert.equal(patched.body.budgets[0].id, key.budgets[0].id, 'the month budget kept its id');

    const rotated = await api.call('POST', `/admin/keys/${key.id}/rotate`);
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.rotated_at !== null, true);
    assert.notEqual(rotated.body.key, key.key);
    await assert.rejects(t.services.authenticator.authenticate(key.key), { code: 'key_rotated' });
    assert.equal((await t.services.authenticator.authenticate(rotated.body.key)).keyId, key.id);

    const revoked = await api.call('POST', `/admin/keys/${key.id}/revoke`);
    assert.deepEqual([revoked.status, revoked.body.status, revoked.body.key], [200, 'revoked', undefined]);
    await assert.rejects(t.services.authenticator.authenticate(rotated.body.key), { code: 'key_revoked' });
    const again = await api.call('POST', `/admin/keys/${key.id}/rotate`);
    assert.equal(again.status, 409);
    const missing = await api.call('GET', '/admin/keys/key_doesnotexist');
    assert.deepEqual([missing.status, missing.body.error.type], [404, 'not_found_error']);
  });
});

test('bad requests get a 400 naming the field, and the envelope is OpenAI\'s', async () => {
  await withApi(async (api) => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{}, 'name', /Invalid value for 'name'/],
      [{ name: 'x', rate_limit: { rpm: 1 } }, 'rate_limit', /Unknown field 'rate_limit'/],
      [{ name: 'x', budgets: [{ limit_usd: 5, period: 'year' }] }, 'budgets[0].period', /one of day, week, month, total/],
      [{ name: 'x', budgets: [{ period: 'day' }] }, 'budgets[0].limit_usd', /required/],
      [{ name: 'x', rate_limits: { rpm: -1 } }, 'rate_limits.rpm', /positive integer/],
      [{ name: 'x', max_output_tokens: { default: 9000, max: 100 } }, 'max_output_tokens.default', /at most max \(100\)/],
      [{ name: 'x', env: 'prod' }, 'env', /"live" or "test"/],
      [{ name: 'x', expires_at: 'tomorrow' }, 'expires_at', /ISO 8601/],
      [{ name: 'x', project: 'ghost' }, 'project', /existing project/],
    ];
    for (const [body, param, message] of cases) {
      const response = await api.call('POST', '/admin/keys', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.deepEqual(Object.keys(response.body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(response.body.error.param, param);
      assert.match(response.body.error.message, message);
    }
    const notJson = await api.call('POST', '/admin/keys', '{"name": ');
    assert.deepEqual([notJson.status, notJson.body.error.code], [400, 'invalid_json']);
    const empty = await api.call('POST', '/admin/keys', '');
    assert.deepEqual([empty.status, empty.body.error.code], [400, 'invalid_json']);
    const huge = await api.call('POST', '/admin/keys', JSON.stringify({ name: 'x', metadata: { blob: 'a'.repeat(2 << 20) } }));
    assert.equal(huge.status, 413);
    const path = await api.call('GET', '/admin/nothing');
    assert.equal(path.status, 404);
    assert.match(path.body.error.message, /\/admin\/keys/);
    const method = await api.call('DELETE', '/admin/keys');
    assert.deepEqual([method.status, method.headers.get('allow')], [405, 'POST, GET']);
  });
});

test('projects and budgets: CRUD, with spend shown per budget', async () => {
  await withApi(async (api) => {
    const project = await api.call('POST', '/admin/projects', { name: 'acme', budgets: [{ limit_usd: 100, period: 'week' }], metadata: { cost_center: 7 } });
    assert.equal(project.status, 201);
    assert.deepEqual([project.body.name, project.body.budgets[0].period, project.body.budgets[0].spent_usd], ['acme', 'week', 0]);
    assert.equal((await api.call('POST', '/admin/projects', { name: 'acme' })).status, 409);
    const patched = await api.call('PATCH', `/admin/projects/${project.body.id}`, { name: 'acme-2' });
    assert.equal(patched.body.name, 'acme-2');
    assert.equal((await api.call('GET', '/admin/projects')).body.data.length, 1);
    const byName = await api.call('GET', '/admin/projects/acme-2');
    assert.equal(byName.body.id, project.body.id);

    const key = await api.call('POST', '/admin/keys', { name: 'in-project', project: 'acme-2' });
    assert.equal(key.body.project, project.body.id);

    const global = await api.call('POST', '/admin/budgets', { scope: 'global', limit_usd: 500, period: 'day', hard: false, alert_usd: 400 });
    assert.equal(global.status, 201);
    assert.deepEqual([global.body.scope, global.body.hard, global.body.alert_usd], ['global', false, 400]);
    const forKey = await api.call('POST', '/admin/budgets', { scope: 'key', scope_id: key.body.id, limit_usd: 3, period: 'total', model: 'gpt-5.5' });
    assert.equal(forKey.body.scope_id, key.body.id);
    assert.equal((await api.call('POST', '/admin/budgets', { scope: 'key', scope_id: 'key_nope', limit_usd: 3, period: 'total' })).status, 404);
    const budgets = await api.call('GET', '/admin/budgets?scope=key');
    assert.deepEqual(budgets.body.data.map((b: any) => b.id), [forKey.body.id]);
    const changed = await api.call('PATCH', `/admin/budgets/${forKey.body.id}`, { limit_usd: 4 });
    assert.equal(changed.body.limit_usd, 4);
    assert.equal((await api.call('DELETE', `/admin/budgets/${forKey.body.id}`)).body.deleted, true);
    assert.equal((await api.call('GET', `/admin/budgets/${forKey.body.id}`)).status, 404);
  });
});

test('usage and the request log read what the ledger recorded', async () => {
  await withApi(async (api, t) => {
    const a = (await api.call('POST', '/admin/keys', { name: 'alpha' })).body;
    const b = (await api.call('POST', '/admin/keys', { name: 'beta' })).body;
    const usage = { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 300, reasoningTokens: 100 };
    const base = Date.parse('2026-03-10T12:00:00Z');
    for (let i = 0; i < 6; i++) {
      t.services.ledger.record({
        requestId: `req_${i}`, attempt: 0, time: new Date(base + i * 3600_000 * 13).toISOString(), keyId: i % 2 ? b.id : a.id,
        endpoint: 'chat', modelRequested: 'auto', modelUsed: i < 3 ? 'gpt-5.4-mini' : 'gpt-5.5', stream: false,
        status: i === 5 ? 502 : 200, usage, costUsd: 0.01, latencyMs: 100,
      });
    }
    await t.services.ledger.flush();
    const grouped = await api.call('GET', '/admin/usage?from=2026-03-01&to=2026-03-31&group_by=key,model');
    assert.equal(grouped.status, 200);
    assert.deepEqual(grouped.body.data.map((r: any) => [r.key_name, r.model, r.requests]).sort(), [
      ['alpha', 'gpt-5.4-mini', 2], ['alpha', 'gpt-5.5', 1], ['beta', 'gpt-5.4-mini', 1], ['beta', 'gpt-5.5', 2],
    ]);
    const byDay = await api.call('GET', '/admin/usage?from=2026-03-10&to=2026-03-12&group_by=day');
    assert.deepEqual(byDay.body.data.map((r: any) => [r.day, r.requests, r.cost_usd]), [['2026-03-10', 1, 0.01], ['2026-03-11', 2, 0.02], ['2026-03-12', 2, 0.02]]);
    const total = await api.call('GET', '/admin/usage?from=2026-03-01&to=2026-04-01');
    assert.deepEqual(total.body.data, [{ requests: 6, input_tokens: 6000, cached_input_tokens: 1200, output_tokens: 1800, reasoning_tokens: 600, cost_usd: 0.06 }]);
    assert.equal((await api.call('GET', '/admin/usage?group_by=colour')).status, 400);

    const page = await api.call('GET', '/admin/requests?limit=4');
    assert.deepEqual(page.body.data.map((r: any) => r.request_id), ['req_5', 'req_4', 'req_3', 'req_2']);
    const rest = await api.call('GET', `/admin/requests?limit=4&cursor=${page.body.next_cursor}`);
    assert.deepEqual([rest.body.data.map((r: any) => r.request_id), rest.body.next_cursor], [['req_1', 'req_0'], null]);
    const failed = await api.call('GET', '/admin/requests?status=502');
    assert.deepEqual(failed.body.data.map((r: any) => r.request_id), ['req_5']);
    const forKey = await api.call('GET', `/admin/requests?key_id=${a.id}&model=gpt-5.5`);
    assert.deepEqual(forKey.body.data.map((r: any) => r.request_id), ['req_4']);
    assert.equal((await api.call('GET', '/admin/requests?cursor=garbage')).status, 400);
    assert.equal((await api.call('GET', '/admin/requests?limit=0')).status, 400);
  });
});

test('hash at rest: no secret in the database files, the log, or any answer but its own creation', async () => {
  await withApi(async (api, t) => {
    const secrets: string[] = [];
    const creationAnswers = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const created = await api.call('POST', '/admin/keys', { name: `k${i}`, budgets: [{ limit_usd: 1, period: 'day' }] });
      secrets.push(created.body.key);
      creationAnswers.add(created.text);
    }
    const rotated = await api.call('POST', `/admin/keys/${(await api.call('GET', '/admin/keys')).body.data[0].id}/rotate`);
    secrets.push(rotated.body.key);
    creationAnswers.add(rotated.text);
    // Use the keys: authentication, failed authentication, admissions, the request log.
    const { estimateFor } = await import('../budget/testing.ts');
    const { model } = await import('../store/testing.ts');
    const mini = model('gpt-5.4-mini');
    for (const secret of secrets) {
      try {
        const principal = await t.services.authenticator.authenticate(secret);
        const admitted = await t.services.admission.admit(principal, mini, estimateFor(mini, 100, 100), { requestId: `req_${principal.keyId}` });
        admitted.settle({ inputTokens: 100, cachedInputTokens: 0, outputTokens: 50, reasoningTokens: 0 }, 0.0003);
        t.services.ledger.record({
          requestId: `req_${principal.keyId}`, attempt: 0, time: new Date().toISOString(), keyId: principal.keyId, endpoint: 'chat',
          modelRequested: 'gpt-5.4-mini', stream: false, status: 200, usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 50, reasoningTokens: 0 }, costUsd: 0.0003, latencyMs: 5,
        });
      } catch { /* the rotated-away secret is refused */ }
    }
    for (const body of [{ name: 'x', metadata: 'no' }, { name: 7 }]) await api.call('POST', '/admin/keys', body);
    await api.call('GET', '/admin/keys');
    await api.call('GET', '/admin/requests');
    await api.call('GET', '/admin/usage?group_by=key');
    await t.services.admission.drain();
    await t.services.ledger.flush();

    const files = [t.dbPath!, `${t.dbPath}-wal`, `${t.dbPath}-shm`].filter(existsSync).map((p) => readFileSync(p).toString('latin1'));
    assert.ok(files[0].length > 0);
    const answers = api.texts.filter((text) => !creationAnswers.has(text));
    for (const secret of secrets) {
      const body = secret.slice(8);
      for (const file of files) assert.ok(!file.includes(body), 'no secret in the database files');
      for (const line of t.logs) assert.ok(!line.includes(body), 'no secret in the log');
      for (const text of answers) assert.ok(!text.includes(body), 'no secret in other admin answers');
    }
    assert.ok(files.join('').includes(secrets[0].slice(0, 12)), 'the prefix is stored (the check can see into the file)');
  });
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

test('roles: each route needs its least role; the master key and admin keys may do everything', async () => {
  await withApi(async (api) => {
    const key = async (name: string, role?: string) => (await api.call('POST', '/admin/keys', role === undefined ? { name } : { name, role })).body;
    const admin = await key('ops', 'admin');
    const reviewer = await key('rita', 'reviewer');
    const viewer = await key('vic', 'viewer');
    const plain = await key('app');
    const revoked = await key('gone', 'reviewer');
    assert.deepEqual([admin.role, reviewer.role, viewer.role, plain.role], ['admin', 'reviewer', 'viewer', null]);
    assert.equal((await api.call('POST', `/admin/keys/${revoked.id}/revoke`)).status, 200);

    const routes: Array<[string, string]> = [
      ['GET', '/admin/keys'], ['GET', '/admin/usage'], ['GET', '/admin/requests'], ['GET', '/admin/reviews'],
      ['POST', '/admin/reviews/rev_unknown/approve'], ['GET', '/admin/deployments'],
    ];
    // 404: allowed, and the review does not exist.
    const expected: Record<string, number[]> = {
      master: [200, 200, 200, 200, 404, 200],
      admin: [200, 200, 200, 200, 404, 200],
      reviewer: [403, 200, 200, 200, 404, 403],
      viewer: [403, 200, 200, 200, 403, 403],
      plain: [403, 403, 403, 403, 403, 403],
      revoked: [401, 401, 401, 401, 401, 401],
      unknown: [401, 401, 401, 401, 401, 401],
    };
    const tokens: Record<string, string> = {
      master: MASTER_KEY, admin: admin.key, reviewer: reviewer.key, viewer: viewer.key, plain: plain.key, revoked: revoked.key,
      unknown: 'sy_live_00000000000000000000000000000000',
    };
    for (const [who, statuses] of Object.entries(expected)) {
      const got = [];
      for (const [method, path] of routes) got.push((await api.call(method, path, method === 'POST' ? {} : undefined, bearer(tokens[who]))).status);
      assert.deepEqual(got, statuses, who);
    }

    const denied = await api.call('GET', '/admin/keys', undefined, bearer(viewer.key));
    assert.deepEqual(Object.keys(denied.body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.deepEqual([denied.body.error.type, denied.body.error.code], ['permission_error', 'insufficient_role']);
    assert.match(denied.body.error.message, /GET \/admin\/keys needs the 'admin' role or higher; key 'vic' \(key_\w+\) has the 'viewer' role/);
    const none = await api.call('POST', '/admin/reviews/rev_x/approve', {}, bearer(plain.key));
    assert.match(none.body.error.message, /needs the 'reviewer' role or higher; key 'app' .* has no role\. An admin can change that: PATCH \/admin\/keys\/key_\w+ with \{"role": "reviewer"\}/);
    const config = await api.call('GET', '/admin/usage', undefined, bearer('sy-config-key-for-apps'));
    assert.deepEqual([config.status, config.body.error.code], [403, 'insufficient_role']);
    assert.match(config.body.error.message, /Keys from the gateway's config have no role/);
    const gone = await api.call('GET', '/admin/usage', undefined, bearer(revoked.key));
    assert.equal(gone.body.error.code, 'key_revoked');
    const unknown = await api.call('GET', '/admin/usage', undefined, bearer(tokens.unknown));
    assert.equal(unknown.body.error.code, 'invalid_admin_key');

    // An admin key administers; a role change applies at once.
    const made = await api.call('POST', '/admin/keys', { name: 'by-admin-key' }, bearer(admin.key));
    assert.equal(made.status, 201);
    const demoted = await api.call('PATCH', `/admin/keys/${viewer.id}`, { role: null }, bearer(admin.key));
    assert.equal(demoted.body.role, null);
    assert.equal((await api.call('GET', '/admin/usage', undefined, bearer(viewer.key))).status, 403);
    const promoted = await api.call('PATCH', `/admin/keys/${plain.id}`, { role: 'viewer' });
    assert.equal(promoted.body.role, 'viewer');
    assert.equal((await api.call('GET', '/admin/usage', undefined, bearer(plain.key))).status, 200);
    assert.equal((await api.call('GET', `/admin/keys/${plain.id}`)).body.role, 'viewer');

    for (const [method, path, body] of [['POST', '/admin/keys', { name: 'x', role: 'owner' }], ['PATCH', `/admin/keys/${plain.id}`, { role: 3 }]] as const) {
      const bad = await api.call(method, path, body);
      assert.deepEqual([bad.status, bad.body.error.param], [400, 'role']);
      assert.match(bad.body.error.message, /"viewer" .*"reviewer" .*"admin" .*or null/);
    }
  }, { deployments: async () => [], gatewayKeys: ['sy-config-key-for-apps'] });
});

function review(id: string, createdAt: string, over: Partial<ReviewRow> = {}): ReviewRow {
  return {
    id, requestId: `req_${id}`, keyId: 'key_client', projectId: null, mode: 'hold', status: 'pending', rule: 'refunds', reason: "matched 'refund'",
    endpoint: '/v1/chat/completions', stream: false, model: 'gpt-5.4-mini', reservationId: null, onTimeout: 'reject',
    request: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Can I get a refund?' }] }),
    answer: JSON.stringify({ id: 'r1', model: 'gpt-5.4-mini', created: 0, content: [{ type: 'text', text: 'Yes, always.' }], finishReason: 'stop', usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 3, reasoningTokens: 0 } }),
    finalAnswer: null, usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 3, reasoningTokens: 0 }, costUsd: 0.00001,
    createdAt, expiresAt: new Date(Date.parse(createdAt) + 3_600_000).toISOString(), decidedAt: null, decidedBy: null, decisionReason: null, editedText: null, ...over,
  };
}

test('reviews: list, show and decide through the admin API, each review once', async () => {
  const decided: ReviewRow[] = [];
  await withApi(async (api, t) => {
    const reviewer = (await api.call('POST', '/admin/keys', { name: 'rita', role: 'reviewer' })).body;
    const now = Date.now();
    for (let i = 0; i < 4; i++) await t.services.store.insertReview(review(`rev_${i}`, new Date(now - (10 - i) * 1000).toISOString()));
    await t.services.store.insertReview(review('rev_old', new Date(now - 60_000).toISOString(), { status: 'approved', decidedAt: new Date(now).toISOString(), decidedBy: 'master (master key)' }));

    const first = await api.call('GET', '/admin/reviews?status=pending&limit=3', undefined, bearer(reviewer.key));
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.object, first.body.data.map((r: any) => r.id)], ['list', ['rev_3', 'rev_2', 'rev_1']]);
    const rest = await api.call('GET', `/admin/reviews?status=pending&limit=3&cursor=${first.body.next_cursor}`);
    assert.deepEqual([rest.body.data.map((r: any) => r.id), rest.body.next_cursor], [['rev_0'], null]);
    assert.equal((await api.call('GET', '/admin/reviews')).body.data.length, 5, 'every status by default');

    const shown = await api.call('GET', '/admin/reviews/rev_0', undefined, bearer(reviewer.key));
    assert.deepEqual([shown.body.object, shown.body.status, shown.body.answer_text, shown.body.decision], ['review', 'pending', 'Yes, always.', null]);

    const approved = await api.call('POST', '/admin/reviews/rev_0/approve', undefined, bearer(reviewer.key));
    assert.equal(approved.status, 200, approved.text);
    assert.deepEqual([approved.body.status, approved.body.decision.decided_by, approved.body.decision.reason], ['approved', `${reviewer.id} (rita)`, null]);
    const twice = await api.call('POST', '/admin/reviews/rev_0/reject', { reason: 'changed my mind' }, bearer(reviewer.key));
    assert.deepEqual([twice.status, twice.body.error.code], [409, 'review_already_decided']);
    assert.match(twice.body.error.message, /already decided: approved by key_\w+ \(rita\)/);
    assert.equal((await api.call('GET', '/admin/reviews/rev_0')).body.status, 'approved', 'the first decision stands');

    const edited = await api.call('POST', '/admin/reviews/rev_1/edit', { text: 'Refunds within 30 days.', reason: 'policy' });
    assert.deepEqual([edited.body.status, edited.body.decision.before_text, edited.body.decision.after_text, edited.body.decision.decided_by],
      ['edited', 'Yes, always.', 'Refunds within 30 days.', 'master (master key)']);
    const rejected = await api.call('POST', '/admin/reviews/rev_2/reject', { reason: 'wrong' }, bearer(reviewer.key));
    assert.deepEqual([rejected.body.status, rejected.body.decision.reason, rejected.body.decision.after_text], ['rejected', 'wrong', null]);
    assert.deepEqual(decided.map((r) => [r.id, r.status]), [['rev_0', 'approved'], ['rev_1', 'edited'], ['rev_2', 'rejected']], 'onReviewDecided heard each decision');
    assert.deepEqual((await api.call('GET', '/admin/reviews?status=pending')).body.data.map((r: any) => r.id), ['rev_3']);

    const missing = await api.call('GET', '/admin/reviews/rev_nope');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'review_not_found']);
    assert.equal((await api.call('POST', '/admin/reviews/rev_nope/approve', {})).status, 404);

    const bad: Array<[string, string, unknown, string]> = [
      ['POST', '/admin/reviews/rev_3/edit', {}, 'text'],
      ['POST', '/admin/reviews/rev_3/edit', { text: '   ' }, 'text'],
      ['POST', '/admin/reviews/rev_3/reject', {}, 'reason'],
      ['POST', '/admin/reviews/rev_3/reject', { reason: ' ' }, 'reason'],
      ['POST', '/admin/reviews/rev_3/approve', { reason: 5 }, 'reason'],
      ['POST', '/admin/reviews/rev_3/approve', { text: 'x' }, 'text'],
      ['POST', '/admin/reviews/rev_3/approve', [], 'body'],
      ['GET', '/admin/reviews?status=maybe', undefined, 'status'],
      ['GET', '/admin/reviews?limit=0', undefined, 'limit'],
      ['GET', '/admin/reviews?limit=ten', undefined, 'limit'],
      ['GET', '/admin/reviews?cursor=garbage', undefined, 'cursor'],
    ];
    for (const [method, path, body, param] of bad) {
      const response = await api.call(method, path, body);
      assert.deepEqual([response.status, response.body.error.param], [400, param], `${method} ${path} ${JSON.stringify(body)}`);
    }
    const notJson = await api.call('POST', '/admin/reviews/rev_3/approve', '{"reason":');
    assert.deepEqual([notJson.status, notJson.body.error.code], [400, 'invalid_json']);
    assert.equal((await api.call('GET', '/admin/reviews/rev_3')).body.status, 'pending', 'no bad request decided it');
    assert.deepEqual((await api.call('DELETE', '/admin/reviews/rev_3')).status, 405);
  }, { onReviewDecided: (row: ReviewRow) => decided.push(row) });
});

test('without a review desk the reviews routes answer 404', async () => {
  const t = await sqliteServices();
  const api = await serve(createAdminHandler({ service: t.services.admin, masterKey: MASTER_KEY }));
  try {
    for (const path of ['/admin/reviews', '/admin/reviews/rev_1']) {
      const response = await api.call('GET', path);
      assert.deepEqual([response.status, response.body.error.code], [404, 'reviews_disabled']);
      assert.match(response.body.error.message, /reviews are not enabled/);
    }
    assert.equal((await api.call('GET', '/admin/keys')).status, 200);
  } finally {
    await api.close();
    await t.done();
  }
});
