// The gateway's side of review: open reviews, hold requests until their decision,
// expire them by their rule's policy, call webhooks, and settle a held request's budget
// reservation once it is decided. A decision made in this process (admin API, expiry)
// wakes the waiting request at once; one made elsewhere (another gateway, the CLI on
// the store) is seen by polling the store while this process holds reviews.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import { GatewayError } from '../canonical/errors.ts';
import type { CanonicalResponse, Usage } from '../canonical/types.ts';
import { toUnits } from '../budget/money.ts';
import { sumUsage } from '../account.ts';
import type { Admitted } from '../services.ts';
import type { Store } from '../store/types.ts';
import type { ReviewRule, ReviewSettings } from './rules.ts';
import type { ReviewDecisionPatch, ReviewRow } from './types.ts';
import { reviewView } from './view.ts';

/** The pro tier's answer to a held request whose review timed out with `on_timeout: pro`. */
export type ProCall = (row: ReviewRow) => Promise<{ response: CanonicalResponse; usage: Usage; costUsd: number; model: string }>;

export interface ReviewServiceOptions {
  store: Store;
  settings: ReviewSettings;
  log: Logger;
  callPro?: ProCall;
  /** Log the pro tier's call on an expired review as a request row of its own (so usage and spend agree). */
  recordPro?: (row: ReviewRow, answer: Awaited<ReturnType<ProCall>>, latencyMs: number) => void;
  /** Settle a reservation taken by a process that has stopped (AccessAdmission.settleAdopted). */
  settleAdopted: (reservationId: string, costUnits: number) => Promise<boolean>;
  /** Counts reviews opened and decided (src/observability/metrics.ts). */
  metrics?: { observeReview(mode: string, rule: string): void; observeReviewDecision(status: string): void };
  /** How often due reviews and decisions made elsewhere are looked for (default 1 s). */
  sweepMs?: number;
}

interface Held {
  admitted?: Admitted;
  waiters: Array<(row: ReviewRow) => void>;
}

const SWEEP_BATCH = 50;
/** How long a claim on a due review lasts: a sweeper that died while expiring it is replaced after this. */
const EXPIRY_LEASE_MS = 15 * 60_000;

export class ReviewService {
  readonly settings: ReviewSettings;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly callPro?: ProCall;
  private readonly settleAdopted: ReviewServiceOptions['settleAdopted'];
  private readonly recordPro?: ReviewServiceOptions['recordPro'];
  private readonly metrics?: ReviewServiceOptions['metrics'];
  private readonly held = new Map<string, Held>();
  private readonly timer: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private closed = false;
  private draining = false;

  constructor(options: ReviewServiceOptions) {
    this.store = options.store;
    this.settings = options.settings;
    this.log = options.log;
    this.callPro = options.callPro;
    this.settleAdopted = options.settleAdopted;
    this.recordPro = options.recordPro;
    this.metrics = options.metrics;
    this.timer = setInterval(() => { this.sweep(); }, options.sweepMs ?? 1000);
    this.timer.unref();
  }

  /** Store a new review (durable when it resolves); a held one keeps `admitted` until it is decided. */
  async open(row: ReviewRow, admitted?: Admitted): Promise<void> {
    await this.store.insertReview(row);
    if (row.mode === 'hold') this.held.set(row.id, { admitted, waiters: [] });
    this.metrics?.observeReview(row.mode, row.rule);
    this.log.info({ review: row.id, requestId: row.requestId, mode: row.mode, rule: row.rule }, 'request under review');
  }

  find(id: string): Promise<ReviewRow | undefined> {
    return this.store.getReview(id);
  }

  /** The decided review; rejects with 503 when the gateway shuts down first (the review stays, fetch it by id). */
  wait(id: string, signal: AbortSignal): Promise<ReviewRow> {
    if (this.draining) return Promise.reject(shuttingDown(id));
    const held = this.held.get(id);
    if (!held) return this.store.getReview(id).then((row) => row ?? Promise.reject(new Error(`review ${id} vanished`)));
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      held.waiters.push((row) => {
        signal.removeEventListener('abort', onAbort);
        if (row.status === 'pending') reject(shuttingDown(id));
        else resolve(row);
      });
    });
  }

  /** A decision was made here (the admin API): settle, wake, notify. */
  decidedHere(row: ReviewRow): void {
    this.metrics?.observeReviewDecision(row.status);
    this.settleAndWake(row);
    this.notify(row);
  }

  /**
   * The gateway is draining: waiting clients get a 503 naming their review at once (a
   * hold may last days; a drain cannot), and so does any request held from now on. The
   * reviews and their reservations stay for whoever decides them.
   */
  stopWaiting(): void {
    this.draining = true;
    for (const [, held] of this.held) for (const wake of held.waiters.splice(0)) wake({ status: 'pending' } as ReviewRow);
  }

  async close(): Promise<void> {
    this.stopWaiting();
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping;
  }

  private sweep(): void {
    if (this.sweeping || this.closed) return;
    this.sweeping = this.sweepOnce()
      .catch((error) => this.log.error({ err: error }, 'review sweep failed'))
      .finally(() => { this.sweeping = undefined; });
  }

  private async sweepOnce(): Promise<void> {
    for (const row of await this.store.dueReviews(new Date().toISOString(), SWEEP_BATCH)) await this.expire(row);
    for (const id of [...this.held.keys()]) {
      const row = await this.store.getReview(id);
      if (row && row.status !== 'pending') this.settleAndWake(row);
    }
  }

  private async expire(row: ReviewRow): Promise<void> {
    // Claimed first: of several gateways sweeping, one expires it — and calls the pro tier, once.
    const now = Date.now();
    if (!(await this.store.leaseReview(row.id, new Date(now).toISOString(), new Date(now + EXPIRY_LEASE_MS).toISOString()))) return;
    const rule = this.ruleOf(row.rule);
    const patch: ReviewDecisionPatch = {
      status: 'expired', decidedAt: new Date().toISOString(), decidedBy: 'timeout', editedText: null, finalAnswer: null,
      decisionReason: `not decided within the rule's timeout; on_timeout: ${row.onTimeout}`,
    };
    if (row.onTimeout === 'release') patch.finalAnswer = row.answer;
    if (row.onTimeout === 'pro') {
      const pro = this.callPro;
      if (!pro) patch.decisionReason += ' (no pro-tier model can be called: rejected)';
      else {
        try {
          const startedAt = performance.now();
          const answer = await pro(row);
          this.recordPro?.(row, answer, performance.now() - startedAt);
          patch.finalAnswer = JSON.stringify(answer.response);
          patch.usage = sumUsage(row.usage, answer.usage);
          patch.costUsd = row.costUsd + answer.costUsd;
          patch.model = answer.model;
          patch.decisionReason += ` (answered by ${answer.model})`;
        } catch (error) {
          this.log.warn({ review: row.id, err: error }, 'the pro tier failed on an expired review; it is rejected');
          patch.decisionReason += ` (the pro tier failed: ${error instanceof GatewayError ? error.code : 'error'}; rejected)`;
        }
      }
    }
    const decided = await this.store.decideReview(row.id, patch);
    if (!decided) return;
    this.log.info({ review: row.id, onTimeout: row.onTimeout, rule: rule?.name }, 'review expired');
    this.metrics?.observeReviewDecision(decided.status);
    this.settleAndWake(decided);
    this.notify(decided);
  }

  private settleAndWake(row: ReviewRow): void {
    const held = this.held.get(row.id);
    this.held.delete(row.id);
    if (row.mode === 'hold') this.settle(row, held?.admitted);
    for (const wake of held?.waiters.splice(0) ?? []) wake(row);
  }

  /** The reservation closes at what the request cost: the model was called whatever the decision. */
  private settle(row: ReviewRow, admitted: Admitted | undefined): void {
    if (admitted) return admitted.settle(row.usage, row.costUsd);
    // Held by a process that stopped: the reservation is still open in the store.
    if (!row.reservationId) return;
    this.settleAdopted(row.reservationId, toUnits(row.costUsd))
      .catch((error) => this.log.error({ review: row.id, err: error }, 'settling a reviewed request failed'));
  }

  private ruleOf(name: string): ReviewRule | undefined {
    return this.settings.rules.find((rule) => rule.name === name);
  }

  private notify(row: ReviewRow): void {
    const hook = row.rule === 'metadata' ? this.settings.defaults.webhook : this.ruleOf(row.rule)?.webhook;
    if (!hook) return;
    const body = JSON.stringify({ type: 'review.decided', review: reviewView(row) });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-switchyard-timestamp': timestamp };
    if (hook.secret) headers['x-switchyard-signature'] = `sha256=${createHmac('sha256', hook.secret).update(`${timestamp}.${body}`).digest('hex')}`;
    request(hook.url, { method: 'POST', headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode >= 300) this.log.warn({ review: row.id, status: response.statusCode }, 'review webhook refused the call');
      })
      .catch((error) => this.log.warn({ review: row.id, err: (error as Error).message }, 'review webhook failed'));
  }
}

function shuttingDown(id: string): GatewayError {
  return new GatewayError({
    status: 503, type: 'server_error', code: 'gateway_restarting',
    message: `The gateway is shutting down while review ${id} is pending. The review is kept: fetch the decided answer with GET /v1/reviews/${id} (the model is not called again).`,
    headers: { 'x-should-retry': 'false' },
  });
}
