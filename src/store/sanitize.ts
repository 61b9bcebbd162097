// The one guard every request-path write passes before it joins a group-commit batch,
// for both stores: one request's bad data (a NUL in a model id, 17.5 tokens, a NaN or
// negative cost) must never fail the batch it shares with other requests, and the
// request log must never disagree with the spend booked on the budgets.
//   text     NUL and lone surrogates replaced by U+FFFD (PostgreSQL refuses both), bounded length
//   counts   safe non-negative integers (else rounded, or 0)
//   cost     a row whose usage or cost had to be fixed takes the cost booked on its
//            reservation (what spend_daily holds), so the row and the spend agree
//   units    a settlement with an invalid cost bills the reservation's worst case
import type { LedgerEntry, RowSettlement } from '../services.ts';
import type { ReservationRow } from './types.ts';

/** A sanitised request row; `costFromReservation`: its cost is the one booked on its reservation. */
export interface StoredEntry extends LedgerEntry {
  costFromReservation?: boolean;
}

export interface Sanitized<T> {
  value: T;
  /** What was fixed (field names and numbers only, never text values); undefined when nothing was. */
  problems?: string[];
}

export const MAX_TEXT = 256;
const MAX_INT32 = 2_147_483_647;
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');
const REPLACEMENT = '\uFFFD';

export function isCleanText(value: string, max = MAX_TEXT): boolean {
  return value.length <= max && !value.includes('\u0000') && value.isWellFormed();
}

export function cleanText(value: string, max = MAX_TEXT): string {
  if (isCleanText(value, max)) return value;
  const fixed = String(value).toWellFormed().replaceAll('\u0000', REPLACEMENT);
  return fixed.length <= max ? fixed : `${fixed.slice(0, max - 1).toWellFormed()}…`;
}

export function isCount(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function toCount(value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return 0;
  return Math.min(Math.round(value), max);
}

/** A settlement's cost in units, or null when it cannot be trusted (bill the reservation's worst case). */
export function settlementUnits(units: number): number | null {
  if (isCount(units)) return units;
  if (typeof units !== 'number' || !Number.isFinite(units) || units < 0 || units > Number.MAX_SAFE_INTEGER) return null;
  return Math.round(units);
}

/** Whether a USD cost can be stored and summed: finite, non-negative, within what 1e-8 USD units hold exactly. */
export function isValidCost(usd: unknown): usd is number {
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 && Number.isSafeInteger(Math.round(usd * 1e8));
}

const TEXT_FIELDS = ['requestId', 'keyId', 'endpoint', 'modelRequested'] as const;
const OPTIONAL_TEXT_FIELDS = ['projectId', 'modelUsed', 'provider', 'deploymentId', 'route', 'routeName', 'tier', 'errorCode'] as const;
const USAGE_FIELDS = ['inputTokens', 'cachedInputTokens', 'outputTokens', 'reasoningTokens'] as const;

function entryIsClean(e: LedgerEntry): boolean {
  for (const f of TEXT_FIELDS) if (typeof e[f] !== 'string' || !isCleanText(e[f])) return false;
  for (const f of OPTIONAL_TEXT_FIELDS) { const v = e[f]; if (v !== undefined && (typeof v !== 'string' || !isCleanText(v))) return false; }
  const u = e.usage;
  if (!u || !isCount(u.inputTokens) || !isCount(u.cachedInputTokens) || !isCount(u.outputTokens) || !isCount(u.reasoningTokens)) return false;
  if (u.cacheWriteTokens !== undefined && !isCount(u.cacheWriteTokens)) return false;
  if (!isValidCost(e.costUsd) || !isCount(e.attempt, MAX_INT32) || !isCount(e.status, 999) || typeof e.stream !== 'boolean') return false;
  if (typeof e.latencyMs !== 'number' || !(e.latencyMs >= 0 && e.latencyMs <= MAX_INT32)) return false;
  if (e.ttftMs !== undefined && (typeof e.ttftMs !== 'number' || !(e.ttftMs >= 0 && e.ttftMs <= MAX_INT32))) return false;
  if (e.settles !== undefined && !settlementIsClean(e.settles)) return false;
  const t = typeof e.time === 'string' ? Date.parse(e.time) : NaN;
  return t >= MIN_TIME && t <= MAX_TIME;
}

function settlementIsClean(s: RowSettlement): boolean {
  return typeof s.reservationId === 'string' && isCleanText(s.reservationId) && (s.status === 'settled' || s.status === 'released') && (s.units === null || isCount(s.units));
}

/** The entry as it is safe to store; the same object when nothing needed fixing (the common case). */
export function sanitizeLedgerEntry(entry: LedgerEntry): Sanitized<StoredEntry> {
  if (entryIsClean(entry)) return { value: entry };
  const problems: string[] = [];
  const text = (field: string, value: unknown): string => {
    const fixed = cleanText(typeof value === 'string' ? value : String(value ?? ''));
    if (fixed !== value) problems.push(`${field}: text with NUL, invalid Unicode or over ${MAX_TEXT} characters`);
    return fixed;
  };
  const count = (field: string, value: unknown, max?: number): number => {
    const fixed = toCount(value, max);
    if (fixed !== value) problems.push(`${field}: ${String(value)} is not a non-negative integer; stored ${fixed}`);
    return fixed;
  };
  const out: StoredEntry = { ...entry };
  for (const f of TEXT_FIELDS) out[f] = text(f, entry[f]);
  for (const f of OPTIONAL_TEXT_FIELDS) if (entry[f] !== undefined && entry[f] !== null) out[f] = text(f, entry[f]);
  const before = problems.length;
  const usage = entry.usage ?? {};
  out.usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  for (const f of USAGE_FIELDS) out.usage[f] = count(`usage.${f}`, usage[f]);
  if (usage.cacheWriteTokens !== undefined) out.usage.cacheWriteTokens = count('usage.cacheWriteTokens', usage.cacheWriteTokens);
  const costValid = isValidCost(entry.costUsd);
  if (!costValid) problems.push(`costUsd: ${String(entry.costUsd)} is not a valid cost`);
  if (problems.length > before) {
    // Usage or cost could not be trusted: the request row carries what its reservation booked.
    if (entry.attempt === 0) out.costFromReservation = true;
    out.costUsd = costValid ? entry.costUsd : 0;
  }
  out.attempt = count('attempt', entry.attempt, MAX_INT32);
  out.status = count('status', entry.status, 999);
  out.stream = entry.stream === true;
  out.latencyMs = count('latencyMs', typeof entry.latencyMs === 'number' ? Math.round(entry.latencyMs) : entry.latencyMs, MAX_INT32);
  if (entry.ttftMs !== undefined) out.ttftMs = count('ttftMs', typeof entry.ttftMs === 'number' ? Math.round(entry.ttftMs) : entry.ttftMs, MAX_INT32);
  if (entry.settles !== undefined && !settlementIsClean(entry.settles)) {
    // The reservation still closes: a cost that cannot be trusted bills its worst case.
    const units = typeof entry.settles.units === 'number' ? settlementUnits(entry.settles.units) : null;
    out.settles = { reservationId: cleanText(String(entry.settles.reservationId)), status: entry.settles.status === 'released' ? 'released' : 'settled', units };
    problems.push(`settles: ${units === null ? 'an invalid cost; billed the reservation\'s worst case' : 'fixed'}`);
  }
  const t = typeof entry.time === 'string' ? Date.parse(entry.time) : NaN;
  if (!(t >= MIN_TIME && t <= MAX_TIME)) {
    problems.push('time: not an ISO time within years 0001–9999; stored the time it was written');
    out.time = new Date().toISOString();
  }
  return { value: out, problems: problems.length ? problems : undefined };
}

/**
 * A reservation as it is safe to store. Its text is cleaned; numbers that are not safe
 * non-negative integers are refused (a reservation with no trustworthy worst case must not
 * be granted), which fails this one request only.
 */
export function sanitizeReservation(row: ReservationRow): Sanitized<ReservationRow> {
  for (const field of ['reservedUnits', 'inputTokens', 'maxOutputTokens'] as const) {
    if (!isCount(row[field])) throw new Error(`reservation ${cleanText(String(row.id))} has an invalid ${field} (${String(row[field])}); it was not stored`);
  }
  for (const charge of row.charges) {
    if (!isCount(charge.units)) throw new Error(`reservation ${cleanText(String(row.id))} has a charge with invalid units (${String(charge.units)}); it was not stored`);
  }
  if (reservationIsClean(row)) return { value: row };
  const opt = (v: string | null) => (v === null ? null : cleanText(v));
  return {
    value: {
      ...row, id: cleanText(row.id), requestId: opt(row.requestId), owner: cleanText(row.owner), keyId: cleanText(row.keyId),
      projectId: opt(row.projectId), model: cleanText(row.model), endpoint: opt(row.endpoint), day: cleanText(row.day), createdAt: cleanText(row.createdAt),
      charges: row.charges.map((c) => ({ ...c, budgetId: cleanText(c.budgetId), window: cleanText(c.window) })),
    },
    problems: ['text with NUL, invalid Unicode or over 256 characters'],
  };
}

function reservationIsClean(row: ReservationRow): boolean {
  if (!isText(row.id) || !isText(row.owner) || !isText(row.keyId) || !isText(row.model) || !isText(row.day) || !isText(row.createdAt)) return false;
  if (!isNullOrText(row.requestId) || !isNullOrText(row.projectId) || !isNullOrText(row.endpoint)) return false;
  for (const charge of row.charges) if (!isCleanText(charge.budgetId) || !isCleanText(charge.window)) return false;
  return true;
}

/** Clean text, checked as a value from outside the type system may need. */
function isText(value: unknown): boolean {
  return typeof value === 'string' && isCleanText(value);
}

function isNullOrText(value: unknown): boolean {
  return value === null || isText(value);
}

/** The cost a flagged row gets: what its reservation booked, else its own cost if valid, else 0. */
export function resolvedCost(entry: StoredEntry, bookedUnits: number | undefined): number {
  if (!entry.costFromReservation) return entry.costUsd;
  return bookedUnits !== undefined ? bookedUnits / 1e8 : entry.costUsd;
}
