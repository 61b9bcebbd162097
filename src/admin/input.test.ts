// Admin API input that the stores cannot take, on both stores, through HTTP: NUL bytes
// and unpaired surrogates in query parameters and JSON bodies, forged cursors, and dates
// that are not real ISO 8601 calendar dates with a 4-digit year. Each gets a 400 that
// names the parameter and the expected form, and nothing is created or lost.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { LedgerEntry } from '../services.ts';
import { MASTER_KEY, sharedServices, sqliteServices, type TestServices } from '../budget/testing.ts';
import { postgresUnavailable, redisUnavailable } from '../store/testing.ts';

const sharedSkip = (await postgresUnavailable()) ?? (await redisUnavailable());

interface Reply { status: number; body: any }

async function serve(t: TestServices): Promise<{ call(method: string, path: string, body?: string): Promise<Reply>; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => { void t.services.adminHandler(req, res, new URL(req.url ?? '/', 'http://localhost')); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    async call(method, path, body) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body });
      return { status: res.status, body: await res.json() };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function entry(requestId: string, time: string): LedgerEntry {
  return {
    requestId, attempt: 0, time, keyId: 'key_input', endpoint: 'chat', modelRequested: 'gpt-5.4-mini', stream: false, status: 200,
    usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, costUsd: 0.01, latencyMs: 1,
  };
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function contract(name: string, open: () => Promise<TestServices>, skip?: string) {
  describe(`${name}: admin input the store cannot take is a clear 400`, { skip }, () => {
    let t: TestServices;
    let api: Awaited<ReturnType<typeof serve>>;
    before(async () => {
      t = await open();
      api = await serve(t);
      await t.services.store.appendLedger([1, 2, 3].map((d) => entry(`req_input_${d}`, `2026-03-0${d}T12:00:00.000Z`)));
      await t.services.store.flush();
    });
    after(async () => { await api?.close(); await t?.done(); });

    const refused = async (method: string, path: string, param: string, pattern: RegExp, body?: string) => {
      const reply = await api.call(method, path, body);
      assert.equal(reply.status, 400, `${method} ${path} ${body ?? ''}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.type, 'invalid_request_error');
      assert.equal(reply.body.error.param, param, `${path}: names the parameter`);
      assert.match(reply.body.error.message, pattern);
    };

    test('NUL bytes in query parameters', async () => {
      await refused('GET', '/admin/requests?key_id=key%00x', 'key_id', /NUL/);
      await refused('GET', '/admin/requests?model=gpt%00', 'model', /NUL/);
      await refused('GET', '/admin/usage?project_id=%00', 'project_id', /NUL/);
      await refused('GET', '/admin/usage?key_id=a%00&group_by=key', 'key_id', /NUL/);
      await refused('GET', '/admin/budgets?scope=key&scope_id=k%00', 'scope_id', /NUL/);
    });

    test('NUL bytes and unpaired surrogates in JSON bodies; nothing is created', async () => {
      const keysBefore = (await api.call('GET', '/admin/keys')).body.data.length;
      await refused('POST', '/admin/keys', 'name', /NUL/, '{"name":"ci\\u0000"}');
      await refused('POST', '/admin/keys', 'metadata.team', /NUL/, '{"name":"ci","metadata":{"team":"a\\u0000b"}}');
      await refused('POST', '/admin/keys', 'metadata.team', /surrogate/, '{"name":"ci","metadata":{"team":"a\\ud800b"}}');
      await refused('POST', '/admin/keys', 'metadata (a key)', /NUL/, '{"name":"ci","metadata":{"te\\u0000am":"x"}}');
      await refused('POST', '/admin/keys', 'rate_limits.models (a key)', /NUL/, '{"name":"ci","rate_limits":{"models":{"gpt\\u0000":{"rpm":1}}}}');
      await refused('POST', '/admin/projects', 'name', /NUL/, '{"name":"p\\u0000"}');
      await refused('POST', '/admin/budgets', 'scope_id', /NUL/, '{"scope":"key","scope_id":"k\\u0000","limit_usd":1,"period":"day"}');
      assert.equal((await api.call('GET', '/admin/keys')).body.data.length, keysBefore, 'no key was created');
      const made = await api.call('POST', '/admin/keys', '{"name":"ci ✓","metadata":{"team":"😀"}}');
      assert.equal(made.status, 201, 'well-formed Unicode is fine');
    });

    test('forged cursors', async () => {
      const page = await api.call('GET', '/admin/requests?limit=1');
      assert.equal(page.status, 200);
      const next = await api.call('GET', `/admin/requests?limit=5&cursor=${page.body.next_cursor}`);
      assert.deepEqual(next.body.data.map((r: any) => r.request_id), ['req_input_2', 'req_input_1'], 'a real cursor pages on');
      const time = '2026-03-02T12:00:00.000Z';
      for (const forged of [
        'not base64 at all!', cursorOf({ t: 'garbage', r: 'x', a: 0 }), cursorOf({ t: '+275760-09-13T00:00:00.000Z', r: 'x', a: 0 }),
        cursorOf({ t: '2026-13-45T00:00:00.000Z', r: 'x', a: 0 }), cursorOf({ t: time, r: 'x\u0000', a: 0 }),
        cursorOf({ t: time, r: 'x', a: 1e300 }), cursorOf({ t: time, r: 'x', a: -1 }), cursorOf({ t: time, r: 'x', a: 0.5 }), cursorOf([1, 2]),
      ]) {
        await refused('GET', `/admin/requests?cursor=${encodeURIComponent(forged)}`, 'cursor', /next_cursor of a previous page/);
      }
    });

    test('dates: real calendar dates, 4-digit years, offsets; the parameter is named', async () => {
      await refused('GET', '/admin/requests?from=%2B275760-09-13', 'from', /4-digit year.*years outside 0000–9999/);
      await refused('GET', '/admin/usage?from=2026-13-45', 'from', /2026-13-45 is not a calendar date/);
      await refused('GET', '/admin/usage?from=2026-03-01&to=2026-02-30', 'to', /not a calendar date/);
      await refused('GET', '/admin/requests?to=2027-02-29', 'to', /not a calendar date/);
      await refused('GET', '/admin/requests?to=10000-01-01', 'to', /ISO 8601/);
      await refused('GET', '/admin/requests?from=2026-03-01T25:00:00Z', 'from', /not a real date and time/);
      await refused('GET', '/admin/requests?from=2026-03-01T12:00:00', 'from', /add Z or an offset/);
      await refused('GET', '/admin/requests?from=tomorrow', 'from', /ISO 8601/);
      await refused('POST', '/admin/keys', 'expires_at', /years outside 0000–9999/, '{"name":"x","expires_at":"+275760-09-13T00:00:00Z"}');
      await refused('POST', '/admin/keys', 'expires_at', /not a calendar date/, '{"name":"x","expires_at":"2026-13-45"}');

      const all = async (query: string) => {
        const reply = await api.call('GET', `/admin/requests?${query}`);
        assert.equal(reply.status, 200, `${query}: ${JSON.stringify(reply.body)}`);
        return reply.body.data.map((r: any) => r.request_id).filter((id: string) => id.startsWith('req_input_')).sort();
      };
      assert.deepEqual(await all('from=2026-03-02'), ['req_input_2', 'req_input_3']);
      assert.deepEqual(await all('from=2026-03-02T12:00:00.000%2B00:00&to=2026-03-02'), ['req_input_2'], 'to a bare date is the end of that day');
      assert.deepEqual(await all('from=0000-01-01&to=9999-12-31'), ['req_input_1', 'req_input_2', 'req_input_3'], 'the widest range within the years holds every row');
      assert.deepEqual(await all('from=9999-12-31T23:00:00-05:00'), [], 'a bound past 9999 in UTC is clamped, not an error');
      assert.deepEqual(await all('to=2028-02-29'), ['req_input_1', 'req_input_2', 'req_input_3'], 'a leap day is a date');
      const usage = await api.call('GET', '/admin/usage?from=0000-01-01&to=9999-12-31');
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      const key = await api.call('POST', '/admin/keys', '{"name":"far","expires_at":"9999-12-31T23:59:59+00:00"}');
      assert.deepEqual([key.status, key.body.expires_at], [201, '9999-12-31T23:59:59.000Z']);
    });
  });
}

contract('sqlite', () => sqliteServices());
contract('postgres', () => sharedServices(), sharedSkip);
