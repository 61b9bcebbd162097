// The reservation journal of one gateway process: an append-only file of the writes it
// has not yet folded into the store. A request's reservation is durable once its line
// is written here, before the provider is called; one write() carries every line
// appended in the same turn of the event loop. No fsync: a write() is in the kernel's
// page cache when it returns, so it survives the process being killed (kill -9, OOM),
// the same guarantee as SQLite's WAL with synchronous=NORMAL; only power loss can lose
// the last writes.
//
// The write is synchronous, on purpose: it copies a few KB into the page cache (about
// 2 µs here), while an asynchronous fs.write costs a thread-pool round trip (about
// 40 µs of CPU and wall time on the same machine), and the requests of that turn wait
// for it either way. Only a line a request waits for (its reservation) asks for the
// write at the end of the turn; the others (a request row settling a reservation) ride
// along with the next one, or are written within LAZY_MS, or before the batch holding
// them is committed (writePending): about half the writes. A kill -9 before that
// write only leaves the reservation open, for reconciliation to settle at its worst
// case; the store never holds a line the journal lacks.
//
// The journal is cut into segments (`<owner>.<seq>.jsonl` in its folder). A segment is
// deleted once it is closed and every line in it has been committed to the store. The
// segments of a process that died are replayed by the next one to start on the same
// store (readDeadSegments), and then deleted.
import { closeSync, mkdirSync, openSync, unlink, writeSync } from 'node:fs';
import { readdir, readFile, unlink as unlinkAsync } from 'node:fs/promises';
import { join } from 'node:path';

/** A segment is closed and a new one started past this many bytes. */
const SEGMENT_BYTES = 4 * 1024 * 1024;
/** Longest a line nobody waits for stays unwritten. */
const LAZY_MS = 10;
const SEGMENT_NAME = /^([A-Za-z0-9_-]+)\.(\d+)\.jsonl$/;

export class JournalSegment {
  readonly path: string;
  /** Lines appended and not yet committed to the store. */
  outstanding = 0;
  bytes = 0;
  closed = false;
  /** A line of it could not be committed: kept for the next start to replay. */
  pinned = false;
  fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'a', 0o600);
  }

  release(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class Journal {
  readonly dir: string;
  readonly owner: string;
  private seq = 0;
  private current: JournalSegment;
  /** Lines waiting for the next write, and the promise that write settles. */
  private buffer: string[] = [];
  private bufferSegment: JournalSegment | undefined;
  private pending: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  private readonly retired = new Set<JournalSegment>();
  private readonly onError: (message: string, error: unknown) => void;

  constructor(dir: string, owner: string, onError: (message: string, error: unknown) => void = () => {}) {
    this.dir = dir;
    this.owner = owner;
    this.onError = onError;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.current = this.newSegment();
  }

  /**
   * Buffer a line (one JSON value, no newline) for the next write; returns the segment it
   * belongs to. `waited`: a request waits for it (whenWritten), so it is written at the
   * end of this turn; otherwise with the next such write, or within LAZY_MS.
   */
  append(line: string, waited = true): JournalSegment {
    if (this.current.bytes >= SEGMENT_BYTES) this.rotate();
    const segment = this.current;
    this.bufferSegment = segment;
    this.buffer.push(line);
    segment.bytes += line.length + 1;
    segment.outstanding++;
    if (waited && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writePending();
      });
    } else if (!waited && !this.lazyTimer) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = undefined;
        this.writePending();
      }, LAZY_MS);
    }
    return segment;
  }

  /** Resolves once every line appended so far is written (in the page cache). */
  whenWritten(): Promise<void> {
    if (this.buffer.length === 0) return Promise.resolve();
    this.pending ??= deferred();
    return this.pending.promise;
  }

  /** One line of `segment` is now in the store. */
  committed(segment: JournalSegment): void {
    segment.outstanding--;
    this.removeIfDone(segment);
  }

  /** A line of `segment` could not be committed: the segment stays for the next start. */
  pin(segment: JournalSegment): void {
    segment.pinned = true;
  }

  /** Write what is buffered, close every segment, delete those fully committed. */
  async close(): Promise<void> {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    this.writePending();
    this.current.closed = true;
    for (const segment of [this.current, ...this.retired]) {
      segment.release();
      if (segment.outstanding <= 0 && !segment.pinned) await unlinkAsync(segment.path).catch(() => {});
    }
    this.retired.clear();
  }

  private rotate(): void {
    this.writePending();
    this.current.closed = true;
    this.retired.add(this.current);
    const old = this.current;
    this.current = this.newSegment();
    this.removeIfDone(old);
  }

  private newSegment(): JournalSegment {
    return new JournalSegment(join(this.dir, `${this.owner}.${String(this.seq++).padStart(6, '0')}.jsonl`));
  }

  /**
   * Write what is buffered now. Also called before a batch is committed: were the store
   * to hold a line the journal lacks, a replay after a kill could find a reservation's
   * line without the row that closed it, and open it again.
   */
  writePending(): void {
    if (this.buffer.length === 0) return;
    const data = Buffer.from(this.buffer.join('\n') + '\n');
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    const segment = this.bufferSegment!;
    const waiting = this.pending;
    this.buffer = [];
    this.pending = undefined;
    try {
      let offset = 0;
      while (offset < data.length) offset += writeSync(segment.fd!, data, offset);
      waiting?.resolve();
    } catch (error) {
      // The requests waiting on this write are refused (503); later ones try again.
      const failure = new Error(`the reservation journal ${segment.path} could not be written (${error instanceof Error ? error.message : String(error)}); check that its disk has space and the gateway may write there`);
      this.onError('the reservation journal could not be written', failure);
      waiting?.reject(failure);
    }
    if (segment.closed) this.removeIfDone(segment);
  }

  private removeIfDone(segment: JournalSegment): void {
    if (!segment.closed || segment.outstanding > 0 || segment.pinned || !this.retired.has(segment)) return;
    if (this.bufferSegment === segment && this.buffer.length > 0) return;
    this.retired.delete(segment);
    segment.release();
    unlink(segment.path, (error) => { if (error && error.code !== 'ENOENT') this.onError('a committed journal segment could not be deleted', error); });
  }
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: unknown): void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The journal left by a process that is no longer running. */
export interface DeadJournal {
  owner: string;
  files: string[];
  /** Every complete line, in the order written; a torn last line (the write the kill cut short) is left out. */
  lines: string[];
}

/** Segments in `dir` whose owner is not alive, grouped by owner, in write order. */
export async function readDeadSegments(dir: string, alive: (owner: string) => Promise<boolean>): Promise<DeadJournal[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const byOwner = new Map<string, string[]>();
  for (const name of names.sort()) {
    const match = SEGMENT_NAME.exec(name);
    if (!match) continue;
    const files = byOwner.get(match[1]) ?? [];
    files.push(join(dir, name));
    byOwner.set(match[1], files);
  }
  const dead: DeadJournal[] = [];
  for (const [owner, files] of byOwner) {
    if (await alive(owner)) continue;
    const lines: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch(() => '');
      const end = text.lastIndexOf('\n');
      if (end < 0) continue;
      for (const line of text.slice(0, end).split('\n')) if (line) lines.push(line);
    }
    dead.push({ owner, files, lines });
  }
  return dead;
}

export async function removeSegments(files: string[]): Promise<void> {
  await Promise.all(files.map((file) => unlinkAsync(file).catch(() => {})));
}
