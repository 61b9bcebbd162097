// PostgreSQL going away under a running store, through a TCP proxy the test cuts and
// restores: reservations fail fast, settlements and request rows wait in a bounded
// buffer and are written once it is back, exactly once.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { LedgerEntry } from '../services.ts';
import { startTcpProxy } from '../../test/support/outages.ts';
import { isUnreachable, writeBatch } from './postgres-batch.ts';
import { PostgresStore, postgresLocation } from './postgres.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, uniqueName } from './testing.ts';
import type { ReservationRow } from './types.ts';
import type { WriteOp } from './write-queue.ts';

const skip = await postgresUnavailable();

function reservation(id: string): ReservationRow {
  return {
    id, requestId: `req-${id}`, owner: 'inst_a', keyId: 'key_a', projectId: null, model: 'gpt-5.5', endpoint: 'chat',
    day: new Date().toISOString().slice(0, 10), createdAt: new Date().toISOString(), reservedUnits: 1000, inputTokens: 10, maxOutputTokens: 20,
    charges: [{ budgetId: 'bud_1', window: 'w', units: 1000 }], status: 'open',
  };
}

function entry(requestId: string): LedgerEntry {
  return {
    requestId, attempt: 0, time: new Date().toISOString(), keyId: 'key_a', endpoint: 'chat', modelRequested: 'gpt-5.5', modelUsed: 'gpt-5.5',
    stream: false, status: 200, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 }, costUsd: 0.000007, latencyMs: 5,
  };
}

/** A store whose every connection goes through a proxy the test controls, in a fresh schema. */
async function storeBehindProxy(maxBufferedWrites?: number) {
  const target = new URL(POSTGRES_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const url = new URL(POSTGRES_URL);
  url.port = String(proxy.port);
  const schema = uniqueName('outage');
  const warnings: string[] = [];
  const store = await PostgresStore.open({
    url: url.toString(), schema, connectTimeoutMs: 500, queryTimeoutMs: 1000, maxBufferedWrites,
    onWarn: (message) => warnings.push(message), onError: (message) => warnings.push(message),
  });
  const direct = new pg.Client({ connectionString: POSTGRES_URL });
  await direct.connect();
  const count = async (sql: string) => Number((await direct.query(sql.replaceAll('$s', schema))).rows[0].n);
  return {
    store, proxy, warnings, count,
    async done() {
      await proxy.restore();
      await store.close();
      await proxy.close();
      await direct.end();
      await dropSchema(schema);
    },
  };
}

/** Fails when `promise` takes longer than `ms` (the outage must be reported fast). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await promise;
  } finally {
    const took = performance.now() - started;
    assert.ok(took < ms, `answered in ${Math.round(took)} ms, within ${ms} ms`);
  }
}

describe('PostgreSQL outage under a running store', { skip }, () => {
  test('reservations fail fast; settlements and request rows are buffered, then written once when it returns', async () => {
    const { store, proxy, warnings, count, done } = await storeBehindProxy();
    try {
      await store.reserve(reservation('res_before'));
      await proxy.cut();
      await assert.rejects(within(2000, store.reserve(reservation('res_down'))), 'a reservation cannot be made durable');
      // Requests admitted before the outage finish meanwhile: their writes wait.
      const closed = store.finishReservation('res_before', 'settled', 700);
      const logged = store.appendLedger([entry('req-res_before')]);
      const until = Date.now() + 3000;
      while (store.bufferedWrites() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.ok(store.bufferedWrites() >= 2, `settlement and request row held (${store.bufferedWrites()})`);
      assert.ok(warnings.some((w) => /PostgreSQL at 127\.0\.0\.1:\d+\/test is unreachable: holding settlements/.test(w)), warnings.join('\n'));
      assert.equal(await Promise.race([closed.then(() => 'done'), new Promise((r) => setTimeout(r, 300, 'waiting'))]), 'waiting', 'the settlement waits, it is not failed');

      await proxy.restore();
      assert.equal(await closed, true, 'the settlement closed its reservation once PostgreSQL was back');
      await logged;
      assert.equal(store.bufferedWrites(), 0);
      assert.equal(await count(`SELECT count(*) AS n FROM $s.requests WHERE request_id = 'req-res_before'`), 1);
      assert.equal(await count(`SELECT COALESCE(sum(cost_units), 0) AS n FROM $s.spend_daily`), 700, 'booked once');
      assert.equal(await count(`SELECT count(*) AS n FROM $s.reservations WHERE status = 'open'`), 0, 'the refused reservation is not left open');
      await store.reserve(reservation('res_after'));
      assert.equal(await store.finishReservation('res_after', 'settled', 300), true);
      assert.equal(await count(`SELECT COALESCE(sum(cost_units), 0) AS n FROM $s.spend_daily`), 1000);
    } finally {
      await done();
    }
  });

  test('a hung link is bounded by the connect timeout, not waited on', async () => {
    const { store, proxy, done } = await storeBehindProxy();
    try {
      proxy.hang();
      await assert.rejects(within(2500, store.reserve(reservation('res_hung'))));
      assert.equal(await within(2500, store.ping(500)), false);
      await proxy.restore();
      assert.equal(await store.ping(), true);
      await store.reserve(reservation('res_back'));
    } finally {
      await done();
    }
  });

  test('the buffer is bounded: beyond it the oldest request rows are dropped, settlements kept', async () => {
    const { store, proxy, count, done } = await storeBehindProxy(2);
    try {
      await store.reserve(reservation('res_1'));
      await proxy.cut();
      const closed = store.finishReservation('res_1', 'settled', 500);
      const first = store.appendLedger([entry('req-1')]);
      await new Promise((r) => setTimeout(r, 300));
      const second = store.appendLedger([entry('req-2')]);
      await assert.rejects(first, /write buffer is full/);
      assert.equal(store.bufferedWrites(), 2);
      await proxy.restore();
      assert.equal(await closed, true);
      await second;
      assert.equal(await count(`SELECT count(*) AS n FROM $s.requests`), 1);
      assert.equal(await count(`SELECT count(*) AS n FROM $s.requests WHERE request_id = 'req-2'`), 1);
    } finally {
      await done();
    }
  });

  test('a batch retried after a commit whose answer was lost books nothing twice', async () => {
    const schema = uniqueName('retry');
    const store = await PostgresStore.open({ url: POSTGRES_URL, schema });
    const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await store.reserve(reservation('res_r'));
      const ops = (): WriteOp[] => [
        { kind: 'finish', id: 'res_r', status: 'settled', units: 400, resolve() {}, reject() {}, tries: 0 },
        { kind: 'ledger', entries: [{ ...entry('req-r'), costFromReservation: false }], resolve() {}, reject() {}, tries: 0 },
      ];
      for (let i = 0; i < 2; i++) {
        await client.query('BEGIN');
        await writeBatch(client as unknown as pg.PoolClient, ops(), 'UTC', false);
        await client.query('COMMIT');
      }
      const n = async (sql: string) => Number((await client.query(sql)).rows[0].n);
      assert.equal(await n('SELECT sum(cost_units) AS n FROM spend_daily'), 400);
      assert.equal(await n(`SELECT count(*) AS n FROM requests WHERE request_id = 'req-r'`), 1);
    } finally {
      await client.end();
      await store.close();
      await dropSchema(schema);
    }
  });
});

test('which failures mean PostgreSQL is unreachable (buffer and retry) and which do not', () => {
  assert.equal(isUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnreachable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isUnreachable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
  assert.equal(isUnreachable(Object.assign(new Error('too many connections'), { code: '53300' })), true);
  assert.equal(isUnreachable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  assert.equal(isUnreachable(Object.assign(new Error('syntax error'), { code: '42601' })), false);
});

test('the store is named by host, port and database, never by its credentials', () => {
  assert.equal(postgresLocation('postgres://app:s3cret@db.internal:6432/ledger?sslmode=require'), 'PostgreSQL at db.internal:6432/ledger');
  assert.equal(postgresLocation('postgresql://127.0.0.1/test'), 'PostgreSQL at 127.0.0.1:5432/test');
});
