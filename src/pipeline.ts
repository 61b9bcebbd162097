// The request pipeline for every model call, as its list of stages:
// authenticate → parse → route → limits/budget reserve → invoke (with fallback, under
// review where a rule says so) → respond → account → log.
// (Authentication runs before the body is read, so an unauthenticated caller cannot
// make the gateway buffer and parse megabytes.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, internalError } from './canonical/errors.ts';
import type { CanonicalRequest, Usage } from './canonical/types.ts';
import { emptyUsage } from './canonical/types.ts';
import type { InboundApi } from './api/inbound.ts';
import { readBody, parseJsonBody } from './http/body.ts';
import { newRequestId } from './http/request-id.ts';
import { sendError } from './http/send.ts';
import { presentedKey } from './keys/presented-key.ts';
import { resolveRoute } from './routing/resolve.ts';
import { estimateCost, applyOutputCap, costFor } from './account.ts';
import type { CallResult, CallState } from './call-state.ts';
import { compose, invoke, type ModelCall } from './invoke.ts';
import { withDeploymentFallback } from './deployment-fallback.ts';
import { attemptsOf, fallbackModels, withModelFallback } from './model-fallback.ts';
import { respond } from './respond.ts';
import { record } from './record.ts';
import { withCascade, withValidation } from './router/cascade.ts';
import { cheaperThan, isAutoRoute, routeAuto, type RouterContext } from './router/decide.ts';
import { maxCostOf, refuseOverCap } from './router/cost-cap.ts';
import { questionOf } from './router/text.ts';
import type { Route } from './routing/resolve.ts';
import type { Principal } from './services.ts';
import type { Gateway } from './gateway.ts';
import type { ModelInfo } from './catalog/types.ts';
import { askedReview, reviewContext, withReview } from './review/hold.ts';
import { cacheContext } from './cache/cache.ts';
import { withCache } from './cache/wrapper.ts';
import type { ReviewMode } from './review/types.ts';

/**
 * A model call as the pipeline makes it: attempts over the model's deployments (balanced,
 * breaker-guarded, retried), then over the models of its fallback chain; on an auto route,
 * a cascade over its tiers and the Pro validation of a critical answer around those; the
 * response cache around those where a key or route opted in; and outermost, a person's
 * review of the answer where a rule asks for one.
 */
const invokeModel = compose(invoke, withReview(), withCache(), withValidation(), withCascade(), withModelFallback(), withDeploymentFallback());

export async function handleModelCall(gateway: Gateway, api: InboundApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  res.setHeader('x-request-id', requestId);
  const state: CallState = { requestId, startedAt: performance.now(), api, req, res, signal: abort.signal };
  state.trace = gateway.tracing?.startRequest(req.headers, api.endpoint, state.startedAt);
  let result: CallResult | undefined;
  let modelRequested = '';
  let stream = false;
  try {
    state.principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    const body = parseJsonBody(await readBody(req, gateway.config.maxBodyBytes), req.headers['content-type'], gateway.config.maxJsonDepth) as Record<string, unknown>;
    const request = api.parse(body);
    const askedMode = askedReview(req.headers, body, request);
    state.trace?.describe(request);
    modelRequested = request.model;
    stream = request.stream;
    const maxCostUsd = maxCostOf(req.headers);
    const auto = isAutoRoute(request.model);
    state.route = auto ? await routeAuto(routerContext(gateway, state.principal, api), request, api.endpoint, maxCostUsd) : await resolveRoute(gateway.catalog, request, api.endpoint);
    if (auto && gateway.log.isLevelEnabled('debug')) logDecision(gateway, requestId, request, state.route);
    const fallbacks = await admit(gateway, state, request, maxCostUsd);
    const policy = gateway.bodies.policyFor(state.principal, state.route.auto?.spec.name);
    if (policy !== 'none') {
      state.bodyPolicy = policy;
      state.captureAnswer = true;
      state.body = body;
    }
    request.reasoningEffort = state.route.effort;
    applyOutputCap(request, state.admitted!);
    const call = modelCall(gateway, state, request, body, fallbacks, askedMode);
    result = await respond(state, call, await invokeModel(call));
    settle(gateway, state, result);
    await state.reviewAfterStream?.open(result);
  } catch (err) {
    if (!state.heldByReview) close(gateway, state, null, 0);
    const error = err instanceof GatewayError ? err : internalError(requestId);
    if (!(err instanceof GatewayError)) gateway.log.error({ requestId, err }, 'unhandled error in pipeline');
    result = { status: error.status, usage: emptyUsage(), costUsd: 0, attempts: [...attemptsOf(err)], error };
    sendError(state, error, result.attempts.length);
  } finally {
    record(gateway, state, result, modelRequested, stream);
  }
}

/**
 * Limits and budget reserve, at the route's worst case. A route with `downgrade` whose
 * tier the key's budget refuses falls to the next cheaper tier and asks again.
 */
async function admit(gateway: Gateway, state: CallState, request: CanonicalRequest, maxCostUsd: number | undefined): Promise<ModelInfo[]> {
  const principal = state.principal!;
  for (;;) {
    const route = state.route!;
    const routeName = route.auto?.spec.name;
    // A fallback model is one the key may use too (allowed models), and its price is reserved up front.
    const fallbacks = fallbackModels(gateway, route.model.id).filter((model) => gateway.isModelAllowed(principal, model, routeName));
    // An auto route's tier may list several models: the others that fit follow the configured chain.
    for (const model of route.auto?.alternatives ?? []) if (!fallbacks.includes(model)) fallbacks.push(model);
    const estimate = estimateCost(request, route, fallbacks);
    if (maxCostUsd !== undefined && !route.auto) refuseOverCap(estimate, maxCostUsd, route.model);
    try {
      state.admitted = await gateway.admission.admit(principal, route.model, estimate, {
        requestId: state.requestId, endpoint: state.api.endpoint, route: routeName, requestedMaxOutputTokens: request.maxOutputTokens ?? null,
      });
      return fallbacks;
    } catch (err) {
      const below = err instanceof GatewayError && err.code === 'insufficient_quota' ? cheaperThan(route) : undefined;
      if (!below) throw err;
      const from = `${route.auto!.tier} (${route.model.id}) refused by the budget: ${err instanceof GatewayError ? err.message : ''}`;
      state.route = await routeAuto(routerContext(gateway, principal, state.api), request, state.api.endpoint, maxCostUsd, below).catch(() => { throw err; });
      state.route.reason += `; downgraded from ${from.slice(0, 300)}`;
    }
  }
}

/** The router's decision with the features behind the score (debug: it walks the question again). */
function logDecision(gateway: Gateway, requestId: string, request: CanonicalRequest, route: Route): void {
  const auto = route.auto!;
  const { text, turns } = questionOf(request);
  const features = auto.score !== undefined ? gateway.router.scorer.explain?.(text, turns) : undefined;
  gateway.log.debug({ requestId, route: auto.spec.name, tier: auto.tier, model: route.model.id, score: auto.score, why: auto.why, features }, 'router decision');
}

function routerContext(gateway: Gateway, principal: Principal, api: InboundApi): RouterContext {
  return {
    relays: (model) => api.relay !== undefined && gateway.catalog.deployments(model).some((d) => api.relay!.accepts(d, model)),
    catalog: gateway.catalog,
    router: gateway.router.config,
    scorer: gateway.router.scorer,
    allowed: (model, route) => gateway.isModelAllowed(principal, model, route),
    routeAllowed: (route) => gateway.isRouteAllowed(principal, route),
  };
}

function settle(gateway: Gateway, state: CallState, result: CallResult): void {
  // A held review settles the reservation itself, once decided.
  if (state.heldByReview) return;
  const charged = result.usage.inputTokens !== 0 || result.usage.outputTokens !== 0;
  close(gateway, state, charged ? result.usage : null, result.costUsd);
}

/**
 * Settle (usage) or release (null) the admission. Where the ledger writes to the store
 * holding the reservation, the request row carries the settlement (one write for both).
 */
function close(gateway: Gateway, state: CallState, usage: Usage | null, costUsd: number): void {
  const admitted = state.admitted;
  if (!admitted) return;
  if (gateway.ledger.carriesSettlements && admitted.settleWithRow) state.settlement ??= admitted.settleWithRow(usage, costUsd);
  else if (usage) admitted.settle(usage, costUsd);
  else admitted.release();
}

function modelCall(gateway: Gateway, state: CallState, request: CanonicalRequest, body: Record<string, unknown>, fallbacks: ModelInfo[], askedMode: ReviewMode | undefined): ModelCall {
  const route = state.route!;
  // First: an `after` stream asks for its answer to be captured.
  const review = reviewContext(gateway, state, request, body, askedMode);
  return {
    gateway, requestId: state.requestId, api: state.api, request, body, clientHeaders: state.req.headers, signal: state.signal,
    model: route.model, candidates: route.deployments, requestedEffort: route.requestedEffort ?? route.effort, fallbacks,
    changes: { effort: route.requestedEffort !== undefined ? route.effort : undefined, outputCap: state.admitted?.outputCap },
    auto: route.auto,
    trace: state.trace,
    review,
    keepAnswerBytes: state.captureAnswer ? gateway.bodies.captureBytes : undefined,
    cache: gateway.cache && state.api.endpoint !== 'embeddings'
      ? cacheContext(gateway.cache.settings, gateway.cache.store, state.principal!, route.auto?.spec.name ?? route.model.id, request, state.req.headers)
      : undefined,
  };
}
