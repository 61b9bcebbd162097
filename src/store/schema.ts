// Tables, created on open (idempotent). Rows hold ids, never copies of static data
// (model prices, key names): a request row is a few dozen bytes plus its ids.
// `spend_daily` is the budget ledger: settled cost per local day, key, project and
// model, so any window (day, week, month, total) is a sum over a range of days and a
// budget created mid-month still sees the month's spend. Request rows are pruned by
// retention; spend_daily is not (it is small: keys × models × days).

export type Dialect = 'sqlite' | 'postgres';

/**
 * The version of the tables this build creates, stored in the database (PostgreSQL:
 * schema_version, SQLite: PRAGMA user_version) when it migrates. Raise it with any change
 * an older build could not work with; a database at a higher version is refused on open.
 */
export const SCHEMA_VERSION = 1;

/** A database migrated by a newer build than this one: opening it could corrupt what that build wrote. */
export class NewerSchemaError extends Error {
  readonly found: number;

  constructor(database: string, found: number) {
    super(`${database}: this database was migrated by a newer Switchyard (schema ${found}, this build knows ${SCHEMA_VERSION}): upgrade the gateway, or point it at another database.`);
    this.name = 'NewerSchemaError';
    this.found = found;
  }
}

/** Columns added after the first schema, per table: [name, type]. Old databases get them on open. */
export const ADDED_COLUMNS = {
  // cache: hit / miss / refresh of the response cache; saved_usd: what a hit saved.
  requests: [['route_name', 'TEXT'], ['tier', 'TEXT'], ['cache', 'TEXT'], ['saved_usd', 'DOUBLE PRECISION']],
  // The key's admin API role (admin, reviewer, viewer); null: none, the data plane only.
  keys: [['role', 'TEXT']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type UpgradedTable = keyof typeof ADDED_COLUMNS;

/** The columns each upgradable table has now (SQLite: PRAGMA table_info; empty or absent when there is no table yet). */
export type ExistingColumns = Partial<Record<UpgradedTable, ReadonlySet<string>>>;

/**
 * Every statement that creates or upgrades the tables, in order. `existing`: the columns
 * the upgradable tables of an SQLite file have, so the missing ones are added; PostgreSQL
 * adds them with IF NOT EXISTS.
 */
export function schemaStatements(dialect: Dialect, existing: ExistingColumns = {}): string[] {
  const pg = dialect === 'postgres';
  const time = pg ? 'TIMESTAMPTZ' : 'TEXT';
  const json = pg ? 'JSONB' : 'TEXT';
  const bool = pg ? 'BOOLEAN' : 'INTEGER';
  const money = pg ? 'DOUBLE PRECISION' : 'REAL';
  const big = pg ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE IF NOT EXISTS projects (
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, metadata ${json},
      created_at ${time} NOT NULL, updated_at ${time} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS keys (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, env TEXT NOT NULL, prefix TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE, previous_hash TEXT, status TEXT NOT NULL, project_id TEXT, owner TEXT,
      allowed_models ${json}, allowed_routes ${json}, max_output_tokens ${json}, rate_limits ${json},
      expires_at ${time}, metadata ${json}, created_at ${time} NOT NULL, updated_at ${time} NOT NULL,
      revoked_at ${time}, rotated_at ${time}, role TEXT)`,
    ...addedColumnStatements(dialect, 'keys', existing.keys),
    `CREATE INDEX IF NOT EXISTS keys_previous_hash ON keys (previous_hash)`,
    `CREATE TABLE IF NOT EXISTS budgets (
      id TEXT PRIMARY KEY, scope TEXT NOT NULL, scope_id TEXT, model TEXT, period TEXT NOT NULL,
      limit_usd ${money} NOT NULL, hard ${bool} NOT NULL, alert_usd ${money}, created_at ${time} NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS budgets_scope ON budgets (scope, scope_id)`,
    `CREATE TABLE IF NOT EXISTS reservations (
      id TEXT PRIMARY KEY, request_id TEXT, owner TEXT NOT NULL, key_id TEXT NOT NULL,
      project_id TEXT NOT NULL, model TEXT NOT NULL, endpoint TEXT, day TEXT NOT NULL,
      created_at ${time} NOT NULL, reserved_units ${big} NOT NULL, input_tokens ${big} NOT NULL,
      max_output_tokens ${big} NOT NULL, charges ${json} NOT NULL, status TEXT NOT NULL,
      cost_units ${big}, finished_at ${time})`,
    `CREATE INDEX IF NOT EXISTS reservations_open ON reservations (status) WHERE status = 'open'`,
    `CREATE INDEX IF NOT EXISTS reservations_created ON reservations (created_at)`,
    // A request row whose usage could not be trusted takes its reservation's booked cost.
    `CREATE INDEX IF NOT EXISTS reservations_request ON reservations (request_id)`,
    `CREATE TABLE IF NOT EXISTS spend_daily (
      day TEXT NOT NULL, key_id TEXT NOT NULL, project_id TEXT NOT NULL, model TEXT NOT NULL,
      cost_units ${big} NOT NULL, PRIMARY KEY (day, key_id, project_id, model))`,
    `CREATE INDEX IF NOT EXISTS spend_daily_key ON spend_daily (key_id, day)`,
    `CREATE INDEX IF NOT EXISTS spend_daily_project ON spend_daily (project_id, day)`,
    `CREATE TABLE IF NOT EXISTS requests (
      request_id TEXT NOT NULL, attempt INTEGER NOT NULL, time ${time} NOT NULL, day TEXT NOT NULL,
      key_id TEXT NOT NULL, project_id TEXT, endpoint TEXT NOT NULL, model_requested TEXT NOT NULL,
      model_used TEXT, provider TEXT, deployment_id TEXT, route TEXT, stream ${bool} NOT NULL,
      status INTEGER NOT NULL, error_code TEXT, input_tokens ${big} NOT NULL, cached_input_tokens ${big} NOT NULL,
      cache_write_tokens ${big} NOT NULL, output_tokens ${big} NOT NULL, reasoning_tokens ${big} NOT NULL,
      cost_usd ${money} NOT NULL, latency_ms INTEGER NOT NULL, ttft_ms INTEGER, route_name TEXT, tier TEXT, cache TEXT, saved_usd ${money},
      PRIMARY KEY (request_id, attempt))`,
    ...addedColumnStatements(dialect, 'requests', existing.requests),
    ...requestIndexStatements(),
    // Prompt and answer of a request whose body policy keeps them (log.bodies), already redacted
    // or masked in-process; pruned with the request log.
    `CREATE TABLE IF NOT EXISTS request_bodies (
      request_id TEXT PRIMARY KEY, time ${time} NOT NULL, key_id TEXT NOT NULL, policy TEXT NOT NULL,
      request TEXT NOT NULL, response TEXT NOT NULL, truncated ${bool} NOT NULL, redactions ${json})`,
    `CREATE INDEX IF NOT EXISTS request_bodies_time ON request_bodies (time)`,
    `CREATE TABLE IF NOT EXISTS alerts (alert_key TEXT PRIMARY KEY, sent_at ${time} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, seen_at ${time} NOT NULL)`,
    // Human review (src/review/): the request, the answer and the decision. Listed newest
    // first (created_at, id); the queue of pending ones and the timeout sweep over held
    // ones get partial indexes, so decided reviews (nearly all of them, in time) cost them nothing.
    `CREATE TABLE IF NOT EXISTS reviews (
      id TEXT PRIMARY KEY, request_id TEXT NOT NULL, key_id TEXT NOT NULL, project_id TEXT, mode TEXT NOT NULL,
      status TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, endpoint TEXT NOT NULL, stream ${bool} NOT NULL,
      model TEXT NOT NULL, reservation_id TEXT, on_timeout TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL,
      final_answer TEXT, usage ${json} NOT NULL, cost_usd ${money} NOT NULL, created_at ${time} NOT NULL,
      expires_at ${time} NOT NULL, decided_at ${time}, decided_by TEXT, decision_reason TEXT, edited_text TEXT)`,
    `CREATE INDEX IF NOT EXISTS reviews_recent ON reviews (created_at, id)`,
    `CREATE INDEX IF NOT EXISTS reviews_pending_recent ON reviews (created_at, id) WHERE status = 'pending'`,
    `CREATE INDEX IF NOT EXISTS reviews_hold_due ON reviews (expires_at, id) WHERE status = 'pending' AND mode = 'hold'`,
  ];
}

function addedColumnStatements(dialect: Dialect, table: UpgradedTable, existing: ReadonlySet<string> | undefined): string[] {
  const added = ADDED_COLUMNS[table];
  if (dialect === 'postgres') return added.map(([name, type]) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
  // No table yet: CREATE TABLE above made it with every column.
  if (!existing || existing.size === 0) return [];
  return added.filter(([name]) => !existing.has(name)).map(([name, type]) => `ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
}

// The request log is read newest first, keyset-paged on (time, request_id, attempt), so
// each index ends in those three columns: a filter is one equality on the leading column,
// the cursor a range on the rest, and the order the index order: a range scan and a LIMIT,
// never a sort. Columns many rows leave empty get partial indexes (only rows that have
// the value pay for them); only error rows pay for the two status indexes. Every index is
// a write on the request path, so only the filters that narrow a lot have their own. Attempt
// rows are rare (only requests with retries or fallbacks have them), so `attempt = 0` is a
// filter on the index entry rather than a second set of indexes.
const ORDER = 'time, request_id, attempt';

export const REQUEST_INDEXES: ReadonlyArray<{ name: string; columns: string; where?: string }> = [
  { name: 'requests_recent', columns: ORDER },
  { name: 'requests_key_recent', columns: `key_id, ${ORDER}` },
  { name: 'requests_model_recent', columns: `model_used, ${ORDER}`, where: 'model_used IS NOT NULL' },
  { name: 'requests_route_recent', columns: `route_name, ${ORDER}`, where: 'route_name IS NOT NULL' },
  // Only error statuses: a success is nearly every row, which the plain time order serves.
  { name: 'requests_status_recent', columns: `status, ${ORDER}`, where: 'status >= 400' },
  { name: 'requests_errors_recent', columns: ORDER, where: 'status >= 400' },
];

/**
 * The indexes of the first schema, replaced by the ones above (which serve their queries
 * too), and two this schema had for a while: every row paid for them on the request path
 * (nearly every row has a project and a tier), while their filters walk requests_recent
 * well enough (a tier or project is a large share of rows; the rarest tier takes longer).
 */
const REPLACED_INDEXES = ['requests_time', 'requests_key_time', 'requests_project_recent', 'requests_tier_recent'];

function requestIndexStatements(): string[] {
  return [
    ...REQUEST_INDEXES.map(({ name, columns, where }) => `CREATE INDEX IF NOT EXISTS ${name} ON requests (${columns})${where ? ` WHERE ${where}` : ''}`),
    ...REPLACED_INDEXES.map((name) => `DROP INDEX IF EXISTS ${name}`),
  ];
}
