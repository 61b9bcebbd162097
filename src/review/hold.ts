// Review around the model call, as the outermost wrapper (src/invoke.ts): a request a
// rule could put under review has its whole answer read first (nothing reaches the
// client), then, if a rule applies:
//   after — the review is stored and the answer goes out at once (a stream that only an
//           `after` rule applies to is not read first: it streams as it comes, and is
//           queued from what the client got);
//   hold  — the review is stored with the answer, and the request waits for the
//           decision (a stream gets its SSE head and keep-alive comments meanwhile), or,
//           with `Prefer: respond-async`, is answered 202 with the review's URL.
// Once held, the review owns the request's budget reservation: it is settled when the
// review is decided or expires, even if the client left or the gateway restarted.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, invalidField } from '../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, Usage } from '../canonical/types.ts';
import { spentOn } from '../account.ts';
import type { CallResult, CallState } from '../call-state.ts';
import type { Gateway } from '../gateway.ts';
import type { Invoke, InvokeWrapper, ModelCall, Outcome } from '../invoke.ts';
import { newId } from '../keys/secret.ts';
import { buffered } from '../router/judge.ts';
import type { Admitted } from '../services.ts';
import { askedMode, ruleOnAnswer, rulesBefore, type RulesBefore } from './rules.ts';
import type { ReviewMode, ReviewRow } from './types.ts';
import type { ReviewService } from './service.ts';

type Answered = Extract<Outcome, { kind: 'response' }>;
type Match = NonNullable<RulesBefore['matched']>;

/** What the review wrapper needs of one request (ModelCall.review). */
export interface ReviewContext {
  before: RulesBefore;
  /** Put the answer under review: what the client gets now (or, held, once decided). */
  review(match: Match, outcome: Answered): Promise<Outcome>;
}

export function withReview(): InvokeWrapper {
  // Not async on the way through: a call no rule reviews costs no extra promise.
  return (next) => (call) => (call.review ? reviewed(next, call, call.review) : next(call));
}

async function reviewed(next: Invoke, call: ModelCall, review: NonNullable<ModelCall['review']>): Promise<Outcome> {
  const outcome = await next(buffered(call));
  if (outcome.kind !== 'response') return outcome;
  const match = ruleOnAnswer(review.before, outcome.response, outcome.notes);
  return match ? review.review(match, outcome) : outcome;
}

/**
 * The review the request asks for itself (`metadata.review` or `x-switchyard-review`),
 * taken out of what goes upstream: it is the gateway's instruction, not the provider's.
 */
export function askedReview(headers: IncomingHttpHeaders, body: Record<string, unknown>, request: CanonicalRequest): ReviewMode | undefined {
  const metadata = body.metadata;
  let fromBody: unknown;
  if (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) && 'review' in metadata) {
    const { review, ...rest } = metadata as Record<string, unknown>;
    fromBody = review;
    if (Object.keys(rest).length > 0) body.metadata = rest;
    else delete body.metadata;
    if (request.metadata) {
      const { review: _, ...left } = request.metadata;
      request.metadata = Object.keys(left).length > 0 ? left : undefined;
    }
  }
  const header = headers['x-switchyard-review'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const asked = askedMode(fromBody) ?? askedMode(fromHeader);
  if (asked === 'invalid') throw invalidField(fromBody !== undefined ? 'metadata.review' : 'x-switchyard-review', '"hold" or "after"', fromBody ?? fromHeader);
  const other = fromBody !== undefined ? askedMode(fromHeader) : undefined;
  if (other === 'invalid') throw invalidField('x-switchyard-review', '"hold" or "after"', fromHeader);
  return asked === 'hold' || other === 'hold' ? 'hold' : asked;
}

/** The review context of a request, or undefined when no rule can apply to it. */
export function reviewContext(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, asked: ReviewMode | undefined): ReviewContext | undefined {
  const service = gateway.reviews;
  if (!service || (!asked && service.settings.rules.length === 0) || state.api.endpoint === 'embeddings') return undefined;
  const route = state.route!;
  const before = rulesBefore(service.settings, {
    principal: state.principal!, route: route.auto?.spec.name, tier: route.auto?.tier ?? route.model.tier, model: route.model, metadata: request.metadata,
  }, asked);
  if (!before.matched && before.onAnswer.length === 0) return undefined;
  if (request.stream && before.matched?.rule.mode === 'after' && before.onAnswer.length === 0) {
    // Nothing waits on this answer: it streams as it comes, and is queued from what the client got.
    const id = newId('rev');
    state.res.setHeader('x-switchyard-review-id', id);
    state.captureAnswer = true;
    state.reviewAfterStream = { id, open: (result) => openAfterStream(gateway, service, state, request, body, before.matched!, id, result) };
    return undefined;
  }
  return { before, review: (match, outcome) => openReview(gateway, service, state, request, body, match, outcome) };
}

/** The review of a streamed `after` answer, from the answer as the client got it. */
async function openAfterStream(gateway: Gateway, service: ReviewService, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, match: Match, id: string, result: CallResult): Promise<void> {
  if (result.status !== 200 || !result.model) return;
  const captured = result.answer ?? {};
  const content: CanonicalResponse['content'] = [{ type: 'text', text: captured.text ?? '' }];
  (captured.toolCalls ?? []).forEach((call, i) => content.push({ type: 'tool_call', id: `call_${i}`, name: call.name, arguments: call.arguments }));
  const response: CanonicalResponse = { id: state.requestId, model: result.model.id, created: Math.floor(Date.now() / 1000), content, finishReason: 'stop', usage: result.usage };
  const row = reviewRow(gateway, state, request, body, match, id, result.model.id, storedAnswer(gateway, state, response), { usage: result.usage, costUsd: result.costUsd });
  await service.open(row).catch((error) => gateway.log.error({ requestId: state.requestId, review: id, err: error }, 'could not queue a streamed answer for review'));
}

function reviewRow(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, match: Match, id: string, model: string, answer: CanonicalResponse, spent: { usage: Usage; costUsd: number }): ReviewRow {
  const { rule, reason } = match;
  const now = Date.now();
  return {
    id,
    requestId: state.requestId,
    keyId: state.principal!.keyId,
    projectId: state.principal!.projectId ?? null,
    mode: rule.mode,
    status: 'pending',
    rule: rule.name,
    reason: reason.slice(0, 1000),
    endpoint: state.api.endpoint,
    stream: request.stream,
    model,
    reservationId: rule.mode === 'hold' ? reservationIdOf(state.admitted) : null,
    onTimeout: rule.onTimeout,
    request: storedRequest(gateway, state, body),
    answer: JSON.stringify(answer),
    finalAnswer: null,
    usage: spent.usage,
    costUsd: spent.costUsd,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + rule.timeoutMs).toISOString(),
    decidedAt: null, decidedBy: null, decisionReason: null, editedText: null,
  };
}

async function openReview(gateway: Gateway, service: ReviewService, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, match: Match, outcome: Answered): Promise<Outcome> {
  const { rule, reason } = match;
  const whole = { ...outcome.response, usage: outcome.usage };
  // A held answer is kept whole: it is what the client gets once approved.
  const row = reviewRow(gateway, state, request, body, match, newId('rev'), outcome.model.id, rule.mode === 'hold' ? whole : storedAnswer(gateway, state, whole), spentOn(outcome));
  state.res.setHeader('x-switchyard-review-id', row.id);
  if (rule.mode === 'after') {
    await service.open(row);
    return { ...outcome, notes: { ...outcome.notes, review: `queued for review (${row.id}, after): ${reason}` } };
  }
  state.heldByReview = true;
  await service.open(row, state.admitted);
  if (wantsAsync(state.req.headers)) return { ...outcome, kind: 'held', review: row };
  return waitForDecision(service, state, request, row, outcome);
}

async function waitForDecision(service: ReviewService, state: CallState, request: CanonicalRequest, row: ReviewRow, outcome: Answered): Promise<Outcome> {
  const { res } = state;
  let keepalive: NodeJS.Timeout | undefined;
  if (request.stream) {
    // SSE allows comment lines: proxies see bytes, and clients skip them.
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.write(`: held for review ${row.id}\n\n`);
    keepalive = setInterval(() => { res.write(': review pending\n\n'); }, service.settings.keepaliveMs);
  }
  let decided: ReviewRow;
  try {
    decided = await service.wait(row.id, state.signal);
  } catch (err) {
    // The client left (the review goes on, the reservation with it) or the gateway is stopping.
    const error = err instanceof GatewayError ? err : new GatewayError({ status: 499, type: 'invalid_request_error', code: 'client_closed', message: 'The client closed the connection while the answer was held for review.' });
    endStreamWith(state, request, outcome, error);
    return { ...outcome, kind: 'failed', error, usage: outcome.usage };
  } finally {
    clearInterval(keepalive);
  }
  const notes = { ...outcome.notes, review: `${decided.status} by ${decided.decidedBy ?? 'unknown'} (${row.id})` };
  if (decided.finalAnswer) {
    const response = JSON.parse(decided.finalAnswer) as CanonicalResponse;
    return { ...outcome, response, notes };
  }
  const error = reviewRefused(decided);
  endStreamWith(state, request, outcome, error);
  return { ...outcome, kind: 'failed', error, usage: outcome.usage, notes };
}

/** A held stream whose head went out ends with the error as an event of its own format (the SDKs raise it). */
function endStreamWith(state: CallState, request: CanonicalRequest, outcome: Answered, error: GatewayError): void {
  const { res } = state;
  if (!res.headersSent || res.writableEnded || res.destroyed) return;
  res.write(state.api.encoder(request, outcome.model.id, {}).encode({ type: 'error', error }));
  res.end();
}

/** The error a client gets for a rejected review, or one that expired under `on_timeout: reject`. */
export function reviewRefused(row: ReviewRow): GatewayError {
  if (row.status === 'expired') {
    return new GatewayError({
      status: 403, type: 'permission_error', code: 'review_expired',
      message: `The answer was held for review (${row.id}) and nobody decided before ${row.expiresAt}; its rule rejects it then. ${row.decisionReason ?? ''}`.trim(),
      headers: { 'x-should-retry': 'false' },
    });
  }
  return new GatewayError({
    status: 403, type: 'permission_error', code: 'review_rejected',
    message: `review_rejected: a reviewer rejected the answer (${row.id}): ${row.decisionReason ?? 'no reason given'}`,
    headers: { 'x-should-retry': 'false' },
  });
}

function wantsAsync(headers: IncomingHttpHeaders): boolean {
  const prefer = headers.prefer;
  return typeof prefer === 'string' && /(^|[,;\s])respond-async\b/i.test(prefer);
}

/** The client's body for the reviewer: redacted where the key's body policy redacts, the gateway's own secrets masked always. */
function storedRequest(gateway: Gateway, state: CallState, body: Record<string, unknown>): string {
  if (state.bodyPolicy === 'redacted') return gateway.bodies.keep('redacted', body, undefined).request;
  return gateway.masker.mask(JSON.stringify(body));
}

/** An after-mode answer has reached the client already: it is kept under the body policy, like the request log's. */
function storedAnswer(gateway: Gateway, state: CallState, answer: CanonicalResponse): CanonicalResponse {
  if (state.bodyPolicy !== 'redacted') return answer;
  const kept = gateway.bodies.keep('redacted', answer, undefined).request;
  try {
    return JSON.parse(kept) as CanonicalResponse;
  } catch {
    return { ...answer, content: [{ type: 'text', text: '[answer not kept: too large for the body policy]' }] };
  }
}

function reservationIdOf(admitted: Admitted | undefined): string | null {
  const id = (admitted as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : null;
}
