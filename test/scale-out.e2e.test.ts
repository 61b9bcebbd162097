// `switchyard start --instances 3`: three gateway processes behind one port, sharing
// PostgreSQL and Redis. 500 requests from the OpenAI SDK, 20 at a time, land on all three;
// a key's rpm limit and another's hard budget hold across them exactly as in one process;
// every request has one ledger row and the ledger agrees with what the fake upstream
// served; a process that dies is replaced; SIGTERM lets open streams finish, and the
// command exits 0. Skips (saying why) when
// PostgreSQL or Redis is not reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { execFile } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import { POSTGRES_URL, REDIS_URL, clearRedisPrefix, dropSchema, postgresUnavailable, redisUnavailable, tempDir, uniqueName } from '../src/store/testing.ts';
import { CLI, spawnGateway } from './support/child-gateway.ts';
import type { ChildGateway } from './support/child-gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import { SCHEMA_VERSION } from '../src/store/schema.ts';
import { PROVIDER_KEY } from './support/stack.ts';

const skip = (await postgresUnavailable()) ?? (await redisUnavailable());

const PROCESSES = 3;
const REQUESTS = 500;
const CONCURRENCY = 20;
const PER_REQUEST_USD = 0.005; // 5 output tokens at $1000 per 1M, free input
const RPM = 120;
const AFFORDS = 100;

const yaml = (mockUrl: string) => `
providers:
  openai:
    base_url: ${mockUrl}/v1
    api_key: ${PROVIDER_KEY}
    forward_headers: [x-mock-*]
models:
  gpt-5.4-mini: { pricing: { input: 0, cached_input: 0, output: 1000 } }
`;

type Outcome = { ok: true; process: string } | { ok: false; status: number | undefined; code: string | null | undefined };

/** Run `count` tasks, `limit` at a time. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }));
  return results;
}

/** Rate windows are aligned to the clock's minutes: start the burst early in one, so it never straddles two. */
async function earlyInAMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((r) => setTimeout(r, 60_000 - into + 100));
}

/** Which process answered a GET on a connection of its own. */
function answeredBy(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-switchyard-process'])));
    }).on('error', reject);
  });
}

async function until(done: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out; output:\n${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(`start --instances ${PROCESSES}: one port, limits and budgets held across the processes, one ledger row per request, SIGTERM drains all`, { skip, timeout: 180_000 }, async (t) => {
  const mock = await startMockUpstream({ maxRecorded: 5000 });
  const { dir, cleanup } = tempDir();
  writeFileSync(join(dir, 'switchyard.yaml'), yaml(mock.url));
  const schema = uniqueName('scale');
  const prefix = `${uniqueName('scale')}:`;
  const env = {
    SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema,
    SWITCHYARD_REDIS_URL: REDIS_URL, SWITCHYARD_REDIS_PREFIX: prefix,
    SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn',
  };
  const db = new pg.Client({ connectionString: POSTGRES_URL });
  await db.connect();
  let gateway: ChildGateway | undefined;
  try {
    // Three processes migrating one fresh schema at the same moment: the advisory lock serialises them.
    gateway = await spawnGateway({ cwd: dir, env, args: ['--instances', String(PROCESSES)], startTimeoutMs: 60_000 });
    const output = gateway.output();
    assert.equal(output.match(/listening on/g)?.length, 1, `the banner is printed once:\n${output}`);
    assert.match(output, new RegExp(`${PROCESSES} gateway processes share this port`));
    assert.match(output, /Store: PostgreSQL/);
    const pids = (await db.query(`SELECT DISTINCT pid FROM ${schema}.instances`)).rows;
    assert.equal(pids.length, PROCESSES, 'each process registered itself in the shared store');

    const admin = adminApi(gateway.origin);
    const limited = await admin.createKey({ name: 'rpm-bound', rate_limits: { rpm: RPM }, budgets: [{ limit_usd: 100, period: 'day', hard: true }] });
    const budgetUsd = AFFORDS * PER_REQUEST_USD;
    const budgeted = await admin.createKey({ name: 'budget-bound', rate_limits: { rpm: 10_000 }, budgets: [{ limit_usd: budgetUsd, period: 'day', hard: true }] });
    const clients = [limited, budgeted].map((k) => new OpenAI({ baseURL: gateway!.baseURL, apiKey: k.key, maxRetries: 0 }));

    await earlyInAMinute();
    const burst = Date.now();
    const outcomes = await pool(REQUESTS, CONCURRENCY, async (i): Promise<Outcome> => {
      try {
        const { response } = await clients[i % 2].chat.completions
          .create({ model: 'gpt-5.4-mini', max_tokens: 5, messages: [{ role: 'user', content: `Tell me a long story about rivers, #${i}` }] })
          .withResponse();
        return { ok: true, process: response.headers.get('x-switchyard-process') ?? '' };
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        return { ok: false, status: error.status, code: error.code };
      }
    });
    t.diagnostic(`${REQUESTS} requests in ${Date.now() - burst} ms`);
    const of = (key: 0 | 1) => outcomes.filter((_, i) => i % 2 === key);
    const served = (list: Outcome[]) => list.filter((o) => o.ok).length;
    const refusals = (list: Outcome[]) => list.flatMap((o) => (o.ok ? [] : [`${o.status} ${o.code}`]));

    const answered = outcomes.flatMap((o) => (o.ok ? [o.process] : []));
    const processes = new Set(answered);
    t.diagnostic(`answers per process: ${[...processes].sort().map((p) => `${p}: ${answered.filter((a) => a === p).length}`).join(', ')}`);
    assert.ok(processes.size > 1, `answers came from more than one process: ${[...processes]}`);
    assert.ok(![...processes].includes(''), 'every answer names its process');

    // Counted in one place (Redis), the limit is the limit: not RPM per process.
    assert.equal(served(of(0)), RPM, 'rpm-bound: exactly the rpm limit admitted');
    assert.deepEqual(new Set(refusals(of(0))), new Set(['429 rate_limit_exceeded']));
    assert.equal(served(of(1)), AFFORDS, 'budget-bound: exactly what the budget affords admitted');
    assert.deepEqual(new Set(refusals(of(1))), new Set(['429 insufficient_quota']));

    // The ledger: one row per request (none lost, none doubled), the served ones exactly what the upstream served.
    const limitedRows = await admin.settledRows(limited.id, REQUESTS / 2, 20_000);
    const budgetedRows = await admin.settledRows(budgeted.id, REQUESTS / 2, 20_000);
    const rows = [...limitedRows, ...budgetedRows];
    assert.equal(rows.length, REQUESTS);
    assert.equal(new Set(rows.map((r) => r.request_id)).size, REQUESTS, 'no request id twice');
    const billed = rows.filter((r) => r.status === 200);
    assert.equal(billed.length, mock.requests.length, 'a ledger row for every upstream call, and none without one');
    assert.equal(mock.requests.length, RPM + AFFORDS);
    const spent = (await admin.key(budgeted.id)).budgets[0].spent_usd;
    assert.ok(spent <= budgetUsd, `settled spend ${spent} within the budget ${budgetUsd}`);
    assert.equal(spent, sumUsd(budgetedRows.map((r) => r.cost_usd)), 'the budget is the sum of its ledger rows');
    assert.equal(Number((await db.query(`SELECT count(*) AS n FROM ${schema}.requests`)).rows[0].n), REQUESTS, 'in the shared store, once');

    // A process that dies is replaced, on the same port; the others serve meanwhile.
    const victim = Number(pids[0].pid);
    process.kill(victim, 'SIGKILL');
    await until(() => /replacement gateway process \d+ is serving \(3 of 3\)/.test(gateway!.output()), 20_000, () => gateway!.output());
    assert.match(gateway.output(), new RegExp(`gateway process ${victim} was killed by SIGKILL; starting a replacement in`));
    // New connections (the SDK's pooled ones stay with the processes they were made to).
    const after = await pool(12, 1, () => answeredBy(`${gateway!.origin}/healthz`));
    assert.ok(after.some((p) => Number(p) > PROCESSES), `the replacement answers too: ${after}`);

    // SIGTERM to the command with streams open: each process lets its streams finish, then all exit 0.
    const workerPids = (await db.query(`SELECT DISTINCT pid FROM ${schema}.instances`)).rows.map((r) => Number(r.pid));
    const free = new OpenAI({ baseURL: gateway.baseURL, apiKey: (await admin.createKey({ name: 'drain' })).key, maxRetries: 0 });
    const streams = await Promise.all(Array.from({ length: 6 }, () => free.chat.completions.create(
      { model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: 'Tell me a long story about rivers' }] },
      { headers: { 'x-mock-chunks': '20', 'x-mock-chunk-delay-ms': '50' } },
    )));
    gateway.child.kill('SIGTERM');
    const finished = await Promise.all(streams.map(async (stream) => {
      let finish: string | null | undefined;
      let deltas = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) deltas++;
        finish ??= chunk.choices[0]?.finish_reason;
      }
      return `${finish} after ${deltas >= 20 ? 'all' : deltas} deltas`;
    }));
    assert.deepEqual(finished, Array(6).fill('stop after all deltas'), 'streams open at SIGTERM finish');
    const exit = await gateway.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, gateway.output());
    for (const pid of workerPids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
  } finally {
    await gateway?.crash();
    await mock.close();
    await db.end();
    await dropSchema(schema);
    await clearRedisPrefix(prefix);
    cleanup();
  }
});

/** `switchyard start ...args` to its end: it must not start. */
async function refusedStart(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, [CLI, 'start', '--port', '0', ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, timeout: 20_000 });
  } catch (error) {
    const { code, stderr } = error as { code: number; stderr: string };
    return { code, stderr };
  }
  throw new Error(`start ${args.join(' ')} did not refuse`);
}

test('start refuses --instances with the embedded SQLite store, and a store a newer build migrated, saying what to do', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const sqlite = await refusedStart(dir, ['--instances', '2']);
    assert.equal(sqlite.code, 1);
    assert.match(sqlite.stderr, /cannot start\.\n--instances 2 needs a store the processes share, and the embedded SQLite store belongs to one process\. Point store\.postgres_url .*SWITCHYARD_POSTGRES_URL.* at PostgreSQL, and .*SWITCHYARD_REDIS_URL.* at Redis/);
    const viaEnv = await refusedStart(dir, [], { SWITCHYARD_INSTANCES: '3' });
    assert.match(viaEnv.stderr, /--instances 3 needs a store the processes share/);
    assert.match((await refusedStart(dir, ['--instances', 'lots'])).stderr, /--instances lots is not a number of processes: give a whole number from 1/);

    const file = new DatabaseSync(join(dir, 'future.db'));
    file.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    file.close();
    const newer = await refusedStart(dir, ['--db', 'future.db']);
    assert.equal(newer.code, 1);
    assert.match(newer.stderr, new RegExp(`cannot start\\.\\nSQLite file future\\.db: this database was migrated by a newer Switchyard \\(schema ${SCHEMA_VERSION + 1}, this build knows ${SCHEMA_VERSION}\\): upgrade the gateway, or point it at another database\\.`));
  } finally {
    cleanup();
  }
});
