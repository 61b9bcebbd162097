// The request log's filters and paging on both stores: a few hundred rows written through
// the ledger path, each filter checked against the same filter done in memory, page by
// page; each dashboard query's plan is an index range scan plus a LIMIT (20k rows); a file
// or schema made by the first schema opens, gains route_name and tier, and keeps its rows;
// GET /admin/requests takes the new parameters and refuses bad ones with a 400.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { LedgerEntry } from '../services.ts';
import { AdminService } from '../admin/service.ts';
import { createAdminHandler } from '../admin/handler.ts';
import {
  dashboardQueries, fillPostgres, fillSqlite, fixtureRows, FIXTURE_END, keyId, planProblem, postgresPlan, sqlitePlan,
} from './request-query-fixture.ts';
import { POSTGRES_URL, postgresUnavailable, tempDir, tempPostgres, tempSqlite, uniqueName, dropSchema } from './testing.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import { sanitizeLedgerEntry } from './sanitize.ts';
import type { RequestQuery, RequestRow, Store } from './types.ts';

type Row = Record<string, unknown>;
const pgSkip = await postgresUnavailable();
if (pgSkip) console.log(`# skipping the PostgreSQL request-query tests: ${pgSkip}`);

function toEntry(row: Row): LedgerEntry {
  const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  return {
    requestId: String(row.request_id), attempt: Number(row.attempt), time: String(row.time), keyId: String(row.key_id),
    projectId: text(row.project_id), endpoint: String(row.endpoint), modelRequested: String(row.model_requested),
    modelUsed: text(row.model_used), routeName: text(row.route_name), tier: text(row.tier), provider: text(row.provider),
    stream: row.stream === 1, status: Number(row.status), errorCode: text(row.error_code),
    usage: { inputTokens: Number(row.input_tokens), cachedInputTokens: 0, outputTokens: Number(row.output_tokens), reasoningTokens: 0 },
    costUsd: Number(row.cost_usd), latencyMs: Number(row.latency_ms),
  };
}

const ROWS = [...fixtureRows(600, 7)];
const id = (r: Row | RequestRow) => `${String(r.request_id)}/${String(r.attempt)}`;

/** The query done in memory: the rows it must return, newest first. */
function expected(query: RequestQuery): string[] {
  return ROWS.filter((r) =>
    (query.keyId === undefined || r.key_id === query.keyId) && (query.projectId === undefined || r.project_id === query.projectId) &&
    (query.model === undefined || r.model_used === query.model) && (query.routeName === undefined || r.route_name === query.routeName) &&
    (query.tier === undefined || r.tier === query.tier) && (query.status === undefined || r.status === query.status) &&
    (query.statusClass !== 'errors' || Number(r.status) >= 400) && (query.attempts !== false || r.attempt === 0) &&
    (!query.from || String(r.time) >= query.from) && (!query.to || String(r.time) < query.to))
    .sort((a, b) => (a.time === b.time ? (a.request_id === b.request_id ? Number(b.attempt) - Number(a.attempt) : String(b.request_id) < String(a.request_id) ? -1 : 1) : String(b.time) < String(a.time) ? -1 : 1))
    .map(id);
}

async function allPages(store: Store, query: RequestQuery): Promise<{ ids: string[]; pages: number; rows: RequestRow[] }> {
  const rows: RequestRow[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.requests({ ...query, cursor });
    assert.ok(page.rows.length <= query.limit);
    rows.push(...page.rows);
    pages++;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages < 1000);
  return { ids: rows.map(id), pages, rows };
}

const day = 86_400_000;
const FILTERS: Array<[string, Omit<RequestQuery, 'limit'>]> = [
  ['everything', {}], ['request rows only', { attempts: false }], ['key', { keyId: keyId(0), attempts: false }],
  ['quiet key with attempts', { keyId: keyId(2) }], ['project', { projectId: 'proj_01' }], ['model', { model: 'gpt-5.4-nano' }],
  ['route', { routeName: 'auto:balanced', attempts: false }], ['tier', { tier: 'frontier' }], ['status', { status: 200, attempts: false }],
  ['status 502', { status: 502 }], ['errors', { statusClass: 'errors' }],
  ['time range', { from: new Date(FIXTURE_END - 20 * day).toISOString(), to: new Date(FIXTURE_END - 10 * day).toISOString(), attempts: false }],
  ['key + time range', { keyId: keyId(1), from: new Date(FIXTURE_END - 15 * day).toISOString(), to: new Date(FIXTURE_END - 2 * day).toISOString() }],
  ['key + model + errors', { keyId: keyId(0), model: 'gpt-5.4-mini', statusClass: 'errors' }],
];

function contract(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>, skip?: string) {
  describe(`${name}: request log filters and paging`, { skip }, () => {
    let opened: { store: Store; cleanup: () => Promise<void> };
    before(async () => {
      opened = await open();
      await opened.store.appendLedger(ROWS.map(toEntry));
      await opened.store.flush();
    });
    after(async () => { await opened?.cleanup(); });

    test('route_name and tier are stored and read back', async () => {
      const { rows } = await allPages(opened.store, { limit: 1000 });
      assert.equal(rows.length, ROWS.length);
      const byId = new Map(ROWS.map((r) => [id(r), r]));
      for (const row of rows) {
        const source = byId.get(id(row))!;
        assert.equal(row.route_name, source.route_name ?? null);
        assert.equal(row.tier, source.tier);
      }
      assert.ok(rows.some((r) => r.route_name === null) && rows.some((r) => r.route_name === 'auto:cheap'));
    });

    for (const [label, filter] of FILTERS) {
      test(`${label}: the right rows, newest first, across pages`, async () => {
        const want = expected({ ...filter, limit: 0 });
        assert.ok(want.length > 0, `${label}: the fixture has rows for it`);
        const { ids, pages } = await allPages(opened.store, { ...filter, limit: 7 });
        assert.deepEqual(ids, want);
        assert.equal(pages, Math.max(1, Math.ceil(want.length / 7)));
      });
    }
  });
}

test('route_name and tier are sanitised like the other optional text fields', () => {
  const fixed = sanitizeLedgerEntry({ ...toEntry(ROWS[0]), routeName: 'auto:\u0000x', tier: `mini${'x'.repeat(300)}` });
  assert.equal(fixed.value.routeName, 'auto:\uFFFDx');
  assert.equal(fixed.value.tier!.length, 256);
  assert.equal(fixed.problems?.length, 2);
  assert.equal(sanitizeLedgerEntry(toEntry(ROWS[0])).problems, undefined);
});

contract('sqlite', async () => {
  const t = tempSqlite();
  return { store: t.store, cleanup: t.cleanup };
});
contract('postgres', async () => {
  const t = await tempPostgres();
  return { store: t.store, cleanup: t.cleanup };
}, pgSkip);

describe('every dashboard query is an index range scan plus a LIMIT (20k rows)', () => {
  test('sqlite (EXPLAIN QUERY PLAN), first page and page 2', async () => {
    const t = tempSqlite();
    const db = new DatabaseSync(t.path);
    try {
      fillSqlite(db, fixtureRows(20_000));
      for (const { name, query, index } of dashboardQueries()) {
        const page = await t.store.requests(query);
        for (const q of [query, { ...query, cursor: page.nextCursor ?? undefined }]) {
          const plan = sqlitePlan(db, q);
          assert.equal(planProblem(plan, index, 'sqlite'), undefined, `${name}${q.cursor ? ' (page 2)' : ''}: ${plan.join(' | ')}`);
        }
      }
    } finally {
      db.close();
      await t.cleanup();
    }
  });

  test('postgres (EXPLAIN after ANALYZE), first page and page 2', { skip: pgSkip }, async () => {
    const t = await tempPostgres();
    const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${t.schema}` });
    await client.connect();
    try {
      await fillPostgres(client, fixtureRows(20_000));
      await client.query('ANALYZE requests');
      for (const { name, query, index } of dashboardQueries()) {
        const page = await t.store.requests(query);
        for (const q of [query, { ...query, cursor: page.nextCursor ?? undefined }]) {
          const plan = await postgresPlan(client, q);
          assert.equal(planProblem(plan, index, 'postgres'), undefined, `${name}${q.cursor ? ' (page 2)' : ''}:\n${plan.join('\n')}`);
        }
      }
    } finally {
      await client.end();
      await t.cleanup();
    }
  });
});

// The request log as the first schema made it: no route_name or tier, the two old indexes.
const OLD_REQUESTS = (time: string, bool: string, big: string, money: string) => `CREATE TABLE requests (
  request_id TEXT NOT NULL, attempt INTEGER NOT NULL, time ${time} NOT NULL, day TEXT NOT NULL,
  key_id TEXT NOT NULL, project_id TEXT, endpoint TEXT NOT NULL, model_requested TEXT NOT NULL,
  model_used TEXT, provider TEXT, deployment_id TEXT, route TEXT, stream ${bool} NOT NULL,
  status INTEGER NOT NULL, error_code TEXT, input_tokens ${big} NOT NULL, cached_input_tokens ${big} NOT NULL,
  cache_write_tokens ${big} NOT NULL, output_tokens ${big} NOT NULL, reasoning_tokens ${big} NOT NULL,
  cost_usd ${money} NOT NULL, latency_ms INTEGER NOT NULL, ttft_ms INTEGER, PRIMARY KEY (request_id, attempt));
  CREATE INDEX requests_time ON requests (time); CREATE INDEX requests_key_time ON requests (key_id, time);
  INSERT INTO requests VALUES ('req_old', 0, '2026-01-01T00:00:00.000Z', '2026-01-01', 'key_old', NULL, 'chat', 'gpt-5.4', 'gpt-5.4',
    'openai', NULL, NULL, ${bool === 'INTEGER' ? 0 : 'false'}, 200, NULL, 1, 0, 0, 1, 0, 0.5, 10, NULL)`;

const [newer] = ROWS.filter((r) => r.route_name && r.attempt === 0).map(toEntry);

async function checkMigrated(store: Store, indexes: string[]): Promise<void> {
  await store.appendLedger([newer]);
  await store.flush();
  const rows = (await store.requests({ limit: 10 })).rows;
  assert.deepEqual(rows.map((r) => [r.request_id, r.route_name, r.tier]), [[newer.requestId, newer.routeName, newer.tier], ['req_old', null, null]]);
  assert.deepEqual((await store.requests({ limit: 10, routeName: newer.routeName })).rows.map((r) => r.request_id), [newer.requestId]);
  assert.ok(!indexes.includes('requests_time') && !indexes.includes('requests_key_time'), `old indexes dropped: ${indexes.join(', ')}`);
  for (const name of ['requests_recent', 'requests_key_recent', 'requests_route_recent', 'requests_errors_recent']) assert.ok(indexes.includes(name), name);
}

describe('a database made by the first schema opens and gains the new columns', () => {
  test('sqlite', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'old.db');
    const old = new DatabaseSync(path);
    old.exec(OLD_REQUESTS('TEXT', 'INTEGER', 'INTEGER', 'REAL'));
    old.close();
    for (let open = 0; open < 2; open++) {
      const store = new SqliteStore({ path });
      const db = new DatabaseSync(path);
      try {
        const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'`).all() as Row[]).map((r) => String(r.name));
        if (open === 0) await checkMigrated(store, indexes);
        else assert.equal((await store.requests({ limit: 10 })).rows.length, 2, 'opens again unchanged');
      } finally {
        db.close();
        await store.close();
      }
    }
    cleanup();
  });

  test('postgres', { skip: pgSkip }, async () => {
    const schema = uniqueName('old');
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}; ${OLD_REQUESTS('TIMESTAMPTZ', 'BOOLEAN', 'BIGINT', 'DOUBLE PRECISION')}`);
      const store = await PostgresStore.open({ url: POSTGRES_URL, schema });
      try {
        const indexes = (await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'requests'`, [schema])).rows.map((r) => String(r.indexname));
        await checkMigrated(store, indexes);
      } finally {
        await store.close();
      }
      const again = await PostgresStore.open({ url: POSTGRES_URL, schema });
      assert.equal((await again.requests({ limit: 10 })).rows.length, 2, 'opens again unchanged');
      await again.close();
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });
});

describe('GET /admin/requests filters', () => {
  let server: Server;
  let base: string;
  let t: Awaited<ReturnType<typeof tempSqlite>>;
  const MASTER = 'sk-admin-request-query-test';
  before(async () => {
    t = tempSqlite();
    await t.store.appendLedger(ROWS.map(toEntry));
    await t.store.flush();
    const handler = createAdminHandler({ service: new AdminService({ store: t.store }), masterKey: MASTER });
    server = createServer((req, res) => { void handler(req, res, new URL(req.url ?? '/', 'http://localhost')); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.cleanup();
  });
  const get = async (query: string) => {
    const res = await fetch(`${base}/admin/requests?${query}`, { headers: { authorization: `Bearer ${MASTER}` } });
    return { status: res.status, body: await res.json() as any };
  };

  test('each parameter filters, and the cursor pages on', async () => {
    const from = new Date(FIXTURE_END - 20 * day).toISOString();
    const query = `key_id=${keyId(0)}&project_id=proj_00&tier=mini&from=${from}&to=2026-11-30&limit=3&attempts=false`;
    const want = expected({ keyId: keyId(0), projectId: 'proj_00', tier: 'mini', from, to: new Date(FIXTURE_END + day).toISOString(), attempts: false, limit: 0 });
    assert.ok(want.length > 3);
    const first = await get(query);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await get(`${query}&cursor=${first.body.next_cursor}`);
    assert.deepEqual([...first.body.data, ...second.body.data].map(id), want.slice(0, 6));
    const routed = await get('route=auto:cheap&model=gpt-5.4-mini&limit=1000');
    assert.deepEqual(routed.body.data.map(id), expected({ routeName: 'auto:cheap', model: 'gpt-5.4-mini', limit: 0 }));
    assert.ok(routed.body.data.length > 0);
    const errors = await get('status=errors&limit=1000');
    assert.deepEqual(errors.body.data.map(id), expected({ statusClass: 'errors', limit: 0 }));
    const limited = await get('status=429&limit=1000');
    assert.deepEqual(limited.body.data.map(id), expected({ status: 429, limit: 0 }));
    assert.equal((await get('key_id=&route=&limit=1000')).body.data.length, ROWS.length, 'an empty filter is no filter, as before');
    const all = await get('limit=1000');
    assert.equal(all.body.data.length, ROWS.length, 'attempt rows are included by default, as before');
  });

  test('bad values are a 400 naming the parameter', async () => {
    for (const [query, param, pattern] of [
      ['status=4xx', 'status', /'errors'/], ['status=1000', 'status', /HTTP status/], ['tier=huge', 'tier', /nano, mini, default, frontier, pro/],
      ['attempts=yes', 'attempts', /'true'.*'false'/], ['limit=0', 'limit', /1 to 1000/], ['limit=10x', 'limit', /1 to 1000/],
      [`model=${'m'.repeat(300)}`, 'model', /at most 256/], [`route=${'r'.repeat(257)}`, 'route', /at most 256/],
      ['from=2026-11-10&to=2026-11-01', 'to', /after from/], ['cursor=nope', 'cursor', /next_cursor/],
    ] as const) {
      const reply = await get(query);
      assert.equal(reply.status, 400, `${query}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.param, param, query);
      assert.match(reply.body.error.message, pattern, query);
    }
  });
});
