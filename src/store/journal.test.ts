// The reservation journal: a reservation is on disk before admit resolves, committed lines
// leave the journal, a torn last line is ignored, and replaying a dead process's journal
// over a store that already holds part of it bills nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { LedgerEntry } from '../services.ts';
import { Journal, readDeadSegments } from './journal.ts';
import { schemaStatements } from './schema.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import { SqliteStore } from './sqlite.ts';
import { tempDir } from './testing.ts';
import type { ReservationRow } from './types.ts';
import type { PlainOp } from './write-queue.ts';

const reservation = (id: string, requestId: string): ReservationRow => ({
  id, requestId, owner: 'inst_dead', keyId: 'key_a', projectId: null, model: 'gpt-5.4', endpoint: 'chat', day: '2026-12-02',
  createdAt: '2026-12-02T10:00:00.000Z', reservedUnits: 4_000_000, inputTokens: 10, maxOutputTokens: 40, charges: [], status: 'open',
});
const row = (requestId: string): LedgerEntry & { costFromReservation: boolean } => ({
  requestId, attempt: 0, time: '2026-12-02T10:00:01.000Z', keyId: 'key_a', endpoint: 'chat', modelRequested: 'gpt-5.4', modelUsed: 'gpt-5.4',
  stream: false, status: 200, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 19, reasoningTokens: 0 }, costUsd: 0.019, latencyMs: 3,
  costFromReservation: true,
});
/** The two lines one request leaves: reserved, and its request row settling it at $0.019. */
function requestLines(n: number): string[] {
  const ops: PlainOp[] = [
    { kind: 'reserve', row: reservation(`res_${n}`, `req_${n}`) },
    { kind: 'ledger', entries: [{ ...row(`req_${n}`), settles: { reservationId: `res_${n}`, status: 'settled', units: 1_900_000 } }] },
  ];
  return ops.map((op) => JSON.stringify(op));
}

/** The three lines a request left before rows carried their settlement (a held review's close still is a finish op). */
function finishOpLines(n: number): string[] {
  const ops: PlainOp[] = [
    { kind: 'reserve', row: reservation(`res_${n}`, `req_${n}`) },
    { kind: 'finish', id: `res_${n}`, status: 'settled', units: 1_900_000 },
    { kind: 'ledger', entries: [row(`req_${n}`)] },
  ];
  return ops.map((op) => JSON.stringify(op));
}

function database() {
  const db = new DatabaseSync(':memory:');
  for (const statement of schemaStatements('sqlite')) db.exec(statement);
  const writer = new SqliteWriter(db, 'UTC');
  const totals = () => ({
    spend: Number((db.prepare('SELECT COALESCE(SUM(cost_units), 0) AS u FROM spend_daily').get() as { u: number }).u),
    rows: Number((db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n),
    open: Number((db.prepare(`SELECT COUNT(*) AS n FROM reservations WHERE status = 'open'`).get() as { n: number }).n),
    reservations: Number((db.prepare('SELECT COUNT(*) AS n FROM reservations').get() as { n: number }).n),
  });
  return { db, writer, totals };
}

test('a request opened and closed in one batch is one row, its cost booked once; replaying the same lines changes nothing', () => {
  for (const lines of [[...requestLines(1), ...requestLines(2)], [...finishOpLines(1), ...finishOpLines(2)]]) {
    const { writer, totals } = database();
    writer.commitLines(lines.join('\n'));
    assert.deepEqual(totals(), { spend: 3_800_000, rows: 2, open: 0, reservations: 0 }, 'no reservation rows at all');
    writer.commitLines(lines.join('\n'), true);
    assert.deepEqual(totals(), { spend: 3_800_000, rows: 2, open: 0, reservations: 0 });
  }
});

test('a reservation committed open before the kill, closed only in the journal: the replay closes it and books it once', () => {
  for (const lines of [requestLines(3), finishOpLines(3)]) {
    const { writer, totals } = database();
    writer.commitLines(lines[0]);
    assert.deepEqual(totals(), { spend: 0, rows: 0, open: 1, reservations: 1 });
    // The dead process's journal still holds every line.
    writer.commitLines(lines.join('\n'), true);
    assert.deepEqual(totals(), { spend: 1_900_000, rows: 1, open: 0, reservations: 1 }, 'closed: reconciliation will not bill it again');
    writer.commitLines(lines.join('\n'), true);
    assert.deepEqual(totals(), { spend: 1_900_000, rows: 1, open: 0, reservations: 1 });
  }
});

test('a row settling a reservation committed in an earlier batch closes it there; a row the database refuses still settles it', () => {
  const { db, writer, totals } = database();
  const [reserve, ledger] = requestLines(5);
  writer.commitLines(reserve);
  writer.commitLines(ledger);
  assert.deepEqual(totals(), { spend: 1_900_000, rows: 1, open: 0, reservations: 1 });
  // A request row the database refuses (here: a trigger) in the same batch as its reservation.
  db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON requests WHEN NEW.request_id = 'req_6' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  const refused = writer.commitLines(requestLines(6).join('\n'));
  assert.deepEqual(refused.dropped.map((d) => d.requestId), ['req_6']);
  assert.deepEqual(totals(), { spend: 3_800_000, rows: 1, open: 0, reservations: 2 }, 'the reservation row stands in for the row, settled');
});

test('a reservation whose close never reached the journal stays open, for reconciliation to bill at its worst case', () => {
  const { writer, totals } = database();
  const [reserve] = requestLines(4);
  writer.commitLines(reserve, true);
  writer.commitLines(reserve, true);
  assert.deepEqual(totals(), { spend: 0, rows: 0, open: 1, reservations: 1 });
});

test('lines are written in one write per turn, committed segments are deleted, a torn last line is ignored on replay', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const journal = new Journal(dir, 'inst_a');
    const segments = [journal.append('{"a":1}'), journal.append('{"a":2}')];
    const written = journal.whenWritten();
    assert.equal(readFileSync(segments[0].path, 'utf8'), '', 'not written until the turn ends');
    await written;
    assert.equal(readFileSync(segments[0].path, 'utf8'), '{"a":1}\n{"a":2}\n');
    for (const segment of segments) journal.committed(segment);
    await journal.close();
    assert.deepEqual(readdirSync(dir), [], 'everything committed: nothing left to replay');

    writeFileSync(join(dir, 'inst_b.000000.jsonl'), '{"b":1}\n{"b":2}\n{"b":');
    appendFileSync(join(dir, 'inst_c.000000.jsonl'), '{"c":1}\n');
    const dead = await readDeadSegments(dir, async (owner) => owner === 'inst_c');
    assert.deepEqual(dead.map((d) => [d.owner, d.lines]), [['inst_b', ['{"b":1}', '{"b":2}']]], 'a live owner is left alone; the torn line is dropped');
  } finally {
    cleanup();
  }
});

test('a SQLite store with a claimed instance: admit-time durability is the journal, and the database catches up by the next fold', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'switchyard.db');
  const store = new SqliteStore({ path, flushMs: 60_000 });
  try {
    await store.claimInstance('inst_live');
    await store.reserve({ ...reservation('res_9', 'req_9'), owner: 'inst_live' });
    const onDisk = readdirSync(store.journalDir).map((f) => readFileSync(join(store.journalDir, f), 'utf8')).join('');
    assert.match(onDisk, /"res_9"/, 'in the journal when reserve() resolves');
    assert.deepEqual((await store.openReservations()).map((r) => r.id), [], 'not yet in the database: no commit on the request path');
    void store.appendLedger([{ ...row('req_9'), settles: { reservationId: 'res_9', status: 'settled', units: 1_900_000 } }]);
    await store.flush();
    const page = await store.requests({ limit: 10 });
    assert.deepEqual(page.rows.map((r) => [r.request_id, r.cost_usd]), [['req_9', 0.019]]);
    assert.equal(await store.spentUnits({ scope: 'global', scopeId: null, model: null, fromDay: null, toDay: null }), 1_900_000);
  } finally {
    await store.close();
    cleanup();
  }
});

test('a line nobody waits for rides along with the next waited write, or is written within a few milliseconds', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const journal = new Journal(dir, 'inst_lazy');
    const segment = journal.append('{"settles":1}', false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(readFileSync(segment.path, 'utf8'), '', 'not written at the end of the turn: nobody waits for it');
    journal.append('{"reserve":2}');
    await journal.whenWritten();
    assert.equal(readFileSync(segment.path, 'utf8'), '{"settles":1}\n{"reserve":2}\n', 'one write for both');
    journal.append('{"settles":3}', false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(readFileSync(segment.path, 'utf8'), '{"settles":1}\n{"reserve":2}\n{"settles":3}\n', 'written by the timer');
    for (let i = 0; i < 3; i++) journal.committed(segment);
    await journal.close();
  } finally {
    cleanup();
  }
});
