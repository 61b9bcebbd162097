// A gateway killed with SIGKILL under load, three times, restarted each time on the same
// SQLite file: no request the upstream saw goes unbilled or is billed twice, and the
// budget's spend is exactly the sum of the request log. The killed process is left a
// zombie (its parent does not reap it), so its pid still looks alive: the restarted
// gateway must bill its orphaned reservations anyway, before /readyz first says ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { CLI } from './support/child-gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import type { CreatedKey } from './support/admin.ts';
import { PROVIDER_KEY, pricedMockYaml } from './support/stack.ts';
import { startCrashLoad } from './support/crash-load.ts';

// $0.001 per output token, free input: a request reserves 40 tokens ($0.04) and its
// short answer costs less, so a row billed at the worst case stands out.
const MAX_TOKENS = 40;
const WORST_CASE_USD = 0.04;
const LIMIT_USD = 8;
const RUNS = 3;
const WORKERS = 12;

const yaml = (mockUrl: string) => pricedMockYaml(mockUrl, { 'gpt-5.4-mini': { input: 0, output: 1000 } }, PROVIDER_KEY);

interface ZombieGateway {
  origin: string;
  baseURL: string;
  pid: number;
  /** SIGKILL; resolves once the gateway is dead (a zombie: its parent does not reap it). */
  crash(): Promise<void>;
  /** SIGTERM (graceful drain); resolves once it has exited. */
  stop(): Promise<void>;
  /** Let the zombie be reaped. */
  reap(): void;
}

/** /proc state of a pid ('Z' = zombie), or undefined where /proc is not there. */
function procState(pid: number): string | undefined {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A gateway whose parent never reaps it: `sh` starts it in the background and becomes
 * `sleep`, so once killed the gateway stays a zombie and `kill(pid, 0)` still succeeds.
 * Resolves when /readyz first answers 200.
 */
async function spawnZombieable(cwd: string, env: Record<string, string>): Promise<ZombieGateway> {
  const parent = spawn('sh', ['-c', '"$@" & echo "gateway pid $!"; exec sleep 600', 'sh', process.execPath, CLI, 'start', '--port', '0'], {
    cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  parent.stdout!.on('data', (chunk) => (out += chunk));
  parent.stderr!.on('data', (chunk) => (out += chunk));
  const deadline = Date.now() + 20_000;
  let origin = '';
  let pid = 0;
  while (!origin || !pid) {
    pid = Number(/gateway pid (\d+)/.exec(out)?.[1] ?? 0);
    origin = /listening on (http:\/\/\S+)\/v1/.exec(out)?.[1] ?? '';
    if (Date.now() > deadline) throw new Error(`gateway did not start; output:\n${out}`);
    if (!origin || !pid) await new Promise((r) => setTimeout(r, 10));
  }
  const dead = async () => {
    while (procState(pid) !== undefined && procState(pid) !== 'Z') await new Promise((r) => setTimeout(r, 10));
  };
  const gw: ZombieGateway & { output(): string } = {
    output: () => out,
    origin, baseURL: `${origin}/v1`, pid,
    async crash() { try { process.kill(pid, 'SIGKILL'); } catch { /* already dead */ } await dead(); },
    async stop() { try { process.kill(pid, 'SIGTERM'); } catch { /* already dead */ } await dead(); },
    reap() { parent.kill('SIGKILL'); },
  };
  const ready = await fetch(`${origin}/readyz`);
  assert.equal(ready.status, 200, 'the first /readyz answer after the gateway listens is ready');
  return gw;
}

async function checkLedger(gw: ZombieGateway, mock: MockUpstream, key: CreatedKey, clientSuccesses: Set<string>): Promise<{ interrupted: number; rows: number }> {
  const admin = adminApi(gw.origin);
  const rows = (await admin.requests(key.id)).filter((r) => r.attempt === 0);
  const byId = new Map<string, number>();
  for (const row of rows) byId.set(row.request_id, (byId.get(row.request_id) ?? 0) + 1);
  const seen = new Set(mock.requests.map((r) => String(r.headers['x-client-request-id'])));
  assert.ok(seen.size > 0);
  const missing = [...seen].filter((id) => !byId.has(id));
  const twice = [...byId].filter(([, n]) => n > 1);
  assert.deepEqual(missing, [], 'every request the upstream saw has a usage row');
  assert.deepEqual(twice, [], 'no request has two rows');
  for (const id of clientSuccesses) assert.ok(byId.has(id), `answered request ${id} has a row`);

  const interrupted = rows.filter((r) => r.error_code === 'interrupted');
  for (const row of interrupted) assert.equal(row.cost_usd, WORST_CASE_USD, 'a request cut off by the crash is billed at its reserved worst case');
  const [budget] = (await admin.key(key.id)).budgets;
  assert.equal(budget.reserved_usd, 0, 'reservations of the dead process were closed at restart');
  assert.equal(budget.spent_usd, sumUsd(rows.map((r) => r.cost_usd)), 'the budget is the sum of the rows');
  assert.ok(budget.spent_usd <= LIMIT_USD);
  return { interrupted: interrupted.length, rows: rows.length };
}

test(`kill -9 under load, ${RUNS} times, the dead process left a zombie: every request the upstream saw is billed exactly once by the time /readyz says ready`, async (t) => {
  const mock = await startMockUpstream({ latencyMs: 30, maxRecorded: 100_000 });
  const dir = mkdtempSync(join(tmpdir(), 'sy-crash-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml(mock.url));
  const env = { SWITCHYARD_DB: join(dir, 'crash.db'), SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn' };
  const spawned: ZombieGateway[] = [];
  const start = async () => {
    const gw = await spawnZombieable(dir, env);
    spawned.push(gw);
    return gw;
  };
  let gw = await start();
  try {
    const key = await adminApi(gw.origin).createKey({ name: 'crash-load', budgets: [{ limit_usd: LIMIT_USD, period: 'total' }] });
    const successes = new Set<string>();
    let interrupted = 0;
    let lastRows = 0;
    for (let run = 0; run < RUNS; run++) {
      const seenBefore = mock.requests.length;
      const load = startCrashLoad(gw.baseURL, key.key, WORKERS, 'gpt-5.4-mini', MAX_TOKENS);
      // A cold gateway's first calls are slow on a busy machine: kill it only once it is under load.
      while (mock.requests.length < seenBefore + WORKERS) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
      load.stop();
      await gw.crash();
      await load.done;
      for (const id of load.answered) successes.add(id);
      const dead = gw;
      // start() returns as soon as /readyz first says ready: the ledger is checked right then, no sweep awaited.
      gw = await start();
      const found = await checkLedger(gw, mock, key, successes);
      const state = procState(dead.pid);
      if (state !== undefined) assert.equal(state, 'Z', 'the killed gateway was still a zombie (its pid alive) when its successor became ready');
      dead.reap();
      assert.ok(found.rows > lastRows, `run ${run + 1} added rows`);
      t.diagnostic(`run ${run + 1}: ${found.rows} request rows, ${found.interrupted} reconciled after kills, upstream saw ${mock.requests.length}`);
      lastRows = found.rows;
      interrupted = found.interrupted;
    }
    assert.ok(successes.size > 0);
    assert.ok(interrupted > 0, 'some requests were cut off by the kills and reconciled');
    // After a clean stop nothing changes.
    await gw.stop();
    gw = await start();
    await checkLedger(gw, mock, key, successes);
  } finally {
    await gw.crash();
    for (const g of spawned) g.reap();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
