// The shared store for several gateway processes: PostgreSQL via `pg`. Same tables and
// group commit as SQLite; a batch is a handful of statements in one transaction
// (bulk inserts from a JSON parameter), whatever its size. When PostgreSQL cannot be
// reached, a reservation fails at once (its request is refused: it cannot be made
// durable), while settlements and request rows are held in memory (bounded) and written
// once it is back, by the same idempotent batch.
import pg from 'pg';
import type { LedgerEntry } from '../services.ts';
import { isRowError, isUnreachable, writeBatch, type BatchOutcome } from './postgres-batch.ts';
import { PostgresInstanceLocks } from './postgres-instance-lock.ts';
import { WriteOutbox } from './postgres-outbox.ts';
import { migratePostgres } from './postgres-migrate.ts';
import {
  budgetColumns, encodeCursor, keyColumns, requestsQuery, spendQuery, 
  toBudgetRow, toInstanceRow, toKeyRow, toProjectRow, toRequestRow, toReservationRow, toStoredBodies, toUsageRow, usageQuery,
} from './rows.ts';
import { decisionColumns, DUE_REVIEWS_SQL, HELD_RESERVATIONS_SQL, LEASE_REVIEW_SQL, reviewColumns, reviewPage, reviewsQuery, toReviewRow } from './review-rows.ts';
import { WriteQueue, type WriteOp, type WriteQueueOptions } from './write-queue.ts';
import { queryContextStats, queryStats, type ContextStatsQuery, type ContextStatsResult, type StatsQuery, type StatsResult } from './stats.ts';
import type { ReviewDecisionPatch, ReviewPage, ReviewQuery, ReviewRow } from '../review/types.ts';
import type {
  BudgetPatch, BudgetRow, BudgetScope, InstanceRow, KeyPatch, KeyRow, ProjectPatch, ProjectRow, RequestPage, RequestQuery, RequestRow, StoredBodiesRow,
  ReservationRow, ReservationStatus, SpendScope, Store, UsageQuery, UsageRow,
} from './types.ts';

export interface PostgresStoreOptions extends WriteQueueOptions {
  url: string;
  /** Schema holding the tables (created if missing); default "public". */
  schema?: string;
  timezone?: string;
  poolSize?: number;
  /** Longest wait for a connection (default 3000 ms), so a PostgreSQL that is down is reported fast. */
  connectTimeoutMs?: number;
  /** Longest wait for a statement's answer on the request path and in write batches (default 5000 ms; a whole batch, twice that). */
  queryTimeoutMs?: number;
  /** Settlements and request rows held while PostgreSQL is unreachable (default 100 000); beyond, the oldest rows are dropped. */
  maxBufferedWrites?: number;
}

type Row = Record<string, unknown>;
const dollar = (n: number) => `$${n}`;

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly timezone: string;
  private readonly writes: WriteQueue;
  private readonly onError: (message: string, error: unknown) => void;
  private readonly locks: PostgresInstanceLocks;
  private closed = false;
  /** "PostgreSQL at host:port/db", for messages (never the credentials). */
  readonly location: string;
  private readonly queryTimeoutMs: number;
  /** Where write batches wait while PostgreSQL is unreachable (postgres-outbox.ts). */
  private readonly outbox: WriteOutbox;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.pool = pool;
    this.location = postgresLocation(options.url);
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5000;
    this.onError = options.onError ?? (() => {});
    this.outbox = new WriteOutbox({
      write: (ops) => this.commitBatch(ops), location: this.location, maxBuffered: options.maxBufferedWrites ?? 100_000,
      onWarn: options.onWarn ?? (() => {}), onError: this.onError,
    });
    this.locks = new PostgresInstanceLocks(options.url, options.schema ?? 'public', pool, this.onError);
    this.timezone = options.timezone ?? 'UTC';
    this.writes = new WriteQueue((ops) => this.outbox.commit(ops), options);
  }

  /** Connect, create the schema and tables if missing, and return the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name '${schema}': use lower-case letters, digits and _.`);
    const pool = new pg.Pool({
      connectionString: options.url, max: options.poolSize ?? 8, options: `-c search_path=${schema}`,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000, keepAlive: true, keepAliveInitialDelayMillis: 10_000,
    });
    pool.on('error', () => { /* an idle client died; the pool replaces it */ });
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return new PostgresStore(pool, options);
  }

  private async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(timed(sql, params, this.queryTimeoutMs))).rows as Row[];
  }

  // --- keys ---

  async insertKey(row: KeyRow): Promise<void> {
    await this.insert('keys', keyColumns(row));
  }

  async keyByHash(hash: string): Promise<{ row: KeyRow; rotated: boolean } | undefined> {
    const rows = await this.rows('SELECT *, hash = $1 AS current FROM keys WHERE hash = $1 OR previous_hash = $1 ORDER BY hash = $1 DESC LIMIT 1', [hash]);
    if (rows.length === 0) return undefined;
    return { row: toKeyRow(rows[0]), rotated: rows[0].current !== true };
  }

  async getKey(id: string): Promise<KeyRow | undefined> {
    const rows = await this.rows('SELECT * FROM keys WHERE id = $1', [id]);
    return rows.length ? toKeyRow(rows[0]) : undefined;
  }

  async listKeys(): Promise<KeyRow[]> {
    return (await this.rows('SELECT * FROM keys ORDER BY created_at DESC, id')).map(toKeyRow);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<KeyRow | undefined> {
    await this.update('keys', id, keyColumns(patch));
    return this.getKey(id);
  }

  // --- projects ---

  async insertProject(row: ProjectRow): Promise<void> {
    await this.insert('projects', { id: row.id, name: row.name, metadata: row.metadata ? JSON.stringify(row.metadata) : null, created_at: row.createdAt, updated_at: row.updatedAt });
  }

  async getProject(idOrName: string): Promise<ProjectRow | undefined> {
    const rows = await this.rows('SELECT * FROM projects WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1', [idOrName]);
    return rows.length ? toProjectRow(rows[0]) : undefined;
  }

  async listProjects(): Promise<ProjectRow[]> {
    return (await this.rows('SELECT * FROM projects ORDER BY created_at DESC, id')).map(toProjectRow);
  }

  async updateProject(id: string, patch: ProjectPatch): Promise<ProjectRow | undefined> {
    const columns: Row = {};
    if (patch.name !== undefined) columns.name = patch.name;
    if (patch.metadata !== undefined) columns.metadata = patch.metadata ? JSON.stringify(patch.metadata) : null;
    if (patch.updatedAt !== undefined) columns.updated_at = patch.updatedAt;
    await this.update('projects', id, columns);
    const rows = await this.rows('SELECT * FROM projects WHERE id = $1', [id]);
    return rows.length ? toProjectRow(rows[0]) : undefined;
  }

  // --- budgets ---

  async listBudgets(scope?: BudgetScope, scopeId?: string | null): Promise<BudgetRow[]> {
    let rows: Row[];
    if (!scope) rows = await this.rows('SELECT * FROM budgets ORDER BY created_at, id');
    else if (scopeId === undefined || scopeId === null) rows = await this.rows('SELECT * FROM budgets WHERE scope = $1 ORDER BY created_at, id', [scope]);
    else rows = await this.rows('SELECT * FROM budgets WHERE scope = $1 AND scope_id = $2 ORDER BY created_at, id', [scope, scopeId]);
    return rows.map(toBudgetRow);
  }

  async budgetsFor(keyId: string, projectId: string | null): Promise<BudgetRow[]> {
    const rows = await this.rows(
      `SELECT * FROM budgets WHERE (scope = 'key' AND scope_id = $1) OR (scope = 'project' AND scope_id = $2) OR scope = 'global' ORDER BY created_at, id`,
      [keyId, projectId ?? ''],
    );
    return rows.map(toBudgetRow);
  }

  async getBudget(id: string): Promise<BudgetRow | undefined> {
    const rows = await this.rows('SELECT * FROM budgets WHERE id = $1', [id]);
    return rows.length ? toBudgetRow(rows[0]) : undefined;
  }

  async insertBudget(row: BudgetRow): Promise<void> {
    await this.insert('budgets', budgetColumns(row, false));
  }

  async updateBudget(id: string, patch: BudgetPatch): Promise<BudgetRow | undefined> {
    await this.update('budgets', id, budgetColumns(patch, false));
    return this.getBudget(id);
  }

  async deleteBudget(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM budgets WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async replaceBudgets(scope: BudgetScope, scopeId: string, rows: BudgetRow[]): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('DELETE FROM budgets WHERE scope = $1 AND scope_id = $2', [scope, scopeId]);
      for (const row of rows) await this.insert('budgets', budgetColumns(row, false), client);
    });
  }

  async spentUnits(scope: SpendScope): Promise<number> {
    const { sql, params } = spendQuery(scope, dollar);
    return Number((await this.rows(sql, params))[0].units);
  }

  // --- reviews (each write its own statement, committed when it resolves) ---

  async insertReview(row: ReviewRow): Promise<void> {
    await this.insert('reviews', reviewColumns(row, false));
  }

  async getReview(id: string): Promise<ReviewRow | undefined> {
    const rows = await this.rows('SELECT * FROM reviews WHERE id = $1', [id]);
    return rows.length ? toReviewRow(rows[0]) : undefined;
  }

  async listReviews(query: ReviewQuery): Promise<ReviewPage> {
    const { sql, params } = reviewsQuery(query, dollar);
    return reviewPage((await this.rows(sql, params)).map(toReviewRow), query.limit);
  }

  async decideReview(id: string, patch: ReviewDecisionPatch): Promise<ReviewRow | undefined> {
    const columns = decisionColumns(patch);
    const names = Object.keys(columns);
    // One statement: of two deciders (in any process), only the first finds the review pending.
    const rows = await this.rows(
      `UPDATE reviews SET ${names.map((n, i) => `${n} = ${dollar(i + 1)}`).join(', ')} WHERE id = ${dollar(names.length + 1)} AND status = 'pending' RETURNING *`,
      [...Object.values(columns), id],
    );
    return rows.length ? toReviewRow(rows[0]) : undefined;
  }

  async leaseReview(id: string, now: string, until: string): Promise<boolean> {
    const result = await this.pool.query(LEASE_REVIEW_SQL(dollar), [new Date(until).toISOString(), id, new Date(now).toISOString()]);
    return (result.rowCount ?? 0) > 0;
  }

  async dueReviews(now: string, limit: number): Promise<ReviewRow[]> {
    return (await this.rows(DUE_REVIEWS_SQL(dollar), [new Date(now).toISOString(), limit])).map(toReviewRow);
  }

  async heldReservationIds(): Promise<string[]> {
    return (await this.rows(HELD_RESERVATIONS_SQL)).map((raw) => String(raw.reservation_id));
  }

  // --- reservations and the request log (group-committed) ---

  reserve(row: ReservationRow): Promise<void> {
    return this.writes.reserve(row);
  }

  finishReservation(id: string, status: Exclude<ReservationStatus, 'open'>, costUnits: number): Promise<boolean> {
    return this.writes.finish(id, status, costUnits);
  }

  async openReservations(): Promise<ReservationRow[]> {
    return (await this.rows(`SELECT * FROM reservations WHERE status = 'open'`)).map(toReservationRow);
  }

  queueDepth(): number {
    return this.writes.depth;
  }

  appendLedger(entries: LedgerEntry[]): Promise<void> {
    return this.writes.ledger(entries);
  }

  /** Settlements and request rows waiting for PostgreSQL to come back. */
  bufferedWrites(): number {
    return this.outbox.size;
  }

  /** Whether PostgreSQL answers now (a bounded `SELECT 1`), for readiness. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    try {
      // The connection wait counts too: a hung link answers within timeoutMs.
      await withDeadline(this.pool.query(timed('SELECT 1', [], timeoutMs)), timeoutMs, noop);
      return true;
    } catch {
      return false;
    }
  }

  private async commitBatch(ops: WriteOp[]): Promise<void> {
    let outcome: BatchOutcome;
    try {
      outcome = await this.transaction((client) => writeBatch(client, ops, this.timezone, false));
    } catch (error) {
      if (!isRowError(error)) throw error;
      // One row the database refuses must not fail the others: redo with a savepoint per row.
      this.onError(`a write batch of ${ops.length} operations had a row the database refused; committing the others row by row`, error);
      outcome = await this.transaction((client) => writeBatch(client, ops, this.timezone, true));
    }
    for (const { entry, error } of outcome.dropped) {
      this.onError(`request row ${entry.requestId} (attempt ${entry.attempt}) was refused by the database and dropped`, error);
    }
    for (const op of ops) {
      const failure = outcome.failed.get(op);
      if (failure !== undefined) op.reject(failure);
      // Each id closes once: the first op for it reports true, any duplicate false.
      else if (op.kind === 'finish') op.resolve(outcome.closed.delete(op.id));
      else op.resolve();
    }
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const { sql, params } = usageQuery(query, dollar);
    return (await this.rows(sql, params)).map((raw) => toUsageRow(raw, query.groupBy));
  }

  async requests(query: RequestQuery): Promise<RequestPage> {
    const { sql, params } = requestsQuery(query, dollar, 'postgres');
    const rows = (await this.rows(sql, params)).map(toRequestRow);
    const more = rows.length > query.limit;
    if (more) rows.length = query.limit;
    return { rows, nextCursor: more ? encodeCursor(rows[rows.length - 1]) : null };
  }

  async stats(query: StatsQuery): Promise<StatsResult> {
    return queryStats('postgres', (sql, params) => this.rows(sql, params), query);
  }

  async contextStats(query: ContextStatsQuery): Promise<ContextStatsResult> {
    return queryContextStats('postgres', (sql, params) => this.rows(sql, params), query);
  }

  async requestDetail(requestId: string): Promise<{ rows: RequestRow[]; bodies: StoredBodiesRow | null }> {
    const rows = (await this.rows('SELECT * FROM requests WHERE request_id = $1 ORDER BY attempt', [requestId])).map(toRequestRow);
    const [bodies] = await this.rows('SELECT * FROM request_bodies WHERE request_id = $1', [requestId]);
    return { rows, bodies: bodies ? toStoredBodies(bodies) : null };
  }

  async pruneRequests(before: string, batchSize: number): Promise<number> {
    const result = await this.pool.query(
      'DELETE FROM requests WHERE ctid IN (SELECT ctid FROM requests WHERE time < $1 LIMIT $2)',
      [before, batchSize],
    );
    await this.pool.query('DELETE FROM request_bodies WHERE ctid IN (SELECT ctid FROM request_bodies WHERE time < $1 LIMIT $2)', [before, batchSize]);
    return result.rowCount ?? 0;
  }

  async pruneReservations(before: string): Promise<number> {
    const result = await this.pool.query(`DELETE FROM reservations WHERE status <> 'open' AND created_at < $1`, [before]);
    return result.rowCount ?? 0;
  }

  async claimAlert(alertKey: string): Promise<boolean> {
    const result = await this.pool.query('INSERT INTO alerts (alert_key, sent_at) VALUES ($1, now()) ON CONFLICT DO NOTHING', [alertKey]);
    return (result.rowCount ?? 0) > 0;
  }

  claimInstance(id: string): Promise<void> {
    return this.locks.claim(id);
  }

  instanceAlive(id: string): Promise<boolean> {
    return this.locks.alive(id);
  }

  async heartbeat(instance: InstanceRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO instances (id, host, pid, seen_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
      [instance.id, instance.host, instance.pid, instance.seenAt],
    );
  }

  async instances(): Promise<InstanceRow[]> {
    return (await this.rows('SELECT * FROM instances')).map(toInstanceRow);
  }

  async removeInstance(id: string): Promise<void> {
    await this.pool.query('DELETE FROM instances WHERE id = $1', [id]);
  }

  /** PostgreSQL commits each reservation before its request is sent: there is no journal. */
  async recoverJournals(): Promise<number> {
    return 0;
  }

  /** Commit what is queued and what is buffered; fails while PostgreSQL is unreachable (the writes stay buffered). */
  async flush(): Promise<void> {
    await this.writes.flush();
    await this.outbox.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.flush();
    await this.outbox.close();
    this.closed = true;
    await this.locks.releaseAll();
    await this.pool.end();
  }

  // --- helpers ---

  private async insert(table: string, columns: Row, client: pg.Pool | pg.PoolClient = this.pool): Promise<void> {
    const names = Object.keys(columns);
    await client.query(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((_, i) => dollar(i + 1)).join(', ')})`, Object.values(columns));
  }

  private async update(table: string, id: string, columns: Row): Promise<void> {
    const names = Object.keys(columns);
    if (names.length === 0) return;
    await this.pool.query(
      `UPDATE ${table} SET ${names.map((n, i) => `${n} = ${dollar(i + 1)}`).join(', ')} WHERE id = ${dollar(names.length + 1)}`,
      [...Object.values(columns), id],
    );
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let released = false;
    // A socket error while checked out is the query's to report; without a listener it would crash the process.
    client.on('error', noop);
    // A connection that failed or hung is closed, not given back to the pool.
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      if (!error) client.off('error', noop);
      client.release(error);
    };
    const limit = this.queryTimeoutMs * 2;
    try {
      await client.query(timed('BEGIN', [], this.queryTimeoutMs));
      const result = await withDeadline(work(client), limit, () => release(new Error(`a write transaction on ${this.location} took over ${limit} ms`)));
      await client.query(timed('COMMIT', [], this.queryTimeoutMs));
      return result;
    } catch (error) {
      if (isUnreachable(error)) release(error instanceof Error ? error : new Error(String(error)));
      else if (!released) await client.query(timed('ROLLBACK', [], this.queryTimeoutMs)).catch(() => {});
      throw error;
    } finally {
      release();
    }
  }
}

function noop(): void {}

/** host:port/database of a PostgreSQL URL, without its credentials. */
export function postgresLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** A statement with a client-side limit on the wait for its answer (pg's query_timeout). */
function timed(text: string, values: unknown[], ms: number): pg.QueryConfig {
  return { text, values, query_timeout: ms } as pg.QueryConfig;
}

/** `work`, or a rejection after `ms` (calling `onTimeout` first). */
function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
