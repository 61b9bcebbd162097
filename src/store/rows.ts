// Row mapping and query building shared by the SQLite and PostgreSQL stores. SQLite
// gives JSON as text, booleans as 0/1 and times as ISO text; PostgreSQL gives jsonb as
// objects, timestamptz as Date and bigint as string. Both map to the same rows here.
import type { LedgerEntry } from '../services.ts';
import { globToLike } from '../limits/patterns.ts';
import { cleanText, isCleanText, isCount } from './sanitize.ts';
import type {
  BudgetRow, Charge, InstanceRow, KeyRow, ProjectRow, RequestQuery, RequestRow, ReservationRow, SpendScope, UsageQuery, UsageRow,
} from './types.ts';
import type { Period } from '../budget/periods.ts';
import type { Dialect } from './schema.ts';
import type { KeyRole } from '../review/types.ts';

export type Raw = Record<string, unknown>;

export function json<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function textOrNull(value: unknown): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

export function toKeyRow(raw: Raw): KeyRow {
  return {
    id: String(raw.id),
    name: String(raw.name),
    env: raw.env as KeyRow['env'],
    prefix: String(raw.prefix),
    hash: String(raw.hash),
    previousHash: textOrNull(raw.previous_hash),
    status: raw.status as KeyRow['status'],
    projectId: textOrNull(raw.project_id),
    owner: textOrNull(raw.owner),
    allowedModels: json(raw.allowed_models),
    allowedRoutes: json(raw.allowed_routes),
    maxOutputTokens: json(raw.max_output_tokens),
    rateLimits: json(raw.rate_limits),
    expiresAt: isoOrNull(raw.expires_at),
    metadata: json(raw.metadata),
    createdAt: iso(raw.created_at),
    updatedAt: iso(raw.updated_at),
    revokedAt: isoOrNull(raw.revoked_at),
    rotatedAt: isoOrNull(raw.rotated_at),
    role: KEY_ROLES.includes(raw.role as KeyRole) ? raw.role as KeyRole : null,
  };
}

const KEY_ROLES: readonly KeyRole[] = ['admin', 'reviewer', 'viewer'];

/** Column values of a key (or a patch of one), JSON columns serialized. */
export function keyColumns(row: Partial<KeyRow>): Raw {
  const out: Raw = {};
  const set = (column: string, value: unknown, isJson = false) => {
    if (value !== undefined) out[column] = isJson && value !== null ? JSON.stringify(value) : value;
  };
  set('id', row.id);
  set('name', row.name);
  set('env', row.env);
  set('prefix', row.prefix);
  set('hash', row.hash);
  set('previous_hash', row.previousHash);
  set('status', row.status);
  set('project_id', row.projectId);
  set('owner', row.owner);
  set('allowed_models', row.allowedModels, true);
  set('allowed_routes', row.allowedRoutes, true);
  set('max_output_tokens', row.maxOutputTokens, true);
  set('rate_limits', row.rateLimits, true);
  set('expires_at', row.expiresAt);
  set('metadata', row.metadata, true);
  set('created_at', row.createdAt);
  set('updated_at', row.updatedAt);
  set('revoked_at', row.revokedAt);
  set('rotated_at', row.rotatedAt);
  set('role', row.role);
  return out;
}

export function toProjectRow(raw: Raw): ProjectRow {
  return {
    id: String(raw.id),
    name: String(raw.name),
    metadata: json(raw.metadata),
    createdAt: iso(raw.created_at),
    updatedAt: iso(raw.updated_at),
  };
}

export function toBudgetRow(raw: Raw): BudgetRow {
  return {
    id: String(raw.id),
    scope: raw.scope as BudgetRow['scope'],
    scopeId: textOrNull(raw.scope_id),
    model: textOrNull(raw.model),
    period: raw.period as Period,
    limitUsd: Number(raw.limit_usd),
    hard: raw.hard === true || raw.hard === 1 || raw.hard === 1n,
    alertUsd: raw.alert_usd === null || raw.alert_usd === undefined ? null : Number(raw.alert_usd),
    createdAt: iso(raw.created_at),
  };
}

export function budgetColumns(row: Partial<BudgetRow>, booleanAsInt: boolean): Raw {
  const out: Raw = {};
  if (row.id !== undefined) out.id = row.id;
  if (row.scope !== undefined) out.scope = row.scope;
  if (row.scopeId !== undefined) out.scope_id = row.scopeId;
  if (row.model !== undefined) out.model = row.model;
  if (row.period !== undefined) out.period = row.period;
  if (row.limitUsd !== undefined) out.limit_usd = row.limitUsd;
  if (row.hard !== undefined) out.hard = booleanAsInt ? (row.hard ? 1 : 0) : row.hard;
  if (row.alertUsd !== undefined) out.alert_usd = row.alertUsd;
  if (row.createdAt !== undefined) out.created_at = row.createdAt;
  return out;
}

export function toReservationRow(raw: Raw): ReservationRow {
  return {
    id: String(raw.id),
    requestId: textOrNull(raw.request_id),
    owner: String(raw.owner),
    keyId: String(raw.key_id),
    projectId: textOrNull(raw.project_id),
    model: String(raw.model),
    endpoint: textOrNull(raw.endpoint),
    day: String(raw.day),
    createdAt: iso(raw.created_at),
    reservedUnits: Number(raw.reserved_units),
    inputTokens: Number(raw.input_tokens),
    maxOutputTokens: Number(raw.max_output_tokens),
    charges: json<Charge[]>(raw.charges) ?? [],
    status: raw.status as ReservationRow['status'],
  };
}

/** A reservation as columns; project_id '' for none, so it can be part of spend_daily's key. */
export function reservationColumns(row: ReservationRow): Raw {
  return {
    id: row.id,
    request_id: row.requestId,
    owner: row.owner,
    key_id: row.keyId,
    project_id: row.projectId ?? '',
    model: row.model,
    endpoint: row.endpoint,
    day: row.day,
    created_at: row.createdAt,
    reserved_units: row.reservedUnits,
    input_tokens: row.inputTokens,
    max_output_tokens: row.maxOutputTokens,
    charges: JSON.stringify(row.charges),
    status: row.status,
  };
}

export function toInstanceRow(raw: Raw): InstanceRow {
  return { id: String(raw.id), host: String(raw.host), pid: Number(raw.pid), seenAt: iso(raw.seen_at) };
}

/** A ledger entry as request-log columns. `day` is the local day in the budget time zone. */
export function ledgerColumns(entry: LedgerEntry, day: string, booleanAsInt: boolean): Raw {
  const usage = entry.usage;
  return {
    request_id: entry.requestId,
    attempt: entry.attempt,
    time: new Date(entry.time).toISOString(),
    day,
    key_id: entry.keyId,
    project_id: entry.projectId ?? null,
    endpoint: entry.endpoint,
    model_requested: entry.modelRequested,
    model_used: entry.modelUsed ?? null,
    provider: entry.provider ?? null,
    deployment_id: entry.deploymentId ?? null,
    route: entry.route ?? null,
    route_name: entry.routeName ?? null,
    tier: entry.tier ?? null,
    stream: booleanAsInt ? (entry.stream ? 1 : 0) : entry.stream,
    status: entry.status,
    error_code: entry.errorCode ?? null,
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    cache_write_tokens: usage.cacheWriteTokens ?? 0,
    output_tokens: usage.outputTokens,
    reasoning_tokens: usage.reasoningTokens,
    cost_usd: entry.costUsd,
    latency_ms: Math.round(entry.latencyMs),
    ttft_ms: entry.ttftMs === undefined ? null : Math.round(entry.ttftMs),
    cache: entry.cache ?? null,
    saved_usd: entry.savedUsd ?? null,
  };
}

/** The bodies a request row keeps (its policy stored them), as request_bodies columns; undefined when there are none. */
export function bodyColumns(entry: LedgerEntry, booleanAsInt: boolean): Raw | undefined {
  const bodies = entry.bodies;
  if (!bodies || entry.attempt !== 0) return undefined;
  return {
    request_id: entry.requestId,
    time: new Date(entry.time).toISOString(),
    key_id: entry.keyId,
    policy: bodies.policy,
    request: cleanText(bodies.request, MAX_BODY_CHARS),
    response: cleanText(bodies.response, MAX_BODY_CHARS),
    truncated: booleanAsInt ? (bodies.truncated ? 1 : 0) : bodies.truncated,
    // SQLite keeps JSON as text; PostgreSQL's jsonb takes the object itself.
    redactions: bodies.redactions ? (booleanAsInt ? JSON.stringify(bodies.redactions) : bodies.redactions) : null,
  };
}

/** Bodies are capped by their policy (max_kb); this only guards the store against a runaway value. */
const MAX_BODY_CHARS = 8 << 20;

export const BODY_COLUMNS = ['request_id', 'time', 'key_id', 'policy', 'request', 'response', 'truncated', 'redactions'];

export function toStoredBodies(raw: Raw): { policy: string; request: string; response: string; truncated: boolean; redactions: Record<string, number> | null } {
  return { policy: String(raw.policy), request: String(raw.request), response: String(raw.response), truncated: Boolean(raw.truncated), redactions: json(raw.redactions) as Record<string, number> | null };
}

export const LEDGER_COLUMNS = Object.keys(ledgerColumns({
  requestId: '', attempt: 0, time: '1970-01-01T00:00:00Z', keyId: '', endpoint: '', modelRequested: '', stream: false, status: 0,
  usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, costUsd: 0, latencyMs: 0,
}, '', true));

export function toRequestRow(raw: Raw): RequestRow {
  return {
    request_id: String(raw.request_id),
    attempt: Number(raw.attempt),
    time: iso(raw.time),
    key_id: String(raw.key_id),
    project_id: textOrNull(raw.project_id),
    endpoint: String(raw.endpoint),
    model_requested: String(raw.model_requested),
    model_used: textOrNull(raw.model_used),
    provider: textOrNull(raw.provider),
    deployment_id: textOrNull(raw.deployment_id),
    route: textOrNull(raw.route),
    route_name: textOrNull(raw.route_name),
    tier: textOrNull(raw.tier),
    stream: raw.stream === true || raw.stream === 1 || raw.stream === 1n,
    status: Number(raw.status),
    error_code: textOrNull(raw.error_code),
    input_tokens: Number(raw.input_tokens),
    cached_input_tokens: Number(raw.cached_input_tokens),
    cache_write_tokens: Number(raw.cache_write_tokens),
    output_tokens: Number(raw.output_tokens),
    reasoning_tokens: Number(raw.reasoning_tokens),
    cost_usd: Number(raw.cost_usd),
    latency_ms: Number(raw.latency_ms),
    ttft_ms: raw.ttft_ms === null || raw.ttft_ms === undefined ? null : Number(raw.ttft_ms),
    cache: textOrNull(raw.cache) as RequestRow['cache'],
    saved_usd: raw.saved_usd === null || raw.saved_usd === undefined ? null : Number(raw.saved_usd),
  };
}

/** Times are compared as text in SQLite: always the same ISO form, with milliseconds. */
export function normalTime(value: string): string {
  return new Date(value).toISOString();
}

/** Placeholder for the n-th (1-based) parameter: `?` in SQLite, `$n` in PostgreSQL. */
export type Placeholder = (n: number) => string;

export interface BuiltQuery {
  sql: string;
  params: unknown[];
}

export function spendQuery(scope: SpendScope, p: Placeholder): BuiltQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (ph: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(p(params.length)));
  };
  if (scope.scope === 'key') add((ph) => `key_id = ${ph}`, scope.scopeId);
  if (scope.scope === 'project') add((ph) => `project_id = ${ph}`, scope.scopeId);
  if (scope.model) {
    const like = globToLike(scope.model);
    if (like !== null) add((ph) => `model LIKE ${ph} ESCAPE '\\'`, like);
  }
  if (scope.fromDay) add((ph) => `day >= ${ph}`, scope.fromDay);
  if (scope.toDay) add((ph) => `day < ${ph}`, scope.toDay);
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT COALESCE(SUM(cost_units), 0) AS units FROM spend_daily${filter}`, params };
}

const GROUP_COLUMNS = {
  key: 'r.key_id',
  model: 'COALESCE(r.model_used, r.model_requested)',
  project: 'r.project_id',
  day: 'r.day',
} as const;

/** Usage from request rows (attempt 0: one per request, its cost is the whole request's). */
export function usageQuery(query: UsageQuery, p: Placeholder): BuiltQuery {
  const params: unknown[] = [normalTime(query.from), normalTime(query.to)];
  const where = [`r.attempt = 0`, `r.time >= ${p(1)}`, `r.time < ${p(2)}`];
  if (query.keyId) { params.push(query.keyId); where.push(`r.key_id = ${p(params.length)}`); }
  if (query.projectId) { params.push(query.projectId); where.push(`r.project_id = ${p(params.length)}`); }
  const select: string[] = [];
  const group: string[] = [];
  for (const g of query.groupBy) {
    const alias = g === 'key' ? 'key_id' : g === 'project' ? 'project_id' : g;
    select.push(`${GROUP_COLUMNS[g]} AS ${alias}`);
    group.push(GROUP_COLUMNS[g]);
    if (g === 'key') { select.push('MAX(k.name) AS key_name'); }
  }
  const join = query.groupBy.includes('key') ? ' LEFT JOIN keys k ON k.id = r.key_id' : '';
  select.push(
    'COUNT(*) AS requests',
    'COALESCE(SUM(r.input_tokens), 0) AS input_tokens',
    'COALESCE(SUM(r.cached_input_tokens), 0) AS cached_input_tokens',
    'COALESCE(SUM(r.output_tokens), 0) AS output_tokens',
    'COALESCE(SUM(r.reasoning_tokens), 0) AS reasoning_tokens',
    'COALESCE(SUM(r.cost_usd), 0) AS cost_usd',
  );
  const groupSql = group.length ? ` GROUP BY ${group.join(', ')} ORDER BY ${group.join(', ')}` : '';
  return { sql: `SELECT ${select.join(', ')} FROM requests r${join} WHERE ${where.join(' AND ')}${groupSql}`, params };
}

export function toUsageRow(raw: Raw, groupBy: UsageQuery['groupBy']): UsageRow {
  const row: UsageRow = {
    requests: Number(raw.requests),
    input_tokens: Number(raw.input_tokens),
    cached_input_tokens: Number(raw.cached_input_tokens),
    output_tokens: Number(raw.output_tokens),
    reasoning_tokens: Number(raw.reasoning_tokens),
    cost_usd: Math.round(Number(raw.cost_usd) * 1e8) / 1e8,
  };
  if (groupBy.includes('key')) { row.key_id = String(raw.key_id); row.key_name = textOrNull(raw.key_name); }
  if (groupBy.includes('model')) row.model = String(raw.model);
  if (groupBy.includes('project')) row.project_id = textOrNull(raw.project_id);
  if (groupBy.includes('day')) row.day = String(raw.day);
  return row;
}

interface Cursor { t: string; r: string; a: number }

export function encodeCursor(row: RequestRow): string {
  return Buffer.from(JSON.stringify({ t: row.time, r: row.request_id, a: row.attempt } satisfies Cursor)).toString('base64url');
}

export const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A cursor this store issued, or undefined: a forged one never reaches a query. */
export function decodeCursor(cursor: string): Cursor | undefined {
  if (cursor.length > 1024) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (!value || typeof value.t !== 'string' || typeof value.r !== 'string' || !isCount(value.a, 2_147_483_647)) return undefined;
    if (!CURSOR_TIME.test(value.t) || Number.isNaN(Date.parse(value.t)) || new Date(value.t).toISOString() !== value.t) return undefined;
    if (value.t.startsWith('0000') || !isCleanText(value.r)) return undefined;
    return { t: value.t, r: value.r, a: value.a };
  } catch { /* fall through */ }
  return undefined;
}

/**
 * The request log, newest first, keyset-paginated on (time, request_id, attempt). Each
 * filter is an equality on the leading column of one index (see schema.ts) and the cursor a
 * row-value range on the rest, so a page is an index range scan stopped by the LIMIT.
 */
export function requestsQuery(query: RequestQuery, p: Placeholder, dialect: Dialect): BuiltQuery {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (clause: (ph: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(p(params.length)));
  };
  if (query.keyId) add((ph) => `key_id = ${ph}`, query.keyId);
  if (query.projectId) add((ph) => `project_id = ${ph}`, query.projectId);
  if (query.model) add((ph) => `model_used = ${ph}`, query.model);
  if (query.routeName) add((ph) => `route_name = ${ph}`, query.routeName);
  if (query.tier) add((ph) => `tier = ${ph}`, query.tier);
  if (query.status !== undefined) add((ph) => `status = ${ph}`, query.status);
  // A literal, as the partial indexes' WHERE says it. SQLite matches a partial index only so
  // (it does not infer it from status = 429); PostgreSQL does, and a redundant term would
  // only skew its row estimate.
  const errorStatus = query.status !== undefined && query.status >= 400 && dialect === 'sqlite';
  if (query.statusClass === 'errors' || errorStatus) where.push('status >= 400');
  if (query.attempts === false) where.push('attempt = 0');
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.from) add((ph) => `time >= ${ph}`, normalTime(query.from));
  // Past the first page the cursor is the upper bound (it is below `to`); given both, SQLite
  // would seek on `to` and step over every row of the pages before.
  if (query.to && !(cursor && cursor.t < normalTime(query.to))) add((ph) => `time < ${ph}`, normalTime(query.to));
  if (cursor) {
    params.push(cursor.t, cursor.r, cursor.a);
    where.push(`(time, request_id, attempt) < (${p(params.length - 2)}, ${p(params.length - 1)}, ${p(params.length)})`);
  }
  params.push(query.limit + 1);
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    sql: `SELECT * FROM requests${filter} ORDER BY time DESC, request_id DESC, attempt DESC LIMIT ${p(params.length)}`,
    params,
  };
}
