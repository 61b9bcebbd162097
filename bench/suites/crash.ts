// Crash: N kill -9 cycles under mixed stream and non-stream load, each gateway restarted
// on the same store (a SQLite file; a PostgreSQL schema, with Redis counters when Redis
// is there). The fake upstream counts what was served; the ledger (the admin API's
// request log) must hold exactly one attempt-0 row for each of those, and the budget's
// spend must be the sum of the rows. Like test/crash.e2e.test.ts, but more cycles, both
// stores, and numbers instead of assertions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from '../../src/mock-upstream/index.ts';
import type { MockUpstream } from '../../src/mock-upstream/index.ts';
import { POSTGRES_URL, REDIS_URL, clearRedisPrefix, dropSchema, postgresUnavailable, redisUnavailable, uniqueName } from '../../src/store/testing.ts';
import type { RequestRow } from '../../src/store/types.ts';
import { spawnGateway } from '../../test/support/child-gateway.ts';
import type { ChildGateway } from '../../test/support/child-gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from '../../test/support/admin.ts';
import { pricedMockYaml } from '../../test/support/stack.ts';
import { startCrashLoad } from '../../test/support/crash-load.ts';

export interface CrashOptions {
  cycles: number;
  /** Concurrent clients; even ones send non-stream requests, odd ones stream. */
  workers: number;
  /** The kill comes this long (uniformly random) after the load is flowing. */
  killAfterMs: [number, number];
}

export interface CrashResult {
  store: 'sqlite' | 'postgres';
  /** Why the store was not run (e.g. PostgreSQL not reachable). */
  skipped?: string;
  /** Where budgets were counted: in the gateway process, or in Redis. */
  counters?: 'in-process' | 'redis';
  cycles: number;
  /** Distinct request ids the fake upstream saw (x-client-request-id). */
  served: number;
  /** Attempt-0 request rows of the key. */
  rows: number;
  missing: number;
  duplicate: number;
  /** Rows the restarted gateway wrote for requests the dead one left open (error_code interrupted). */
  interrupted: number;
  /** Requests the clients saw answered in full. */
  answered: number;
  /** Answered requests with no row. */
  answeredWithoutRow: number;
  /** The worst count of served-without-row right after a restart's /readyz said ready. */
  missingAtReady: number;
  spentUsd: number;
  rowsUsd: number;
  reservedUsd: number;
  spendMatches: boolean;
  /** Up to 10 ids of each, for a look in the store. */
  missingIds: string[];
  duplicateIds: string[];
  /** Upstream requests without an x-client-request-id (cannot be matched). */
  unmatched: number;
  seconds: number;
}

const PROVIDER_KEY = 'mock-provider-secret-bench';
const MODEL = 'gpt-5.4-mini';
const MAX_TOKENS = 40;
const LIMIT_USD = 100_000;

// $0.001 per output token, free input, as in the e2e test.
const yaml = (mockUrl: string) => pricedMockYaml(mockUrl, { [MODEL]: { input: 0, output: 1000 } }, PROVIDER_KEY);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function crashSuite(options: CrashOptions, log: (line: string) => void): Promise<CrashResult[]> {
  const results: CrashResult[] = [];
  results.push(await runStore('sqlite', options, log));
  const pgSkip = await postgresUnavailable();
  if (pgSkip) {
    log(`  postgres: skipped: ${pgSkip}`);
    results.push({ ...empty('postgres', options.cycles), skipped: pgSkip });
  } else results.push(await runStore('postgres', options, log));
  log(crashTable(results));
  return results;
}

function empty(store: CrashResult['store'], cycles: number): CrashResult {
  return { store, cycles, served: 0, rows: 0, missing: 0, duplicate: 0, interrupted: 0, answered: 0, answeredWithoutRow: 0, missingAtReady: 0, spentUsd: 0, rowsUsd: 0, reservedUsd: 0, spendMatches: false, missingIds: [], duplicateIds: [], unmatched: 0, seconds: 0 };
}

export function crashTable(results: CrashResult[]): string {
  const header = ['store', 'cycles', 'served', 'rows', 'missing', 'duplicate', 'interrupted', 'spend == Σ rows'];
  const rows = results.map((r) =>
    r.skipped
      ? [r.store, 'skipped', '', '', '', '', '', '']
      : [r.store, String(r.cycles), String(r.served), String(r.rows), String(r.missing), String(r.duplicate), String(r.interrupted), r.spendMatches ? `yes ($${r.spentUsd})` : `NO ($${r.spentUsd} vs $${r.rowsUsd})`],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function runStore(store: CrashResult['store'], options: CrashOptions, log: (line: string) => void): Promise<CrashResult> {
  const started = performance.now();
  const result = empty(store, options.cycles);
  const mock = await startMockUpstream({ latencyMs: 30, maxRecorded: 10_000_000 });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-crash-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml(mock.url));
  const env: Record<string, string> = { SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn' };
  let schema: string | undefined;
  let prefix: string | undefined;
  if (store === 'sqlite') env.SWITCHYARD_DB = join(dir, 'crash.db');
  else {
    schema = uniqueName('bench_crash');
    Object.assign(env, { SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema });
    const redisSkip = await redisUnavailable();
    if (redisSkip) log(`  postgres: budgets counted in-process (${redisSkip})`);
    else {
      prefix = `${schema}:`;
      Object.assign(env, { SWITCHYARD_REDIS_URL: REDIS_URL, SWITCHYARD_REDIS_PREFIX: prefix });
    }
  }
  result.counters = prefix ? 'redis' : 'in-process';
  const where = store === 'sqlite' ? env.SWITCHYARD_DB : `schema ${schema}${prefix ? `, Redis prefix ${prefix}` : ''}`;
  log(`  ${store} (${where}), ${options.cycles} cycles, ${options.workers} workers:`);
  let gw = await startReady(dir, env);
  try {
    const key = await adminApi(gw.origin).createKey({ name: 'bench-crash', budgets: [{ limit_usd: LIMIT_USD, period: 'total' }] });
    const answered = new Set<string>();
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const before = mock.requests.length;
      const load = startCrashLoad(gw.baseURL, key.key, options.workers, MODEL, MAX_TOKENS);
      // A cold gateway's first calls are slow: kill it only once every worker is under way.
      const deadline = Date.now() + 20_000;
      while (mock.requests.length < before + options.workers && Date.now() < deadline) await sleep(10);
      const [lo, hi] = options.killAfterMs;
      await sleep(lo + Math.random() * (hi - lo));
      load.stop();
      await gw.crash();
      await load.done;
      for (const id of load.answered) answered.add(id);
      gw = await startReady(dir, env);
      // Right at ready: the dead process's open requests must already be billed.
      const now = tally(mock, await attemptZero(gw, key.id));
      result.missingAtReady = Math.max(result.missingAtReady, now.missing.length);
      log(`    cycle ${cycle}: upstream served ${now.served.size}, ${now.rows} rows, ${now.missing.length} missing, ${now.duplicate.length} duplicate at ready`);
    }
    // A clean stop, then count on a fresh process.
    await gw.stop();
    gw = await startReady(dir, env);
    const rows = await attemptZero(gw, key.id);
    const t = tally(mock, rows);
    const byId = new Set(rows.map((r) => r.request_id));
    const [budget] = (await adminApi(gw.origin).key(key.id)).budgets;
    Object.assign(result, {
      served: t.served.size,
      rows: t.rows,
      missing: t.missing.length,
      duplicate: t.duplicate.length,
      missingIds: t.missing.slice(0, 10),
      duplicateIds: t.duplicate.slice(0, 10),
      unmatched: t.unmatched,
      interrupted: rows.filter((r) => r.error_code === 'interrupted').length,
      answered: answered.size,
      answeredWithoutRow: [...answered].filter((id) => !byId.has(id)).length,
      spentUsd: budget.spent_usd,
      rowsUsd: sumUsd(rows.map((r) => r.cost_usd)),
      reservedUsd: budget.reserved_usd,
    });
    result.spendMatches = Math.abs(result.spentUsd - result.rowsUsd) < 5e-9;
    if (result.missing || result.duplicate) log(`    missing ${JSON.stringify(result.missingIds)}, duplicate ${JSON.stringify(result.duplicateIds)}`);
    if (result.answeredWithoutRow || result.unmatched || result.reservedUsd) log(`    answered without a row ${result.answeredWithoutRow}, upstream requests without an id ${result.unmatched}, still reserved $${result.reservedUsd}`);
  } finally {
    await gw.stop();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
    if (schema) await dropSchema(schema).catch((err) => log(`    could not drop schema ${schema}: ${(err as Error).message}`));
    if (prefix) await clearRedisPrefix(prefix).catch((err) => log(`    could not clear Redis prefix ${prefix}: ${(err as Error).message}`));
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

async function startReady(cwd: string, env: Record<string, string>): Promise<ChildGateway> {
  const gw = await spawnGateway({ cwd, env });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await fetch(`${gw.origin}/readyz`).then((r) => (r.body?.cancel(), r.status), () => 0);
    if (status === 200) return gw;
    if (Date.now() > deadline) {
      await gw.crash();
      throw new Error(`gateway never became ready (last /readyz ${status}); output:\n${gw.output()}`);
    }
    await sleep(20);
  }
}

async function attemptZero(gw: ChildGateway, keyId: string): Promise<RequestRow[]> {
  return (await adminApi(gw.origin).requests(keyId)).filter((r) => r.attempt === 0);
}

function tally(mock: MockUpstream, rows: RequestRow[]) {
  const served = new Set<string>();
  let unmatched = 0;
  for (const r of mock.requests) {
    if (!r.path.includes('/chat/completions')) continue;
    const id = r.headers['x-client-request-id'];
    if (typeof id === 'string' && id) served.add(id);
    else unmatched++;
  }
  const count = new Map<string, number>();
  for (const row of rows) count.set(row.request_id, (count.get(row.request_id) ?? 0) + 1);
  return {
    served,
    rows: rows.length,
    missing: [...served].filter((id) => !count.has(id)),
    duplicate: [...count].filter(([, n]) => n > 1).map(([id]) => id),
    unmatched,
  };
}

