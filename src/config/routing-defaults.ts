// The routing policies' names and production defaults, shared by the schema (which
// checks what a file may say) and routing.ts (which fills in what it leaves out).
import { closestIds } from '../catalog/closest.ts';

/**
 * How a model's deployments are ordered for a request: weighted random first choice,
 * fewest requests in flight, lowest time to first byte (EWMA, with some exploration),
 * or the order they are listed in (the next only when the ones before are out).
 */
export const STRATEGIES = ['weighted', 'least-busy', 'lowest-latency', 'priority'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const DEFAULT_STRATEGY: Strategy = 'weighted';

// The same values as src/routing's own defaults (retry-policy.ts, breaker.ts), so a
// gateway behaves alike whether or not its file has a routing: section. The per-attempt
// timeout and the deadline default to the upstream timeout instead (routing.ts).
export const RETRY_DEFAULTS = {
  retries: 2,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  retryAfterCeilingMs: 10_000,
  on: 'next',
} as const;

export const BREAKER_DEFAULTS = {
  consecutiveFailures: 5,
  errorRate: 0.5,
  windowMs: 30_000,
  minRequests: 20,
  coolDownMs: 30_000,
} as const;

/** The message for a strategy that does not exist: the valid ones, and the nearest. */
export function unknownStrategy(input: unknown): string {
  const valid = STRATEGIES.join(', ');
  if (typeof input !== 'string') return `must be one of ${valid}`;
  return `'${input}' is not a strategy; use one of ${valid} (did you mean ${closestIds(input, [...STRATEGIES], 1)[0]}?)`;
}
