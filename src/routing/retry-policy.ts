// Retry policy: which failures are worth another attempt, how long to wait, and where.
//
// How it plugs around invoke(): interceptors in the undici style, `(next) => (call) => …`,
// composed as withRetry(withBreaker(withStats(invoke))). The retry interceptor makes one
// RetryPlan per client request, takes the balancer's order once, and walks it:
//
//   const withRetry = (options: Partial<RetryOptions>, balancers: Balancers, breaker: CircuitBreaker) =>
//     (next: Invoke): Invoke => async (call) => {
//       const plan = new RetryPlan(options);
//       const order = balancers.get(call.model.id).order(breaker.isAvailable);
//       for (let d = 0; ; ) {
//         try { return await next(attemptOn(call, order[d], plan.attemptTimeoutMs())); }
//         catch (error) {
//           if (call.bytesSent || call.signal.aborted) throw error;   // never restart a stream
//           const step = plan.next(error, d + 1 < order.length);
//           if (!step.retry) throw error;
//           if (step.switchDeployment) d++;
//           await sleep(step.delayMs, call.signal);
//         }
//       }
//     };
//
// `attemptOn` builds a fresh request per attempt (never a mutated one) that carries the
// deployment it used. A breaker refusal (circuitOpenError) moves on without spending a
// retry. Everything here is pure: time and randomness come in as functions, so tests
// drive them without waiting.
import { GatewayError } from '../canonical/errors.ts';
import { CIRCUIT_OPEN_CODE } from './breaker.ts';

export type FailureKind =
  | 'rate_limited' | 'server' | 'timeout' | 'connection' | 'provider_auth' | 'circuit_open'
  | 'caller' | 'gateway' | 'client_closed' | 'unknown';

export interface FailureClass {
  readonly kind: FailureKind;
  /** Another attempt may succeed. */
  readonly retryable: boolean;
  /** Only another deployment can help (e.g. its provider key was refused). */
  readonly nextDeploymentOnly: boolean;
  /** The deployment is at fault: counts toward opening its circuit breaker. */
  readonly deploymentFault: boolean;
}

function failure(kind: FailureKind, retryable: boolean, deploymentFault: boolean, nextDeploymentOnly = false): FailureClass {
  return Object.freeze({ kind, retryable, nextDeploymentOnly, deploymentFault });
}

// Shared, frozen: classifying allocates nothing.
const RATE_LIMITED = failure('rate_limited', true, true);
const SERVER = failure('server', true, true);
const TIMEOUT = failure('timeout', true, true);
const CONNECTION = failure('connection', true, true);
const PROVIDER_AUTH = failure('provider_auth', true, true, true);
// Skipped without a call: not the deployment's fault again, and not a retry (see RetryPlan.next).
const CIRCUIT_OPEN = failure('circuit_open', true, false, true);
const CALLER = failure('caller', false, false);
const GATEWAY = failure('gateway', false, false);
const CLIENT_CLOSED = failure('client_closed', false, false);
const UNKNOWN = failure('unknown', false, false);

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/**
 * What a failed attempt means. The gateway's own refusals (its rate limits, budgets,
 * bad input, a missing provider) are never retried: another deployment would refuse
 * the same way. Neither is a 4xx the upstream returned because of the request itself.
 * An upstream 401/403 is the gateway's provider key, not the caller: another
 * deployment (another key) may serve it, this one will not.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof GatewayError) return classifyGatewayError(error);
  const named = error as { name?: string; code?: string; cause?: { code?: string } } | null;
  if (!named || typeof named !== 'object') return UNKNOWN;
  if (named.name === 'TimeoutError') return TIMEOUT;
  if (named.name === 'AbortError') return CLIENT_CLOSED;
  const code = named.code ?? named.cause?.code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return code.includes('TIMEOUT') || code === 'ETIMEDOUT' ? TIMEOUT : CONNECTION;
  return UNKNOWN;
}

function classifyGatewayError(error: GatewayError): FailureClass {
  if (error.code === 'client_closed_request' || error.status === 499) return CLIENT_CLOSED;
  if (error.code === CIRCUIT_OPEN_CODE) return CIRCUIT_OPEN;
  if (error.source === 'gateway') return error.status < 500 ? CALLER : GATEWAY;
  if (error.headers?.['x-should-retry'] === 'false') return CALLER;
  if (error.code === 'upstream_timeout' || error.status === 504 || error.status === 408) return TIMEOUT;
  if (error.code === 'upstream_unreachable') return CONNECTION;
  if (error.status === 429) return RATE_LIMITED;
  if (error.status >= 500) return SERVER;
  if (error.status === 401 || error.status === 403) return PROVIDER_AUTH;
  return CALLER;
}

type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the upstream asked us to wait, in ms: `retry-after-ms` (OpenAI's, exact),
 * else `retry-after` as seconds or an HTTP date. Header names are lowercase (as undici
 * and GatewayError hold them). Undefined when absent or unreadable; a date in the past
 * is 0.
 */
export function retryAfterMs(headers: HeaderBag | undefined, nowMs: number): number | undefined {
  if (!headers) return undefined;
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const after = headerValue(headers, 'retry-after');
  if (after === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(after)) return Math.ceil(Number(after) * 1000);
  // An HTTP date names its weekday and zone; Date.parse alone would take "-3" as a year.
  const at = /[a-z]/i.test(after) ? Date.parse(after) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^retry)). `retry` counts from 0. */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.floor(random() * cap);
}

export interface RetryOptions {
  /** Attempts after the first (0 = no retries). */
  retries: number;
  /** Where a retry goes: the same deployment again, or the next one in the balancer's order. */
  on: 'same' | 'next';
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After is honoured up to this; a longer wait is not waited: the next deployment is tried. */
  retryAfterCeilingMs: number;
  /** Each attempt's own limit (time to the answer's headers / first byte). */
  attemptTimeoutMs: number;
  /** The whole request, every attempt and wait included. No wait crosses it. */
  deadlineMs: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  retries: 2,
  on: 'next',
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  retryAfterCeilingMs: 10_000,
  attemptTimeoutMs: 60_000,
  deadlineMs: 300_000,
});

export type StopReason = 'not_retryable' | 'retries_exhausted' | 'deadline' | 'retry_after_over_ceiling' | 'no_other_deployment';

export type RetryStep =
  | { readonly retry: true; readonly delayMs: number; readonly switchDeployment: boolean; readonly failure: FailureClass }
  | { readonly retry: false; readonly reason: StopReason; readonly failure: FailureClass };

export interface RetryEnv {
  now?: () => number;
  random?: () => number;
}

/** One request's retry state: attempts made, the deadline, and the next step after a failure. */
export class RetryPlan {
  readonly options: Readonly<RetryOptions>;
  readonly startedAt: number;
  readonly deadline: number;
  /** Retries granted so far. */
  retriesUsed = 0;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(options: Partial<RetryOptions> = {}, env: RetryEnv = {}) {
    this.options = { ...DEFAULT_RETRY_OPTIONS, ...options };
    this.now = env.now ?? Date.now;
    this.random = env.random ?? Math.random;
    this.startedAt = this.now();
    this.deadline = this.startedAt + this.options.deadlineMs;
  }

  /** The timeout for the attempt about to start: its own limit, cut to what the deadline leaves. */
  attemptTimeoutMs(): number {
    return Math.max(0, Math.min(this.options.attemptTimeoutMs, this.deadline - this.now()));
  }

  /**
   * After a failed attempt: retry (after `delayMs`, on the same or the next deployment)
   * or stop, and why. `canSwitch` says whether a next deployment exists. Waiting after
   * a switch is not needed: the backoff and Retry-After concern the deployment that
   * failed, not the next one.
   */
  next(error: unknown, canSwitch: boolean): RetryStep {
    const failure = classifyFailure(error);
    if (!failure.retryable) return stop('not_retryable', failure);
    const now = this.now();
    if (now >= this.deadline) return stop('deadline', failure);
    // An open breaker's deployment was skipped, not tried: moving on spends no retry.
    if (failure.kind === 'circuit_open') return canSwitch ? { retry: true, delayMs: 0, switchDeployment: true, failure } : stop('no_other_deployment', failure);
    if (this.retriesUsed >= this.options.retries) return stop('retries_exhausted', failure);
    const wantsSwitch = this.options.on === 'next' || failure.nextDeploymentOnly;
    if (wantsSwitch && canSwitch) return this.grant(0, true, failure);
    if (failure.nextDeploymentOnly) return stop('no_other_deployment', failure);
    const asked = error instanceof GatewayError ? retryAfterMs(error.headers, now) : undefined;
    if (asked !== undefined && asked > this.options.retryAfterCeilingMs) {
      return canSwitch ? this.grant(0, true, failure) : stop('retry_after_over_ceiling', failure);
    }
    const delayMs = asked ?? backoffDelayMs(this.retriesUsed, this.options.baseDelayMs, this.options.maxDelayMs, this.random);
    // Waiting must leave time for the attempt itself, so a wait that reaches the deadline is no wait.
    if (now + delayMs >= this.deadline) return canSwitch ? this.grant(0, true, failure) : stop('deadline', failure);
    return this.grant(delayMs, false, failure);
  }

  private grant(delayMs: number, switchDeployment: boolean, failure: FailureClass): RetryStep {
    this.retriesUsed++;
    return { retry: true, delayMs, switchDeployment, failure };
  }
}

function stop(reason: StopReason, failure: FailureClass): RetryStep {
  return { retry: false, reason, failure };
}
