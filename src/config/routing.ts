// Resilience settings as the dispatch reads them: the balancing strategy per model,
// the retry and circuit-breaker policies, and the fallback chains across models, with
// every default filled in and every reference checked (model-references.ts).
//
// Models named here must exist when the config is loaded: in the shipped catalog, or
// added under `models:`. When a provider discovers its models at start (Ollama, or any
// provider with `discover: true`), a name not known yet is kept, and
// verifyDiscoveredModels checks it, with the same file:line message, once discovery is done.
import type { ConfigFile } from './schema.ts';
import type { RetryOptions } from '../routing/retry-policy.ts';
import type { ProviderInstance } from './providers.ts';
import { invalidConfig } from './errors.ts';
import { fieldName, type FieldPath } from './locate.ts';
import { knownModels, type ModelLookup } from './known-models.ts';
import { checkCycles, checkFacts, checkKnown, checkShape, collectReferences, expandChains, unknownModel, type ModelReference, type Problem, type SourceFile } from './model-references.ts';
import { BREAKER_DEFAULTS, DEFAULT_STRATEGY, RETRY_DEFAULTS, type Strategy } from './routing-defaults.ts';

export type { Strategy } from './routing-defaults.ts';
export { STRATEGIES } from './routing-defaults.ts';
export type { ModelLookup } from './known-models.ts';

/** The retry policy as src/routing/retry-policy.ts takes it (one type, read from config here). */
export type RetryPolicy = RetryOptions;

/** The configurable part of src/routing/breaker.ts's BreakerPolicy, with its names. */
export interface BreakerSettings {
  /** Failures in a row that open a deployment's breaker. */
  consecutiveFailures: number;
  /** Share of failed calls within windowMs (0..1) that opens it, once minRequests calls were made. */
  errorRate: number;
  minRequests: number;
  windowMs: number;
  /** How long an open breaker skips its deployment before one probe (half-open). */
  coolDownMs: number;
}

export interface RoutingConfig {
  /** The default strategy (routing.strategy). */
  strategy: Strategy;
  retry: RetryPolicy;
  breaker: BreakerSettings;
  /** The strategy for a model id (not an alias): strategies.<id>, else the default. */
  strategyFor(modelId: string): Strategy;
  /** Every model the routing sections name, with where; verifyDiscoveredModels reads them. */
  references: readonly ModelReference[];
}

export interface ResolvedRouting {
  routing: RoutingConfig;
  /**
   * Per model id, the models to try when all of its deployments failed, in order: the
   * ones written for it, then their own chains (breadth first), each once; ids, never
   * aliases. A model with no chain has no entry.
   */
  fallbacks: ReadonlyMap<string, readonly string[]>;
  /** Per model id, the larger-window model a prompt too long for it goes to (follow it again if still too long). */
  contextFallbacks: ReadonlyMap<string, string>;
}

/** Where the file is, for messages; a gateway without a file has nothing to point at. */
export const NO_FILE: SourceFile = { path: 'switchyard.yaml', locate: { valueLine: () => 1, keyLine: () => 1 } };

const NO_MODELS: ModelLookup = { get: () => undefined, all: () => [] };

/** Resolve and check the routing sections; throws a ConfigError listing every problem by file:line. */
export function resolveRouting(file: ConfigFile, providers: ReadonlyMap<string, ProviderInstance>, upstreamTimeoutMs: number, source: SourceFile = NO_FILE): ResolvedRouting {
  const policies = resolvePolicies(file, upstreamTimeoutMs, source);
  // Most gateways name no model here: the catalog file is only read when one does.
  const models = file.strategies || file.fallbacks || file.context_fallbacks ? knownModels(file) : NO_MODELS;
  const references = collectReferences(file, source, models);
  const discovering = [...providers.values()].some((p) => p.discover);
  const known = checkKnown(references, models, discovering);
  const problems = [...policies.problems, ...known.problems, ...checkShape(references), ...checkCycles(references), ...checkFacts(references, models)];
  if (problems.length > 0) throw invalidConfig(sorted(problems));
  const strategies = new Map<string, Strategy>();
  for (const ref of references) if (ref.role === 'strategy') strategies.set(ref.id, file.strategies![ref.written]);
  const strategy = file.routing?.strategy ?? DEFAULT_STRATEGY;
  return {
    routing: { strategy, retry: policies.retry, breaker: policies.breaker, strategyFor: (id) => strategies.get(id) ?? strategy, references },
    fallbacks: expandChains(references),
    contextFallbacks: new Map(references.filter((r) => r.role === 'context-target').map((r) => [r.owner!, r.id])),
  };
}

/**
 * After discovery: check the references that named models not known at load against
 * the catalog as built. Throws a ConfigError like the load's; when a provider could not
 * be asked for its models, a name still unknown is only a warning (returned, to log),
 * since that provider may well serve it once it is up.
 */
export function verifyDiscoveredModels(routing: RoutingConfig, catalog: ModelLookup, undiscoveredProviders: readonly string[] = []): string[] {
  const { unknown } = checkKnown(routing.references, catalog, true);
  const ids = catalog.all().map((m) => m.id);
  const problems = checkFacts(routing.references, catalog);
  const warnings: string[] = [];
  for (const ref of unknown) {
    const text = `${ref.where}: ${unknownModel(ref, ids)}`;
    if (undiscoveredProviders.length > 0) warnings.push(`${text} (not refused: the models of ${undiscoveredProviders.join(', ')} could not be listed at start, and may include it)`);
    else problems.push({ line: ref.line, text });
  }
  if (problems.length > 0) throw invalidConfig(sorted(problems));
  return warnings;
}

function sorted(problems: Problem[]): string[] {
  return [...problems].sort((a, b) => a.line - b.line).map((p) => p.text);
}

function resolvePolicies(file: ConfigFile, upstreamTimeoutMs: number, source: SourceFile): { retry: RetryPolicy; breaker: BreakerSettings; problems: Problem[] } {
  const r = file.routing?.retry ?? {};
  const b = file.routing?.breaker ?? {};
  const problems: Problem[] = [];
  const at = (field: string, message: string): void => {
    const path: FieldPath = ['routing', 'retry', field];
    const line = source.locate.valueLine(path);
    problems.push({ line, text: `${source.path}:${line}: ${fieldName(path)}: ${message}` });
  };
  const baseDelayMs = r.base_ms ?? RETRY_DEFAULTS.baseDelayMs;
  const maxDelayMs = r.max_ms ?? RETRY_DEFAULTS.maxDelayMs;
  if (baseDelayMs > maxDelayMs) {
    const cap = r.max_ms === undefined ? `the default max_ms (${maxDelayMs})` : `max_ms (${maxDelayMs})`;
    at(r.base_ms === undefined ? 'max_ms' : 'base_ms', `base_ms ${baseDelayMs} is more than ${cap}: the first wait would already be over the cap. Lower base_ms or raise max_ms.`);
  }
  const deadlineMs = r.deadline_ms ?? upstreamTimeoutMs;
  if (r.attempt_timeout_ms !== undefined && r.deadline_ms !== undefined && r.attempt_timeout_ms > r.deadline_ms) {
    at('attempt_timeout_ms', `${r.attempt_timeout_ms} is longer than deadline_ms (${r.deadline_ms}), so the deadline would end every attempt first. Lower attempt_timeout_ms or raise deadline_ms.`);
  }
  const retry: RetryPolicy = {
    retries: r.attempts ?? RETRY_DEFAULTS.retries,
    on: r.same_deployment === undefined ? RETRY_DEFAULTS.on : r.same_deployment ? 'same' : 'next',
    baseDelayMs,
    maxDelayMs,
    retryAfterCeilingMs: r.max_retry_after_ms ?? RETRY_DEFAULTS.retryAfterCeilingMs,
    attemptTimeoutMs: Math.min(r.attempt_timeout_ms ?? upstreamTimeoutMs, deadlineMs),
    deadlineMs,
  };
  const breaker: BreakerSettings = {
    consecutiveFailures: b.failures ?? BREAKER_DEFAULTS.consecutiveFailures,
    errorRate: b.error_rate ?? BREAKER_DEFAULTS.errorRate,
    minRequests: b.min_requests ?? BREAKER_DEFAULTS.minRequests,
    windowMs: b.window_ms ?? BREAKER_DEFAULTS.windowMs,
    coolDownMs: b.cooldown_ms ?? BREAKER_DEFAULTS.coolDownMs,
  };
  return { retry, breaker, problems };
}
