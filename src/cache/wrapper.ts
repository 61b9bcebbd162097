// The cache around the model call (src/invoke.ts), inside review (a hold rule still
// holds a cached answer): a hit is answered from the cache without an attempt on any
// upstream; a miss reads the whole answer (so it can be kept) and stores it.
import { emptyUsage } from '../canonical/types.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { spentOn } from '../account.ts';
import type { Invoke, InvokeWrapper, ModelCall, Outcome } from '../invoke.ts';
import { buffered } from '../router/judge.ts';
import type { CachedAnswer } from './store.ts';

type Answered = Extract<Outcome, { kind: 'response' }>;

export function withCache(): InvokeWrapper {
  // Not async on the way through: a call without a cache costs no extra promise.
  return (next) => (call) => (call.cache ? cached(next, call, call.cache) : next(call));
}

async function cached(next: Invoke, call: ModelCall, cache: NonNullable<ModelCall['cache']>): Promise<Outcome> {
  if (cache.lookup) {
    const hit = await cache.store.get(cache.key).catch((error) => {
      call.gateway.log.warn({ requestId: call.requestId, err: (error as Error).message }, 'response cache unavailable: a miss');
      return undefined;
    });
    const served = hit && fromCache(call, hit);
    if (served) return served;
  }
  const outcome = await next(buffered(call));
  if (outcome.kind !== 'response') return outcome;
  if (cacheable(outcome.response)) {
    const answer: CachedAnswer = { response: { ...outcome.response, usage: outcome.usage }, model: outcome.model.id, deployment: outcome.deployment.id, costUsd: spentOn(outcome).costUsd, createdAt: new Date().toISOString() };
    const text = JSON.stringify(answer);
    if (text.length <= cache.maxEntryBytes) {
      cache.store.set(cache.key, answer, cache.ttlMs).catch((error) => call.gateway.log.warn({ requestId: call.requestId, err: (error as Error).message }, 'could not store an answer in the response cache'));
    }
  }
  return { ...outcome, notes: { ...outcome.notes, cache: cache.lookup ? 'miss' : 'refresh' } };
}

/** The cached answer as an outcome: no upstream attempt, no usage (a hit costs 0), what it saved noted. */
function fromCache(call: ModelCall, hit: CachedAnswer): Answered | undefined {
  const model = call.gateway.catalog.get(hit.model);
  const deployments = model ? call.gateway.catalog.deployments(model) : [];
  const deployment = deployments.find((d) => d.id === hit.deployment) ?? deployments[0];
  // A model or deployment no longer configured: asked again instead.
  if (!model || !deployment) return undefined;
  const usage = emptyUsage();
  return {
    kind: 'response', response: { ...hit.response, usage }, usage, model, deployment, startedAt: performance.now(), warnings: [],
    attempts: [{ deployment, model, status: 200, usage, latencyMs: 0, note: 'cache hit' }],
    notes: { cache: 'hit', cacheSavedUsd: hit.costUsd, cachedAt: hit.createdAt },
  };
}

function cacheable(response: CanonicalResponse): boolean {
  return response.finishReason !== 'error' && response.finishReason !== 'content_filter' && response.content.length > 0;
}
