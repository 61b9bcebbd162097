// The admin request log at scale: `rows` request-log rows (30 days, realistic spread of
// keys, models, routes, statuses and attempt rows; see src/store/request-query-fixture.ts)
// written straight into a temp SQLite file and, when PostgreSQL answers at 127.0.0.1:5432,
// a temp schema; then each dashboard query timed through the store (store.requests, the
// call GET /admin/requests makes): p50 of a few runs, on the first page and on a page deep
// in the log (reached by following cursors). Each query's plan is checked as well.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import {
  dashboardQueries, fillPostgres, fillSqlite, FIXTURE_END, fixtureRows, planProblem, postgresPlan, sqlitePlan,
} from '../../src/store/request-query-fixture.ts';
import { encodeCursor } from '../../src/store/rows.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { REQUEST_INDEXES, schemaStatements } from '../../src/store/schema.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { POSTGRES_URL, postgresUnavailable, uniqueName, dropSchema } from '../../src/store/testing.ts';
import type { RequestQuery, Store } from '../../src/store/types.ts';
import type { StatsQuery } from '../../src/store/stats.ts';

export interface RequestLogResult { store: string; query: string; p50Ms: number; rows: number }

const RUNS = 7;
/** A stats query scans its whole window: fewer runs. */
const STATS_RUNS = 3;
/** The deep page: this many pages of 50 in (rows 1000–1050 of the filtered log). */
const DEEP_PAGE = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeQuery(store: Store, query: RequestQuery): Promise<{ p50Ms: number; rows: number }> {
  let rows = 0;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    rows = (await store.requests(query)).rows.length;
    times.push(performance.now() - start);
  }
  return { p50Ms: median(times), rows };
}

/** The cursor of page `pages + 1`, or undefined when the filter has fewer rows. */
async function deepCursor(store: Store, query: RequestQuery, pages: number): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let i = 0; i < pages; i++) {
    cursor = (await store.requests({ ...query, cursor })).nextCursor ?? undefined;
    if (!cursor) return undefined;
  }
  return cursor;
}

/** A cursor in the middle of the 30 days, as if the user had paged back 15 days. */
async function middleCursor(store: Store, query: RequestQuery): Promise<string | undefined> {
  const to = new Date(FIXTURE_END - 15 * 86_400_000).toISOString();
  if (query.from && query.from >= to) return undefined;
  const [row] = (await store.requests({ ...query, to, limit: 1 })).rows;
  return row ? encodeCursor(row) : undefined;
}

/** The plan's scan line (SQLite) or its Limit and index scan lines (PostgreSQL), on one line. */
function compactPlan(steps: string[]): string {
  return steps.map((s) => s.trim()).filter((s) => !/^(Filter|Recheck)/.test(s)).map((s) => s.replace(/ {2}\(cost=[^)]*\)/, '')).join(' / ');
}

type Planner = (query: RequestQuery) => Promise<string[]>;

async function timeDashboard(name: string, dialect: 'sqlite' | 'postgres', store: Store, plan: Planner, log: (line: string) => void): Promise<RequestLogResult[]> {
  const results: RequestLogResult[] = [];
  for (const { name: query, query: first, index } of dashboardQueries()) {
    const cursor = await deepCursor(store, first, DEEP_PAGE);
    const pages: Array<[string, RequestQuery]> = [[query, first]];
    if (cursor) pages.push([`${query}, page ${DEEP_PAGE + 1}`, { ...first, cursor }]);
    const middle = await middleCursor(store, first);
    if (middle) pages.push([`${query}, 15 days back`, { ...first, cursor: middle }]);
    for (const [label, q] of pages) {
      const steps = await plan(q);
      const problem = planProblem(steps, index, dialect);
      if (problem) log(`  ${name} ${label}: plan has ${problem}:\n    ${steps.join('\n    ')}`);
      else if (q === first || label.endsWith('back')) log(`  ${name} plan, ${label}: ${compactPlan(steps)}`);
      const timed = await timeQuery(store, q);
      results.push({ store: name, query: label, ...timed });
    }
  }
  await timeStats(name, store, log);
  return results;
}

/**
 * GET /admin/stats' store query (the dashboard's Overview and Router), printed, not checked
 * against the page target above: it aggregates its whole window (a month here is nearly
 * every row of the fixture), so it is not a page of 50. A day and a week of the fixture's
 * last week with traffic (its attempt rows make the newest days empty), and the whole month.
 */
async function timeStats(name: string, store: Store, log: (line: string) => void): Promise<void> {
  const DAY = 86_400_000;
  const end = FIXTURE_END - 5 * DAY;
  const windows: Array<[string, StatsQuery]> = [
    ['day, 48 buckets, by model', { from: new Date(end - DAY).toISOString(), to: new Date(end).toISOString(), bucketMs: DAY / 48, buckets: 48, groupBy: 'model' }],
    ['week, 56 buckets, by model', { from: new Date(end - 7 * DAY).toISOString(), to: new Date(end).toISOString(), bucketMs: (7 * DAY) / 56, buckets: 56, groupBy: 'model' }],
    ['month, 60 buckets, by model', { from: new Date(FIXTURE_END - 30 * DAY).toISOString(), to: new Date(FIXTURE_END).toISOString(), bucketMs: DAY / 2, buckets: 60, groupBy: 'model' }],
    ['month, auto-routed, by tier', { from: new Date(FIXTURE_END - 30 * DAY).toISOString(), to: new Date(FIXTURE_END).toISOString(), bucketMs: DAY / 2, buckets: 60, groupBy: 'tier', autoRouted: true }],
  ];
  for (const [label, query] of windows) {
    const times: number[] = [];
    let requests = 0;
    for (let i = 0; i < STATS_RUNS; i++) {
      const start = performance.now();
      requests = (await store.stats(query)).totals.requests;
      times.push(performance.now() - start);
    }
    log(`  ${name} stats (GET /admin/stats), ${label}: p50 ${median(times).toFixed(0)} ms over ${requests} requests`);
  }
}

async function sqliteRun(rows: number, log: (line: string) => void): Promise<RequestLogResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-log-'));
  const path = join(dir, 'switchyard.db');
  const store = new SqliteStore({ path, writerThread: false, journal: false });
  const db = new DatabaseSync(path);
  try {
    const start = performance.now();
    fillSqlite(db, fixtureRows(rows));
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const ms = performance.now() - start;
    log(`  sqlite: ${rows} rows written in ${(ms / 1000).toFixed(1)} s (${Math.round(rows / (ms / 1000))} rows/s, 8 request-log indexes), file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
    return await timeDashboard('sqlite', 'sqlite', store, async (q) => sqlitePlan(db, q), log);
  } finally {
    db.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRun(rows: number, log: (line: string) => void): Promise<RequestLogResult[]> {
  const schema = uniqueName('bench_log');
  const store = await PostgresStore.open({ url: POSTGRES_URL, schema });
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const start = performance.now();
    await fillPostgres(client, fixtureRows(rows));
    const ms = performance.now() - start;
    // What autovacuum does on its own a while after a bulk load: the planner needs the statistics.
    await client.query('VACUUM ANALYZE requests');
    const size = (await client.query(`SELECT pg_total_relation_size('requests') AS bytes`)).rows[0].bytes;
    log(`  postgres: ${rows} rows written in ${(ms / 1000).toFixed(1)} s (${Math.round(rows / (ms / 1000))} rows/s, 8 request-log indexes), table + indexes ${(Number(size) / 2 ** 20).toFixed(0)} MiB`);
    return await timeDashboard('postgres', 'postgres', store, (q) => postgresPlan(client, q), log);
  } finally {
    await client.end();
    await store.close();
    await dropSchema(schema);
  }
}

/**
 * What the indexes cost each insert: the same rows into SQLite with the first schema's two
 * request-log indexes, and with today's eight.
 */
function sqliteWriteCost(rows: number, log: (line: string) => void): void {
  const rate = (keepNew: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-log-'));
    try {
      const db = new DatabaseSync(join(dir, 'cost.db'));
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      for (const statement of schemaStatements('sqlite')) db.exec(statement);
      if (!keepNew) {
        for (const { name } of REQUEST_INDEXES) db.exec(`DROP INDEX ${name}`);
        db.exec('CREATE INDEX requests_time ON requests (time); CREATE INDEX requests_key_time ON requests (key_id, time)');
      }
      const start = performance.now();
      fillSqlite(db, fixtureRows(rows, 3), 1000);
      const perSecond = Math.round(rows / ((performance.now() - start) / 1000));
      db.close();
      return perSecond;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  log(`  sqlite write cost, ${rows} rows in transactions of 1000: ${rate(false)} rows/s with the 2 old indexes, ${rate(true)} rows/s with the 8 new ones`);
}

export async function requestLogSuite(options: { rows: number; log: (line: string) => void }): Promise<RequestLogResult[]> {
  const { rows, log } = options;
  sqliteWriteCost(Math.min(rows, 200_000), log);
  const results = await sqliteRun(rows, log);
  const skip = await postgresUnavailable();
  if (skip) log(`  postgres: skipped (${skip})`);
  else results.push(...(await postgresRun(rows, log)));
  log(`  ${'store'.padEnd(9)} ${'query'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'rows'.padStart(5)}`);
  for (const r of results) log(`  ${r.store.padEnd(9)} ${r.query.padEnd(40)} ${r.p50Ms.toFixed(2).padStart(8)} ${String(r.rows).padStart(5)}`);
  return results;
}
