// Reconciliation and held reviews: a reservation a pending `hold` review keeps stays open
// across a restart even though the process that made it is gone; once the review is no
// longer pending, a reservation still open is billed like any orphan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCounters } from '../limits/memory-counters.ts';
import type { ReviewRow } from '../review/types.ts';
import { postgresUnavailable, tempPostgres, tempSqlite } from '../store/testing.ts';
import type { InstanceRow, ReservationRow, Store } from '../store/types.ts';
import { reconcileReservations } from './reconcile.ts';

const pgSkip = await postgresUnavailable();
const self: InstanceRow = { id: 'inst_alive', host: 'test', pid: process.pid, seenAt: new Date().toISOString() };

function reservation(id: string): ReservationRow {
  return {
    id, requestId: `req_${id}`, owner: 'inst_dead', keyId: 'key_a', projectId: null, model: 'gpt-5.4-mini', endpoint: '/v1/chat/completions',
    day: '2026-06-01', createdAt: new Date().toISOString(), reservedUnits: 5000, inputTokens: 10, maxOutputTokens: 100, charges: [], status: 'open',
  };
}

function heldReview(id: string, reservationId: string): ReviewRow {
  const now = new Date();
  return {
    id, requestId: `req_${reservationId}`, keyId: 'key_a', projectId: null, mode: 'hold', status: 'pending', rule: 'metadata', reason: 'asked for',
    endpoint: '/v1/chat/completions', stream: false, model: 'gpt-5.4-mini', reservationId, onTimeout: 'reject', request: '{}', answer: '{"content":[]}',
    finalAnswer: null, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 20, reasoningTokens: 0 }, costUsd: 0.00004,
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(), decidedAt: null, decidedBy: null, decisionReason: null, editedText: null,
  };
}

async function heldAcrossRestart(store: Store): Promise<void> {
  const counters = new MemoryCounters();
  const all = { scope: 'global' as const, scopeId: null, model: null, fromDay: null, toDay: null };
  await store.claimInstance(self.id);
  await store.reserve(reservation('res_held'));
  await store.reserve(reservation('res_plain'));
  await store.flush();
  await store.insertReview(heldReview('rev_held', 'res_held'));

  // inst_dead holds no lock: both reservations are orphans, but one is held by a pending review.
  assert.equal(await reconcileReservations({ store, counters, self }), 1, 'only the reservation no review holds is billed');
  await store.flush();
  assert.deepEqual((await store.openReservations()).map((r) => r.id), ['res_held']);
  assert.equal(await store.spentUnits(all), 5000);
  assert.equal(await reconcileReservations({ store, counters, self }), 0, 'still held on the next sweep');

  const decided = await store.decideReview('rev_held', {
    status: 'rejected', decidedAt: new Date().toISOString(), decidedBy: 'key_r (reviewer)', decisionReason: 'no', editedText: null, finalAnswer: null,
  });
  assert.equal(decided?.status, 'rejected');
  assert.equal(await reconcileReservations({ store, counters, self }), 1, 'billed once the review is decided');
  await store.flush();
  assert.deepEqual(await store.openReservations(), []);
  assert.equal(await store.spentUnits(all), 10_000);
  const log = await store.requests({ limit: 10 });
  assert.deepEqual(log.rows.map((r) => [r.request_id, r.error_code]).sort(), [['req_res_held', 'interrupted'], ['req_res_plain', 'interrupted']]);
  assert.equal(await reconcileReservations({ store, counters, self }), 0, 'never billed twice');
}

test('SQLite: a dead owner\'s reservation held by a pending review is not billed until the review is decided', async () => {
  const { store, cleanup } = tempSqlite();
  try {
    await heldAcrossRestart(store);
  } finally {
    await cleanup();
  }
});

test('PostgreSQL: a dead owner\'s reservation held by a pending review is not billed until the review is decided', { skip: pgSkip }, async () => {
  const { store, cleanup } = await tempPostgres();
  try {
    await heldAcrossRestart(store);
  } finally {
    await cleanup();
  }
});
