// Admission: the checks between authentication and the upstream call, in order —
// allowed models (403), output cap (clamp, default, or 400), rate limits (429 + Retry-After), then a
// reservation of the worst-case cost on every budget that applies (key, key × model,
// project, global), all or none. The reservation row is committed to the store before
// admit() resolves, so a crash after it is reconciled at the next start. settle() and
// release() are idempotent: whatever the pipeline calls, a reservation closes once.
import { GatewayError } from '../canonical/errors.ts';
import { newRequestId } from '../http/request-id.ts';
import type { Usage } from '../canonical/types.ts';
import { roundUsd } from '../catalog/cost.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { KeyDirectory } from '../keys/directory.ts';
import { DEFAULT_OUTAGE_POLICY, type BudgetOutcome, type Counters, type MaybePromise, type OutagePolicy, type RateOutcome, type Seeder } from '../limits/counters.ts';
import { decideOutputCap, effectiveCap, type ModelOutputCap, type OutputCapDecision } from '../limits/output-cap.ts';
import { matchesAny, matchesPattern } from '../limits/patterns.ts';
import { planRates, rateHeaders, rateLimitError, type RatePlan } from '../limits/rate-plan.ts';
import { errorText, type Logger } from '../ledger/logger.ts';
import type { Admission, Admitted, CostEstimate, Principal, RowSettlement } from '../services.ts';
import { isValidCost, settlementUnits } from '../store/sanitize.ts';
import type { OutputCapPolicy, RateLimits, ReservationRow, Store } from '../store/types.ts';
import type { SpendAlerts } from './alerts.ts';
import { toUnits } from './money.ts';
import { localDay } from './periods.ts';
import { budgetExceeded, chargeWindow, chargesOf, counterKey, planBudgets, type BudgetPlan } from './plan.ts';

/** What the pipeline knows about the request, kept on the reservation (for reconciliation). */
export interface AdmitContext {
  requestId?: string;
  endpoint?: string;
  /** The named route (`auto`, `auto:cheap`) the model was chosen by, if any. */
  route?: string;
  /** The max_tokens the client sent (null: none). Without it, an estimate at the model's maximum counts as none. */
  requestedMaxOutputTokens?: number | null;
}

export interface AccessAdmissionOptions {
  store: Store;
  counters: Counters;
  directory: KeyDirectory;
  alerts: SpendAlerts;
  log: Logger;
  /** This process, as owner of its reservations. */
  instanceId: string;
  timezone: string;
  /** Patterns test keys are confined to (`gpt-5.4-nano`, `tier:mini`, `provider:ollama`); unset = no confinement. */
  testKeyModels?: string[];
  /** Gateway-wide limits per model pattern. */
  modelRateLimits?: Record<string, RateLimits>;
  /** Gateway-wide output caps per model pattern. */
  modelOutputCaps?: Record<string, ModelOutputCap>;
  /** The models of the catalog, to list in a 403 which ones a key may use. */
  catalog?: () => readonly ModelInfo[];
  /** When the counters (Redis) are unreachable: default budgets fail_closed, rate limits fail_open. */
  outagePolicy?: Partial<OutagePolicy>;
}

/** A concern of the counters an outage policy applies to, as named in config and metrics. */
export type OutageConcern = 'budgets' | 'rate_limits';

const DOWN_LOG_MS = 10_000;
const NO_RATES: RatePlan = { rates: [], slots: [], rateLabels: [], slotLabels: [] };

export class AccessAdmission implements Admission {
  readonly options: AccessAdmissionOptions;
  private readonly background = new Set<Promise<unknown>>();
  private readonly outage: OutagePolicy;
  /** Requests that met the counters down, per concern, let through (open) or refused (closed), since start. */
  private readonly downCounts: Record<OutageConcern, { open: number; closed: number }> = { budgets: { open: 0, closed: 0 }, rate_limits: { open: 0, closed: 0 } };
  /** Per concern: when the last outage line was logged, and the count then. */
  private readonly downLogged: Record<OutageConcern, { at: number; count: number }> = { budgets: { at: 0, count: 0 }, rate_limits: { at: 0, count: 0 } };

  constructor(options: AccessAdmissionOptions) {
    this.options = options;
    this.outage = { ...DEFAULT_OUTAGE_POLICY, ...options.outagePolicy };
  }

  /** Requests admitted without their counters because Redis was down (fail_open), per concern. */
  failOpenCounts(): Record<OutageConcern, number> {
    return { budgets: this.downCounts.budgets.open, rate_limits: this.downCounts.rate_limits.open };
  }

  async admit(principal: Principal, model: ModelInfo, estimate: CostEstimate, context?: AdmitContext): Promise<AccessAdmitted> {
    const { counters, directory, timezone } = this.options;
    const found = directory.policyFor(principal);
    const policy = found instanceof Promise ? await found : found;
    if (!this.isModelAllowed(principal, model, context?.route)) throw this.modelForbidden(principal, model);
    const output = this.capFor(principal, policy.row?.maxOutputTokens, model, estimate, context);
    const maxOutputTokens = output.decision.maxOutputTokens;
    const single = worstCaseWithCacheWrites(estimate.inputTokens, maxOutputTokens, model);
    const worstUsd = estimate.worstCaseFor
      ? Math.max(estimate.worstCaseFor(maxOutputTokens), single)
      : maxOutputTokens === estimate.maxOutputTokens ? Math.max(estimate.worstCaseUsd, single) : single;
    const units = toUnits(worstUsd);
    const now = Date.now();
    // Unique as request ids are (time, sequence, 64 random bits), without a UUID's cost.
    const id = `res_${newRequestId(now).slice(4)}`;
    let rates = planRates(principal.keyId, principal.name, policy.row?.rateLimits, model, this.options.modelRateLimits, estimate.inputTokens + maxOutputTokens);
    let headers: Record<string, string> = {};
    if (rates.rates.length > 0 || rates.slots.length > 0) {
      let outcome: RateOutcome | null;
      try {
        const taken = counters.take(id, rates.rates, rates.slots, now);
        outcome = taken instanceof Promise ? await taken : taken;
      } catch (error) {
        const refusal = this.countersDown('rate_limits', error);
        if (refusal) throw refusal;
        outcome = null;
      }
      if (!outcome) rates = NO_RATES; // failed open: nothing taken, so nothing to return or adjust
      else if (!outcome.ok) throw rateLimitError(rates, outcome);
      else headers = rateHeaders(rates, outcome);
    }

    const budgets = planBudgets(policy.budgets, model, units, now, timezone);
    if (budgets.charges.length > 0) {
      // Failed open, the reservation is still stored with its charges: once Redis is back,
      // the counters are seeded again from the store and count it.
      let outcome: BudgetOutcome | null;
      try {
        const reserved = counters.reserve(budgets.charges, this.seeder(budgets));
        outcome = reserved instanceof Promise ? await reserved : reserved;
      } catch (error) {
        // A GatewayError is the store's (seeding the counters), not the counters' own outage.
        const refusal = error instanceof GatewayError ? error : this.countersDown('budgets', error);
        if (refusal) {
          this.returnRates(id, rates, now);
          throw refusal;
        }
        outcome = null;
      }
      if (outcome && !outcome.ok) {
        this.returnRates(id, rates, now);
        throw budgetExceeded({
          budget: budgets.budgets[outcome.index],
          window: budgets.windows[outcome.index],
          owner: ownerOf(budgets.budgets[outcome.index].scope, principal),
          settledUnits: outcome.settledUnits,
          reservedUnits: outcome.reservedUnits,
          requestUnits: units,
          timezone,
          headers,
        });
      }
    }

    const row: ReservationRow = {
      id,
      requestId: context?.requestId ?? null,
      owner: this.options.instanceId,
      keyId: principal.keyId,
      projectId: principal.projectId ?? null,
      model: model.id,
      endpoint: context?.endpoint ?? null,
      day: localDay(now, timezone),
      createdAt: new Date(now).toISOString(),
      reservedUnits: units,
      inputTokens: estimate.inputTokens,
      maxOutputTokens,
      charges: chargesOf(budgets),
      status: 'open',
    };
    try {
      await this.options.store.reserve(row);
    } catch (error) {
      this.returnRates(id, rates, now);
      if (budgets.charges.length > 0) this.track(() => counters.settle(id, budgets.charges, 0));
      this.options.log('error', 'reservation could not be stored', { reservation: id, error: errorText(error) });
      throw storeUnavailable(this.options.store);
    }
    const admitted = new AccessAdmitted(this, id, headers, rates, budgets, principal, now, units);
    if (output.changed) {
      admitted.outputCap = maxOutputTokens;
      if (output.note) admitted.warnings = [output.note];
    }
    return admitted;
  }

  /**
   * The output cap for this request. Whether the client set max_tokens comes from the
   * context; without it, an estimate at the model's own maximum is taken as "not set".
   */
  private capFor(principal: Principal, keyCaps: OutputCapPolicy | null | undefined, model: ModelInfo, estimate: CostEstimate, context: AdmitContext | undefined) {
    const cap = effectiveCap(model, keyCaps ?? principal.maxOutputTokens, this.options.modelOutputCaps);
    const requested = context && context.requestedMaxOutputTokens !== undefined
      ? context.requestedMaxOutputTokens ?? undefined
      : estimate.maxOutputTokens === model.maxOutputTokens ? undefined : estimate.maxOutputTokens;
    const param = context?.endpoint === 'responses' ? 'max_output_tokens' : 'max_tokens';
    const decision = decideOutputCap(model, cap, requested, param);
    const changed = decision.maxOutputTokens !== estimate.maxOutputTokens;
    return { decision, changed, note: decision.headers['x-switchyard-output-cap'] };
  }

  /** The max_tokens to send: the request's (clamped or refused above the cap) or the default. */
  outputCap(principal: Principal, model: ModelInfo, requested: number | undefined, param = 'max_tokens'): OutputCapDecision {
    const row = this.options.directory.cachedPolicy(principal.keyId)?.row;
    const cap = effectiveCap(model, row?.maxOutputTokens ?? principal.maxOutputTokens, this.options.modelOutputCaps);
    return decideOutputCap(model, cap, requested, param);
  }

  /**
   * May this principal use this model? Test keys are confined by config; a model chosen
   * by a route the key is explicitly allowed may be used even outside allowed_models.
   */
  isModelAllowed(principal: Principal, model: ModelInfo, route?: string): boolean {
    const confined = this.options.testKeyModels;
    if (principal.env === 'test' && confined && !matchesAny(confined, model)) return false;
    if (route) {
      const routes = this.options.directory.cachedPolicy(principal.keyId)?.row?.allowedRoutes;
      if (routes && routes.some((pattern) => matchesPattern(pattern, { id: route }))) return true;
    }
    return !principal.allowedModels || matchesAny(principal.allowedModels, model);
  }

  /** May this principal call this named route (`auto`, `auto:cheap`)? Keys without a list may call all. */
  isRouteAllowed(principal: Principal, route: string): boolean {
    const routes = this.options.directory.cachedPolicy(principal.keyId)?.row?.allowedRoutes;
    return !routes || routes.some((pattern) => matchesPattern(pattern, { id: route }));
  }

  /** Settlements still being written (counters, store); awaited at shutdown. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /**
   * Close an admission: book `costUsd`, correct token counts, free slots. Called once per
   * admission. `withRow`: the store write is left to the request row, which carries the
   * settlement returned here.
   */
  finish(admitted: AccessAdmitted, usage: Usage | null, costUsd: number, withRow = false): RowSettlement | undefined {
    const { counters, store, alerts } = this.options;
    let units = toUnits(costUsd);
    if (!isValidCost(costUsd)) {
      // A cost we cannot trust is billed as the reserved worst case, never as nothing.
      this.options.log('error', 'settled with an invalid cost; billing the reserved worst case', { reservation: admitted.id, cost: String(costUsd) });
      units = admitted.reservedUnits;
    }
    const { budgets, rates } = admitted;
    if (budgets.charges.length > 0) {
      const checkAlerts = (totals: number[] | null) => {
        if (!totals) return;
        for (let i = 0; i < totals.length; i++) {
          alerts.check(budgets.budgets[i], budgets.windows[i], ownerOf(budgets.budgets[i].scope, admitted.principal), totals[i], units);
        }
      };
      this.track(() => counters.settle(admitted.id, budgets.charges, units), checkAlerts);
    }
    if (rates.rates.length > 0) {
      const used = usage ? usage.inputTokens + usage.outputTokens : 0;
      const deltas = rates.rates.map((rate) => (rate.kind === 'tokens' ? used - rate.amount : 0));
      if (deltas.some((d) => d !== 0)) this.track(() => counters.adjust(rates.rates, admitted.takenAt, deltas));
    }
    if (rates.slots.length > 0) this.track(() => counters.freeSlots(admitted.id, rates.slots));
    const status = usage ? 'settled' : 'released';
    if (withRow) return { reservationId: admitted.id, status, units: settlementUnits(units) };
    this.track(() => store.finishReservation(admitted.id, status, units));
    return undefined;
  }

  /**
   * Settle a reservation this process did not take (a held review's, decided after the
   * process that held it stopped): closed in the store once, and its charges moved from
   * reserved to spent in the counters, which were seeded with it still open.
   */
  async settleAdopted(reservationId: string, costUnits: number): Promise<boolean> {
    const { store, counters } = this.options;
    await store.flush();
    const row = (await store.openReservations()).find((r) => r.id === reservationId);
    if (!row || !(await store.finishReservation(reservationId, 'settled', costUnits))) return false;
    const charges = row.charges.map((c) => ({ key: counterKey(c.budgetId, c.window), limitUnits: 0, units: c.units, hard: false, expiresAt: null }));
    if (charges.length > 0) await counters.settle(reservationId, charges, costUnits);
    return true;
  }

  private returnRates(id: string, rates: RatePlan, takenAt: number): void {
    if (rates.rates.length > 0) this.track(() => this.options.counters.adjust(rates.rates, takenAt, rates.rates.map((r) => -r.amount)));
    if (rates.slots.length > 0) this.track(() => this.options.counters.freeSlots(id, rates.slots));
  }

  /** A budget window's starting value: settled spend from the store, plus open reservations charged to it. */
  private seeder(plan: BudgetPlan): Seeder {
    return async (charge) => {
      const i = plan.charges.indexOf(charge);
      const budget = plan.budgets[i];
      const window = plan.windows[i];
      const booked = chargeWindow(budget, window);
      let settledUnits: number;
      let open: ReservationRow[];
      try {
        // Commit queued settlements first, so the spend read is complete.
        await this.options.store.flush();
        [settledUnits, open] = await Promise.all([
          this.options.store.spentUnits({ scope: budget.scope, scopeId: budget.scopeId, model: budget.model, fromDay: window.startDay, toDay: window.endDay }),
          this.options.store.openReservations(),
        ]);
      } catch (error) {
        this.options.log('error', 'a budget counter could not be seeded from the store', { budget: budget.id, error: errorText(error) });
        throw storeUnavailable(this.options.store);
      }
      let reservedUnits = 0;
      for (const reservation of open) {
        for (const c of reservation.charges) if (c.budgetId === budget.id && c.window === booked) reservedUnits += c.units;
      }
      return { settledUnits, reservedUnits };
    };
  }

  private modelForbidden(principal: Principal, model: ModelInfo): GatewayError {
    const catalog = this.options.catalog?.();
    const allowed = catalog
      ? catalog.filter((m) => this.isModelAllowed(principal, m)).map((m) => m.id)
      : [...(principal.allowedModels ?? ['all models'])];
    const shown = allowed.length > 30 ? `${allowed.slice(0, 30).join(', ')} and ${allowed.length - 30} more` : allowed.join(', ') || 'none';
    const confined = principal.env === 'test' && this.options.testKeyModels
      ? ` Test keys (sy_test_…) are confined to ${this.options.testKeyModels.join(', ')}; use a live key for other models.`
      : '';
    return new GatewayError({
      status: 403, type: 'permission_error', code: 'model_not_allowed', param: 'model',
      message: `Key '${principal.name}' (${principal.prefix}…) may not use model '${model.id}'. It may use: ${shown}.${confined}`,
    });
  }

  /**
   * The counters could not be reached for one concern: the 503 to refuse with (fail_closed),
   * or null to let the request through uncounted (fail_open). Either way one log line per
   * concern every 10 s (with how many requests since), and a count for the metrics.
   */
  private countersDown(concern: OutageConcern, error: unknown): GatewayError | null {
    const where = this.options.counters.location ?? 'the counter store';
    const what = concern === 'budgets' ? 'budgets' : 'rate limits';
    const failOpen = this.outage[concern === 'budgets' ? 'budgets' : 'rateLimits'] === 'fail_open';
    const n = ++this.downCounts[concern][failOpen ? 'open' : 'closed'];
    const logged = this.downLogged[concern];
    const now = Date.now();
    if (now - logged.at >= DOWN_LOG_MS) {
      this.options.log(failOpen ? 'warn' : 'error', failOpen
        ? `${where} is unreachable: ${what} are not enforced (store.redis_outage.${concern}: fail_open)`
        : `${where} is unreachable: refusing requests that need its ${what} (store.redis_outage.${concern}: fail_closed)`, {
        concern, requests: n - logged.count, error: errorText(error),
      });
      this.downLogged[concern] = { at: now, count: n };
    }
    if (failOpen) return null;
    return new GatewayError({
      status: 503, type: 'server_error', code: 'redis_unavailable',
      headers: { 'x-should-retry': 'true', 'retry-after': '1' },
      message: `Switchyard could not check this key's ${what}: ${where} is unreachable, and store.redis_outage.${concern} is fail_closed, so the request was not sent (nothing was charged). Retry shortly; if it persists, check that Redis is running and reachable from the gateway (store.redis_url)${concern === 'budgets' ? '' : ', or set store.redis_outage.rate_limits: fail_open to let requests through uncounted while it is down'}.`,
    });
  }

  /**
   * Run a counters or store write in the background: awaited at shutdown (drain), a failure
   * logged, `then` given its result. In-process counters answer at once: nothing to track.
   */
  private track<T>(write: () => MaybePromise<T>, then?: (value: T) => void): void {
    let result: MaybePromise<T>;
    try {
      result = write();
      if (!(result instanceof Promise)) return then?.(result);
    } catch (error) {
      return this.settleFailed(error);
    }
    const tracked = (then ? result.then(then) : result).catch(this.settleFailed).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private readonly settleFailed = (error: unknown): void => {
    this.options.log('error', 'settling an admission failed', { error: errorText(error) });
  };
}

export class AccessAdmitted implements Admitted {
  readonly id: string;
  readonly headers: Record<string, string>;
  /** The max_tokens to send, when admission changed it (clamped, or the key's default applied). */
  outputCap?: number;
  /** What admission changed, for the client (e.g. a clamped max_tokens). */
  warnings?: string[];
  readonly rates: RatePlan;
  readonly budgets: BudgetPlan;
  readonly principal: Principal;
  readonly takenAt: number;
  /** The worst-case cost reserved, in 1e-8 USD. */
  readonly reservedUnits: number;
  private readonly admission: AccessAdmission;
  private closed = false;

  constructor(admission: AccessAdmission, id: string, headers: Record<string, string>, rates: RatePlan, budgets: BudgetPlan, principal: Principal, takenAt: number, reservedUnits: number) {
    this.admission = admission;
    this.id = id;
    this.headers = headers;
    this.rates = rates;
    this.budgets = budgets;
    this.principal = principal;
    this.takenAt = takenAt;
    this.reservedUnits = reservedUnits;
  }

  settle(usage: Usage, costUsd: number): void {
    if (this.closed) return;
    this.closed = true;
    this.admission.finish(this, usage, costUsd);
  }

  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.admission.finish(this, null, 0);
  }

  settleWithRow(usage: Usage | null, costUsd: number): RowSettlement | undefined {
    if (this.closed) return undefined;
    this.closed = true;
    return this.admission.finish(this, usage, usage ? costUsd : 0, true);
  }
}

/** The worst case with cache writes at their (higher) price, which worstCaseCost leaves out. */
function worstCaseWithCacheWrites(inputTokens: number, maxOutputTokens: number, model: ModelInfo): number {
  const inputPrice = Math.max(model.pricing.input, model.pricing.cacheWrite ?? 0);
  return roundUsd((inputTokens * inputPrice + maxOutputTokens * model.pricing.output) / 1_000_000);
}

function ownerOf(scope: string, principal: Principal): string {
  if (scope === 'project') return `project ${principal.projectId}`;
  return `key '${principal.name}' (${principal.prefix}…)`;
}

/** The 503 when a reservation cannot be made durable: the store (PostgreSQL, or SQLite's disk) refused the write. */
function storeUnavailable(store: Store): GatewayError {
  const location = (store as { location?: string }).location;
  const where = store.kind === 'postgres' ? location ?? 'PostgreSQL' : 'the SQLite database';
  const check = store.kind === 'postgres'
    ? 'check that PostgreSQL is running and reachable from the gateway (store.postgres_url); GET /readyz reports it'
    : "check the gateway's database file and the disk it writes to (the gateway log says which)";
  return new GatewayError({
    status: 503, type: 'server_error', code: 'store_unavailable',
    headers: { 'x-should-retry': 'true', 'retry-after': '1' },
    message: `Switchyard could not make the budget reservation for this request durable (${where} is unavailable), so it was not sent and nothing was charged. Retry shortly; if it persists, ${check}.`,
  });
}
