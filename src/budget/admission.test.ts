// Hard budgets under concurrency: the proofs of issue 5 at the module level.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { roundUsd } from '../catalog/cost.ts';
import type { AccessServices } from '../admin/access.ts';
import { model, postgresUnavailable, redisUnavailable } from '../store/testing.ts';
import { estimateFor, sharedServices, simulateCall, sqliteServices, sum, type TestServices } from './testing.ts';

const sharedSkip = (await postgresUnavailable()) ?? (await redisUnavailable());
const mini = model('gpt-5.4-mini');
const frontier = model('gpt-5.5');

async function keyWith(services: AccessServices, body: Record<string, unknown>) {
  const created = await services.admin.createKey({ name: 'load', ...body });
  return { id: created.record.id, principal: await services.authenticator.authenticate(created.key) };
}

/** Spent per budget of a key, by the budget's model ("*" for the key total). */
async function spentOf(services: AccessServices, keyId: string): Promise<Record<string, number>> {
  await services.store.flush();
  return Object.fromEntries((await services.admin.getKey(keyId)).budgets.map((b) => [b.model ?? '*', b.spent_usd]));
}

/** 500 concurrent requests, started over ~50 ms so settlements interleave with admissions. */
async function burst(services: AccessServices, principal: Awaited<ReturnType<typeof keyWith>>['principal'], pick: (i: number) => typeof mini, tokens: [number, number]) {
  return Promise.all(Array.from({ length: 500 }, async (_, i) => {
    await sleep(Math.random() * 50);
    const m = pick(i);
    return { model: m.id, ...(await simulateCall(services, principal, m, estimateFor(m, tokens[0], tokens[1]))) };
  }));
}

function budgetProofs(name: string, open: () => Promise<TestServices>, skip?: string) {
  describe(`hard budgets (${name})`, { skip }, () => {
    test('500 concurrent requests never push settled spend past a key budget that affords ~100', async () => {
      const { services, done } = await open();
      try {
        const { id, principal } = await keyWith(services, { budgets: [{ limit_usd: 1, period: 'month' }] });
        const worst = estimateFor(mini, 1000, 2000).worstCaseUsd; // $0.00975 → 102 at worst case
        const results = await burst(services, principal, () => mini, [1000, 2000]);
        const admitted = results.filter((r) => r.admitted);
        const refused = results.filter((r) => !r.admitted);
        const settled = roundUsd(sum(admitted.map((r) => r.costUsd)));
        assert.ok(settled <= 1, `settled ${settled} <= 1`);
        assert.ok(refused.length > 0, 'the budget ran out');
        assert.ok(admitted.length >= Math.floor(1 / worst), `at least ${Math.floor(1 / worst)} admitted, got ${admitted.length}`);
        for (const r of refused) {
          assert.equal(r.error?.status, 429);
          assert.equal(r.error?.code, 'insufficient_quota');
          assert.match(r.error!.message, /key 'load' \(sy_live_.{4}…\) monthly budget has spent \$[\d.]+ of its \$1\.00 limit/);
          assert.match(r.error!.message, /It resets at \d{4}-\d{2}-01T00:00:00\.000Z/);
        }
        assert.equal((await spentOf(services, id))['*'], settled, 'the store booked exactly what was settled');
      } finally {
        await done();
      }
    });

    test('a per-model budget inside a key holds under the same load, and the key total counts all models', async () => {
      const { services, done } = await open();
      try {
        const { id, principal } = await keyWith(services, {
          budgets: [{ limit_usd: 200, period: 'month' }, { limit_usd: 1, period: 'day', model: 'gpt-5.5' }],
        });
        const results = await burst(services, principal, (i) => (i % 5 === 0 ? mini : frontier), [1000, 200]);
        const frontierRuns = results.filter((r) => r.model === 'gpt-5.5');
        const frontierSpend = roundUsd(sum(frontierRuns.map((r) => r.costUsd)));
        assert.ok(frontierSpend <= 1, `gpt-5.5 spend ${frontierSpend} <= 1`);
        const refused = results.filter((r) => !r.admitted);
        assert.ok(refused.length > 0);
        for (const r of refused) {
          assert.equal(r.model, 'gpt-5.5', 'only the model with the exhausted budget is refused');
          assert.equal(r.error?.code, 'insufficient_quota');
          assert.match(r.error!.message, /daily budget for gpt-5\.5 has spent \$[\d.]+ of its \$1\.00 limit/);
        }
        assert.ok(results.filter((r) => r.model === 'gpt-5.4-mini').every((r) => r.admitted));
        const spent = await spentOf(services, id);
        assert.equal(spent['gpt-5.5'], frontierSpend);
        assert.equal(spent['*'], roundUsd(sum(results.map((r) => r.costUsd))));
      } finally {
        await done();
      }
    });

    test('settle and release are idempotent: a reservation is billed once', async () => {
      const { services, done } = await open();
      try {
        const { id, principal } = await keyWith(services, { budgets: [{ limit_usd: 5, period: 'total' }] });
        const estimate = estimateFor(frontier, 1000, 1000);
        const admitted = await services.admission.admit(principal, frontier, estimate);
        const usage = { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 10, reasoningTokens: 0 };
        admitted.settle(usage, 0.0053);
        admitted.settle(usage, 0.0053);
        admitted.release();
        await services.admission.drain();
        assert.equal((await spentOf(services, id))['*'], 0.0053);
        // A cost that is not a number is billed at the reserved worst case ($0.035), not as nothing.
        const broken = await services.admission.admit(principal, frontier, estimate);
        broken.settle(usage, Number.NaN);
        await services.admission.drain();
        assert.equal((await spentOf(services, id))['*'], roundUsd(0.0053 + 0.035));
        const view = (await services.admin.getKey(id)).budgets[0];
        assert.equal(view.reserved_usd, 0);
        assert.equal(view.resets_at, null);
      } finally {
        await done();
      }
    });

    test('release gives the reservation back; the reservation is durable before admit resolves', async () => {
      const { services, done, dbPath } = await open();
      try {
        const { principal } = await keyWith(services, { budgets: [{ limit_usd: 0.05, period: 'day' }] });
        const estimate = estimateFor(frontier, 1000, 1000); // $0.035
        const first = await services.admission.admit(principal, frontier, estimate);
        if (dbPath) {
          // Written to the journal before admit resolved: a kill -9 now would not lose it.
          const journal = readdirSync(`${dbPath}.inflight`).map((f) => readFileSync(join(`${dbPath}.inflight`, f), 'utf8')).join('');
          const line = journal.split('\n').find((l) => l.includes(first.id));
          assert.ok(line, 'the reservation is in the journal');
          assert.deepEqual(pick(JSON.parse(line).row), { status: 'open', reservedUnits: 3_500_000 });
          // And in the database after the next fold, read through a second connection.
          await services.store.flush();
          const other = new DatabaseSync(dbPath);
          const row = other.prepare('SELECT status, reserved_units FROM reservations WHERE id = ?').get(first.id) as { status: string; reserved_units: number };
          other.close();
          assert.deepEqual({ ...row }, { status: 'open', reserved_units: 3_500_000 });
        } else {
          assert.ok((await services.store.openReservations()).some((r) => r.id === first.id));
        }
        await assert.rejects(services.admission.admit(principal, frontier, estimate), { code: 'insufficient_quota' });
        first.release();
        await services.admission.drain();
        const second = await services.admission.admit(principal, frontier, estimate);
        second.release();
      } finally {
        await done();
      }
    });
  });
}

budgetProofs('SQLite, in-process counters', () => sqliteServices());
budgetProofs('PostgreSQL + Redis', () => sharedServices(), sharedSkip);

test('a project budget applies to all of its keys', async () => {
  const { services, done } = await sqliteServices();
  try {
    await services.admin.createProject({ name: 'acme', budgets: [{ limit_usd: 0.04, period: 'week' }] });
    const a = await keyWith(services, { project: 'acme' });
    const b = await keyWith(services, { project: 'acme' });
    const estimate = estimateFor(frontier, 1000, 1000); // $0.035
    const held = await services.admission.admit(a.principal, frontier, estimate);
    await assert.rejects(services.admission.admit(b.principal, frontier, estimate), (error: Error & { code: string }) => {
      assert.equal(error.code, 'insufficient_quota');
      assert.match(error.message, /project proj_\w+ weekly budget has spent \$0\.00 of its \$0\.04 limit \(plus \$0\.035 reserved by requests in flight\)/);
      return true;
    });
    held.release();
  } finally {
    await done();
  }
});

test('a soft budget never refuses and fires the spend alert webhook once per window', async () => {
  const received: unknown[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push(JSON.parse(body)); res.end('ok'); });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const port = (hook.address() as { port: number }).port;
  const { services, done } = await sqliteServices({ alertWebhook: `http://127.0.0.1:${port}/alerts` });
  try {
    const { principal } = await keyWith(services, { budgets: [{ limit_usd: 0.01, period: 'day', hard: false }] });
    const estimate = estimateFor(frontier, 1000, 1000);
    for (let i = 0; i < 5; i++) {
      const admitted = await services.admission.admit(principal, frontier, estimate);
      admitted.settle({ inputTokens: 1000, cachedInputTokens: 0, outputTokens: 100, reasoningTokens: 0 }, 0.008);
      await services.admission.drain();
    }
    await sleep(100);
    assert.equal(received.length, 1);
    const alert = received[0] as { type: string; threshold_usd: number; spent_usd: number; budget: { period: string; hard: boolean } };
    assert.equal(alert.type, 'switchyard.spend_alert');
    assert.equal(alert.threshold_usd, 0.01);
    assert.equal(alert.spent_usd, 0.016);
    assert.deepEqual([alert.budget.period, alert.budget.hard], ['day', false]);
  } finally {
    await done();
    hook.close();
  }
});

function pick(row: { status: string; reservedUnits: number }): { status: string; reservedUnits: number } {
  return { status: row.status, reservedUnits: row.reservedUnits };
}
