// The gateway's resilience state, built once in createGateway: one Balancer per model
// (its deployments' live stats and the configured strategy), one CircuitBreaker over every
// deployment (state in Redis when SWITCHYARD_REDIS_URL is set, so processes share it, else
// in-process), and the retry options. src/deployment-fallback.ts uses it per request.
import type { Logger } from 'pino';
import type { RoutingConfig } from './config/routing.ts';
import type { Deployment } from './providers/types.ts';
import { Balancer, type StrategyName } from './routing/strategies.ts';
import { CircuitBreaker, MemoryBreakerStore, type BreakerStore } from './routing/breaker.ts';
import { RedisBreakerStore } from './routing/breaker-redis.ts';
import type { RetryOptions } from './routing/retry-policy.ts';

export interface ResilienceOptions {
  strategyFor: (modelId: string) => StrategyName;
  retry: Partial<RetryOptions>;
  breaker: CircuitBreaker;
  /** Whether a model has a fallback chain (config.fallbacks). */
  hasFallback?: (modelId: string) => boolean;
}

export class Resilience {
  readonly breaker: CircuitBreaker;
  readonly retry: Readonly<Partial<RetryOptions>>;
  private readonly strategyFor: (modelId: string) => StrategyName;
  private readonly hasFallback: (modelId: string) => boolean;
  private readonly balancers = new Map<string, Balancer<Deployment>>();

  constructor(options: ResilienceOptions) {
    this.breaker = options.breaker;
    this.retry = Object.freeze({ ...options.retry });
    this.strategyFor = options.strategyFor;
    this.hasFallback = options.hasFallback ?? (() => false);
  }

  /**
   * Whether the breaker guards this model's deployments: only when there is somewhere
   * else to go (another deployment, a fallback model). Opening the breaker of the only
   * way to a model would turn a provider's bad minute into the gateway's own outage.
   */
  guards(modelId: string, candidates: readonly Deployment[]): boolean {
    return candidates.length > 1 || this.hasFallback(modelId);
  }

  /**
   * The model's balancer, made on its first call (discovered models are known only then).
   * Rebuilt if the model's deployments changed, so stats never belong to a stale list.
   */
  balancerFor(modelId: string, candidates: readonly Deployment[]): Balancer<Deployment> {
    const known = this.balancers.get(modelId);
    if (known && sameDeployments(known.deployments, candidates)) return known;
    const balancer = new Balancer<Deployment>(candidates, { strategy: this.strategyFor(modelId) });
    this.balancers.set(modelId, balancer);
    return balancer;
  }

  /** Every balancer made so far, by model id (for /admin/deployments). */
  allBalancers(): ReadonlyMap<string, Balancer<Deployment>> {
    return this.balancers;
  }

  close(): Promise<void> {
    return this.breaker.close();
  }
}

function sameDeployments(a: readonly Deployment[], b: readonly Deployment[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id) return false;
  return true;
}

/** From the validated config: the strategy per model, the retry options, the breaker and its store. */
export function resilienceFor(routing: RoutingConfig, fallbacks: ReadonlyMap<string, readonly string[]>, redis: { url?: string; prefix?: string }, log: Logger): Resilience {
  const store: BreakerStore = redis.url ? new RedisBreakerStore({ url: redis.url, prefix: redis.prefix }) : new MemoryBreakerStore();
  const { consecutiveFailures, errorRate, minRequests, windowMs, coolDownMs } = routing.breaker;
  const breaker = new CircuitBreaker(store, {
    policy: { consecutiveFailures, errorRate, minRequests, windowMs, coolDownMs },
    onStoreError: (error) => log.warn({ err: error }, 'circuit breaker store failed; calls go through unguarded until it is back'),
  });
  return new Resilience({ strategyFor: (id) => routing.strategyFor(id), retry: { ...routing.retry }, breaker, hasFallback: (id) => (fallbacks.get(id)?.length ?? 0) > 0 });
}
