// Row mapping and queries of the reviews table, shared by the SQLite and PostgreSQL
// stores (the other tables' are in rows.ts).
import type { Usage } from '../canonical/types.ts';
import type { ReviewDecisionPatch, ReviewPage, ReviewQuery, ReviewRow, ReviewStatus } from '../review/types.ts';
import { CURSOR_TIME, iso, isoOrNull, json, normalTime, textOrNull, type BuiltQuery, type Placeholder, type Raw } from './rows.ts';
import { isCleanText } from './sanitize.ts';

const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'approved', 'edited', 'rejected', 'expired'];
const NO_USAGE: Usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };

/** Text that may be empty but not absent (a reason, an edit): only null is null. */
function exactTextOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function toReviewRow(raw: Raw): ReviewRow {
  return {
    id: String(raw.id),
    requestId: String(raw.request_id),
    keyId: String(raw.key_id),
    projectId: textOrNull(raw.project_id),
    mode: raw.mode as ReviewRow['mode'],
    status: raw.status as ReviewStatus,
    rule: String(raw.rule),
    reason: String(raw.reason),
    endpoint: String(raw.endpoint),
    stream: raw.stream === true || raw.stream === 1 || raw.stream === 1n,
    model: String(raw.model),
    reservationId: textOrNull(raw.reservation_id),
    onTimeout: raw.on_timeout as ReviewRow['onTimeout'],
    request: String(raw.request),
    answer: String(raw.answer),
    finalAnswer: exactTextOrNull(raw.final_answer),
    usage: json<Usage>(raw.usage) ?? NO_USAGE,
    costUsd: Number(raw.cost_usd),
    createdAt: iso(raw.created_at),
    expiresAt: iso(raw.expires_at),
    decidedAt: isoOrNull(raw.decided_at),
    decidedBy: exactTextOrNull(raw.decided_by),
    decisionReason: exactTextOrNull(raw.decision_reason),
    editedText: exactTextOrNull(raw.edited_text),
  };
}

/** A review as columns. Times in one ISO form (SQLite compares them as text); usage as JSON text (jsonb takes it too). */
export function reviewColumns(row: ReviewRow, booleanAsInt: boolean): Raw {
  return {
    id: row.id,
    request_id: row.requestId,
    key_id: row.keyId,
    project_id: row.projectId,
    mode: row.mode,
    status: row.status,
    rule: row.rule,
    reason: row.reason,
    endpoint: row.endpoint,
    stream: booleanAsInt ? (row.stream ? 1 : 0) : row.stream,
    model: row.model,
    reservation_id: row.reservationId,
    on_timeout: row.onTimeout,
    request: row.request,
    answer: row.answer,
    final_answer: row.finalAnswer,
    usage: JSON.stringify(row.usage),
    cost_usd: row.costUsd,
    created_at: normalTime(row.createdAt),
    expires_at: normalTime(row.expiresAt),
    decided_at: row.decidedAt === null ? null : normalTime(row.decidedAt),
    decided_by: row.decidedBy,
    decision_reason: row.decisionReason,
    edited_text: row.editedText,
  };
}

/** What a decision sets; the cost columns only when deciding changed them. */
export function decisionColumns(patch: ReviewDecisionPatch): Raw {
  const out: Raw = {
    status: patch.status,
    decided_at: normalTime(patch.decidedAt),
    decided_by: patch.decidedBy,
    decision_reason: patch.decisionReason,
    edited_text: patch.editedText,
    final_answer: patch.finalAnswer,
  };
  if (patch.usage !== undefined) out.usage = JSON.stringify(patch.usage);
  if (patch.costUsd !== undefined) out.cost_usd = patch.costUsd;
  if (patch.model !== undefined) out.model = patch.model;
  return out;
}

interface ReviewCursor { t: string; i: string }

export function encodeReviewCursor(row: ReviewRow): string {
  return Buffer.from(JSON.stringify({ t: normalTime(row.createdAt), i: row.id } satisfies ReviewCursor)).toString('base64url');
}

/** A cursor listReviews issued, or undefined: a forged one never reaches a query. */
export function decodeReviewCursor(cursor: string): ReviewCursor | undefined {
  if (cursor.length > 1024) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as ReviewCursor;
    if (!value || typeof value.t !== 'string' || typeof value.i !== 'string') return undefined;
    if (!CURSOR_TIME.test(value.t) || Number.isNaN(Date.parse(value.t)) || new Date(value.t).toISOString() !== value.t) return undefined;
    if (value.t.startsWith('0000') || !isCleanText(value.i)) return undefined;
    return { t: value.t, i: value.i };
  } catch { /* fall through */ }
  return undefined;
}

/**
 * Reviews newest first, keyset-paged on (created_at, id): the cursor is a row-value range
 * on reviews_recent (or reviews_pending_recent, whose WHERE the status literal matches).
 * A cursor that does not decode is refused here too (the admin API 400s on it first).
 */
export function reviewsQuery(query: ReviewQuery, p: Placeholder): BuiltQuery {
  const params: unknown[] = [];
  const where: string[] = [];
  // A literal, as the partial index's WHERE says it (SQLite matches a partial index only so);
  // only the known statuses ever become one.
  if (query.status !== undefined) {
    if (!REVIEW_STATUSES.includes(query.status)) throw new Error(`unknown review status '${String(query.status).slice(0, 40)}'`);
    where.push(`status = '${query.status}'`);
  }
  if (query.keyId) { params.push(query.keyId); where.push(`key_id = ${p(params.length)}`); }
  if (query.cursor) {
    const cursor = decodeReviewCursor(query.cursor);
    if (!cursor) throw new Error('invalid review cursor');
    params.push(cursor.t, cursor.i);
    where.push(`(created_at, id) < (${p(params.length - 1)}, ${p(params.length)})`);
  }
  params.push(query.limit + 1);
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM reviews${filter} ORDER BY created_at DESC, id DESC LIMIT ${p(params.length)}`, params };
}

/** A page of rows fetched with LIMIT n + 1: the first n, and the cursor after them when there were more. */
export function reviewPage(rows: ReviewRow[], limit: number): ReviewPage {
  const more = rows.length > limit;
  if (more) rows.length = limit;
  return { rows, nextCursor: more ? encodeReviewCursor(rows[rows.length - 1]) : null };
}

export const DUE_REVIEWS_SQL = (p: Placeholder) =>
  `SELECT * FROM reviews WHERE status = 'pending' AND mode = 'hold' AND expires_at <= ${p(1)} ORDER BY expires_at, id LIMIT ${p(2)}`;

/** Moves a due review's expiry to `until` (p1) if it is still pending and due at `now` (p3): the claim of one sweeper. */
export const LEASE_REVIEW_SQL = (p: Placeholder) =>
  `UPDATE reviews SET expires_at = ${p(1)} WHERE id = ${p(2)} AND status = 'pending' AND expires_at <= ${p(3)}`;

export const HELD_RESERVATIONS_SQL =
  `SELECT reservation_id FROM reviews WHERE status = 'pending' AND mode = 'hold' AND reservation_id IS NOT NULL`;

