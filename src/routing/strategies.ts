// Balancing among a model's deployments: the order to try them in (first choice, then
// fallbacks), by a strategy chosen by name in config.
//
// How it plugs around invoke(): each model gets one Balancer when the config loads (its
// stats live as long as the deployments). The retry interceptor takes the order once per
// request, `balancer.order(breaker.isAvailable)` (open breakers left out; see
// retry-policy.ts), and the innermost interceptor brackets each attempt with the stats,
// so least-busy and lowest-latency learn from every call:
//
//   const withStats = (balancers: Balancers) => (next: Invoke): Invoke => async (call) => {
//     const stats = balancers.get(call.model.id).statsFor(call.deployment.id)!;
//     stats.begin();
//     try { const outcome = await next(call); stats.end(true, outcome.ttfbMs); return outcome; }
//     catch (error) { stats.end(!classifyFailure(error).deploymentFault); throw error; }
//   };
//
// `begin()`/`end()` touch a few numbers and a preallocated ring: nothing is allocated per
// request but the returned order itself.
import type { Deployment } from '../providers/types.ts';

/** What balancing needs of a deployment (Deployment has it). */
export interface Balanced {
  readonly id: string;
  readonly weight: number;
}

/** Whether a deployment may be tried now (false while its breaker is open). */
export type Available<D> = (deployment: D) => boolean;

const OUTCOME_WINDOW = 32;

/** Live numbers of one deployment: calls in flight, EWMA time to first byte, recent outcomes. */
export class DeploymentStats {
  inFlight = 0;
  /** EWMA of the time to first byte of successful calls, ms; NaN until the first. */
  ewmaTtfbMs = Number.NaN;
  /** When the last latency sample came (clock ms); the EWMA's weight fades from there. */
  lastSampleAt = 0;
  private readonly clock: () => number;
  private readonly alpha: number;
  private readonly outcomes = new Uint8Array(OUTCOME_WINDOW);
  private outcomeCount = 0;
  private outcomeNext = 0;
  private failures = 0;

  constructor(clock: () => number = performance.now.bind(performance), alpha = 0.3) {
    this.clock = clock;
    this.alpha = alpha;
  }

  begin(): void {
    this.inFlight++;
  }

  /** A call ended. Only successes teach latency: a fast failure must not look like a fast deployment. */
  end(ok: boolean, ttfbMs?: number): void {
    if (this.inFlight > 0) this.inFlight--;
    const failed = ok ? 0 : 1;
    if (this.outcomeCount === OUTCOME_WINDOW) this.failures -= this.outcomes[this.outcomeNext];
    else this.outcomeCount++;
    this.outcomes[this.outcomeNext] = failed;
    this.failures += failed;
    this.outcomeNext = (this.outcomeNext + 1) % OUTCOME_WINDOW;
    if (ok && ttfbMs !== undefined && ttfbMs >= 0) {
      this.ewmaTtfbMs = Number.isNaN(this.ewmaTtfbMs) ? ttfbMs : this.ewmaTtfbMs + this.alpha * (ttfbMs - this.ewmaTtfbMs);
      this.lastSampleAt = this.clock();
    }
  }

  /** Failed share of the last (up to 32) calls; 0 before any. */
  get recentErrorRate(): number {
    return this.outcomeCount === 0 ? 0 : this.failures / this.outcomeCount;
  }

  get recentCalls(): number {
    return this.outcomeCount;
  }
}

export interface BalanceEnv {
  random: () => number;
  now: () => number;
  /** lowest-latency: chance that a pick goes to a random other deployment (keeps measuring them). */
  explore: number;
  /** lowest-latency: a latency not re-measured for this long counts half, so a once-slow deployment is tried again. */
  latencyHalfLifeMs: number;
}

/** A strategy orders the available deployments; `stats[i]` belongs to `deployments[i]`. */
export type Strategy = <D extends Balanced>(
  deployments: readonly D[], stats: readonly DeploymentStats[], available: Available<D> | undefined, env: BalanceEnv,
) => D[];

function availableIndices<D>(deployments: readonly D[], available: Available<D> | undefined): number[] {
  const out: number[] = [];
  for (let i = 0; i < deployments.length; i++) if (!available || available(deployments[i])) out.push(i);
  return out;
}

/** Weighted random first choice (traffic splits by weight); the rest follow in config order. */
export const weighted: Strategy = (deployments, _stats, available, env) => {
  const indices = availableIndices(deployments, available);
  if (indices.length <= 1) return indices.map((i) => deployments[i]);
  let total = 0;
  for (const i of indices) total += deployments[i].weight;
  let pick = env.random() * total;
  let first = 0;
  for (let k = 0; k < indices.length; k++) {
    pick -= deployments[indices[k]].weight;
    if (pick < 0) {
      first = k;
      break;
    }
  }
  const out = [deployments[indices[first]]];
  for (let k = 0; k < indices.length; k++) if (k !== first) out.push(deployments[indices[k]]);
  return out;
};

/** Config order: the next only when the ones before it are out. */
export const priority: Strategy = (deployments, _stats, available) => {
  return available ? deployments.filter(available) : deployments.slice();
};

/** Fewest calls in flight first; ties broken at random so equals share the load. */
export const leastBusy: Strategy = (deployments, stats, available, env) =>
  rankAscending(deployments, availableIndices(deployments, available), (i) => stats[i].inFlight, env.random);

/**
 * Lowest EWMA time to first byte first. An unmeasured deployment scores 0 (measured
 * first). A latency fades (halves every `latencyHalfLifeMs` without a new sample) so a
 * deployment that was slow gets tried again; besides, `explore` of the picks go first to
 * a random other deployment, so a recovered one is noticed even under steady traffic.
 */
export const lowestLatency: Strategy = (deployments, stats, available, env) => {
  const now = env.now();
  const order = rankAscending(deployments, availableIndices(deployments, available), (i) => latencyScore(stats[i], now, env.latencyHalfLifeMs), env.random);
  if (order.length > 1 && env.random() < env.explore) {
    const k = 1 + Math.floor(env.random() * (order.length - 1));
    const chosen = order[k];
    order.splice(k, 1);
    order.unshift(chosen);
  }
  return order;
};

export function latencyScore(stats: DeploymentStats, now: number, halfLifeMs: number): number {
  if (Number.isNaN(stats.ewmaTtfbMs)) return 0;
  const age = Math.max(0, now - stats.lastSampleAt);
  return stats.ewmaTtfbMs * 2 ** (-age / halfLifeMs);
}

/** Shuffled (so ties fall at random), then stable-sorted by score. */
function rankAscending<D>(deployments: readonly D[], indices: number[], score: (i: number) => number, random: () => number): D[] {
  for (let k = indices.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    const t = indices[k];
    indices[k] = indices[j];
    indices[j] = t;
  }
  // Insertion sort: a model has a handful of deployments, and it is stable.
  const scores = indices.map(score);
  for (let k = 1; k < indices.length; k++) {
    const index = indices[k];
    const s = scores[k];
    let j = k - 1;
    for (; j >= 0 && scores[j] > s; j--) {
      indices[j + 1] = indices[j];
      scores[j + 1] = scores[j];
    }
    indices[j + 1] = index;
    scores[j + 1] = s;
  }
  return indices.map((i) => deployments[i]);
}

export const STRATEGIES = Object.freeze({
  weighted,
  'least-busy': leastBusy,
  'lowest-latency': lowestLatency,
  priority,
} satisfies Record<string, Strategy>);

export type StrategyName = keyof typeof STRATEGIES;

export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

/** For config validation: a name that is not a strategy is refused at start. */
export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(STRATEGIES, name);
}

export interface BalancerOptions {
  strategy?: StrategyName;
  random?: () => number;
  /** ms clock for latency fading; injectable for tests. */
  clock?: () => number;
  explore?: number;
  latencyHalfLifeMs?: number;
  /** EWMA smoothing: the weight of the newest sample. */
  alpha?: number;
}

/** One model's deployments, their stats, and the strategy that orders them. */
export class Balancer<D extends Balanced = Deployment> {
  readonly strategy: StrategyName;
  readonly deployments: readonly D[];
  readonly stats: readonly DeploymentStats[];
  private readonly orderBy: Strategy;
  private readonly env: BalanceEnv;
  private readonly byId = new Map<string, DeploymentStats>();

  constructor(deployments: readonly D[], options: BalancerOptions = {}) {
    this.strategy = options.strategy ?? 'weighted';
    this.orderBy = STRATEGIES[this.strategy];
    const clock = options.clock ?? performance.now.bind(performance);
    this.env = { random: options.random ?? Math.random, now: clock, explore: options.explore ?? 0.05, latencyHalfLifeMs: options.latencyHalfLifeMs ?? 30_000 };
    this.deployments = deployments;
    this.stats = deployments.map(() => new DeploymentStats(clock, options.alpha));
    deployments.forEach((d, i) => this.byId.set(d.id, this.stats[i]));
  }

  /** The deployments to try, first choice first; those `available` rejects are left out. */
  order(available?: Available<D>): D[] {
    return this.orderBy(this.deployments, this.stats, available, this.env);
  }

  statsFor(id: string): DeploymentStats | undefined {
    return this.byId.get(id);
  }
}

/** Today's order (weighted), as src/routing/balance.ts gives it; for callers moving over. */
export function orderDeployments<D extends Balanced>(deployments: readonly D[]): D[] {
  return weighted(deployments, [], undefined, { random: Math.random, now: Date.now, explore: 0, latencyHalfLifeMs: 1 });
}
