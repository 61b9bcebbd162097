import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../services.ts';
import { tempSqlite } from '../store/testing.ts';
import { StoreLedger } from './ledger.ts';
import { pruneOnce } from './retention.ts';

function entry(i: number, time = new Date().toISOString()): LedgerEntry {
  return {
    requestId: `req_${i}`, attempt: 0, time, keyId: 'key_a', endpoint: 'chat', modelRequested: 'gpt-5.4-mini', stream: false, status: 200,
    usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, costUsd: 0.001, latencyMs: 3,
  };
}

test('record() returns at once; rows are written in batches and all of them land by close()', async () => {
  const { store, path, cleanup } = tempSqlite();
  const ledger = new StoreLedger(store, () => {});
  const reader = new DatabaseSync(path);
  const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
  for (let i = 0; i < 5000; i++) ledger.record(entry(i));
  // Speed lives in the benchmark; here: record() only queues, nothing is written synchronously.
  assert.equal(count(), 0, 'nothing written on the request path');
  await ledger.close();
  assert.equal(count(), 5000);
  reader.close();
  await cleanup();
});

test('retention deletes rows older than N days and keeps the rest', async () => {
  const { store, cleanup } = tempSqlite();
  const now = Date.parse('2026-06-30T00:00:00Z');
  const rows = Array.from({ length: 2500 }, (_, i) => entry(i, new Date(now - (i < 2200 ? 40 : 10) * 86_400_000 - i).toISOString()));
  await store.appendLedger(rows);
  assert.equal(await pruneOnce(store, 30, 1000, now), 2200);
  const left = await store.requests({ limit: 1000 });
  assert.equal(left.rows.length, 300);
  await cleanup();
});
