// GET /admin/deployments: every deployment of every callable model with its live
// resilience numbers: breaker state, calls in flight, EWMA time to first byte, recent
// error rate. Read from the gateway's Resilience (src/resilience.ts); with Redis the
// breaker state is the shared one.
import type { ModelInfo } from '../catalog/types.ts';
import type { Deployment } from '../providers/types.ts';
import type { Resilience } from '../resilience.ts';

export interface DeploymentsSource {
  resilience: Resilience;
  /** Callable models and their deployments, in catalog order. */
  models: () => readonly ModelInfo[];
  deploymentsOf: (model: ModelInfo) => readonly Deployment[];
}

export async function listDeployments(source: DeploymentsSource): Promise<object[]> {
  const { resilience } = source;
  const rows: object[] = [];
  for (const model of source.models()) {
    const deployments = source.deploymentsOf(model);
    const balancer = resilience.balancerFor(model.id, deployments);
    const guarded = resilience.guards(model.id, deployments);
    for (const deployment of deployments) {
      const stats = balancer.statsFor(deployment.id)!;
      const breaker = guarded ? await resilience.breaker.snapshot(deployment.id) : undefined;
      rows.push({
        object: 'deployment',
        id: deployment.id,
        model: model.id,
        provider: deployment.providerName,
        strategy: balancer.strategy,
        // A model's only way out is never paused (see Resilience.guards): no breaker.
        breaker: breaker
          ? { state: breaker.state, open_until: breaker.openUntil === 0 ? null : new Date(breaker.openUntil).toISOString(), consecutive_failures: breaker.consecutiveFailures, probe_in_flight: breaker.probeInFlight }
          : { state: 'not_guarded' },
        in_flight: stats.inFlight,
        ewma_ttfb_ms: Number.isNaN(stats.ewmaTtfbMs) ? null : Math.round(stats.ewmaTtfbMs),
        recent_error_rate: stats.recentErrorRate,
        recent_calls: stats.recentCalls,
      });
    }
  }
  return rows;
}
