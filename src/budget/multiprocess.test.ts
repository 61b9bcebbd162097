// Several gateway processes sharing PostgreSQL + Redis hold one budget and one set of
// rate limits; a process killed mid-request leaves nothing lost and nothing billed twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { roundUsd } from '../catalog/cost.ts';
import { POSTGRES_URL, REDIS_URL, postgresUnavailable, redisUnavailable } from '../store/testing.ts';
import { sharedServices, sqliteServices } from './testing.ts';

const sharedSkip = (await postgresUnavailable()) ?? (await redisUnavailable());
const WORKER = fileURLToPath(new URL('./testing-worker.ts', import.meta.url));

interface Worker {
  child: ChildProcessWithoutNullStreams;
  line(): Promise<string>;
  exited: Promise<number | null>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [WORKER], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => (waiting.length ? waiting.shift()!(line) : queue.push(line)));
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  exited.then((code) => { if (code !== 0 && code !== null) process.stderr.write(`worker exited ${code}: ${stderr}\n`); });
  return {
    child,
    exited,
    line: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

test('three processes on PostgreSQL + Redis share one hard budget, one rpm limit and one concurrency limit', { skip: sharedSkip, timeout: 60_000 }, async () => {
  const parent = await sharedServices();
  try {
    const admin = parent.services.admin;
    const budget = await admin.createKey({ name: 'shared-budget', budgets: [{ limit_usd: 1, period: 'month' }] });
    const rpm = await admin.createKey({ name: 'shared-rpm', rate_limits: { rpm: 30 } });
    const slot = await admin.createKey({ name: 'shared-slots', rate_limits: { concurrent: 4 } });
    const env = {
      SY_MODE: 'load', SY_POSTGRES_URL: POSTGRES_URL, SY_REDIS_URL: REDIS_URL, SY_SCHEMA: parent.schema!, SY_PREFIX: parent.redisPrefix!,
      SY_BUDGET_KEY: budget.key, SY_RPM_KEY: rpm.key, SY_SLOT_KEY: slot.key, SY_BURST: '200',
    };
    const workers = [startWorker(env), startWorker(env), startWorker(env)];
    for (const w of workers) assert.equal(await w.line(), 'started');
    for (const w of workers) w.child.stdin.write('go\n');
    const reports = await Promise.all(workers.map(async (w) => JSON.parse(await w.line())));
    for (const w of workers) w.child.stdin.write('release\n');
    assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0, 0]);

    const settled = roundUsd(reports.reduce((a, r) => a + r.settledUsd, 0));
    const admitted = reports.reduce((a, r) => a + r.admitted, 0);
    assert.ok(settled <= 1, `settled ${settled} <= $1 across processes`);
    assert.ok(admitted >= 102, `the budget was used: ${admitted} admitted`);
    for (const r of reports) {
      assert.ok(r.refusals.every((code: string) => code === 'insufficient_quota'));
      for (const message of r.refusalMessages) assert.match(message, /key 'shared-budget' .* monthly budget has spent \$X of its \$X limit/);
    }
    const view = await admin.getKey(budget.record.id);
    assert.equal(view.budgets[0].spent_usd, settled, 'the store booked exactly what the processes settled');
    assert.equal(view.budgets[0].reserved_usd, 0);

    const rpmAdmitted = reports.reduce((a, r) => a + r.rpmAdmitted, 0);
    // The sliding window may free a slot or two if the burst straddles a minute boundary.
    assert.ok(rpmAdmitted >= 30 && rpmAdmitted <= 32, `rpm 30 held across processes: ${rpmAdmitted} admitted of 120`);
    assert.equal(reports.reduce((a, r) => a + r.slotsHeld, 0), 4, 'concurrency 4 held across processes');
  } finally {
    await parent.done();
  }
});

test('SQLite: a process killed with reservations open is reconciled at the next start, billed once', { timeout: 30_000 }, async () => {
  const first = await sqliteServices();
  const created = await first.services.admin.createKey({ name: 'crashy', budgets: [{ limit_usd: 1, period: 'total' }] });
  await first.services.close();
  const worker = startWorker({ SY_MODE: 'crash', SY_SQLITE: first.dbPath!, SY_BUDGET_KEY: created.key, SY_CRASH_OPEN: '3', SY_CRASH_SETTLED: '1' });
  assert.equal(await worker.line(), 'ready');
  await worker.exited;

  const { createAccessServices } = await import('../admin/access.ts');
  const restarted = await createAccessServices({ store: 'sqlite', sqlitePath: first.dbPath, log: () => {} });
  try {
    await restarted.store.flush();
    // One settled at $0.00525, two billed at their worst case of $0.00975 each.
    const view = await restarted.admin.getKey(created.record.id);
    assert.equal(view.budgets[0].spent_usd, roundUsd(0.00525 + 2 * 0.00975));
    assert.equal(view.budgets[0].reserved_usd, 0);
    assert.equal((await restarted.store.openReservations()).length, 0);
    const log = await restarted.admin.requests({ key_id: created.record.id });
    assert.deepEqual(log.data.map((r) => [r.request_id, r.error_code, r.cost_usd]).sort(), [
      ['req_crash_1', 'interrupted', 0.00975], ['req_crash_2', 'interrupted', 0.00975],
    ]);
    assert.equal(await restarted.reconcile(), 0, 'nothing is reconciled twice');
  } finally {
    await restarted.close();
    await first.done();
  }
});

test('PostgreSQL + Redis: a dead peer\'s reservations are reconciled by a live process and counters follow', { skip: sharedSkip, timeout: 30_000 }, async () => {
  const parent = await sharedServices();
  try {
    const created = await parent.services.admin.createKey({ name: 'crashy', budgets: [{ limit_usd: 0.05, period: 'day' }] });
    const worker = startWorker({
      SY_MODE: 'crash', SY_POSTGRES_URL: POSTGRES_URL, SY_REDIS_URL: REDIS_URL, SY_SCHEMA: parent.schema!, SY_PREFIX: parent.redisPrefix!,
      SY_BUDGET_KEY: created.key, SY_CRASH_OPEN: '4', SY_CRASH_SETTLED: '1',
    });
    assert.equal(await worker.line(), 'ready');
    await worker.exited;
    const principal = await parent.services.authenticator.authenticate(created.key);
    const { estimateFor } = await import('./testing.ts');
    const { model } = await import('../store/testing.ts');
    const mini = model('gpt-5.4-mini');
    // $0.00525 + 3 × $0.00975 held = $0.0345; one more worst case ($0.00975) fits, two do not.
    assert.equal(await parent.services.reconcile(), 3);
    const view = await parent.services.admin.getKey(created.record.id);
    assert.equal(view.budgets[0].spent_usd, roundUsd(0.00525 + 3 * 0.00975));
    assert.equal(view.budgets[0].reserved_usd, 0);
    const one = await parent.services.admission.admit(principal, mini, estimateFor(mini, 1000, 2000));
    await assert.rejects(parent.services.admission.admit(principal, mini, estimateFor(mini, 1000, 2000)), { code: 'insufficient_quota' });
    one.release();
    assert.equal(await parent.services.reconcile(), 0);
  } finally {
    await parent.done();
  }
});
