// The log stage: what a finished model call leaves behind — the request row and a row
// per attempt in the ledger (with the bodies its policy keeps), the Prometheus metrics,
// and the end of its trace span. Runs once per request, after the answer has gone out.
import type { Usage } from './canonical/types.ts';
import { emptyUsage } from './canonical/types.ts';
import { costFor } from './account.ts';
import type { CallResult, CallState } from './call-state.ts';
import type { Gateway } from './gateway.ts';
import type { Deployment } from './providers/types.ts';

export function record(gateway: Gateway, state: CallState, result: CallResult | undefined, modelRequested: string, stream: boolean): void {
  state.trace?.end({ status: result?.status ?? 500, model: result?.model?.id, usage: result?.usage, costUsd: result?.costUsd, route: state.route?.auto?.spec.name, tier: result?.model?.tier, errorCode: result?.error?.code });
  if (!state.principal) {
    // Refused before authentication succeeded: counted, never a row (a flood must not grow the store).
    const code = result?.error?.code ?? 'unauthenticated';
    gateway.refusals.add(code);
    if (gateway.log.isLevelEnabled('debug')) gateway.log.debug({ requestId: state.requestId, code }, 'model call refused before authentication');
    return;
  }
  const usage: Usage = result?.usage ?? emptyUsage();
  const now = new Date().toISOString();
  const base = {
    requestId: state.requestId,
    time: now,
    keyId: state.principal.keyId,
    projectId: state.principal.projectId,
    endpoint: state.api.endpoint,
    modelRequested,
    route: routeText(state, result),
    routeName: state.route?.auto?.spec.name,
    stream,
  };
  gateway.ledger.record({
    ...base,
    attempt: 0,
    modelUsed: result?.model?.id ?? state.route?.model.id,
    tier: (result?.model ?? state.route?.model)?.tier,
    // A request that failed has no answering deployment: the one its last attempt failed on is the one to blame.
    provider: (result?.deployment ?? lastAttempt(result))?.providerName,
    deploymentId: (result?.deployment ?? lastAttempt(result))?.id,
    status: result?.status ?? 500,
    errorCode: result?.error?.code,
    usage,
    costUsd: result?.costUsd ?? 0,
    latencyMs: Math.round(performance.now() - state.startedAt),
    ttftMs: result?.ttftMs,
    ...(result?.notes?.cache ? { cache: result.notes.cache, savedUsd: result.notes.cacheSavedUsd } : {}),
    bodies: state.bodyPolicy && result ? gateway.bodies.keep(state.bodyPolicy, state.body, result.answer) : undefined,
    settles: state.settlement,
  });
  observe(gateway, state, result, usage);
  if (!result || result.attempts.length <= 1) return;
  result.attempts.forEach((attempt, i) =>
    gateway.ledger.record({
      ...base,
      attempt: i + 1,
      modelUsed: attempt.model.id,
      tier: attempt.model.tier,
      provider: attempt.deployment.providerName,
      deploymentId: attempt.deployment.id,
      status: attempt.status,
      errorCode: attempt.errorCode,
      usage: attempt.usage ?? emptyUsage(),
      costUsd: attempt.usage ? costFor(attempt.usage, attempt.model) : 0,
      latencyMs: attempt.latencyMs,
      ...(attempt.note ? { route: attempt.note } : {}),
    }),
  );
}

function lastAttempt(result: CallResult | undefined): Deployment | undefined {
  return result?.attempts.at(-1)?.deployment;
}

/** The request in the Prometheus metrics: counts, tokens, cost, latency; failed attempts, fallbacks, escalations. */
function observe(gateway: Gateway, state: CallState, result: CallResult | undefined, usage: Usage): void {
  const model = result?.model ?? state.route?.model;
  const auto = state.route?.auto;
  const route = auto?.spec.name ?? '';
  gateway.metrics.observeRequest({
    endpoint: state.api.endpoint, model: model?.id ?? '', provider: result?.deployment?.providerName ?? '', route, tier: model?.tier ?? '',
    keyId: state.principal!.keyId, status: result?.status ?? 500, usage, costUsd: result?.costUsd ?? 0,
    latencyMs: performance.now() - state.startedAt, ttftMs: result?.ttftMs, errorCode: result?.error?.code,
  });
  if (auto) gateway.metrics.observeDecision(route, auto.tier);
  const notes = result?.notes;
  if (notes?.cache) gateway.metrics.observeCache(notes.cache, notes.cacheSavedUsd);
  for (const tier of result?.notes?.escalatedFrom ?? []) gateway.metrics.observeEscalation(route, tier);
  const attempts = result?.attempts;
  if (!attempts || attempts.length === 0) return;
  for (let i = 0; i < attempts.length; i++) {
    const a = attempts[i];
    // 499: the client went away, not the upstream's fault.
    if (a.status >= 400 && a.status !== 499) gateway.metrics.observeUpstreamError({ provider: a.deployment.providerName, model: a.model.id, status: a.status });
  }
  if (attempts.length === 1) return;
  const first = attempts[0].model.id;
  const last = attempts[attempts.length - 1].model.id;
  if (first !== last && !result!.notes?.cascade) gateway.metrics.observeFallback(first, last);
}

/** The route column of the request row: why this model, and what a cascade or validation did. */
function routeText(state: CallState, result: CallResult | undefined): string | undefined {
  const reason = state.route?.reason;
  const notes = result?.notes;
  if (!notes) return reason;
  let text = reason ?? '';
  if (notes.cascade) text += `; cascade: ${notes.cascade}`;
  if (notes.validation) text += `; validation: ${notes.validation}`;
  if (notes.review) text += `; review: ${notes.review}`;
  return text;
}
