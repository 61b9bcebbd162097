// `on_timeout: pro`: a held review nobody decided in time is answered by the pro tier
// instead — the stored request, once, through the same deployment and fallback wrappers
// as any call (retried, breaker-guarded), read whole.
import { GatewayError } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/types.ts';
import { costFor } from '../account.ts';
import { chatApi, messagesApi, responsesApi, type InboundApi } from '../api/inbound.ts';
import { withDeploymentFallback } from '../deployment-fallback.ts';
import type { Gateway } from '../gateway.ts';
import { compose, invoke, type ModelCall } from '../invoke.ts';
import { withModelFallback } from '../model-fallback.ts';
import { translateOnly } from '../router/judge.ts';
import type { ProCall } from './service.ts';
import type { ReviewRow } from './types.ts';

const callModel = compose(invoke, withModelFallback(), withDeploymentFallback());

export function apiOf(endpoint: string): InboundApi {
  return endpoint === 'messages' ? messagesApi : endpoint === 'responses' ? responsesApi : chatApi;
}

/** The request a review stored, as its API parses it; undefined when it cannot be read back (cut by the body policy's size cap). */
export function storedRequestOf(row: ReviewRow): CanonicalRequest | undefined {
  try {
    return apiOf(row.endpoint).parse(JSON.parse(row.request));
  } catch {
    return undefined;
  }
}

export function proCaller(gateway: () => Gateway): ProCall {
  return async (row) => {
    const g = gateway();
    const model = (g.router.config.tiers.get('pro') ?? []).map((id) => g.catalog.get(id)).find((m) => m !== undefined && g.catalog.deployments(m).length > 0);
    if (!model) throw new GatewayError({ status: 503, type: 'server_error', code: 'no_pro_model', message: 'No pro-tier model has a deployment.' });
    const parsed = storedRequestOf(row);
    if (!parsed) throw new GatewayError({ status: 400, type: 'invalid_request_error', code: 'request_not_kept', message: 'The stored request cannot be read back (cut by the body policy).' });
    const request: CanonicalRequest = { ...parsed, model: model.id, stream: false };
    const call: ModelCall = {
      gateway: g, requestId: row.requestId, api: translateOnly(apiOf(row.endpoint)), request, body: {}, clientHeaders: {}, signal: AbortSignal.timeout(g.config.upstreamTimeoutMs),
      model, candidates: g.catalog.deployments(model), changes: {},
    };
    const outcome = await callModel(call);
    if (outcome.kind !== 'response') throw new GatewayError({ status: 502, type: 'server_error', code: 'pro_failed', message: `${model.id} gave no answer (${outcome.kind}).` });
    return { response: { ...outcome.response, usage: outcome.usage }, usage: outcome.usage, costUsd: costFor(outcome.usage, outcome.model), model: outcome.model.id };
  };
}
