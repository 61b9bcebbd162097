// The embedded store: one SQLite file (node:sqlite), WAL mode. Request-path writes are
// group-committed by a WriteQueue: one transaction per batch, never one per request.
// synchronous=NORMAL in WAL mode makes a commit survive the process being killed (the
// WAL is in the OS page cache) without an fsync per commit; only power loss can lose
// the last commits. Once a process has claimed its instance, its writes are first made
// durable in its journal (<db>.inflight/, see journal.ts), with the same guarantee, and
// committed to the database every ~100 ms; a process that starts on the same file
// replays the journals of dead ones (recoverJournals).
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { LedgerEntry } from '../services.ts';
import { ADDED_COLUMNS, NewerSchemaError, SCHEMA_VERSION, schemaStatements, type ExistingColumns, type UpgradedTable } from './schema.ts';
import {
  budgetColumns, keyColumns, requestsQuery, spendQuery, 
  toBudgetRow, toInstanceRow, toKeyRow, toProjectRow, toRequestRow, toReservationRow, toStoredBodies, toUsageRow, usageQuery, encodeCursor,
} from './rows.ts';
import { decisionColumns, DUE_REVIEWS_SQL, HELD_RESERVATIONS_SQL, LEASE_REVIEW_SQL, reviewColumns, reviewPage, reviewsQuery, toReviewRow } from './review-rows.ts';
import { plainOp, WriteQueue, type WriteOp, type WriteQueueOptions } from './write-queue.ts';
import { SqliteWriter, SqliteWriterThread } from './sqlite-writer.ts';
import { SqliteInstanceLocks } from './sqlite-instance-lock.ts';
import { Journal, readDeadSegments, removeSegments } from './journal.ts';
import { queryContextStats, queryStats, type ContextStatsQuery, type ContextStatsResult, type StatsQuery, type StatsResult } from './stats.ts';
import type { ReviewDecisionPatch, ReviewPage, ReviewQuery, ReviewRow } from '../review/types.ts';
import type {
  BudgetPatch, BudgetRow, BudgetScope, InstanceRow, KeyPatch, KeyRow, ProjectPatch, ProjectRow, RequestPage, RequestQuery, RequestRow, StoredBodiesRow,
  ReservationRow, ReservationStatus, SpendScope, Store, UsageQuery, UsageRow,
} from './types.ts';

export interface SqliteStoreOptions extends WriteQueueOptions {
  /** File path; default SWITCHYARD_DB or ./switchyard.db. ':memory:' for tests. */
  path?: string;
  /** Time zone of the local day booked on request rows and spend. */
  timezone?: string;
  /** Commit request-path writes on a worker thread (default for files). */
  writerThread?: boolean;
  /**
   * Make request-path writes durable in a journal before they are committed (default for
   * files, from claimInstance on). false: a reservation waits for its commit instead.
   */
  journal?: boolean;
}

type Row = Record<string, unknown>;
const q = () => '?';
/** Numbered placeholders for built queries, which may use a parameter twice. */
const numbered = (n: number) => `?${n}`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly timezone: string;
  private readonly writes: WriteQueue;
  /** Request-path writes: on a worker thread for a file, in-thread for ':memory:'. */
  private readonly writer: SqliteWriter | SqliteWriterThread;
  private readonly onError: (message: string, error: unknown) => void;
  private readonly locks: SqliteInstanceLocks;
  private readonly useJournal: boolean;
  private journal: Journal | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions = {}) {
    this.path = options.path ?? process.env.SWITCHYARD_DB ?? './switchyard.db';
    this.timezone = options.timezone ?? 'UTC';
    this.onError = options.onError ?? (() => {});
    this.db = new DatabaseSync(this.path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA busy_timeout = 5000');
    try {
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.writer = this.path === ':memory:' || options.writerThread === false
      ? new SqliteWriter(this.db, this.timezone)
      : new SqliteWriterThread(this.path, this.timezone);
    this.writes = new WriteQueue((ops) => this.commit(ops), options);
    this.locks = new SqliteInstanceLocks(this.path);
    this.useJournal = this.path !== ':memory:' && options.journal !== false;
  }

  /**
   * Create the tables, or bring an existing file's up to date (added columns, new indexes),
   * in one transaction: two processes opening an old file at once must not both add a column.
   * The file's user_version says which build migrated it last (0: none, or one before versions);
   * a newer one's file is refused untouched.
   */
  private migrate(): void {
    this.transaction(() => {
      const found = Number((this.db.prepare('PRAGMA user_version').get() as Row).user_version);
      if (found > SCHEMA_VERSION) throw new NewerSchemaError(`SQLite file ${this.path}`, found);
      const existing: ExistingColumns = {};
      for (const table of Object.keys(ADDED_COLUMNS) as UpgradedTable[]) {
        const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Row[];
        existing[table] = new Set(columns.map((c) => String(c.name)));
      }
      for (const statement of schemaStatements('sqlite', existing)) this.db.exec(statement);
      if (found < SCHEMA_VERSION) this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  /** Where this store's processes keep their journals. */
  get journalDir(): string {
    return `${this.path}.inflight`;
  }

  // --- keys ---

  async insertKey(row: KeyRow): Promise<void> {
    this.insert('keys', keyColumns(row));
  }

  async keyByHash(hash: string): Promise<{ row: KeyRow; rotated: boolean } | undefined> {
    const current = this.db.prepare('SELECT * FROM keys WHERE hash = ?').get(hash) as Row | undefined;
    if (current) return { row: toKeyRow(current), rotated: false };
    const previous = this.db.prepare('SELECT * FROM keys WHERE previous_hash = ?').get(hash) as Row | undefined;
    return previous ? { row: toKeyRow(previous), rotated: true } : undefined;
  }

  async getKey(id: string): Promise<KeyRow | undefined> {
    const raw = this.db.prepare('SELECT * FROM keys WHERE id = ?').get(id) as Row | undefined;
    return raw ? toKeyRow(raw) : undefined;
  }

  async listKeys(): Promise<KeyRow[]> {
    return (this.db.prepare('SELECT * FROM keys ORDER BY created_at DESC, id').all() as Row[]).map(toKeyRow);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<KeyRow | undefined> {
    this.update('keys', id, keyColumns(patch));
    return this.getKey(id);
  }

  // --- projects ---

  async insertProject(row: ProjectRow): Promise<void> {
    this.insert('projects', { id: row.id, name: row.name, metadata: row.metadata ? JSON.stringify(row.metadata) : null, created_at: row.createdAt, updated_at: row.updatedAt });
  }

  async getProject(idOrName: string): Promise<ProjectRow | undefined> {
    const raw = this.db.prepare('SELECT * FROM projects WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1').get(idOrName, idOrName, idOrName) as Row | undefined;
    return raw ? toProjectRow(raw) : undefined;
  }

  async listProjects(): Promise<ProjectRow[]> {
    return (this.db.prepare('SELECT * FROM projects ORDER BY created_at DESC, id').all() as Row[]).map(toProjectRow);
  }

  async updateProject(id: string, patch: ProjectPatch): Promise<ProjectRow | undefined> {
    const columns: Row = {};
    if (patch.name !== undefined) columns.name = patch.name;
    if (patch.metadata !== undefined) columns.metadata = patch.metadata ? JSON.stringify(patch.metadata) : null;
    if (patch.updatedAt !== undefined) columns.updated_at = patch.updatedAt;
    this.update('projects', id, columns);
    const raw = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as Row | undefined;
    return raw ? toProjectRow(raw) : undefined;
  }

  // --- budgets ---

  async listBudgets(scope?: BudgetScope, scopeId?: string | null): Promise<BudgetRow[]> {
    let rows: Row[];
    if (!scope) rows = this.db.prepare('SELECT * FROM budgets ORDER BY created_at, id').all() as Row[];
    else if (scopeId === undefined || scopeId === null) rows = this.db.prepare('SELECT * FROM budgets WHERE scope = ? ORDER BY created_at, id').all(scope) as Row[];
    else rows = this.db.prepare('SELECT * FROM budgets WHERE scope = ? AND scope_id = ? ORDER BY created_at, id').all(scope, scopeId) as Row[];
    return rows.map(toBudgetRow);
  }

  async budgetsFor(keyId: string, projectId: string | null): Promise<BudgetRow[]> {
    const rows = this.db.prepare(
      `SELECT * FROM budgets WHERE (scope = 'key' AND scope_id = ?) OR (scope = 'project' AND scope_id = ?) OR scope = 'global' ORDER BY created_at, id`,
    ).all(keyId, projectId ?? '') as Row[];
    return rows.map(toBudgetRow);
  }

  async getBudget(id: string): Promise<BudgetRow | undefined> {
    const raw = this.db.prepare('SELECT * FROM budgets WHERE id = ?').get(id) as Row | undefined;
    return raw ? toBudgetRow(raw) : undefined;
  }

  async insertBudget(row: BudgetRow): Promise<void> {
    this.insert('budgets', budgetColumns(row, true));
  }

  async updateBudget(id: string, patch: BudgetPatch): Promise<BudgetRow | undefined> {
    this.update('budgets', id, budgetColumns(patch, true));
    return this.getBudget(id);
  }

  async deleteBudget(id: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM budgets WHERE id = ?').run(id).changes) > 0;
  }

  async replaceBudgets(scope: BudgetScope, scopeId: string, rows: BudgetRow[]): Promise<void> {
    this.transaction(() => {
      this.db.prepare('DELETE FROM budgets WHERE scope = ? AND scope_id = ?').run(scope, scopeId);
      for (const row of rows) this.insert('budgets', budgetColumns(row, true));
    });
  }

  async spentUnits(scope: SpendScope): Promise<number> {
    const { sql, params } = spendQuery(scope, numbered);
    const raw = this.db.prepare(sql).get(...(params as SQLInputValue[])) as Row;
    return Number(raw.units);
  }

  // --- reviews (each write its own transaction, committed when it resolves) ---

  async insertReview(row: ReviewRow): Promise<void> {
    this.insert('reviews', reviewColumns(row, true));
  }

  async getReview(id: string): Promise<ReviewRow | undefined> {
    const raw = this.db.prepare('SELECT * FROM reviews WHERE id = ?').get(id) as Row | undefined;
    return raw ? toReviewRow(raw) : undefined;
  }

  async listReviews(query: ReviewQuery): Promise<ReviewPage> {
    const { sql, params } = reviewsQuery(query, numbered);
    return reviewPage((this.db.prepare(sql).all(...(params as SQLInputValue[])) as Row[]).map(toReviewRow), query.limit);
  }

  async decideReview(id: string, patch: ReviewDecisionPatch): Promise<ReviewRow | undefined> {
    const columns = decisionColumns(patch);
    const names = Object.keys(columns);
    // One statement: of two deciders, only the first finds the review pending.
    const raw = this.db.prepare(`UPDATE reviews SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ? AND status = 'pending' RETURNING *`)
      .get(...(Object.values(columns) as SQLInputValue[]), id) as Row | undefined;
    return raw ? toReviewRow(raw) : undefined;
  }

  async dueReviews(now: string, limit: number): Promise<ReviewRow[]> {
    return (this.db.prepare(DUE_REVIEWS_SQL(q)).all(new Date(now).toISOString(), limit) as Row[]).map(toReviewRow);
  }

  async leaseReview(id: string, now: string, until: string): Promise<boolean> {
    return Number(this.db.prepare(LEASE_REVIEW_SQL(q)).run(new Date(until).toISOString(), id, new Date(now).toISOString()).changes) > 0;
  }

  async heldReservationIds(): Promise<string[]> {
    return (this.db.prepare(HELD_RESERVATIONS_SQL).all() as Row[]).map((raw) => String(raw.reservation_id));
  }

  // --- reservations and the request log (group-committed) ---

  reserve(row: ReservationRow): Promise<void> {
    return this.writes.reserve(row);
  }

  finishReservation(id: string, status: Exclude<ReservationStatus, 'open'>, costUnits: number): Promise<boolean> {
    return this.writes.finish(id, status, costUnits);
  }

  async openReservations(): Promise<ReservationRow[]> {
    return (this.db.prepare(`SELECT * FROM reservations WHERE status = 'open'`).all() as Row[]).map(toReservationRow);
  }

  queueDepth(): number {
    return this.writes.depth;
  }

  appendLedger(entries: LedgerEntry[]): Promise<void> {
    return this.writes.ledger(entries);
  }

  private async commit(ops: WriteOp[]): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    const lines = new Array<string>(ops.length);
    for (let i = 0; i < ops.length; i++) lines[i] = ops[i].line ?? JSON.stringify(plainOp(ops[i]));
    const { closed, failed, dropped } = await this.writer.commitLines(lines.join('\n'));
    for (const row of dropped) {
      this.onError(`request row ${row.requestId} (attempt ${row.attempt}) was refused by the database and dropped`, new Error(row.error));
    }
    const failures = new Map(failed.map((f) => [f.op, new Error(f.error)]));
    let i = 0;
    ops.forEach((op, index) => {
      const failure = failures.get(index);
      const didClose = op.kind === 'finish' ? closed[i++] : false;
      if (failure) op.reject(failure);
      else if (op.kind === 'finish') op.resolve(didClose);
      else op.resolve();
    });
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const { sql, params } = usageQuery(query, numbered);
    return (this.db.prepare(sql).all(...(params as SQLInputValue[])) as Row[]).map((raw) => toUsageRow(raw, query.groupBy));
  }

  async requests(query: RequestQuery): Promise<RequestPage> {
    const { sql, params } = requestsQuery(query, numbered, 'sqlite');
    const rows = (this.db.prepare(sql).all(...(params as SQLInputValue[])) as Row[]).map(toRequestRow);
    const more = rows.length > query.limit;
    if (more) rows.length = query.limit;
    return { rows, nextCursor: more ? encodeCursor(rows[rows.length - 1]) : null };
  }

  async stats(query: StatsQuery): Promise<StatsResult> {
    return queryStats('sqlite', (sql, params) => this.db.prepare(sql).all(...(params as SQLInputValue[])) as Row[], query);
  }

  async contextStats(query: ContextStatsQuery): Promise<ContextStatsResult> {
    return queryContextStats('sqlite', (sql, params) => this.db.prepare(sql).all(...(params as SQLInputValue[])) as Row[], query);
  }

  async requestDetail(requestId: string): Promise<{ rows: RequestRow[]; bodies: StoredBodiesRow | null }> {
    const rows = (this.db.prepare('SELECT * FROM requests WHERE request_id = ? ORDER BY attempt').all(requestId) as Row[]).map(toRequestRow);
    const bodies = this.db.prepare('SELECT * FROM request_bodies WHERE request_id = ?').get(requestId) as Row | undefined;
    return { rows, bodies: bodies ? toStoredBodies(bodies) : null };
  }

  async pruneRequests(before: string, batchSize: number): Promise<number> {
    const result = this.db.prepare(
      'DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE time < ? LIMIT ?)',
    ).run(before, batchSize);
    this.db.prepare('DELETE FROM request_bodies WHERE rowid IN (SELECT rowid FROM request_bodies WHERE time < ? LIMIT ?)').run(before, batchSize);
    return Number(result.changes);
  }

  async pruneReservations(before: string): Promise<number> {
    const result = this.db.prepare(`DELETE FROM reservations WHERE status <> 'open' AND created_at < ?`).run(before);
    return Number(result.changes);
  }

  async claimAlert(alertKey: string): Promise<boolean> {
    const result = this.db.prepare('INSERT OR IGNORE INTO alerts (alert_key, sent_at) VALUES (?, ?)').run(alertKey, new Date().toISOString());
    return Number(result.changes) > 0;
  }

  async claimInstance(id: string): Promise<void> {
    this.locks.claim(id);
    if (this.useJournal && !this.journal) {
      this.journal = new Journal(this.journalDir, id, this.onError);
      this.writes.useJournal(this.journal);
    }
  }

  /**
   * Commit what dead processes left in their journals (idempotent: a line already
   * committed changes nothing), then delete those journals. Reservations they left open
   * are then open rows, for reconciliation to bill.
   */
  async recoverJournals(): Promise<number> {
    if (!this.useJournal) return 0;
    let replayed = 0;
    for (const dead of await readDeadSegments(this.journalDir, (owner) => this.instanceAlive(owner))) {
      if (dead.lines.length === 0) {
        await removeSegments(dead.files);
        continue;
      }
      // One transaction for all of it: a reservation, its close and its row must meet in
      // one batch to be recognised as a request already written (see SqliteWriter).
      const { dropped } = await this.writer.commitLines(dead.lines.join('\n'), true);
      for (const row of dropped) this.onError(`replayed request row ${row.requestId} was refused by the database and dropped`, new Error(row.error));
      replayed += dead.lines.length;
      await removeSegments(dead.files);
    }
    return replayed;
  }

  async instanceAlive(id: string): Promise<boolean> {
    const alive = this.locks.alive(id);
    if (!alive) this.locks.forget(id);
    return alive;
  }

  async heartbeat(instance: InstanceRow): Promise<void> {
    this.db.prepare(
      `INSERT INTO instances (id, host, pid, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
    ).run(instance.id, instance.host, instance.pid, instance.seenAt);
  }

  async instances(): Promise<InstanceRow[]> {
    return (this.db.prepare('SELECT * FROM instances').all() as Row[]).map(toInstanceRow);
  }

  async removeInstance(id: string): Promise<void> {
    this.db.prepare('DELETE FROM instances WHERE id = ?').run(id);
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.flush();
    await this.journal?.close();
    this.closed = true;
    if (this.writer instanceof SqliteWriterThread) await this.writer.close();
    this.locks.releaseAll();
    this.db.close();
  }

  // --- helpers ---

  private insert(table: string, columns: Row): void {
    const names = Object.keys(columns);
    this.db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(q).join(', ')})`)
      .run(...(Object.values(columns) as SQLInputValue[]));
  }

  private update(table: string, id: string, columns: Row): void {
    const names = Object.keys(columns);
    if (names.length === 0) return;
    this.db.prepare(`UPDATE ${table} SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ?`)
      .run(...(Object.values(columns) as SQLInputValue[]), id);
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }
}
