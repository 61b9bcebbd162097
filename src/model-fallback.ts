// Fallback chains across models (config `fallbacks:`), as a wrapper outside the
// deployment one: when every deployment of a model failed in a way another model may do
// better on (429, 5xx, timeouts, open breakers), the next model of the chain (call.fallbacks:
// those with deployments that the key may use, chosen by the pipeline) gets a fresh call,
// at its own deployments' upstream names and its own reasoning level. Nothing
// has reached the client when the inner wrapper throws, so moving on is safe.
//
// Budgets: admission reserved the chain's worst case (account.ts estimateCost over the
// model and its chain), so whichever model answers, a hard budget holds; the settlement
// then charges the model that answered.
import { GatewayError } from './canonical/errors.ts';
import { resolveEffort } from './catalog/catalog.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Attempt } from './call-state.ts';
import type { Gateway } from './gateway.ts';
import type { Invoke, InvokeWrapper, ModelCall } from './invoke.ts';
import { checkCapabilities, checkContextWindow, checkEachInput, checkEndpoint } from './routing/resolve.ts';
import { classifyFailure } from './routing/retry-policy.ts';

/** Failed attempts an error stands for, so an outer wrapper can keep them in the record. */
const failedAttempts = new WeakMap<object, readonly Attempt[]>();

export function rememberAttempts(error: object, attempts: readonly Attempt[]): void {
  failedAttempts.set(error, attempts);
}

export function attemptsOf(error: unknown): readonly Attempt[] {
  return (typeof error === 'object' && error !== null && failedAttempts.get(error)) || [];
}

/** The models a call to this one may fall back to, in order: known ones with a deployment. */
export function fallbackModels(gateway: Gateway, modelId: string): ModelInfo[] {
  const chain = gateway.config.fallbacks.get(modelId);
  if (!chain) return [];
  const models: ModelInfo[] = [];
  for (const id of chain) {
    const model = gateway.catalog.get(id);
    if (model && gateway.catalog.deployments(model).length > 0) models.push(model);
  }
  return models;
}

export function withModelFallback(): InvokeWrapper {
  return (next: Invoke): Invoke => async (call) => {
    let earlier: Attempt[] = [];
    let error: unknown;
    const skipped: string[] = [];
    try {
      return await next(call);
    } catch (err) {
      const chain = call.fallbacks ?? [];
      if (chain.length === 0) throw err;
      error = err;
      earlier = [...attemptsOf(err)];
      for (const model of chain) {
        if (!classifyFailure(error).retryable || call.signal.aborted) break;
        const unfit = await whyUnfit(call, model);
        if (unfit) {
          skipped.push(`fallback ${model.id} skipped: ${unfit}`);
          continue;
        }
        try {
          const outcome = await next(onModel(call, model));
          return { ...outcome, attempts: [...earlier, ...outcome.attempts], warnings: [...outcome.warnings, ...skipped] };
        } catch (failed) {
          error = failed;
          earlier = [...earlier, ...attemptsOf(failed)];
        }
      }
    }
    if (skipped.length > 0 && error instanceof GatewayError) error = withSkips(error, skipped);
    if (typeof error === 'object' && error !== null) rememberAttempts(error, earlier);
    throw error;
  };
}

/** Why a fallback model cannot take this request (the route stage's own checks), or undefined when it can. */
async function whyUnfit(call: ModelCall, model: ModelInfo): Promise<string | undefined> {
  const { endpoint } = call.api;
  try {
    checkEndpoint(model, endpoint);
    checkCapabilities(call.request, model);
    if (endpoint === 'embeddings') await checkEachInput(call.gateway.catalog, call.request, model);
    else await checkContextWindow(call.gateway.catalog, call.request, model);
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return `${err.code} (${err.message})`;
    throw err;
  }
}

/** The last failure, its message saying which fallback models were passed over and why. */
function withSkips(error: GatewayError, skipped: readonly string[]): GatewayError {
  return new GatewayError({
    status: error.status, type: error.type, code: error.code, param: error.param, headers: error.headers, source: error.source,
    message: `${error.message} (${skipped.join('; ')})`,
  });
}

/** A fresh call to another model: its deployments, its reasoning level for what the caller asked. */
function onModel(call: ModelCall, model: ModelInfo): ModelCall {
  const asked = call.requestedEffort;
  const effort = resolveEffort(model, asked);
  return {
    ...call,
    model,
    candidates: call.gateway.catalog.deployments(model),
    deployment: undefined,
    request: { ...call.request, reasoningEffort: effort },
    changes: { ...call.changes, effort: effort !== asked ? effort : undefined },
  };
}
