// One request's bad data never touches another's: on both stores, a batch with one
// poisoned row commits every other row, the poisoned one is stored sanitised (or, if the
// database still refuses it, reported by request id), and the request log never
// disagrees with the spend booked on the budgets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { LedgerEntry } from '../services.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, tempDir, uniqueName } from './testing.ts';
import type { ReservationRow, Store } from './types.ts';

const pgSkip = await postgresUnavailable();
const ALL = { scope: 'global' as const, scopeId: null, model: null, fromDay: null, toDay: null };
const REFUSED_MODEL = 'refused-by-the-database';

interface Opened {
  store: Store;
  errors: string[];
  warnings: string[];
  /** Make the database itself refuse request rows for REFUSED_MODEL (a rule the sanitiser does not know). */
  refuseModel(): Promise<void>;
  cleanup(): Promise<void>;
}

function capture(errors: string[], warnings: string[]) {
  return {
    onError: (message: string, error: unknown) => errors.push(`${message}: ${(error as Error).message}`),
    onWarn: (message: string, fields: Record<string, unknown>) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  };
}

async function openSqlite(): Promise<Opened> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'switchyard.db');
  const errors: string[] = [];
  const warnings: string[] = [];
  const store = new SqliteStore({ path, ...capture(errors, warnings) });
  return {
    store, errors, warnings,
    async refuseModel() {
      const db = new DatabaseSync(path);
      db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON requests WHEN NEW.model_requested = '${REFUSED_MODEL}' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
      db.close();
    },
    cleanup: async () => { await store.close(); cleanup(); },
  };
}

async function openPostgres(): Promise<Opened> {
  const schema = uniqueName('iso');
  const errors: string[] = [];
  const warnings: string[] = [];
  const store = await PostgresStore.open({ url: POSTGRES_URL, schema, ...capture(errors, warnings) });
  return {
    store, errors, warnings,
    async refuseModel() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`ALTER TABLE ${schema}.requests ADD CONSTRAINT refuse CHECK (model_requested <> '${REFUSED_MODEL}')`);
      await client.end();
    },
    cleanup: async () => { await store.close(); await dropSchema(schema); },
  };
}

function reservation(id: string, over: Partial<ReservationRow> = {}): ReservationRow {
  return {
    id, requestId: `req_${id}`, owner: 'inst_a', keyId: 'key_a', projectId: null, model: 'gpt-5.4-mini', endpoint: 'chat',
    day: '2026-05-10', createdAt: new Date().toISOString(), reservedUnits: 58_000_000, inputTokens: 10, maxOutputTokens: 20,
    charges: [], status: 'open', ...over,
  };
}

function entry(requestId: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    requestId, attempt: 0, time: new Date().toISOString(), keyId: 'key_a', endpoint: 'chat', modelRequested: 'gpt-5.4-mini',
    modelUsed: 'gpt-5.4-mini', stream: false, status: 200,
    usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 50, reasoningTokens: 0 }, costUsd: 0.25, latencyMs: 12, ...over,
  };
}

function contract(name: string, open: () => Promise<Opened>, skip?: string) {
  describe(`${name}: batch isolation and usage guards`, { skip }, () => {
    let o: Opened;
    before(async () => { o = await open(); });
    after(async () => o?.cleanup());

    test('one poisoned row among 25 concurrent requests: every other write commits, the poisoned row is stored sanitised', async () => {
      const ids = Array.from({ length: 24 }, (_, i) => `iso1_${i}`);
      // All in one tick, so they share one batch: 24 reservations waiting on it, 24 rows, and one poisoned row.
      const reserved = ids.map((id) => o.store.reserve(reservation(id)));
      const logged = [
        ...ids.map((id) => o.store.appendLedger([entry(`req_${id}`)])),
        o.store.appendLedger([entry('req_iso1_poison', {
          modelRequested: 'gpt-5.4-mini\u0000', status: 404, errorCode: 'model_not_found\ud800',
          usage: { inputTokens: 17.5, cachedInputTokens: Number.NaN, outputTokens: 1e400, reasoningTokens: -3 },
          costUsd: Number.NaN, latencyMs: Number.NaN, time: 'not a time',
        })]),
      ];
      const outcomes = await Promise.allSettled([...reserved, ...logged]);
      assert.deepEqual(outcomes.filter((r) => r.status === 'rejected'), [], 'no write failed');
      await o.store.flush();
      const open = new Set((await o.store.openReservations()).map((r) => r.id));
      assert.deepEqual(ids.filter((id) => !open.has(id)), [], 'all 24 reservations are committed');
      const page = (await o.store.requests({ limit: 1000 })).rows;
      assert.equal(page.filter((r) => r.request_id.startsWith('req_iso1_') && r.request_id !== 'req_iso1_poison').length, 24);
      const poisoned = page.find((r) => r.request_id === 'req_iso1_poison');
      assert.ok(poisoned, 'the poisoned row is stored, not lost');
      assert.equal(poisoned.model_requested, 'gpt-5.4-mini\uFFFD');
      assert.equal(poisoned.error_code, 'model_not_found\uFFFD');
      assert.deepEqual([poisoned.input_tokens, poisoned.cached_input_tokens, poisoned.output_tokens, poisoned.reasoning_tokens], [18, 0, 0, 0]);
      assert.equal(poisoned.cost_usd, 0, 'no reservation, no valid cost: nothing billed');
      assert.ok(o.warnings.some((w) => w.includes('req_iso1_poison') && w.includes('usage.inputTokens')), 'the fix is reported by request id');
      await Promise.all(ids.map((id) => o.store.finishReservation(id, 'released', 0)));
    });

    test('a row the database itself refuses fails alone: the rest of its batch commits and it is reported by request id', async () => {
      await o.refuseModel();
      const ids = Array.from({ length: 10 }, (_, i) => `iso2_${i}`);
      const writes = [
        ...ids.map((id) => o.store.reserve(reservation(id))),
        o.store.reserve(reservation('iso2_0')), // a duplicate reservation id: refused, alone
        ...ids.map((id) => o.store.appendLedger([entry(`req_${id}`)])),
        o.store.appendLedger([entry('req_iso2_refused', { modelRequested: REFUSED_MODEL })]),
      ];
      const outcomes = await Promise.allSettled(writes);
      assert.deepEqual(outcomes.map((r) => r.status).filter((s) => s === 'rejected').length, 1, 'only the duplicate reservation fails');
      assert.equal(outcomes[ids.length].status, 'rejected');
      await o.store.flush();
      const open = new Set((await o.store.openReservations()).map((r) => r.id));
      assert.deepEqual(ids.filter((id) => !open.has(id)), []);
      const page = (await o.store.requests({ limit: 1000 })).rows;
      assert.equal(page.filter((r) => r.request_id.startsWith('req_iso2_')).length, 10);
      assert.ok(o.errors.some((e) => e.includes('req_iso2_refused') && e.includes('dropped')), `reported: ${o.errors.join('\n')}`);
      await Promise.all(ids.map((id) => o.store.finishReservation(id, 'released', 0)));
    });

    test('invalid usage or cost: the request row and the spend agree, never a negative cost beside a positive spend', async () => {
      const cases: Array<[string, number, Partial<LedgerEntry>]> = [
        // The dispatch layer passes the same cost to the settlement and the row.
        ['negative', -4.5, { usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: -1_000_000, reasoningTokens: 0 } }],
        ['nan', Number.NaN, { usage: { inputTokens: Number.NaN, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 } }],
        ['infinite', Number.POSITIVE_INFINITY, { usage: { inputTokens: 1e400, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 } }],
        ['fractional', 0.00175, { usage: { inputTokens: 17.5, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 } }],
        ['huge', 1e300, {}],
      ];
      const before = await o.store.spentUnits(ALL);
      for (const [name] of cases) await o.store.reserve(reservation(`iso3_${name}`));
      await Promise.all(cases.map(([name, cost, over]) => Promise.all([
        o.store.finishReservation(`iso3_${name}`, 'settled', Math.round(cost * 1e8)),
        o.store.appendLedger([entry(`req_iso3_${name}`, { ...over, costUsd: cost })]),
      ])));
      await o.store.flush();
      const rows = (await o.store.requests({ limit: 1000 })).rows.filter((r) => r.request_id.startsWith('req_iso3_'));
      assert.equal(rows.length, cases.length, 'every row is stored');
      for (const r of rows) {
        assert.ok(r.cost_usd >= 0 && Number.isFinite(r.cost_usd), `${r.request_id}: cost ${r.cost_usd}`);
        assert.ok([r.input_tokens, r.output_tokens].every((n) => Number.isSafeInteger(n) && n >= 0), `${r.request_id}: tokens`);
      }
      const byName = Object.fromEntries(rows.map((r) => [r.request_id.slice('req_iso3_'.length), r.cost_usd]));
      assert.deepEqual(byName, { negative: 0.58, nan: 0.58, infinite: 0.58, fractional: 0.00175, huge: 0.58 },
        'an untrusted cost is billed at the reserved worst case ($0.58) in the row and the spend alike');
      const spent = (await o.store.spentUnits(ALL)) - before;
      const logged = rows.reduce((sum, r) => sum + Math.round(r.cost_usd * 1e8), 0);
      assert.equal(spent, logged, 'spend equals the sum of the rows');
    });

    test('an invalid reservation fails its own request only', async () => {
      const results = await Promise.allSettled([
        o.store.reserve(reservation('iso4_ok')),
        o.store.reserve(reservation('iso4_nan', { reservedUnits: Number.NaN })),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected']);
      assert.match(String((results[1] as PromiseRejectedResult).reason), /invalid reservedUnits/);
      assert.ok((await o.store.openReservations()).some((r) => r.id === 'iso4_ok'));
      await o.store.finishReservation('iso4_ok', 'released', 0);
    });
  });
}

contract('sqlite', openSqlite);
contract('postgres', openPostgres, pgSkip);
