// The request pipeline for every model call, as its list of stages:
// authenticate → parse → route → limits/budget reserve → dispatch → account → log.
// (Authentication runs before the body is read, so an unauthenticated caller cannot
// make the gateway buffer and parse megabytes.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { GatewayError, internalError } from './canonical/errors.ts';
import type { Usage } from './canonical/types.ts';
import { emptyUsage } from './canonical/types.ts';
import type { InboundApi } from './api/inbound.ts';
import { readBody, parseJsonBody } from './http/body.ts';
import { presentedKey } from './keys/presented-key.ts';
import { resolveRoute } from './routing/resolve.ts';
import type { Route } from './routing/resolve.ts';
import { estimateCost, applyOutputCap, costFor } from './account.ts';
import { dispatch } from './dispatch.ts';
import type { DispatchResult } from './dispatch.ts';
import type { Gateway } from './gateway.ts';
import type { Admitted, Principal } from './services.ts';

export interface CallState {
  requestId: string;
  startedAt: number;
  api: InboundApi;
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  principal?: Principal;
  route?: Route;
  admitted?: Admitted;
}

export async function handleModelCall(gateway: Gateway, api: InboundApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = `req_${randomUUID().replaceAll('-', '')}`;
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  res.setHeader('x-request-id', requestId);
  const state: CallState = { requestId, startedAt: performance.now(), api, req, res, signal: abort.signal };
  let result: DispatchResult | undefined;
  let modelRequested = '';
  let stream = false;
  try {
    state.principal = await gateway.authenticator.authenticate(presentedKey(req.headers));
    const body = parseJsonBody(await readBody(req, gateway.config.maxBodyBytes), req.headers['content-type'], gateway.config.maxJsonDepth) as Record<string, unknown>;
    const request = api.parse(body);
    modelRequested = request.model;
    stream = request.stream;
    state.route = await resolveRoute(gateway.catalog, request, api.endpoint);
    request.reasoningEffort = state.route.effort;
    state.admitted = await gateway.admission.admit(state.principal, state.route.model, estimateCost(request, state.route), {
      requestId, endpoint: api.endpoint, requestedMaxOutputTokens: request.maxOutputTokens ?? null,
    });
    applyOutputCap(request, state.admitted);
    result = await dispatch(gateway, state, request, body);
    settle(state, result);
    if (result.error && !res.headersSent) sendError(state, result.error);
  } catch (err) {
    state.admitted?.release();
    const error = err instanceof GatewayError ? err : internalError(requestId);
    if (!(err instanceof GatewayError)) gateway.log.error({ requestId, err }, 'unhandled error in pipeline');
    result = { status: error.status, usage: emptyUsage(), costUsd: 0, attempts: [], error };
    sendError(state, error);
  } finally {
    record(gateway, state, result, modelRequested, stream);
  }
}

function settle(state: CallState, result: DispatchResult): void {
  if (!state.admitted) return;
  if (result.usage.inputTokens === 0 && result.usage.outputTokens === 0) state.admitted.release();
  else state.admitted.settle(result.usage, result.costUsd);
}

export function sendError(state: Pick<CallState, 'res' | 'api'> & { admitted?: Admitted; requestId?: string }, error: GatewayError): void {
  const { res } = state;
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify(state.api.errorBody(error, state.requestId));
  res.statusCode = error.status;
  // Which side refused: the gateway itself, or the named provider.
  res.setHeader('x-switchyard-error-source', error.source);
  const limits = state.admitted?.headers;
  if (limits) for (const name in limits) res.setHeader(name, limits[name]);
  const headers = error.responseHeaders();
  for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  // A body still arriving is not worth reading (and must not run into the request time limit after this answer).
  if (error.status === 413 || res.req?.complete === false) res.setHeader('connection', 'close');
  res.end(body);
}

function record(gateway: Gateway, state: CallState, result: DispatchResult | undefined, modelRequested: string, stream: boolean): void {
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
    route: state.route?.reason,
    stream,
  };
  gateway.ledger.record({
    ...base,
    attempt: 0,
    modelUsed: state.route?.model.id,
    provider: result?.deployment?.providerName,
    deploymentId: result?.deployment?.id,
    status: result?.status ?? 500,
    errorCode: result?.error?.code,
    usage,
    costUsd: result?.costUsd ?? 0,
    latencyMs: Math.round(performance.now() - state.startedAt),
    ttftMs: result?.ttftMs,
  });
  if (!result || result.attempts.length <= 1) return;
  result.attempts.forEach((attempt, i) =>
    gateway.ledger.record({
      ...base,
      attempt: i + 1,
      modelUsed: state.route?.model.id,
      provider: attempt.deployment.providerName,
      deploymentId: attempt.deployment.id,
      status: attempt.status,
      errorCode: attempt.errorCode,
      usage: attempt.usage ?? emptyUsage(),
      costUsd: attempt.usage && state.route ? costFor(attempt.usage, state.route.model) : 0,
      latencyMs: attempt.latencyMs,
    }),
  );
}
