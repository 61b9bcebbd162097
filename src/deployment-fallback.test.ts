import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from './canonical/errors.ts';
import { emptyUsage } from './canonical/types.ts';
import type { ModelInfo } from './catalog/types.ts';
import type { Deployment } from './providers/types.ts';
import { compose, type Invoke, type InvokeWrapper, type ModelCall, type Outcome } from './invoke.ts';
import { withDeploymentFallback } from './deployment-fallback.ts';
import { Resilience } from './resilience.ts';
import { CircuitBreaker, MemoryBreakerStore } from './routing/breaker.ts';

const model = { id: 'm' } as ModelInfo;
const deployment = (id: string) => ({ id, providerName: id.split(':')[0], weight: 1 }) as Deployment;
const candidates = [deployment('a:m#0'), deployment('b:m#1'), deployment('c:m#2')];
// Config order, no waits: what each test asserts is where the attempts went.
const inOrder = () => {
  const resilience = new Resilience({ strategyFor: () => 'priority', retry: { retries: 2, on: 'next', baseDelayMs: 0 }, breaker: new CircuitBreaker(new MemoryBreakerStore()) });
  return () => resilience;
};
const call = { model, candidates, signal: new AbortController().signal } as unknown as ModelCall;
const failure = (status: number) => new GatewayError({ status, type: 'upstream_error', code: `e${status}`, message: `failed with ${status}`, source: 'provider:x' });

function answer(c: ModelCall): Outcome {
  const d = c.deployment!;
  return { kind: 'json', body: '{}', usage: emptyUsage(), deployment: d, model: c.model, startedAt: 0, warnings: [], attempts: [{ deployment: d, model: c.model, status: 200, latencyMs: 0 }] };
}

/** An invoke that fails with the given statuses in turn, then answers; it records each call it got. */
function upstream(statuses: number[]): Invoke & { calls: ModelCall[] } {
  const calls: ModelCall[] = [];
  const invoke = async (c: ModelCall) => {
    calls.push(c);
    const status = statuses[calls.length - 1];
    if (status !== undefined) throw failure(status);
    return answer(c);
  };
  return Object.assign(invoke, { calls });
}

test('a retryable failure moves to the next deployment, each attempt a fresh call, every attempt recorded with its model', async () => {
  const next = upstream([503]);
  const outcome = await withDeploymentFallback(inOrder())(next)(call);
  assert.deepEqual(next.calls.map((c) => c.deployment?.id), ['a:m#0', 'b:m#1']);
  assert.notEqual(next.calls[0], next.calls[1]);
  assert.equal(call.deployment, undefined, 'the caller\'s call is not mutated');
  assert.equal(outcome.deployment.id, 'b:m#1');
  assert.deepEqual(outcome.attempts.map((a) => [a.deployment.id, a.status, a.errorCode, a.model.id]), [['a:m#0', 503, 'e503', 'm'], ['b:m#1', 200, undefined, 'm']]);
});

test('a failure the caller caused (4xx but 429) is not tried elsewhere', async () => {
  const next = upstream([400]);
  await assert.rejects(withDeploymentFallback(inOrder())(next)(call), (err: GatewayError) => err.code === 'e400');
  assert.equal(next.calls.length, 1);
});

test('when every deployment fails, the error names each attempt', async () => {
  const next = upstream([429, 502, 429]);
  await assert.rejects(withDeploymentFallback(inOrder())(next)(call), (err: GatewayError) =>
    err.code === 'all_upstreams_failed' && err.status === 429 && /a:m#0 → 429 e429; b:m#1 → 502 e502; c:m#2 → 429 e429/.test(err.message));
  assert.equal(next.calls.length, 3);
});

test('a call whose client has gone is not tried again', async () => {
  const abort = new AbortController();
  abort.abort();
  const next = upstream([503]);
  await assert.rejects(withDeploymentFallback(inOrder())(next)({ ...call, signal: abort.signal }), (err: GatewayError) => err.code === 'e503');
  assert.equal(next.calls.length, 1);
});

test('compose puts the first wrapper outermost', async () => {
  const seen: string[] = [];
  const tag = (name: string): InvokeWrapper => (next) => async (c) => {
    seen.push(`${name} in`);
    const outcome = await next(c);
    seen.push(`${name} out`);
    return outcome;
  };
  await compose(async (c) => answer({ ...c, deployment: candidates[0] }), tag('outer'), tag('inner'))(call);
  assert.deepEqual(seen, ['outer in', 'inner in', 'inner out', 'outer out']);
});
