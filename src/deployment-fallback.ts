// Retries over a model's deployments, as a wrapper around invoke(). Per request: the
// balancer's order (open breakers left out), one RetryPlan; per attempt: the breaker
// admits it (a refusal skips the deployment without a network call), the stats bracket
// it (time to first byte = when invoke resolved), the breaker hears how it went, and the
// plan decides: wait and try the same one, move on, or stop. Nothing has reached the
// client when invoke() throws (a stream resolves only once its first event arrived), so
// another attempt is always safe; after the first byte a failure is the stream's own.
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from './canonical/errors.ts';
import type { Attempt } from './call-state.ts';
import type { Invoke, InvokeWrapper, ModelCall, Outcome } from './invoke.ts';
import type { Deployment } from './providers/types.ts';
import { rememberAttempts } from './model-fallback.ts';
import type { Resilience } from './resilience.ts';
import { circuitOpenError, PASS as PASS_UNGUARDED } from './routing/breaker.ts';
import { classifyFailure, RetryPlan } from './routing/retry-policy.ts';

export type ResilienceOf = (call: ModelCall) => Resilience;

export function withDeploymentFallback(resilienceOf: ResilienceOf = (call) => call.gateway.resilience): InvokeWrapper {
  return (next: Invoke): Invoke => async (call) => {
    const resilience = resilienceOf(call);
    const balancer = resilience.balancerFor(call.model.id, call.candidates);
    let order = balancer.order(resilience.breaker.isAvailable);
    // Every breaker open: walk them anyway, so each refusal (no network call) says when to retry.
    if (order.length === 0) order = balancer.order();
    const guarded = resilience.guards(call.model.id, call.candidates);
    const plan = new RetryPlan(resilience.retry);
    const failed: Attempt[] = [];
    const tried: string[] = [];
    for (let d = 0; ;) {
      const deployment = limitedTo(order[d], plan.attemptTimeoutMs());
      const error = await attempt(next, call, deployment, resilience, guarded, failed);
      if (!(error instanceof GatewayError)) return withEarlier(error, failed);
      tried.push(`${deployment.id} → ${error.status} ${error.code ?? ''}`.trim());
      if (call.signal.aborted) throw error;
      const step = plan.next(error, d + 1 < order.length);
      if (!step.retry) {
        const thrown = step.reason === 'not_retryable' || onlyOne(order, d) ? error : allFailed(tried, error);
        rememberAttempts(thrown, failed);
        throw thrown;
      }
      if (step.switchDeployment) d++;
      if (step.delayMs > 0) {
        try {
          await sleep(step.delayMs, undefined, { signal: call.signal });
        } catch {
          throw error;
        }
      }
    }
  };
}

/** One attempt on one deployment: its outcome, or the error it failed with (recorded in `failed`). */
async function attempt(next: Invoke, call: ModelCall, deployment: Deployment, resilience: Resilience, guarded: boolean, failed: Attempt[]): Promise<Outcome | GatewayError> {
  const { breaker } = resilience;
  const admission = guarded ? await breaker.admit(deployment.id) : PASS_UNGUARDED;
  if (admission.kind === 'refused') return circuitOpenError(deployment.id, admission.retryAt, Date.now());
  const stats = resilience.balancerFor(call.model.id, call.candidates).statsFor(deployment.id);
  const startedAt = performance.now();
  stats?.begin();
  try {
    const outcome = await next({ ...call, deployment });
    // 'failed': the upstream broke after it took the call (billed, not retried): still its fault.
    const ok = outcome.kind !== 'failed';
    stats?.end(ok, performance.now() - startedAt);
    if (guarded) void breaker.report(deployment.id, admission, ok);
    return outcome;
  } catch (err) {
    const failure = classifyFailure(err);
    stats?.end(!failure.deploymentFault);
    if (guarded) void breaker.report(deployment.id, admission, failure.kind === 'client_closed' ? undefined : !failure.deploymentFault);
    if (!(err instanceof GatewayError)) throw err;
    failed.push({ deployment, model: call.model, status: err.status, errorCode: err.code, latencyMs: Math.round(performance.now() - startedAt) });
    return err;
  }
}

/**
 * The deployment with this attempt's time limit (the retry policy's per-attempt timeout,
 * cut to what the deadline leaves), enforced by the transport as its own timeout. A copy
 * only when it is shorter than the deployment's, so the usual case allocates nothing.
 */
function limitedTo(deployment: Deployment, timeoutMs: number): Deployment {
  return timeoutMs > 0 && timeoutMs < deployment.timeoutMs ? { ...deployment, timeoutMs } : deployment;
}

/** Every attempt went to one deployment: its own error says more than a summary would. */
function onlyOne(order: readonly Deployment[], reached: number): boolean {
  return reached === 0 || order.length === 1;
}

function withEarlier(outcome: Outcome, failed: Attempt[]): Outcome {
  return failed.length === 0 ? outcome : { ...outcome, attempts: [...failed, ...outcome.attempts] };
}

/** 429 and 5xx may go better elsewhere; any other status is the caller's to fix. */
export function isRetryable(error: GatewayError): boolean {
  return classifyFailure(error).retryable;
}

function allFailed(tried: string[], last: GatewayError): GatewayError {
  return new GatewayError({
    status: last.status === 429 ? 429 : last.status === 504 ? 504 : 502,
    type: 'upstream_error',
    code: 'all_upstreams_failed',
    message: `Every deployment of this model failed: ${tried.join('; ')}. Last error: ${last.message}`,
    headers: last.headers,
    source: last.source,
  });
}
