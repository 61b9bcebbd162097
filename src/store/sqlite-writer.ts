// The request-path writes of the SQLite store (reservations, their settlement, request
// rows), one batch per transaction. It runs in a worker thread so the SQL work of every
// request is done off the event loop; `SqliteWriter` itself is plain and synchronous.
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { LedgerEntry } from '../services.ts';
import { localDay } from '../budget/periods.ts';
import { LEDGER_COLUMNS, ledgerColumns, reservationColumns } from './rows.ts';
import type { ReservationRow, ReservationStatus } from './types.ts';

/** A write without its promise callbacks: what crosses to the writer thread. */
export type PlainOp =
  | { kind: 'reserve'; row: ReservationRow }
  | { kind: 'finish'; id: string; status: Exclude<ReservationStatus, 'open'>; units: number }
  | { kind: 'ledger'; entries: LedgerEntry[] };

const q = () => '?';

export class SqliteWriter {
  private readonly db: DatabaseSync;
  private readonly timezone: string;
  private readonly insertReservation: StatementSync;
  private readonly closeReservation: StatementSync;
  private readonly bookSpend: StatementSync;
  private readonly insertRequest: StatementSync;

  constructor(db: DatabaseSync, timezone: string) {
    this.db = db;
    this.timezone = timezone;
    const reservationCols = Object.keys(reservationColumns(PLACEHOLDER_RESERVATION));
    this.insertReservation = db.prepare(`INSERT INTO reservations (${reservationCols.join(', ')}) VALUES (${reservationCols.map(q).join(', ')})`);
    this.closeReservation = db.prepare(`UPDATE reservations SET status = ?, cost_units = ?, finished_at = ? WHERE id = ? AND status = 'open'`);
    this.bookSpend = db.prepare(
      `INSERT INTO spend_daily (day, key_id, project_id, model, cost_units)
       SELECT day, key_id, project_id, model, ? FROM reservations WHERE id = ?
       ON CONFLICT (day, key_id, project_id, model) DO UPDATE SET cost_units = cost_units + excluded.cost_units`,
    );
    this.insertRequest = db.prepare(`INSERT OR IGNORE INTO requests (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map(q).join(', ')})`);
  }

  /** Commit one batch; for each finish op, whether it closed an open reservation. */
  commit(ops: PlainOp[]): boolean[] {
    const now = new Date().toISOString();
    const closed: boolean[] = [];
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const op of ops) {
        if (op.kind === 'reserve') {
          this.insertReservation.run(...(Object.values(reservationColumns(op.row)) as SQLInputValue[]));
        } else if (op.kind === 'finish') {
          const didClose = Number(this.closeReservation.run(op.status, op.units, now, op.id).changes) > 0;
          if (didClose && op.units > 0) this.bookSpend.run(op.units, op.id);
          closed.push(didClose);
        } else {
          for (const entry of op.entries) {
            const day = localDay(Date.parse(entry.time), this.timezone);
            this.insertRequest.run(...(Object.values(ledgerColumns(entry, day, true)) as SQLInputValue[]));
          }
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    return closed;
  }
}

/** A SqliteWriter on its own connection in a worker thread. */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(closed: boolean[]): void; reject(error: Error): void }>();
  private nextId = 0;

  constructor(path: string, timezone: string) {
    this.worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), { workerData: { path, timezone } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; closed?: boolean[]; error?: string }) => {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.worker.unref();
      if (message.error !== undefined) call.reject(new Error(message.error));
      else call.resolve(message.closed ?? []);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  }

  commit(ops: PlainOp[]): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      // Held open only while a write is in flight, so an idle store never keeps the process alive.
      this.worker.ref();
      this.worker.postMessage({ id, ops });
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
