// Fallback over a model's deployments, as a wrapper around invoke(): each deployment in
// the balancer's order gets a fresh call, the next taken on a retryable failure. Nothing
// has reached the client when invoke() throws, so taking the next one is always safe.
import { GatewayError } from './canonical/errors.ts';
import type { Attempt } from './call-state.ts';
import type { Invoke, InvokeWrapper } from './invoke.ts';
import type { Deployment } from './providers/types.ts';
import { orderDeployments } from './routing/balance.ts';

export type DeploymentOrder = (deployments: Deployment[]) => Deployment[];

export function withDeploymentFallback(order: DeploymentOrder = orderDeployments): InvokeWrapper {
  return (next: Invoke): Invoke => async (call) => {
    const deployments = order(call.candidates as Deployment[]);
    const failed: Attempt[] = [];
    for (const deployment of deployments) {
      const startedAt = performance.now();
      try {
        const outcome = await next({ ...call, deployment });
        return failed.length === 0 ? outcome : { ...outcome, attempts: [...failed, ...outcome.attempts] };
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        failed.push({ deployment, model: call.model, status: err.status, errorCode: err.code, latencyMs: Math.round(performance.now() - startedAt) });
        if (!isRetryable(err) || call.signal.aborted) throw err;
        if (failed.length === deployments.length) throw failed.length === 1 ? err : allFailed(failed, err);
      }
    }
    throw new Error('unreachable: no deployment tried');
  };
}

/** 429 and 5xx may go better elsewhere; any other status is the caller's to fix. */
export function isRetryable(error: GatewayError): boolean {
  return error.status === 429 || error.status >= 500;
}

function allFailed(attempts: Attempt[], last: GatewayError): GatewayError {
  const tried = attempts.map((a) => `${a.deployment.id} → ${a.status} ${a.errorCode ?? ''}`.trim()).join('; ');
  return new GatewayError({
    status: last.status === 429 ? 429 : last.status === 504 ? 504 : 502,
    type: 'upstream_error',
    code: 'all_upstreams_failed',
    message: `Every deployment of this model failed: ${tried}. Last error: ${last.message}`,
    headers: last.headers,
    source: last.source,
  });
}
