// The reviewers' desk: list, show and decide reviews, as the admin API and the CLI
// call it. A decision is one conditional write (only a pending review changes), so
// two reviewers — or a reviewer and a timeout — never both decide one review; the
// loser gets 409. The process holding the request sees the decision (told at once when
// it decided here, else by polling the store) and releases the answer.
import { GatewayError } from '../canonical/errors.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import type { Decision, ReviewDecisionPatch, ReviewDesk, ReviewQuery, ReviewRow, ReviewStatus, ReviewStore, Reviewer } from './types.ts';
import { editedAnswer, reviewView } from './view.ts';

export interface ReviewDeskOptions {
  store: ReviewStore;
  /** Called after each decision made here (wakes the waiting request, fires the webhook). */
  onDecided?: (row: ReviewRow) => void;
}

const STATUSES: readonly ReviewStatus[] = ['pending', 'approved', 'edited', 'rejected', 'expired'];
const MAX_EDIT_CHARS = 1_000_000;
const MAX_REASON_CHARS = 2_000;

export function createReviewDesk(options: ReviewDeskOptions): ReviewDesk {
  const { store } = options;
  const find = async (id: string) => {
    const row = await store.getReview(id);
    if (!row) throw reviewNotFound(id);
    return row;
  };
  return {
    async list(query) {
      const page = await store.listReviews(checkQuery(query));
      return { data: page.rows.map(reviewView), next_cursor: page.nextCursor };
    },
    async get(id) {
      return reviewView(await find(id));
    },
    async decide(id, decision, reviewer) {
      const row = await find(id);
      if (row.status !== 'pending') throw alreadyDecided(row);
      const decided = await store.decideReview(id, decisionPatch(row, checkDecision(decision), reviewer));
      if (!decided) throw alreadyDecided((await store.getReview(id)) ?? row);
      options.onDecided?.(decided);
      return reviewView(decided);
    },
  };
}

function decisionPatch(row: ReviewRow, decision: Decision, reviewer: Reviewer): ReviewDecisionPatch {
  const base = { decidedAt: new Date().toISOString(), decidedBy: `${reviewer.keyId} (${reviewer.name})`, decisionReason: decision.reason?.trim() || null };
  switch (decision.action) {
    case 'approve':
      return { ...base, status: 'approved', editedText: null, finalAnswer: row.answer };
    case 'edit': {
      const answer = JSON.parse(row.answer) as CanonicalResponse;
      return { ...base, status: 'edited', editedText: decision.text, finalAnswer: JSON.stringify(editedAnswer(answer, decision.text)) };
    }
    case 'reject':
      return { ...base, status: 'rejected', editedText: null, finalAnswer: null };
  }
}

function checkDecision(decision: Decision): Decision {
  if (decision.reason !== undefined && (typeof decision.reason !== 'string' || decision.reason.length > MAX_REASON_CHARS)) {
    throw invalid(`'reason' must be a string of at most ${MAX_REASON_CHARS} characters.`, 'reason');
  }
  if (decision.action === 'edit' && (typeof decision.text !== 'string' || decision.text.length === 0 || decision.text.length > MAX_EDIT_CHARS)) {
    throw invalid(`An edit needs 'text': the answer the client gets instead, a non-empty string of at most ${MAX_EDIT_CHARS} characters.`, 'text');
  }
  if (decision.action === 'reject' && (typeof decision.reason !== 'string' || decision.reason.trim() === '')) {
    throw invalid("A rejection needs a 'reason': the client's error carries it.", 'reason');
  }
  return decision;
}

function checkQuery(query: ReviewQuery): ReviewQuery {
  if (query.status !== undefined && !STATUSES.includes(query.status)) {
    throw invalid(`Unknown review status '${String(query.status).slice(0, 40)}': use one of ${STATUSES.join(', ')}.`, 'status');
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500) throw invalid("'limit' must be an integer from 1 to 500.", 'limit');
  return query;
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError({ status: 400, type: 'invalid_request_error', code: 'invalid_value', message, param });
}

export function reviewNotFound(id: string): GatewayError {
  return new GatewayError({ status: 404, type: 'invalid_request_error', code: 'review_not_found', message: `No review '${id.slice(0, 80)}' exists on this gateway (or it belongs to another key). Use the id of the 202 answer or of the x-switchyard-review-id header; GET /admin/reviews lists them all.`, param: 'id' });
}

function alreadyDecided(row: ReviewRow): GatewayError {
  return new GatewayError({
    status: 409, type: 'invalid_request_error', code: 'review_already_decided',
    message: `Review ${row.id} was already decided: ${row.status}${row.decidedBy ? ` by ${row.decidedBy}` : ''}${row.decidedAt ? ` at ${row.decidedAt}` : ''}. A decided review cannot be decided again.`,
  });
}
