// The admin API over real HTTP, and the hash-at-rest proof: no secret in the database
// files, the log, or any admin answer but the one that created it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { MASTER_KEY, sqliteServices, type TestServices } from '../budget/testing.ts';
import type { AccessServices } from './access.ts';

interface Api {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  texts: string[];
  close(): Promise<void>;
}

async function serve(services: AccessServices): Promise<Api> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void services.adminHandler(req, res, url);
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
    assert.equal(virtual.status, 401);
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
