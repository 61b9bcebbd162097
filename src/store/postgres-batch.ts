// One group-commit batch on PostgreSQL: reservations, their settlement and request rows,
// a handful of bulk statements in one transaction. A row the database refuses (a data
// or constraint error) must not fail the other requests of its batch: the batch is then
// redone with a savepoint per row, and only the refused row fails (a reservation's
// request gets its error) or is dropped and reported (a request row, by its request id).
import type pg from 'pg';
import { localDay } from '../budget/periods.ts';
import { BODY_COLUMNS, bodyColumns, LEDGER_COLUMNS, ledgerColumns, reservationColumns } from './rows.ts';
import { resolvedCost, type StoredEntry } from './sanitize.ts';
import type { WriteOp } from './write-queue.ts';

type Row = Record<string, unknown>;
type ReserveOp = Extract<WriteOp, { kind: 'reserve' }>;
type FinishOp = Extract<WriteOp, { kind: 'finish' }>;
interface Finish { id: string; status: string; units: number | null }

export interface BatchOutcome {
  /** Reservations this batch closed. */
  closed: Set<string>;
  /** Ops that failed alone, with why. */
  failed: Map<WriteOp, unknown>;
  /** Request rows the database refused even after sanitising. */
  dropped: Array<{ entry: StoredEntry; error: unknown }>;
}

/** A data exception (22…) or constraint violation (23…): the row's fault, not the database's. */
export function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * PostgreSQL cannot be reached or cannot answer (refused, reset, timed out, shutting
 * down, out of connections), as opposed to refusing a row or a bug in a statement: the
 * same write can succeed once it is back.
 */
export function isUnreachable(error: unknown): boolean {
  if (isRowError(error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  // pg's own errors (connection terminated, connect or query timeout) carry no code.
  if (typeof code !== 'string') return true;
  return /^E[A-Z]+$/.test(code) || /^(08|53|57|58)/.test(code);
}

/**
 * Every statement is safe to run again after a commit whose outcome was not heard (the
 * connection broke during COMMIT): a closed reservation is not closed (nor booked) twice,
 * a request row or body already there (same request id and attempt) is skipped.
 */
export async function writeBatch(client: pg.PoolClient, ops: WriteOp[], timezone: string, perRow: boolean): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { closed: new Set(), failed: new Map(), dropped: [] };
  const reserves: ReserveOp[] = [];
  const finishes = new Map<string, Finish>();
  const finishOps = new Map<string, FinishOp[]>();
  const entries: StoredEntry[] = [];
  for (const op of ops) {
    if (op.kind === 'reserve') reserves.push(op);
    else if (op.kind === 'finish') {
      if (!finishes.has(op.id)) finishes.set(op.id, { id: op.id, status: op.status, units: op.units });
      finishOps.set(op.id, [...(finishOps.get(op.id) ?? []), op]);
    } else {
      for (const entry of op.entries) {
        entries.push(entry);
        // A request row carrying its reservation's settlement closes it (and its spend) like a finish op.
        const s = entry.settles;
        if (s && !finishes.has(s.reservationId)) finishes.set(s.reservationId, { id: s.reservationId, status: s.status, units: s.units });
      }
    }
  }
  const write = async <T>(items: T[], run: (items: T[]) => Promise<void>, refused: (item: T, error: unknown) => void) => {
    if (items.length === 0) return;
    if (!perRow) return run(items);
    for (const item of items) {
      await client.query('SAVEPOINT row');
      try {
        await run([item]);
        await client.query('RELEASE SAVEPOINT row');
      } catch (error) {
        if (!isRowError(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT row');
        refused(item, error);
      }
    }
  };
  await write(reserves, (batch) => insertReservations(client, batch), (op, error) => outcome.failed.set(op, error));
  await write([...finishes.values()], async (batch) => {
    for (const id of await closeReservations(client, batch)) outcome.closed.add(id);
  }, (finish, error) => { for (const op of finishOps.get(finish.id) ?? []) outcome.failed.set(op, error); });
  if (entries.length > 0) {
    const rows = await requestRows(client, entries, timezone);
    await write(rows, (batch) => insertRequests(client, batch.map((r) => r.row)), (r, error) => outcome.dropped.push({ entry: r.entry, error }));
    const bodies = entries.map((entry) => bodyColumns(entry, false)).filter((row): row is Row => row !== undefined);
    if (bodies.length > 0) await insertBodies(client, bodies);
  }
  return outcome;
}

async function insertReservations(client: pg.PoolClient, ops: ReserveOp[]): Promise<void> {
  const rows = ops.map((op) => ({ ...reservationColumns(op.row), charges: op.row.charges }));
  await client.query(`INSERT INTO reservations SELECT * FROM json_populate_recordset(NULL::reservations, $1)`, [JSON.stringify(rows)]);
}

async function insertRequests(client: pg.PoolClient, rows: Row[]): Promise<void> {
  const columns = LEDGER_COLUMNS.join(', ');
  await client.query(
    `INSERT INTO requests (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::requests, $1) ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

async function insertBodies(client: pg.PoolClient, rows: Row[]): Promise<void> {
  const columns = BODY_COLUMNS.join(', ');
  await client.query(`INSERT INTO request_bodies (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::request_bodies, $1) ON CONFLICT DO NOTHING`, [JSON.stringify(rows)]);
}

/** Columns of each request row; a row whose usage could not be trusted takes its reservation's booked cost. */
async function requestRows(client: pg.PoolClient, entries: StoredEntry[], timezone: string): Promise<Array<{ entry: StoredEntry; row: Row }>> {
  const flagged = entries.filter((e) => e.costFromReservation).map((e) => e.requestId);
  const booked = new Map<string, number>();
  if (flagged.length > 0) {
    const result = await client.query(
      `SELECT request_id, SUM(COALESCE(cost_units, reserved_units)) AS units FROM reservations WHERE request_id = ANY($1::text[]) GROUP BY request_id`,
      [flagged],
    );
    for (const r of result.rows as Row[]) booked.set(String(r.request_id), Number(r.units));
  }
  return entries.map((entry) => {
    const costed = entry.costFromReservation ? { ...entry, costUsd: resolvedCost(entry, booked.get(entry.requestId)) } : entry;
    return { entry, row: ledgerColumns(costed, localDay(Date.parse(entry.time), timezone), false) };
  });
}

/**
 * Close open reservations and book their cost on spend_daily, in one statement. A null
 * cost bills the reserved worst case. Spend rows are upserted in key order so concurrent
 * batches lock them in the same order.
 */
async function closeReservations(client: pg.PoolClient, finishes: Finish[]): Promise<string[]> {
  const result = await client.query(
    `WITH input AS (SELECT * FROM json_to_recordset($1::json) AS t(id text, status text, units bigint)),
     done AS (
       UPDATE reservations r SET status = i.status, cost_units = COALESCE(i.units, r.reserved_units), finished_at = now()
       FROM input i WHERE r.id = i.id AND r.status = 'open'
       RETURNING r.id, r.day, r.key_id, r.project_id, r.model, r.cost_units AS units),
     booked AS (
       INSERT INTO spend_daily (day, key_id, project_id, model, cost_units)
       SELECT day, key_id, project_id, model, SUM(units) FROM done WHERE units > 0
       GROUP BY day, key_id, project_id, model ORDER BY day, key_id, project_id, model
       ON CONFLICT (day, key_id, project_id, model) DO UPDATE SET cost_units = spend_daily.cost_units + excluded.cost_units)
     SELECT id FROM done`,
    [JSON.stringify(finishes)],
  );
  return result.rows.map((row: Row) => String(row.id));
}
