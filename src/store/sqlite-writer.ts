// The request-path writes of the SQLite store (reservations, their settlement, request
// rows), one batch per transaction. It runs in a worker thread so the SQL work of every
// request is done off the event loop; `SqliteWriter` itself is plain and synchronous.
// A batch crosses to the thread as one string (the ops' journal lines), not as objects
// to clone.
//
// A request row may carry its reservation's settlement (entry.settles): it closes the
// reservation where the row is written. A request whose reservation opens and closes
// within one batch, and whose request row is in it too, is written as that one row: no
// reservation row, and its cost joins the batch's spend, summed per day, key, project
// and model. The row is also what makes a replay of the same lines harmless: a request
// row already there books nothing.
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { localDay } from '../budget/periods.ts';
import { BODY_COLUMNS, bodyColumns, LEDGER_COLUMNS, ledgerColumns, reservationColumns } from './rows.ts';
import { resolvedCost, type StoredEntry } from './sanitize.ts';
import type { ReservationRow } from './types.ts';
import type { PlainOp } from './write-queue.ts';

type FinishOp = Extract<PlainOp, { kind: 'finish' }>;
type ReserveOp = Extract<PlainOp, { kind: 'reserve' }>;

/** What a batch did: per finish op whether it closed its reservation; ops and rows refused alone. */
export interface CommitResult {
  closed: boolean[];
  /** Index of an op the database refused (it failed alone), with why. */
  failed: Array<{ op: number; error: string }>;
  /** Request rows refused even after sanitising, reported by request id. */
  dropped: Array<{ requestId: string; attempt: number; error: string }>;
}

/** Constraint, type mismatch, too big, out of range: the row's fault, not the database's. */
function isRowError(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' && [18, 19, 20, 25].includes(code & 0xff);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

const q = () => '?';

export class SqliteWriter {
  private readonly db: DatabaseSync;
  private readonly timezone: string;
  private readonly insertReservation: StatementSync;
  private readonly replayReservation: StatementSync;
  private readonly closeReservation: StatementSync;
  private readonly bookSpend: StatementSync;
  private readonly insertRequest: StatementSync;
  private readonly insertBodies: StatementSync;
  private readonly bookedCost: StatementSync;
  private readonly addSpend: StatementSync;

  constructor(db: DatabaseSync, timezone: string) {
    this.db = db;
    this.timezone = timezone;
    const reservationCols = Object.keys(reservationColumns(PLACEHOLDER_RESERVATION));
    const insertSql = `INSERT INTO reservations (${reservationCols.join(', ')}) VALUES (${reservationCols.map(q).join(', ')})`;
    this.insertReservation = db.prepare(insertSql);
    // A replayed journal line may find its reservation there already: nothing changes.
    this.replayReservation = db.prepare(`${insertSql} ON CONFLICT (id) DO NOTHING`);
    // A null cost (one that could not be trusted) bills the reserved worst case.
    this.closeReservation = db.prepare(`UPDATE reservations SET status = ?, cost_units = COALESCE(?, reserved_units), finished_at = ? WHERE id = ? AND status = 'open'`);
    this.bookSpend = db.prepare(
      `INSERT INTO spend_daily (day, key_id, project_id, model, cost_units)
       SELECT day, key_id, project_id, model, cost_units FROM reservations WHERE id = ? AND cost_units > 0
       ON CONFLICT (day, key_id, project_id, model) DO UPDATE SET cost_units = cost_units + excluded.cost_units`,
    );
    // Not INSERT OR IGNORE: that also skips a row failing NOT NULL, silently. Only a duplicate is ignored.
    this.insertRequest = db.prepare(
      `INSERT INTO requests (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map(q).join(', ')}) ON CONFLICT (request_id, attempt) DO NOTHING`,
    );
    this.insertBodies = db.prepare(`INSERT INTO request_bodies (${BODY_COLUMNS.join(', ')}) VALUES (${BODY_COLUMNS.map(q).join(', ')}) ON CONFLICT (request_id) DO NOTHING`);
    this.bookedCost = db.prepare(`SELECT SUM(COALESCE(cost_units, reserved_units)) AS units FROM reservations WHERE request_id = ?`);
    this.addSpend = db.prepare(
      `INSERT INTO spend_daily (day, key_id, project_id, model, cost_units) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (day, key_id, project_id, model) DO UPDATE SET cost_units = cost_units + excluded.cost_units`,
    );
  }

  /**
   * Commit a batch given as its ops' JSON lines, joined by newlines. `replay`: lines of a
   * dead process's journal, some of which may be committed already.
   */
  commitLines(lines: string, replay = false): CommitResult {
    return this.commit(lines.split('\n').map((line) => JSON.parse(line) as PlainOp), replay);
  }

  /**
   * Commit one batch. A row the database refuses fails alone (SQLite aborts the statement,
   * not the transaction); any other error (busy, I/O) rolls the whole batch back.
   */
  commit(ops: PlainOp[], replay = false): CommitResult {
    const now = new Date().toISOString();
    const result: CommitResult = { closed: [], failed: [], dropped: [] };
    const batch = new BatchPlan(ops);
    const spend = new Map<string, number>();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      ops.forEach((op, index) => {
        try {
          if (op.kind === 'reserve') {
            if (!batch.merged.has(op.row.id) && !batch.settledByRow.has(op.row.id)) this.insertReservationRow(op.row, replay);
          } else if (op.kind === 'finish') {
            const merged = batch.merged.get(op.id);
            result.closed.push(merged ? this.settleAsRow(merged.reserve, op, merged.entry, spend, result, now, replay) : this.finish(op, now));
          } else {
            for (const entry of op.entries) this.writeEntry(entry, batch, spend, result, now, replay);
          }
        } catch (error) {
          if (!isRowError(error)) throw error;
          if (op.kind === 'finish') result.closed.push(false);
          result.failed.push({ op: index, error: errorText(error) });
        }
      });
      for (const [key, units] of spend) this.addSpend.run(...(key.split('\u0000') as SQLInputValue[]), units);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    return result;
  }

  /** A request row, closing the reservation it carries the settlement of. */
  private writeEntry(entry: StoredEntry, batch: BatchPlan, spend: Map<string, number>, result: CommitResult, now: string, replay: boolean): void {
    if (batch.mergedEntries.has(entry)) return; // written with its finish op
    const settles = entry.settles;
    if (!settles) return this.insertEntry(entry, result);
    const finish: FinishOp = { kind: 'finish', id: settles.reservationId, status: settles.status, units: settles.units };
    const reserve = batch.carried.get(entry);
    if (reserve) this.settleAsRow(reserve, finish, entry, spend, result, now, replay);
    else {
      this.finish(finish, now);
      this.insertEntry(entry, result);
    }
  }

  /** Close a reservation and book its cost, both or neither. */
  private finish(op: FinishOp, now: string): boolean {
    this.db.exec('SAVEPOINT finish');
    try {
      const didClose = Number(this.closeReservation.run(op.status, op.units, now, op.id).changes) > 0;
      if (didClose) this.bookSpend.run(op.id);
      this.db.exec('RELEASE finish');
      return didClose;
    } catch (error) {
      this.db.exec('ROLLBACK TO finish');
      this.db.exec('RELEASE finish');
      throw error;
    }
  }

  /**
   * A request opened and closed in this batch: its request row carries the settlement. The
   * spend is booked only when the row is new (a replayed line finds it there). A row the
   * database refuses falls back to a reservation row, which books the spend instead.
   * On replay, the reservation may have been committed open before the process died: it
   * is closed here too, or reconciliation would bill it a second time.
   */
  private settleAsRow(reserve: ReserveOp, finish: FinishOp, entry: StoredEntry, spend: Map<string, number>, result: CommitResult, now: string, replay: boolean): boolean {
    const row = reserve.row;
    const units = finish.units ?? row.reservedUnits;
    const costed = entry.costFromReservation ? { ...entry, costUsd: resolvedCost(entry, units) } : entry;
    try {
      const inserted = Number(this.insertRequest.run(...(Object.values(ledgerColumns(costed, localDay(Date.parse(entry.time), this.timezone), true)) as SQLInputValue[])).changes) > 0;
      if (inserted) this.storeBodies(entry);
      if (replay) this.closeReservation.run(finish.status, finish.units, now, row.id);
      if (inserted && units > 0) {
        const key = `${row.day}\u0000${row.keyId}\u0000${row.projectId ?? ''}\u0000${row.model}`;
        spend.set(key, (spend.get(key) ?? 0) + units);
      }
      return inserted;
    } catch (error) {
      if (!isRowError(error)) throw error;
      result.dropped.push({ requestId: entry.requestId, attempt: entry.attempt, error: errorText(error) });
      this.insertReservationRow(row, replay);
      return this.finish(finish, now);
    }
  }

  /** A request row's bodies, when its policy kept them (attempt 0 only). */
  private storeBodies(entry: StoredEntry): void {
    const columns = bodyColumns(entry, true);
    if (columns) this.insertBodies.run(...(Object.values(columns) as SQLInputValue[]));
  }

  private insertReservationRow(row: ReservationRow, replay: boolean): void {
    (replay ? this.replayReservation : this.insertReservation).run(...(Object.values(reservationColumns(row)) as SQLInputValue[]));
  }

  private insertEntry(entry: StoredEntry, result: CommitResult): void {
    const costed = entry.costFromReservation
      ? { ...entry, costUsd: resolvedCost(entry, bookedUnits(this.bookedCost.get(entry.requestId))) }
      : entry;
    try {
      if (Number(this.insertRequest.run(...(Object.values(ledgerColumns(costed, localDay(Date.parse(entry.time), this.timezone), true)) as SQLInputValue[])).changes) > 0) this.storeBodies(entry);
    } catch (error) {
      if (!isRowError(error)) throw error;
      result.dropped.push({ requestId: entry.requestId, attempt: entry.attempt, error: errorText(error) });
    }
  }
}

/**
 * Which reservations of a batch settle as their request row: opened in the batch, and
 * closed by a request row after it (entry.settles: `carried`), or by a finish op with
 * their request's first row (attempt 0) in the same batch, in that order or with the
 * row after the close (`merged`).
 */
class BatchPlan {
  readonly merged = new Map<string, { reserve: ReserveOp; entry: StoredEntry }>();
  readonly mergedEntries = new Set<StoredEntry>();
  readonly carried = new Map<StoredEntry, ReserveOp>();
  /** Reservations `carried` settles: no reservation row of their own. */
  readonly settledByRow = new Set<string>();

  constructor(ops: PlainOp[]) {
    const reserves = new Map<string, ReserveOp>();
    const closing = new Map<string, ReserveOp>();
    for (const op of ops) {
      if (op.kind === 'reserve') reserves.set(op.row.id, op);
      else if (op.kind === 'ledger') {
        for (const entry of op.entries) {
          const reserve = entry.settles && entry.attempt === 0 ? reserves.get(entry.settles.reservationId) : undefined;
          if (reserve) {
            this.carried.set(entry, reserve);
            this.settledByRow.add(reserve.row.id);
            reserves.delete(entry.settles!.reservationId);
          }
        }
      } else if (op.kind === 'finish') {
        const reserve = reserves.get(op.id);
        if (reserve && reserve.row.requestId && !closing.has(reserve.row.requestId)) closing.set(reserve.row.requestId, reserve);
      }
    }
    if (closing.size === 0) return;
    for (const op of ops) {
      if (op.kind !== 'ledger') continue;
      for (const entry of op.entries) {
        const reserve = entry.attempt === 0 ? closing.get(entry.requestId) : undefined;
        if (!reserve || this.merged.has(reserve.row.id)) continue;
        this.merged.set(reserve.row.id, { reserve, entry });
        this.mergedEntries.add(entry);
      }
    }
  }
}

function bookedUnits(row: unknown): number | undefined {
  const units = (row as { units?: unknown } | undefined)?.units;
  return units === null || units === undefined ? undefined : Number(units);
}

/** A SqliteWriter on its own connection in a worker thread. */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(result: CommitResult): void; reject(error: Error): void }>();
  private nextId = 0;

  constructor(path: string, timezone: string) {
    this.worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), { workerData: { path, timezone } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; result?: CommitResult; error?: string }) => {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.worker.unref();
      if (message.error !== undefined) call.reject(new Error(message.error));
      else call.resolve(message.result!);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  }

  /** Commit a batch given as its ops' JSON lines, joined by newlines. */
  commitLines(lines: string, replay = false): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      // Held open only while a write is in flight, so an idle store never keeps the process alive.
      this.worker.ref();
      this.worker.postMessage({ id, lines, replay });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}

const PLACEHOLDER_RESERVATION: ReservationRow = {
  id: '', requestId: null, owner: '', keyId: '', projectId: null, model: '', endpoint: null, day: '', createdAt: '',
  reservedUnits: 0, inputTokens: 0, maxOutputTokens: 0, charges: [], status: 'open',
};
