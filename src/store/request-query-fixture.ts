// A synthetic request log for the request-query tests and the 1M-row bench: rows with a
// realistic spread (a few busy keys and many quiet ones, most traffic on a few models,
// some of it auto-routed, a few percent errors, retried requests with attempt rows) over
// 30 days, generated deterministically, and written straight into the `requests` table in
// large transactions (far faster than the request-path writer). Also: the queries the
// dashboard runs, and each one's query plan on both databases.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type pg from 'pg';
import { newRequestId } from '../http/request-id.ts';
import { LEDGER_COLUMNS, requestsQuery } from './rows.ts';
import type { RequestQuery } from './types.ts';

type Row = Record<string, unknown>;

export const FIXTURE_END = Date.parse('2026-11-30T00:00:00.000Z');
export const FIXTURE_DAYS = 30;

const MODELS: ReadonlyArray<{ id: string; tier: string; weight: number }> = [
  { id: 'gpt-5.4-mini', tier: 'mini', weight: 30 },
  { id: 'gpt-5.4-nano', tier: 'nano', weight: 15 },
  { id: 'claude-sonnet-4-5', tier: 'default', weight: 15 },
  { id: 'gpt-5.4', tier: 'default', weight: 10 },
  { id: 'gemini-2.5-flash', tier: 'mini', weight: 10 },
  { id: 'claude-haiku-4-5', tier: 'mini', weight: 8 },
  { id: 'claude-opus-4-5', tier: 'frontier', weight: 5 },
  { id: 'gemini-3-pro-preview', tier: 'frontier', weight: 4 },
  { id: 'gpt-5.5-pro', tier: 'pro', weight: 1 },
];
const ROUTES: ReadonlyArray<{ name: string | null; weight: number }> = [
  { name: null, weight: 60 }, { name: 'auto', weight: 15 }, { name: 'auto:balanced', weight: 12 },
  { name: 'auto:cheap', weight: 8 }, { name: 'auto:quality', weight: 4 }, { name: 'auto:cascade', weight: 1 },
];
const STATUSES: ReadonlyArray<{ status: number; weight: number }> = [
  { status: 200, weight: 950 }, { status: 429, weight: 20 }, { status: 400, weight: 10 }, { status: 500, weight: 8 },
  { status: 502, weight: 6 }, { status: 504, weight: 4 }, { status: 401, weight: 2 },
];
const KEYS = 200;
const PROJECTS = 20;

/** A small fast PRNG (mulberry32): the same rows on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function picker<T extends { weight: number }>(items: readonly T[]): (r: number) => T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  return (r) => {
    let left = r * total;
    for (const item of items) if ((left -= item.weight) < 0) return item;
    return items[items.length - 1];
  };
}

export function keyId(i: number): string {
  return `key_${String(i).padStart(4, '0')}`;
}

export function projectOf(key: number): string | null {
  return key % 5 === 4 ? null : `proj_${String(key % PROJECTS).padStart(2, '0')}`;
}

/**
 * `count` request-log rows as table columns (SQLite form), oldest first, with ids that sort
 * by time. Key i gets traffic ∝ 1/(i+1) (Zipf): key_0000 is busy, key_0199 quiet.
 */
export function* fixtureRows(count: number, seed = 1): Generator<Row> {
  const rand = random(seed);
  const pickModel = picker(MODELS);
  const pickRoute = picker(ROUTES);
  const pickStatus = picker(STATUSES);
  const keyWeights = Array.from({ length: KEYS }, (_, i) => ({ key: i, weight: 1 / (i + 1) }));
  const pickKey = picker(keyWeights);
  const start = FIXTURE_END - FIXTURE_DAYS * 86_400_000;
  const step = (FIXTURE_END - start) / count;
  let made = 0;
  let time = start;
  while (made < count) {
    time += step * (0.5 + rand());
    const ms = Math.min(Math.floor(time), FIXTURE_END - 1);
    const iso = new Date(ms).toISOString();
    const key = pickKey(rand()).key;
    const model = pickModel(rand());
    const route = pickRoute(rand()).name;
    const status = pickStatus(rand()).status;
    const requestId = newRequestId(ms);
    const base = {
      request_id: requestId, time: iso, day: iso.slice(0, 10), key_id: keyId(key), project_id: projectOf(key),
      endpoint: '/v1/chat/completions', model_requested: route ?? model.id, model_used: model.id, route_name: route, tier: model.tier,
    };
    yield { ...base, ...usageColumns(rand, 0, status) };
    made++;
    // Retried or fallen-back requests (about 3 %): one row per upstream attempt.
    const attempts = rand() < 0.03 ? 2 + Math.floor(rand() * 2) : 0;
    for (let a = 1; a <= attempts && made < count; a++, made++) {
      yield { ...base, ...usageColumns(rand, a, a < attempts ? 502 : status) };
    }
  }
}

function usageColumns(rand: () => number, attempt: number, status: number): Row {
  const ok = status < 400;
  const input = ok ? Math.floor(200 + rand() * 4000) : 0;
  const output = ok ? Math.floor(20 + rand() * 800) : 0;
  return {
    attempt, provider: 'openai', deployment_id: null, route: null, stream: rand() < 0.4 ? 1 : 0, status,
    error_code: ok ? null : `http_${status}`, input_tokens: input, cached_input_tokens: 0, cache_write_tokens: 0,
    output_tokens: output, reasoning_tokens: 0, cost_usd: (input * 0.25 + output * 2) / 1e6,
    latency_ms: Math.floor(100 + rand() * 3000), ttft_ms: null, cache: null, saved_usd: null,
  };
}

/** Write rows into an SQLite `requests` table, `batch` rows per transaction. */
export function fillSqlite(db: DatabaseSync, rows: Iterable<Row>, batch = 50_000): number {
  const insert = db.prepare(`INSERT INTO requests (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map(() => '?').join(', ')})`);
  let written = 0;
  db.exec('BEGIN');
  for (const row of rows) {
    insert.run(...(LEDGER_COLUMNS.map((c) => row[c] ?? null) as SQLInputValue[]));
    if (++written % batch === 0) { db.exec('COMMIT'); db.exec('BEGIN'); }
  }
  db.exec('COMMIT');
  return written;
}

/** Write rows into a PostgreSQL `requests` table (on the search path), `batch` rows per statement. */
export async function fillPostgres(client: pg.Client | pg.PoolClient, rows: Iterable<Row>, batch = 20_000): Promise<number> {
  const columns = LEDGER_COLUMNS.join(', ');
  const sql = `INSERT INTO requests (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::requests, $1)`;
  let written = 0;
  let chunk: Row[] = [];
  const send = async () => {
    await client.query(sql, [JSON.stringify(chunk)]);
    written += chunk.length;
    chunk = [];
  };
  for (const row of rows) {
    chunk.push({ ...row, stream: row.stream === 1 });
    if (chunk.length === batch) await send();
  }
  if (chunk.length) await send();
  return written;
}

/** The dashboard's queries (request rows only, a page of 50), with values the fixture holds. */
export function dashboardQueries(limit = 50): Array<{ name: string; query: RequestQuery; index: string }> {
  const day = 86_400_000;
  const week = { from: new Date(FIXTURE_END - 8 * day).toISOString(), to: new Date(FIXTURE_END - day).toISOString() };
  const page = { limit, attempts: false } as const;
  return [
    { name: 'newest', query: { ...page }, index: 'requests_recent' },
    { name: 'key (busy)', query: { ...page, keyId: keyId(0) }, index: 'requests_key_recent' },
    { name: 'key (quiet)', query: { ...page, keyId: keyId(KEYS - 1) }, index: 'requests_key_recent' },
    { name: 'project', query: { ...page, projectId: 'proj_07' }, index: 'requests_recent' },
    { name: 'model', query: { ...page, model: 'claude-opus-4-5' }, index: 'requests_model_recent' },
    { name: 'route', query: { ...page, routeName: 'auto:balanced' }, index: 'requests_route_recent' },
    { name: 'tier (rare)', query: { ...page, tier: 'pro' }, index: 'requests_recent' },
    { name: 'status 429', query: { ...page, status: 429 }, index: 'requests_status_recent' },
    { name: 'status 200', query: { ...page, status: 200 }, index: 'requests_recent' },
    { name: 'errors', query: { ...page, statusClass: 'errors' }, index: 'requests_errors_recent' },
    { name: 'time range', query: { ...page, ...week }, index: 'requests_recent' },
    { name: 'key + time range', query: { ...page, keyId: keyId(3), ...week }, index: 'requests_key_recent' },
    { name: 'all rows + attempts', query: { limit }, index: 'requests_recent' },
  ];
}

/** SQLite's plan for a request query, one line per step. */
export function sqlitePlan(db: DatabaseSync, query: RequestQuery): string[] {
  const { sql, params } = requestsQuery(query, (n) => `?${n}`, 'sqlite');
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as SQLInputValue[])) as Row[]).map((r) => String(r.detail));
}

export async function postgresPlan(client: pg.Client | pg.PoolClient, query: RequestQuery): Promise<string[]> {
  const { sql, params } = requestsQuery(query, (n) => `$${n}`, 'postgres');
  return ((await client.query(`EXPLAIN ${sql}`, params)).rows as Row[]).map((r) => String(r['QUERY PLAN']));
}

/** Sorting this many rows (the planner's estimate) is no cost worth avoiding: a quiet key's few rows. */
const SMALL_SORT = 1000;

/**
 * Why a plan is not "an index range scan plus a LIMIT", or undefined when it is. SQLite
 * (no statistics, rule-based) must use `index`. PostgreSQL plans by cost, so it may walk
 * another of the log's indexes when most rows match (a busy key) or sort a few rows found
 * by a bitmap scan (a quiet key); a table scan or a sort of many rows is never right.
 */
export function planProblem(plan: string[], index: string, dialect: 'sqlite' | 'postgres'): string | undefined {
  const text = plan.join('\n');
  if (dialect === 'sqlite') {
    if (plan.some((line) => /^SCAN requests$/.test(line.trim()))) return 'a full table scan';
    if (/TEMP B-TREE/.test(text)) return 'a sort';
    if (!new RegExp(`\\b${index}\\b`).test(text)) return `not the index ${index}`;
    return undefined;
  }
  if (/Seq Scan/.test(text)) return 'a table scan';
  if (!/^Limit/.test(plan[0].trim())) return 'no LIMIT at the top';
  for (const line of plan) {
    const sort = /Sort {2}\(cost=[\d.]+ rows=(\d+)/.exec(line);
    if (sort && Number(sort[1]) > SMALL_SORT) return `a sort of about ${sort[1]} rows`;
  }
  if (!/(Index Scan (Backward )?using|Bitmap Index Scan on) requests_(\w+_)?recent\b/.test(text)) return 'none of the request-log indexes';
  return undefined;
}
