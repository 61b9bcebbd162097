import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../services.ts';
import type { ReservationRow } from './types.ts';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from './journal.ts';
import { WriteQueue, type WriteOp } from './write-queue.ts';

const row = (id: string): ReservationRow => ({
  id, requestId: null, owner: 'inst', keyId: 'key', projectId: null, model: 'm', endpoint: null, day: '2026-01-01',
  createdAt: '2026-01-01T00:00:00.000Z', reservedUnits: 1, inputTokens: 1, maxOutputTokens: 1, charges: [], status: 'open',
});
const entry = (id: string): LedgerEntry => ({
  requestId: id, attempt: 0, time: '2026-01-01T00:00:00.000Z', keyId: 'key', endpoint: 'chat', modelRequested: 'm', stream: false, status: 200,
  usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, costUsd: 0, latencyMs: 1,
});

function recorder(fail = 0) {
  const batches: WriteOp[][] = [];
  let failures = fail;
  const commit = (ops: WriteOp[]) => {
    if (failures-- > 0) throw new Error('database is locked');
    batches.push(ops);
    for (const op of ops) (op.kind === 'finish' ? op.resolve(true) : op.resolve());
  };
  return { batches, commit };
}

test('concurrent reservations share a few commits, and each resolves only after its commit', async () => {
  const { batches, commit } = recorder();
  const queue = new WriteQueue(commit, { flushMs: 1000 });
  let committedBefore = -1;
  await Promise.all(Array.from({ length: 500 }, (_, i) => queue.reserve(row(`r${i}`)).then(() => {
    if (committedBefore < 0) committedBefore = batches.flat().length;
  })));
  assert.ok(batches.length <= 2, `${batches.length} commits for 500 reservations`);
  assert.ok(committedBefore > 0);
  assert.equal(batches.flat().length, 500);
});

test('background writes wait for the timer or a full batch, and ride along with a reservation', async () => {
  const { batches, commit } = recorder();
  const queue = new WriteQueue(commit, { flushMs: 50, maxBatch: 10 });
  void queue.ledger([entry('a')]);
  void queue.finish('r1', 'settled', 5);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(batches.length, 0, 'not committed on the request path');
  await queue.reserve(row('r2'));
  assert.deepEqual(batches[0].map((op) => op.kind), ['ledger', 'finish', 'reserve'], 'one transaction');
  for (let i = 0; i < 10; i++) void queue.ledger([entry(`b${i}`)]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(batches.length, 2, 'a full batch commits without waiting for the timer');
  void queue.ledger([entry('c')]);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(batches.length, 3, 'the timer commits the rest');
});

test('a failed commit fails the waiting reservation at once and retries background writes', async () => {
  const { batches, commit } = recorder(1);
  const errors: string[] = [];
  const queue = new WriteQueue(commit, { flushMs: 5, onError: (message) => errors.push(message) });
  const logged = queue.ledger([entry('x')]);
  const reserved = queue.reserve(row('r'));
  await assert.rejects(reserved, /database is locked/);
  await logged;
  await queue.flush();
  assert.deepEqual(batches.flat().map((op) => op.kind), ['ledger']);
  assert.equal(errors.length, 1);
});

test('a full queue drops the oldest request rows but keeps the settlements they carry', async () => {
  const { batches, commit } = recorder();
  const errors: string[] = [];
  const queue = new WriteQueue(commit, { flushMs: 5, maxQueued: 2, onError: (message) => errors.push(message) });
  const settling = { ...entry('req_a'), settles: { reservationId: 'res_a', status: 'settled' as const, units: 700 } };
  const dropped = queue.ledger([settling]);
  void queue.ledger([entry('req_b')]);
  void queue.ledger([entry('req_c')]);
  await assert.rejects(dropped, /queue full/);
  await queue.flush();
  const ops = batches.flat();
  assert.deepEqual(ops.filter((op) => op.kind === 'ledger').flatMap((op) => op.kind === 'ledger' ? op.entries.map((e) => e.requestId) : []), ['req_b', 'req_c']);
  assert.deepEqual(ops.filter((op) => op.kind === 'finish').map((op) => op.kind === 'finish' && [op.id, op.status, op.units]), [['res_a', 'settled', 700]]);
  assert.deepEqual(errors, ['dropped queued request-log rows']);
});

test('journaled, a full queue still keeps the settlements of the rows it drops, and the rows kept are committed from their lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-wq-'));
  const journal = new Journal(dir, 'inst_wq');
  try {
    const { batches, commit } = recorder();
    const errors: string[] = [];
    const queue = new WriteQueue(commit, { flushMs: 5, maxQueued: 2, onError: (message) => errors.push(message) });
    queue.useJournal(journal);
    const dropped = queue.ledger([{ ...entry('req_a'), settles: { reservationId: 'res_a', status: 'settled' as const, units: 700 } }]);
    void queue.ledger([entry('req_b')]);
    void queue.ledger([entry('req_c')]);
    await assert.rejects(dropped, /queue full/);
    await queue.flush();
    const ops = batches.flat();
    const rows = ops.filter((op) => op.kind === 'ledger').flatMap((op) => (JSON.parse(op.line!) as { entries: LedgerEntry[] }).entries.map((e) => e.requestId));
    assert.deepEqual(rows, ['req_b', 'req_c']);
    assert.deepEqual(ops.filter((op) => op.kind === 'finish').map((op) => op.kind === 'finish' && [op.id, op.status, op.units]), [['res_a', 'settled', 700]]);
    assert.deepEqual(errors, ['dropped queued request-log rows']);
  } finally {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journaled, a batch reaches the store only once every line in it is in the journal file (a kill between the two must not reopen a closed reservation on replay)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-wq-'));
  const journal = new Journal(dir, 'inst_order');
  try {
    const inFileAtCommit: boolean[] = [];
    const queue = new WriteQueue((ops) => {
      const file = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('');
      for (const op of ops) {
        inFileAtCommit.push(file.includes(op.line!));
        if (op.kind === 'finish') op.resolve(true);
        else op.resolve();
      }
    }, { flushMs: 1000 });
    queue.useJournal(journal);
    await queue.reserve(row('res_order'));
    // The request row is a line nobody waits for: it would sit in the buffer for up to 10 ms.
    void queue.ledger([{ ...entry('req_order'), settles: { reservationId: 'res_order', status: 'settled', units: 5 } }]);
    await queue.flush();
    assert.deepEqual(inFileAtCommit, [true, true]);
  } finally {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
