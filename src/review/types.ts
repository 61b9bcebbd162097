// Human review of model answers (SPEC §5): the records a review keeps and the desk
// reviewers decide at. A rule (config `review:`) or the request's own
// `metadata.review` puts a request under review; in `hold` mode the answer waits for a
// decision, in `after` mode it goes out at once and the review is queued.
import type { Usage } from '../canonical/types.ts';

export type ReviewMode = 'hold' | 'after';
/** pending → approved | edited | rejected | expired; a decided review never changes again. */
export type ReviewStatus = 'pending' | 'approved' | 'edited' | 'rejected' | 'expired';
/** What a held review that nobody decided in time becomes. */
export type TimeoutPolicy = 'release' | 'reject' | 'pro';

export interface ReviewRow {
  /** `rev_…`, as in `Location: /v1/reviews/{id}`. */
  id: string;
  requestId: string;
  keyId: string;
  projectId: string | null;
  mode: ReviewMode;
  status: ReviewStatus;
  /** The rule's name (`metadata` for the built-in one). */
  rule: string;
  /** Why the request is under review, for the reviewer. */
  reason: string;
  /** The inbound endpoint (`/v1/chat/completions`, `/v1/messages`, `/v1/responses`): the answer is rendered in its format. */
  endpoint: string;
  stream: boolean;
  /** The model that answered. */
  model: string;
  /** The budget reservation a held review keeps open until it is decided or expires. */
  reservationId: string | null;
  onTimeout: TimeoutPolicy;
  /** The client's body (JSON text), under the key's body policy (redacted where it redacts). */
  request: string;
  /** The model's answer as a canonical response (JSON text of CanonicalResponse). */
  answer: string;
  /** The answer released to the client (canonical JSON), once decided: the answer, an edit, or the pro tier's. */
  finalAnswer: string | null;
  usage: Usage;
  costUsd: number;
  createdAt: string;
  /** When a pending review times out (its rule's timeout from createdAt). */
  expiresAt: string;
  decidedAt: string | null;
  /** The reviewer: `<key id> (<key name>)`, or `timeout` for an expiry. */
  decidedBy: string | null;
  decisionReason: string | null;
  /** The reviewer's replacement text (edit). */
  editedText: string | null;
}

/** What a decision writes; applied only while the review is pending. */
export interface ReviewDecisionPatch {
  status: Exclude<ReviewStatus, 'pending'>;
  decidedAt: string;
  decidedBy: string;
  decisionReason: string | null;
  editedText: string | null;
  finalAnswer: string | null;
  /** Set when deciding changed what the request cost (a timeout routed to the pro tier). */
  usage?: Usage;
  costUsd?: number;
  model?: string;
}

export interface ReviewQuery {
  status?: ReviewStatus;
  keyId?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface ReviewPage {
  rows: ReviewRow[];
  nextCursor: string | null;
}

/** The store's part: reviews survive a restart (SQLite and PostgreSQL). */
export interface ReviewStore {
  /** Committed (durable) when it resolves. */
  insertReview(row: ReviewRow): Promise<void>;
  getReview(id: string): Promise<ReviewRow | undefined>;
  /** Newest first (created_at, id), keyset-paged. */
  listReviews(query: ReviewQuery): Promise<ReviewPage>;
  /** Applies the patch only if the review is still pending (atomic); the updated row, or undefined when it was not pending or does not exist. */
  decideReview(id: string, patch: ReviewDecisionPatch): Promise<ReviewRow | undefined>;
  /** Pending `hold` reviews whose expiresAt <= `now` (ISO), oldest first, at most `limit`. */
  dueReviews(now: string, limit: number): Promise<ReviewRow[]>;
  /**
   * Claim a due review for the sweeper that will expire it: its expiry moves to `until` if
   * it is still pending and due at `now`. true for exactly one of several claimants; a
   * claimant that dies lets the review fall due again at `until`.
   */
  leaseReview(id: string, now: string, until: string): Promise<boolean>;
  /** Reservation ids of pending `hold` reviews: reconciliation leaves these open. */
  heldReservationIds(): Promise<string[]>;
}

/** Roles a virtual key may carry for the admin API; the master key is an admin. */
export type KeyRole = 'admin' | 'reviewer' | 'viewer';

/** Who decided, as the admin API established it. */
export interface Reviewer {
  keyId: string;
  name: string;
  role: KeyRole;
}

export type Decision =
  | { action: 'approve'; reason?: string }
  | { action: 'edit'; text: string; reason?: string }
  | { action: 'reject'; reason: string };

/** The reviewers' side, as the admin API and the CLI reach it (src/review/desk.ts). */
export interface ReviewDesk {
  list(query: ReviewQuery): Promise<{ data: object[]; next_cursor: string | null }>;
  /** The review as the admin API shows it; throws a 404 GatewayError when unknown. */
  get(id: string): Promise<object>;
  /** Throws 404 when unknown, 409 (`review_already_decided`) when it was decided before. */
  decide(id: string, decision: Decision, reviewer: Reviewer): Promise<object>;
}
