// The dashboard's numbers over a time window (GET /admin/stats): requests, errors, cost,
// tokens and latency percentiles per time bucket, per group (model, tier, key or project)
// and in total, aggregated in the database. Every query starts with the time range on
// the requests_recent index (time, request_id, attempt) and keeps attempt-0 rows: one
// per request, whose cost and tokens are the whole request's.
//
// Percentiles: PostgreSQL computes them exactly, percentile_cont over GROUPING SETS, so
// one scan gives every level (bucket × group, bucket, group, total). SQLite has no
// percentile aggregate, and fetching every latency of a month (a million values) into
// the process would cost more than the scan; it returns an approximate histogram
// instead, binned in SQL: exact under 100 ms, above that on a log scale 2.5 % wide, so a
// bin stands for its values within 1.3 %, and a month of a million rows comes back as a
// few tens of thousands of (bucket, group, bin) rows from one scan (measured: half the
// time of exact bins, which return every distinct value). Percentiles interpolate over
// the bins as percentile_cont does over the values.
import type { Dialect } from './schema.ts';

/** deployment: the deployment that answered (attempt 0's; the attempts before it are not counted per deployment). */
export type StatsGroup = 'model' | 'tier' | 'key' | 'project' | 'deployment';
export const STATS_GROUPS: readonly StatsGroup[] = ['model', 'tier', 'key', 'project', 'deployment'];

export interface StatsQuery {
  /** Window [from, to), ISO times; `to - from` is `buckets × bucketMs`. */
  from: string;
  to: string;
  bucketMs: number;
  buckets: number;
  groupBy?: StatsGroup;
  /** Only requests an auto route chose the model for (route_name set). */
  autoRouted?: boolean;
}

/** One cell: a bucket, a group, a bucket of a group, or the window's total. */
export interface StatsCell {
  requests: number;
  errors: number;
  cost_usd: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  /** Requests that went through a cascade, and those of them that escalated at least once. */
  cascades: number;
  escalated: number;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  p50_ttft_ms: number | null;
}

export interface StatsGroupResult {
  /** The model, tier, key id or project id; null for rows without one (no tier, no project). */
  key: string | null;
  totals: StatsCell;
  buckets: StatsCell[];
}

export interface StatsResult {
  totals: StatsCell;
  /** `buckets` cells, oldest first; bucket i starts at from + i × bucketMs. */
  buckets: StatsCell[];
  /** Groups by requests, most first; empty without groupBy. */
  groups: StatsGroupResult[];
}

type Row = Record<string, unknown>;
export type RunSql = (sql: string, params: unknown[]) => Promise<Row[]> | Row[];

const GROUP_SQL: Record<StatsGroup, string> = {
  model: 'COALESCE(model_used, model_requested)',
  tier: 'tier',
  key: 'key_id',
  project: 'project_id',
  deployment: 'deployment_id',
};

const SUMS = [
  'COUNT(*) AS requests',
  'SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors',
  'SUM(cost_usd) AS cost_usd',
  'SUM(input_tokens) AS input_tokens',
  'SUM(cached_input_tokens) AS cached_input_tokens',
  'SUM(cache_write_tokens) AS cache_write_tokens',
  'SUM(output_tokens) AS output_tokens',
  // record.ts writes "…; cascade: mini escalated (…); default accepted" into the route column.
  "SUM(CASE WHEN route LIKE '%cascade:%' THEN 1 ELSE 0 END) AS cascades",
  "SUM(CASE WHEN route LIKE '%cascade:%escalated%' THEN 1 ELSE 0 END) AS escalated",
];

export async function queryStats(dialect: Dialect, run: RunSql, query: StatsQuery): Promise<StatsResult> {
  return dialect === 'postgres' ? postgresStats(run, query) : sqliteStats(run, query);
}

/** The rows of the window, with their bucket number `b` and group `g`, as a sub-select. */
function windowRows(dialect: Dialect, query: StatsQuery, columns: string): string {
  const bucket = dialect === 'postgres'
    ? 'FLOOR(EXTRACT(EPOCH FROM (time - $1::timestamptz)) * 1000 / $3)::int'
    : 'CAST((julianday(time) - julianday(?1)) * 86400000.0 / ?3 AS INTEGER)';
  const group = query.groupBy ? GROUP_SQL[query.groupBy] : 'NULL';
  const p = dialect === 'postgres' ? (n: number) => `$${n}` : (n: number) => `?${n}`;
  const auto = query.autoRouted ? ' AND route_name IS NOT NULL' : '';
  return `SELECT ${bucket} AS b, ${group} AS g, ${columns} FROM requests WHERE time >= ${p(1)} AND time < ${p(2)} AND attempt = 0${auto}`;
}

const ROW_COLUMNS = 'status, cost_usd, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, route, latency_ms, ttft_ms';

async function postgresStats(run: RunSql, query: StatsQuery): Promise<StatsResult> {
  const sql = `SELECT b, g, GROUPING(b) AS no_b, GROUPING(g) AS no_g, ${SUMS.join(', ')},
      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_latency_ms,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_latency_ms,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS p50_ttft_ms
    FROM (${windowRows('postgres', query, ROW_COLUMNS)}) w
    GROUP BY GROUPING SETS ((b, g), (b), (g), ())`;
  const rows = await run(sql, [query.from, query.to, query.bucketMs]);
  const result = emptyResult(query);
  const groups = new Map<string | null, StatsGroupResult>();
  for (const raw of rows) {
    const cell = toCell(raw);
    cell.p50_latency_ms = rounded(raw.p50_latency_ms);
    cell.p95_latency_ms = rounded(raw.p95_latency_ms);
    cell.p50_ttft_ms = rounded(raw.p50_ttft_ms);
    const noBucket = Number(raw.no_b) === 1;
    const noGroup = Number(raw.no_g) === 1 || !query.groupBy;
    const b = Number(raw.b);
    if (noBucket && noGroup) result.totals = cell;
    else if (noGroup) { if (inRange(b, query)) result.buckets[b] = cell; }
    else {
      const group = groupOf(groups, raw.g, query);
      if (noBucket) group.totals = cell;
      else if (inRange(b, query)) group.buckets[b] = cell;
    }
  }
  result.groups = sortGroups(groups);
  return result;
}

/**
 * SQLite: one scan. Each row is counted once with its latency bin (k = 0) and, when it has
 * one, once more with its time-to-first-token bin (k = 1: a two-row cross join, so the
 * table is read once). Sums come from the k = 0 rows; the bins of each level merge.
 */
async function sqliteStats(run: RunSql, query: StatsQuery): Promise<StatsResult> {
  const columns = `k.k AS k, CASE k.k WHEN 0 THEN ${latencyBin('latency_ms')} ELSE ${latencyBin('ttft_ms')} END AS v, ${ROW_COLUMNS}`;
  const rows = windowRows('sqlite', query, columns).replace(' FROM requests WHERE ', ' FROM requests CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) k WHERE ');
  const raws = await run(`SELECT b, g, k, v, ${SUMS.join(', ')} FROM (${rows} AND (k.k = 0 OR ttft_ms IS NOT NULL)) GROUP BY b, g, k, v`, [query.from, query.to, query.bucketMs]);

  const result = emptyResult(query);
  const groups = new Map<string | null, StatsGroupResult>();
  const levels = (raw: Row): StatsCell[] => {
    const b = Number(raw.b);
    const cells = [result.totals];
    if (inRange(b, query)) cells.push(result.buckets[b]);
    if (query.groupBy) {
      const group = groupOf(groups, raw.g, query);
      cells.push(group.totals);
      if (inRange(b, query)) cells.push(group.buckets[b]);
    }
    return cells;
  };
  const histograms = new Map<StatsCell, [Map<number, number>, Map<number, number>]>();
  for (const raw of raws) {
    const kind = Number(raw.k);
    const value = binValue(Number(raw.v));
    const n = Number(raw.requests);
    const add = kind === 0 ? toCell(raw) : undefined;
    for (const cell of levels(raw)) {
      if (add) addCell(cell, add);
      let pair = histograms.get(cell);
      if (!pair) histograms.set(cell, pair = [new Map(), new Map()]);
      pair[kind].set(value, (pair[kind].get(value) ?? 0) + n);
    }
  }
  for (const [cell, [latency, ttft]] of histograms) {
    cell.p50_latency_ms = percentile(latency, 0.5);
    cell.p95_latency_ms = percentile(latency, 0.95);
    cell.p50_ttft_ms = percentile(ttft, 0.5);
  }
  result.groups = sortGroups(groups);
  return result;
}

/** Bins per factor e (≈ 2.5 % wide): a month of a million rows is a few tens of thousands of (bucket, group, bin) rows. */
const BINS_PER_E = 40;

/** A latency's bin: the value itself under 100 ms, above that its logarithm in steps of 1/40. */
function latencyBin(column: string): string {
  return `CASE WHEN ${column} < 100 THEN ${column} ELSE 100 + CAST(ln(${column} / 100.0) * ${BINS_PER_E} AS INTEGER) END`;
}

/** The value a bin stands for: under 100 itself, above that its geometric middle (within 1.3 % of every value in it). */
function binValue(bin: number): number {
  return bin < 100 ? bin : 100 * Math.exp((bin - 100 + 0.5) / BINS_PER_E);
}

/** percentile_cont over a histogram: the value at rank q × (n − 1), interpolated between neighbours. */
export function percentile(bins: Map<number, number>, q: number): number | null {
  let total = 0;
  for (const n of bins.values()) total += n;
  if (total === 0) return null;
  const sorted = [...bins.entries()].sort((a, b) => a[0] - b[0]);
  const rank = q * (total - 1);
  const lower = Math.floor(rank);
  const valueAt = (index: number): number => {
    let seen = 0;
    for (const [value, n] of sorted) {
      seen += n;
      if (index < seen) return value;
    }
    return sorted[sorted.length - 1][0];
  };
  const a = valueAt(lower);
  const b = lower + 1 < total ? valueAt(lower + 1) : a;
  return Math.round(a + (b - a) * (rank - lower));
}

function emptyCell(): StatsCell {
  return {
    requests: 0, errors: 0, cost_usd: 0, input_tokens: 0, cached_input_tokens: 0, cache_write_tokens: 0, output_tokens: 0,
    cascades: 0, escalated: 0, p50_latency_ms: null, p95_latency_ms: null, p50_ttft_ms: null,
  };
}

function emptyResult(query: StatsQuery): StatsResult {
  return { totals: emptyCell(), buckets: Array.from({ length: query.buckets }, emptyCell), groups: [] };
}

function toCell(raw: Row): StatsCell {
  const cell = emptyCell();
  cell.requests = Number(raw.requests ?? 0);
  cell.errors = Number(raw.errors ?? 0);
  cell.cost_usd = money(Number(raw.cost_usd ?? 0));
  cell.input_tokens = Number(raw.input_tokens ?? 0);
  cell.cached_input_tokens = Number(raw.cached_input_tokens ?? 0);
  cell.cache_write_tokens = Number(raw.cache_write_tokens ?? 0);
  cell.output_tokens = Number(raw.output_tokens ?? 0);
  cell.cascades = Number(raw.cascades ?? 0);
  cell.escalated = Number(raw.escalated ?? 0);
  return cell;
}

function addCell(into: StatsCell, add: StatsCell): void {
  into.requests += add.requests;
  into.errors += add.errors;
  into.cost_usd = money(into.cost_usd + add.cost_usd);
  into.input_tokens += add.input_tokens;
  into.cached_input_tokens += add.cached_input_tokens;
  into.cache_write_tokens += add.cache_write_tokens;
  into.output_tokens += add.output_tokens;
  into.cascades += add.cascades;
  into.escalated += add.escalated;
}

function groupOf(groups: Map<string | null, StatsGroupResult>, raw: unknown, query: StatsQuery): StatsGroupResult {
  const key = raw === null || raw === undefined || raw === '' ? null : String(raw);
  let group = groups.get(key);
  if (!group) groups.set(key, group = { key, totals: emptyCell(), buckets: Array.from({ length: query.buckets }, emptyCell) });
  return group;
}

function sortGroups(groups: Map<string | null, StatsGroupResult>): StatsGroupResult[] {
  return [...groups.values()].sort((a, b) => b.totals.requests - a.totals.requests || String(a.key).localeCompare(String(b.key)));
}

/** A row exactly at the window's end (clock skew between writer and reader) has no bucket. */
function inRange(b: number, query: StatsQuery): boolean {
  return Number.isInteger(b) && b >= 0 && b < query.buckets;
}

function rounded(value: unknown): number | null {
  return value === null || value === undefined ? null : Math.round(Number(value));
}

/** The ledger's precision: 1e-8 USD. */
function money(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

// --- Latency against context length (GET /admin/stats/context) ---

export interface ContextStatsQuery {
  /** Window [from, to), ISO times. */
  from: string;
  to: string;
}

/** The requests whose input tokens fall in [min_tokens, max_tokens]: bin b holds 2^b … 2^(b+1) − 1 (bin 0 also holds 0). */
export interface ContextBin {
  bin: number;
  min_tokens: number;
  max_tokens: number;
  requests: number;
  input_tokens: number;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  p50_ttft_ms: number | null;
}

export interface ContextStatsResult {
  /** The window's requests, all sizes. */
  totals: Omit<ContextBin, 'bin' | 'min_tokens' | 'max_tokens'>;
  /** Bins with requests, smallest first. */
  bins: ContextBin[];
}

/** log2 bins of input tokens; 0 and 1 token both land in bin 0. */
function tokenBin(dialect: Dialect): string {
  return dialect === 'postgres'
    ? 'FLOOR(LOG(2, GREATEST(input_tokens, 1)::numeric))::int'
    : 'CAST(log2(MAX(input_tokens, 1)) AS INTEGER)';
}

export async function queryContextStats(dialect: Dialect, run: RunSql, query: ContextStatsQuery): Promise<ContextStatsResult> {
  return dialect === 'postgres' ? postgresContextStats(run, query) : sqliteContextStats(run, query);
}

async function postgresContextStats(run: RunSql, query: ContextStatsQuery): Promise<ContextStatsResult> {
  const rows = await run(`SELECT ib, GROUPING(ib) AS no_ib, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_latency_ms,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_latency_ms,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS p50_ttft_ms
    FROM (SELECT ${tokenBin('postgres')} AS ib, input_tokens, latency_ms, ttft_ms FROM requests WHERE time >= $1 AND time < $2 AND attempt = 0) w
    GROUP BY GROUPING SETS ((ib), ())`, [query.from, query.to]);
  const result: ContextStatsResult = { totals: emptyContextCell(), bins: [] };
  for (const raw of rows) {
    const cell = {
      requests: Number(raw.requests), input_tokens: Number(raw.input_tokens ?? 0),
      p50_latency_ms: rounded(raw.p50_latency_ms), p95_latency_ms: rounded(raw.p95_latency_ms), p50_ttft_ms: rounded(raw.p50_ttft_ms),
    };
    if (Number(raw.no_ib) === 1) result.totals = cell;
    else result.bins.push({ ...binEdges(Number(raw.ib)), ...cell });
  }
  result.bins.sort((a, b) => a.bin - b.bin);
  return result;
}

/** SQLite: the latency histogram of stats() per token bin (k = 0 latency, k = 1 time to first token), merged into the total. */
async function sqliteContextStats(run: RunSql, query: ContextStatsQuery): Promise<ContextStatsResult> {
  const raws = await run(`SELECT ib, k, v, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens FROM (
      SELECT ${tokenBin('sqlite')} AS ib, k.k AS k, CASE k.k WHEN 0 THEN ${latencyBin('latency_ms')} ELSE ${latencyBin('ttft_ms')} END AS v, input_tokens
      FROM requests CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) k
      WHERE time >= ?1 AND time < ?2 AND attempt = 0 AND (k.k = 0 OR ttft_ms IS NOT NULL))
    GROUP BY ib, k, v`, [query.from, query.to]);
  const bins = new Map<number, { cell: ContextBin; latency: Map<number, number>; ttft: Map<number, number> }>();
  const total = { cell: emptyContextCell(), latency: new Map<number, number>(), ttft: new Map<number, number>() };
  for (const raw of raws) {
    const ib = Number(raw.ib);
    let bin = bins.get(ib);
    if (!bin) bins.set(ib, bin = { cell: { ...binEdges(ib), ...emptyContextCell() }, latency: new Map(), ttft: new Map() });
    const n = Number(raw.requests);
    const value = binValue(Number(raw.v));
    for (const level of [bin, total]) {
      const histogram = Number(raw.k) === 0 ? level.latency : level.ttft;
      histogram.set(value, (histogram.get(value) ?? 0) + n);
      if (Number(raw.k) === 0) {
        level.cell.requests += n;
        level.cell.input_tokens += Number(raw.input_tokens ?? 0);
      }
    }
  }
  const finish = (level: { cell: Omit<ContextBin, 'bin' | 'min_tokens' | 'max_tokens'>; latency: Map<number, number>; ttft: Map<number, number> }) => {
    level.cell.p50_latency_ms = percentile(level.latency, 0.5);
    level.cell.p95_latency_ms = percentile(level.latency, 0.95);
    level.cell.p50_ttft_ms = percentile(level.ttft, 0.5);
    return level.cell;
  };
  return { totals: finish(total), bins: [...bins.values()].map((b) => finish(b) as ContextBin).sort((a, b) => a.bin - b.bin) };
}

function binEdges(bin: number): Pick<ContextBin, 'bin' | 'min_tokens' | 'max_tokens'> {
  return { bin, min_tokens: bin === 0 ? 0 : 2 ** bin, max_tokens: 2 ** (bin + 1) - 1 };
}

function emptyContextCell(): Omit<ContextBin, 'bin' | 'min_tokens' | 'max_tokens'> {
  return { requests: 0, input_tokens: 0, p50_latency_ms: null, p95_latency_ms: null, p50_ttft_ms: null };
}
