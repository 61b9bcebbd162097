// The same contract, run against SQLite and PostgreSQL.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../services.ts';
import type { KeyRow, ReservationRow, Store } from './types.ts';
import { postgresUnavailable, tempPostgres, tempSqlite } from './testing.ts';

const pgSkip = await postgresUnavailable();

function keyRow(id: string, hash: string, over: Partial<KeyRow> = {}): KeyRow {
  const now = new Date().toISOString();
  return {
    id, name: `name-${id}`, env: 'live', prefix: 'sy_live_abcd', hash, previousHash: null, status: 'active', projectId: null,
    owner: null, allowedModels: ['gpt-5.4-*'], allowedRoutes: null, maxOutputTokens: { max: 4096 }, rateLimits: { rpm: 60, models: { 'gpt-5.5': { rpm: 5 } } },
    expiresAt: null, metadata: { team: 'ci' }, createdAt: now, updatedAt: now, revokedAt: null, rotatedAt: null, role: null, ...over,
  };
}

function reservation(id: string, over: Partial<ReservationRow> = {}): ReservationRow {
  return {
    id, requestId: `req-${id}`, owner: 'inst_a', keyId: 'key_a', projectId: 'proj_a', model: 'gpt-5.5', endpoint: 'chat',
    day: '2026-05-10', createdAt: new Date().toISOString(), reservedUnits: 1000, inputTokens: 10, maxOutputTokens: 20,
    charges: [{ budgetId: 'bud_1', window: '2026-05-01', units: 1000 }], status: 'open', ...over,
  };
}

function entry(requestId: string, attempt: number, time: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    requestId, attempt, time, keyId: 'key_a', projectId: 'proj_a', endpoint: 'chat', modelRequested: 'auto', modelUsed: 'gpt-5.4-mini',
    stream: true, status: 200, usage: { inputTokens: 100, cachedInputTokens: 10, outputTokens: 50, reasoningTokens: 5 },
    costUsd: 0.25, latencyMs: 123.4, ttftMs: 40, ...over,
  };
}

function contract(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>, skip?: string) {
  describe(`${name} store`, { skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, cleanup } = await open()));
    after(async () => cleanup?.());

    test('keys round-trip, and a rotated key is found by its previous hash', async () => {
      await store.insertKey(keyRow('key_1', 'h1'));
      const found = await store.keyByHash('h1');
      assert.equal(found?.row.id, 'key_1');
      assert.equal(found?.rotated, false);
      assert.deepEqual(found?.row.rateLimits, { rpm: 60, models: { 'gpt-5.5': { rpm: 5 } } });
      assert.deepEqual(found?.row.allowedModels, ['gpt-5.4-*']);
      const updated = await store.updateKey('key_1', { hash: 'h2', previousHash: 'h1', rotatedAt: new Date().toISOString() });
      assert.equal(updated?.hash, 'h2');
      assert.equal((await store.keyByHash('h1'))?.rotated, true);
      assert.equal((await store.keyByHash('h2'))?.rotated, false);
      assert.equal(await store.keyByHash('nope'), undefined);
    });

    test('a reservation closes once and books its cost on spend once', async () => {
      await store.reserve(reservation('res_1'));
      await store.reserve(reservation('res_2', { model: 'gpt-5.4-mini', projectId: null }));
      assert.deepEqual((await store.openReservations()).map((r) => r.id).sort(), ['res_1', 'res_2']);
      const [first, second] = await Promise.all([
        store.finishReservation('res_1', 'settled', 700),
        store.finishReservation('res_1', 'settled', 700),
      ]);
      assert.deepEqual([first, second], [true, false]);
      assert.equal(await store.finishReservation('res_1', 'released', 0), false);
      assert.equal(await store.finishReservation('res_2', 'settled', 300), true);
      const all = { scope: 'global' as const, scopeId: null, model: null, fromDay: null, toDay: null };
      assert.equal(await store.spentUnits(all), 1000);
      assert.equal(await store.spentUnits({ ...all, scope: 'key', scopeId: 'key_a', model: 'gpt-5.5' }), 700);
      assert.equal(await store.spentUnits({ ...all, scope: 'key', scopeId: 'key_a', model: 'gpt-5.4-*' }), 300);
      assert.equal(await store.spentUnits({ ...all, scope: 'project', scopeId: 'proj_a' }), 700);
      assert.equal(await store.spentUnits({ ...all, fromDay: '2026-05-11', toDay: '2026-06-01' }), 0);
      assert.equal(await store.spentUnits({ ...all, fromDay: '2026-05-10', toDay: '2026-05-11' }), 1000);
      assert.equal((await store.openReservations()).length, 0);
    });

    test('many concurrent reservations are all committed before they resolve', async () => {
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.reserve(reservation(`res_bulk_${i}`))));
      assert.equal((await store.openReservations()).filter((r) => r.id.startsWith('res_bulk_')).length, 300);
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.finishReservation(`res_bulk_${i}`, 'released', 0)));
      assert.equal((await store.openReservations()).length, 0);
    });

    test('the request log: usage grouped, newest first with a cursor, duplicates ignored', async () => {
      const base = Date.parse('2026-04-01T10:00:00Z');
      const rows: LedgerEntry[] = [];
      for (let i = 0; i < 7; i++) rows.push(entry(`req_${i}`, 0, new Date(base + i * 3600_000).toISOString(), { keyId: i < 4 ? 'key_a' : 'key_b' }));
      rows.push(entry('req_0', 1, new Date(base).toISOString(), { costUsd: 0.1, status: 429 }));
      await store.appendLedger(rows);
      await store.appendLedger([entry('req_0', 0, new Date(base).toISOString(), { costUsd: 99 })]);
      const usage = await store.usage({ from: '2026-04-01T00:00:00Z', to: '2026-04-02T00:00:00Z', groupBy: ['key'] });
      assert.deepEqual(usage.map((u) => [u.key_id, u.requests, u.cost_usd, u.input_tokens, u.reasoning_tokens]), [
        ['key_a', 4, 1, 400, 20], ['key_b', 3, 0.75, 300, 15],
      ]);
      const byDayModel = await store.usage({ from: '2026-04-01T00:00:00Z', to: '2026-04-02T00:00:00Z', groupBy: ['day', 'model'] });
      assert.deepEqual(byDayModel.map((u) => [u.day, u.model, u.requests]), [['2026-04-01', 'gpt-5.4-mini', 7]]);

      const page1 = await store.requests({ limit: 3 });
      assert.deepEqual(page1.rows.map((r) => r.request_id), ['req_6', 'req_5', 'req_4']);
      const page2 = await store.requests({ limit: 3, cursor: page1.nextCursor! });
      assert.deepEqual(page2.rows.map((r) => r.request_id), ['req_3', 'req_2', 'req_1']);
      const page3 = await store.requests({ limit: 3, cursor: page2.nextCursor! });
      assert.deepEqual(page3.rows.map((r) => `${r.request_id}/${r.attempt}`), ['req_0/1', 'req_0/0']);
      assert.equal(page3.nextCursor, null);
      assert.equal(page3.rows[1].cost_usd, 0.25, 'the duplicate row did not overwrite the first');
      assert.equal(page3.rows[1].stream, true);
      const limited = await store.requests({ limit: 10, status: 429 });
      assert.deepEqual(limited.rows.map((r) => r.attempt), [1]);
      const byKey = await store.requests({ limit: 10, keyId: 'key_b', from: '2026-04-01T14:00:00Z' });
      assert.deepEqual(byKey.rows.map((r) => r.request_id), ['req_6', 'req_5', 'req_4']);
    });

    test('a request row carrying its settlement closes its reservation and books the spend once, in its batch or a later one', async () => {
      const time = '2026-05-10T12:00:00.000Z';
      const settled = (id: string, units: number | null, status: 'settled' | 'released' = 'settled') => entry(`req-${id}`, 0, time, { keyId: 'key_c', settles: { reservationId: id, status, units } });
      const spent = () => store.spentUnits({ scope: 'key', scopeId: 'key_c', model: null, fromDay: null, toDay: null });
      const open = async () => (await store.openReservations()).filter((r) => r.keyId === 'key_c').map((r) => r.id).sort();
      // Reserved and settled by its row in the same batch.
      await store.reserve(reservation('res_c1', { keyId: 'key_c' }));
      const sameBatch = store.appendLedger([settled('res_c1', 400)]);
      // Reserved in an earlier batch (committed open), settled by its row later.
      await store.reserve(reservation('res_c2', { keyId: 'key_c' }));
      await store.reserve(reservation('res_c3', { keyId: 'key_c', reservedUnits: 900 }));
      await store.reserve(reservation('res_c4', { keyId: 'key_c' }));
      await Promise.all([sameBatch, store.flush()]);
      assert.deepEqual(await open(), ['res_c2', 'res_c3', 'res_c4']);
      await store.appendLedger([settled('res_c2', 300), settled('res_c3', null), settled('res_c4', 0, 'released')]);
      // The same row again (a replay) books nothing more.
      await store.appendLedger([settled('res_c2', 300)]);
      assert.deepEqual(await open(), []);
      assert.equal(await spent(), 400 + 300 + 900, 'a cost that could not be trusted (null) bills the reserved worst case');
      assert.equal(await store.finishReservation('res_c2', 'settled', 300), false, 'closed once');
      const rows = (await store.requests({ limit: 10, keyId: 'key_c' })).rows;
      assert.deepEqual(rows.map((r) => r.request_id).sort(), ['req-res_c1', 'req-res_c2', 'req-res_c3', 'req-res_c4']);
    });

    test('retention prunes old rows in batches and keeps recent ones', async () => {
      const old = Date.parse('2020-01-01T00:00:00Z');
      await store.appendLedger(Array.from({ length: 25 }, (_, i) => entry(`old_${i}`, 0, new Date(old + i * 1000).toISOString())));
      const before = (await store.requests({ limit: 1000 })).rows.length;
      assert.equal(await store.pruneRequests('2021-01-01T00:00:00Z', 10), 10);
      assert.equal(await store.pruneRequests('2021-01-01T00:00:00Z', 10), 10);
      assert.equal(await store.pruneRequests('2021-01-01T00:00:00Z', 10), 5);
      assert.equal((await store.requests({ limit: 1000 })).rows.length, before - 25);
    });

    test('an alert is claimed once', async () => {
      assert.equal(await store.claimAlert('bud_1:2026-05-01'), true);
      assert.equal(await store.claimAlert('bud_1:2026-05-01'), false);
    });

    test('budgets: scope lookups and replace in one go', async () => {
      const now = new Date().toISOString();
      await store.replaceBudgets('key', 'key_1', [
        { id: 'bud_k1', scope: 'key', scopeId: 'key_1', model: null, period: 'month', limitUsd: 200, hard: true, alertUsd: null, createdAt: now },
        { id: 'bud_k2', scope: 'key', scopeId: 'key_1', model: 'gpt-5.5', period: 'day', limitUsd: 20, hard: true, alertUsd: 15, createdAt: now },
      ]);
      await store.insertBudget({ id: 'bud_g', scope: 'global', scopeId: null, model: null, period: 'day', limitUsd: 1000, hard: false, alertUsd: null, createdAt: now });
      await store.insertBudget({ id: 'bud_p', scope: 'project', scopeId: 'proj_x', model: null, period: 'week', limitUsd: 50, hard: true, alertUsd: null, createdAt: now });
      const forKey = await store.budgetsFor('key_1', 'proj_x');
      assert.deepEqual(forKey.map((b) => b.id).sort(), ['bud_g', 'bud_k1', 'bud_k2', 'bud_p']);
      assert.deepEqual((await store.budgetsFor('key_1', null)).map((b) => b.id).sort(), ['bud_g', 'bud_k1', 'bud_k2']);
      const k2 = forKey.find((b) => b.id === 'bud_k2')!;
      assert.deepEqual([k2.model, k2.period, k2.limitUsd, k2.hard, k2.alertUsd], ['gpt-5.5', 'day', 20, true, 15]);
      await store.replaceBudgets('key', 'key_1', []);
      assert.deepEqual((await store.listBudgets('key', 'key_1')), []);
      assert.equal((await store.updateBudget('bud_g', { limitUsd: 5 }))?.limitUsd, 5);
      assert.equal(await store.deleteBudget('bud_g'), true);
    });
  });
}

contract('sqlite', async () => tempSqlite());
contract('postgres', async () => tempPostgres(), pgSkip);
