// Group commit: writes from many concurrent requests are gathered and committed in one
// transaction, one commit at a time. Without a journal, a reservation asks for an
// immediate commit (the request waits for it); settlements and ledger rows ride along or
// wait for the timer. With a journal (src/store/journal.ts) a reservation is durable once
// its journal line is written, so every write waits for the timer: the store sees one
// transaction per ~100 ms, and the request never waits for it. A batch goes to the store
// only once all its lines are in the journal file. A journaled op keeps only its line.
import type { LedgerEntry } from '../services.ts';
import type { Journal, JournalSegment } from './journal.ts';
import { sanitizeLedgerEntry, sanitizeReservation, settlementUnits, type StoredEntry } from './sanitize.ts';
import type { ReservationRow, ReservationStatus } from './types.ts';

interface Pending<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Commit attempts so far; background writes are retried a few times. */
  tries: number;
  /** With a journal: the op as its journal line, and the segment holding it. */
  line?: string;
  segment?: JournalSegment;
}

export type WriteOp =
  | ({ kind: 'reserve'; row: ReservationRow } & Pending<void>)
  /** `units` null: the cost could not be trusted, the reservation's worst case is billed. */
  | ({ kind: 'finish'; id: string; status: Exclude<ReservationStatus, 'open'>; units: number | null } & Pending<boolean>)
  | ({ kind: 'ledger'; entries: StoredEntry[] } & Pending<void>);

/** Runs one batch in one transaction and resolves each op (finish ops with whether they closed a reservation). */
export type CommitBatch = (ops: WriteOp[]) => Promise<void> | void;

export interface WriteQueueOptions {
  /** Longest a background write waits before its batch is committed. */
  flushMs?: number;
  /** A batch larger than this is committed without waiting for the timer. */
  maxBatch?: number;
  /** Background writes held at most; beyond it the oldest ledger rows are dropped (and logged). */
  maxQueued?: number;
  onError?: (message: string, error: unknown) => void;
  /** Values fixed before they reached a batch (the write went through, sanitised). */
  onWarn?: (message: string, fields: Record<string, unknown>) => void;
}

const MAX_TRIES = 3;

export class WriteQueue {
  private queue: WriteOp[] = [];
  private committing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly commitBatch: CommitBatch;
  private readonly onError: (message: string, error: unknown) => void;
  private readonly onWarn: (message: string, fields: Record<string, unknown>) => void;
  private journal: Journal | undefined;

  constructor(commitBatch: CommitBatch, options: WriteQueueOptions = {}) {
    this.commitBatch = commitBatch;
    this.flushMs = options.flushMs ?? 100;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxQueued = options.maxQueued ?? 200_000;
    this.onError = options.onError ?? (() => {});
    this.onWarn = options.onWarn ?? (() => {});
  }

  /** From now on, writes are durable once in `journal` and all wait for the timer. */
  useJournal(journal: Journal): void {
    this.journal = journal;
  }

  // Every write is sanitised here, before it joins a batch (see sanitize.ts).

  reserve(row: ReservationRow): Promise<void> {
    let clean: ReservationRow;
    try {
      const sanitized = sanitizeReservation(row);
      if (sanitized.problems) this.onWarn('reservation sanitised before storing', { reservation: sanitized.value.id, problems: sanitized.problems });
      clean = sanitized.value;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.journal) return this.reserveInJournal(clean, this.journal);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'reserve', row: clean, resolve, reject, tries: 0 });
      this.scheduleNow();
    });
  }

  /** Durable once its journal line is written; committed with the next batch. */
  private reserveInJournal(row: ReservationRow, journal: Journal): Promise<void> {
    const op: WriteOp = { kind: 'reserve', row, resolve: noop, reject: noop, tries: 0 };
    this.push(op);
    return journal.whenWritten().catch((error) => {
      // The request is refused; the reservation it never used is closed with it.
      void this.finish(row.id, 'released', 0).catch(noop);
      throw error;
    });
  }

  finish(id: string, status: Exclude<ReservationStatus, 'open'>, units: number): Promise<boolean> {
    const clean = settlementUnits(units);
    if (clean === null) this.onWarn('settled with an invalid cost; billing the reserved worst case', { reservation: id, units: String(units) });
    return new Promise((resolve, reject) => {
      this.push({ kind: 'finish', id, status, units: clean, resolve, reject, tries: 0 });
    });
  }

  ledger(entries: LedgerEntry[]): Promise<void> {
    let clean: StoredEntry[] = entries;
    for (let i = 0; i < entries.length; i++) {
      const sanitized = sanitizeLedgerEntry(entries[i]);
      if (!sanitized.problems) continue;
      this.onWarn('request row sanitised before storing', { request_id: sanitized.value.requestId, attempt: sanitized.value.attempt, problems: sanitized.problems });
      if (clean === entries) clean = entries.slice();
      clean[i] = sanitized.value;
    }
    return new Promise((resolve, reject) => {
      this.push({ kind: 'ledger', entries: clean, resolve, reject, tries: 0 });
    });
  }

  /** Writes waiting for their batch (for the ledger queue metric). */
  get depth(): number {
    return this.queue.length;
  }

  private push(op: WriteOp): void {
    this.enqueue(op);
    this.scheduleLater();
  }

  private enqueue(op: WriteOp): void {
    if (this.journal) {
      op.line = JSON.stringify(plainOp(op));
      // Only a reservation is waited for (the request is sent once it is durable).
      op.segment = this.journal.append(op.line, op.kind === 'reserve');
      // The line is what gets committed: the objects can go before the batch does (~100 ms).
      if (op.kind === 'ledger') op.entries = JOURNALED;
      else if (op.kind === 'reserve') op.row = JOURNALED_ROW;
    }
    this.queue.push(op);
  }

  /** Commit everything queued now, including what arrives while committing. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.committing) {
      if (this.committing) await this.committing;
      else await this.commitNow();
    }
  }

  private scheduleNow(): void {
    if (this.immediate) return;
    this.immediate = true;
    setImmediate(() => {
      this.immediate = false;
      void this.commitNow();
    });
  }

  private scheduleLater(): void {
    if (this.queue.length >= this.maxBatch) return this.scheduleNow();
    if (this.queue.length > this.maxQueued) this.dropOldestLedger();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commitNow();
    }, this.flushMs);
    // Not unref'd: queued writes keep the process alive until they are committed.
  }

  private commitNow(): Promise<void> {
    // One commit at a time: what arrives meanwhile forms the next batch.
    if (this.committing) return this.committing;
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    // A line nobody waited for may still be in the journal's buffer: it goes to the file first.
    this.journal?.writePending();
    this.committing = this.run(batch).finally(() => {
      this.committing = undefined;
      if (this.queue.length > 0) {
        if (!this.journal && this.queue.some((op) => op.kind === 'reserve')) this.scheduleNow();
        else this.scheduleLater();
      }
    });
    return this.committing;
  }

  private async run(batch: WriteOp[]): Promise<void> {
    try {
      await this.commitBatch(batch);
      if (this.journal) for (const op of batch) this.journal.committed(op.segment!);
    } catch (error) {
      for (const op of batch) {
        op.tries++;
        // Without a journal a reservation's request is waiting: it fails now. Background writes retry.
        if ((op.kind === 'reserve' && !this.journal) || op.tries >= MAX_TRIES) this.giveUp(op, error);
        else this.queue.push(op);
      }
      this.onError(`store write of ${batch.length} operations failed`, error);
      if (this.queue.length > 0) await delay(Math.min(1000, this.flushMs * 2));
    }
  }

  private dropOldestLedger(): void {
    const index = this.queue.findIndex((op) => op.kind === 'ledger');
    if (index < 0) return;
    const [dropped] = this.queue.splice(index, 1);
    const error = new Error('request log queue full: the store is not keeping up');
    this.giveUp(dropped, error);
    // The rows go; the settlements they carry stay queued.
    for (const finish of carriedFinishes(dropped)) this.enqueue(finish);
    this.onError('dropped queued request-log rows', error);
  }

  /** Not committed: the caller hears of it, and its journal segment is kept for the next start to replay. */
  private giveUp(op: WriteOp, error: unknown): void {
    if (op.segment) this.journal!.pin(op.segment);
    op.reject(error);
  }
}

/** A write without its promise callbacks: its journal line, and what crosses to the SQLite writer thread. */
export type PlainOp =
  | { kind: 'reserve'; row: ReservationRow }
  | { kind: 'finish'; id: string; status: Exclude<ReservationStatus, 'open'>; units: number | null }
  | { kind: 'ledger'; entries: StoredEntry[] };

export function plainOp(op: WriteOp): PlainOp {
  if (op.kind === 'reserve') return { kind: 'reserve', row: op.row };
  if (op.kind === 'finish') return { kind: 'finish', id: op.id, status: op.status, units: op.units };
  return { kind: 'ledger', entries: op.entries };
}

/** The reservations the rows of a ledger op close (LedgerEntry.settles), as finish ops: kept when the rows are dropped. */
export function carriedFinishes(op: WriteOp): WriteOp[] {
  if (op.kind !== 'ledger') return [];
  const finishes: WriteOp[] = [];
  const entries = op.entries === JOURNALED && op.line ? (JSON.parse(op.line) as Extract<PlainOp, { kind: 'ledger' }>).entries : op.entries;
  for (const entry of entries) {
    const s = entry.settles;
    if (s) finishes.push({ kind: 'finish', id: s.reservationId, status: s.status, units: s.units, resolve: noop, reject: noop, tries: 0 });
  }
  return finishes;
}

/** The rows of a journaled ledger op, the row of a journaled reservation: their lines hold them. */
const JOURNALED: StoredEntry[] = [];
const JOURNALED_ROW = Object.freeze({ id: '' }) as ReservationRow;

function noop(): void {}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
