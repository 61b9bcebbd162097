// What the PostgreSQL store does with its write batches while PostgreSQL is unreachable:
// settlements and request rows wait here (bounded: the oldest request rows go first, a
// settlement is kept) and are written, in their own transaction ahead of the next batch,
// once it answers again — tried every second meanwhile. A reservation is never held: its
// request is refused (its reservation cannot be made durable), and a release waits here
// in case its commit did land. Batches commit one at a time, retries included; writing a
// batch twice is safe (postgres-batch.ts closes a reservation and writes a row once).
import { isUnreachable } from './postgres-batch.ts';
import { carriedFinishes, type WriteOp } from './write-queue.ts';

const WARN_EVERY_MS = 10_000;
const RETRY_MS = 1000;

export interface OutboxOptions {
  /** Commit one batch in one transaction (throws an unreachable error while PostgreSQL is down). */
  write: (ops: WriteOp[]) => Promise<void>;
  /** "PostgreSQL at host:port/db", for messages. */
  location: string;
  maxBuffered: number;
  onWarn: (message: string, fields: Record<string, unknown>) => void;
  onError: (message: string, error: unknown) => void;
}

export class WriteOutbox {
  private readonly options: OutboxOptions;
  private readonly buffered: WriteOp[] = [];
  /** Buffered writes being tried right now (still counted as buffered). */
  private flushing = 0;
  private warnedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: OutboxOptions) {
    this.options = options;
  }

  /** Settlements and request rows waiting for PostgreSQL to come back. */
  get size(): number {
    return this.buffered.length + this.flushing;
  }

  /** The write queue's batch: after what is buffered, or buffered too while PostgreSQL is unreachable. */
  commit(ops: WriteOp[]): Promise<void> {
    const run = this.committing.then(() => this.commitOrHold(ops));
    this.committing = run.catch(() => {});
    return run;
  }

  /** Write what is buffered; fails while PostgreSQL is still unreachable (the writes stay). */
  async drain(): Promise<void> {
    if (this.buffered.length === 0) return;
    await this.commit([]);
    if (this.buffered.length > 0) throw new Error(`${this.options.location} is unreachable: ${this.buffered.length} writes are waiting for it`);
  }

  /** A last try, then what is left is lost (logged: the next start bills those reservations at their worst case). */
  async close(): Promise<void> {
    if (this.buffered.length > 0) await this.commit([]).catch(noop);
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.buffered.length === 0) return;
    const lost = this.buffered.splice(0);
    const error = new Error(`${this.options.location} was unreachable when the gateway stopped`);
    for (const op of lost) op.reject(error);
    this.options.onError(`${lost.length} settlements and request rows could not be written before closing; their reservations are billed at their worst case by the next start`, error);
  }

  private async commitOrHold(ops: WriteOp[]): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    // What waits from an outage goes first, in its own transaction: a failure of the new
    // batch (a bad row) must not make the buffer wait longer.
    let down: unknown;
    if (this.buffered.length > 0) down = await this.flushBuffered();
    if (ops.length === 0) return;
    if (down === undefined) {
      try {
        await this.options.write(ops);
        return;
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        down = error;
      }
    }
    this.hold(ops, down);
  }

  /** Write the buffer; undefined when done, else the error that shows PostgreSQL is still unreachable. */
  private async flushBuffered(): Promise<unknown> {
    const batch = this.buffered.splice(0);
    this.flushing = batch.length;
    try {
      await this.options.write(batch);
    } catch (error) {
      this.flushing = 0;
      if (isUnreachable(error)) {
        this.buffered.unshift(...batch);
        this.scheduleRetry();
        return error;
      }
      for (const op of batch) op.reject(error);
      this.options.onError(`${batch.length} buffered writes failed when ${this.options.location} was back; they are lost`, error);
      return undefined;
    }
    this.flushing = 0;
    this.options.onWarn(`${this.options.location} is reachable again; wrote the settlements and request rows held meanwhile`, { writes: batch.length });
    this.warnedAt = 0;
    return undefined;
  }

  private hold(ops: WriteOp[], error: unknown): void {
    const { location, maxBuffered } = this.options;
    for (const op of ops) {
      if (op.kind !== 'reserve') {
        this.buffered.push(op);
        continue;
      }
      op.reject(error);
      this.buffered.push({ kind: 'finish', id: op.row.id, status: 'released', units: 0, resolve: noop, reject: noop, tries: 0 });
    }
    let dropped = 0;
    while (this.buffered.length > maxBuffered) {
      const index = this.buffered.findIndex((op) => op.kind === 'ledger');
      // Request rows go first; the settlements they carry stay, as finish ops.
      const [op] = this.buffered.splice(index < 0 ? 0 : index, 1, ...(index < 0 ? [] : carriedFinishes(this.buffered[index])));
      op.reject(new Error(`${location} has been unreachable for too long: the write buffer is full`));
      dropped++;
    }
    if (dropped > 0) this.options.onError(`dropped ${dropped} buffered writes: the buffer of ${maxBuffered} is full while ${location} is unreachable`, error);
    const now = Date.now();
    if (now - this.warnedAt >= WARN_EVERY_MS) {
      this.warnedAt = now;
      this.options.onWarn(`${location} is unreachable: holding settlements and request rows in memory until it returns; new paid requests are refused`, {
        buffered: this.buffered.length, max: maxBuffered, error: error instanceof Error ? error.message : String(error),
      });
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.buffered.length > 0) void this.commit([]).catch(noop);
    }, RETRY_MS);
    this.retryTimer.unref();
  }
}

function noop(): void {}
