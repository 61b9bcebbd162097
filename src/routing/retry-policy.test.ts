// The retry policy decides on injected time and randomness: no test waits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError, invalidRequest } from '../canonical/errors.ts';
import { circuitOpenError } from './breaker.ts';
import { backoffDelayMs, classifyFailure, RetryPlan, retryAfterMs, type RetryOptions } from './retry-policy.ts';

function upstream(status: number, code: string, headers?: Record<string, string>): GatewayError {
  return new GatewayError({ status, type: status === 429 ? 'rate_limit_error' : 'upstream_error', code, message: `upstream said ${status}`, headers, source: 'provider:openai' });
}

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

function plan(options: Partial<RetryOptions>, clock = fakeClock(), random = () => 0.5): RetryPlan {
  return new RetryPlan(options, { now: clock.now, random });
}

describe('classifyFailure', () => {
  test('429, 5xx, timeouts and connection errors from upstream retry, and count against the deployment', () => {
    const cases: Array<[unknown, string]> = [
      [upstream(429, 'upstream_rate_limited'), 'rate_limited'],
      [upstream(500, 'upstream_500'), 'server'],
      [upstream(503, 'upstream_503'), 'server'],
      [upstream(529, 'overloaded_error'), 'server'],
      [upstream(502, 'upstream_invalid_response'), 'server'],
      [upstream(504, 'upstream_timeout'), 'timeout'],
      [upstream(408, 'upstream_408'), 'timeout'],
      [upstream(502, 'upstream_unreachable'), 'connection'],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'connection'],
      [Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 'connection'],
      [Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'timeout'],
      [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
    ];
    for (const [error, kind] of cases) {
      const c = classifyFailure(error);
      assert.deepEqual([c.kind, c.retryable, c.deploymentFault], [kind, true, true], String((error as Error).message));
    }
  });

  test('a 4xx the caller caused, and every refusal of the gateway itself, never retry', () => {
    const budget = new GatewayError({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded', message: 'budget' });
    const keyRate = new GatewayError({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'rpm' });
    const notConfigured = new GatewayError({ status: 503, type: 'server_error', code: 'provider_not_configured', message: 'no', headers: { 'x-should-retry': 'false' } });
    const cases: unknown[] = [
      invalidRequest('bad'), budget, keyRate, notConfigured,
      upstream(400, 'invalid_request_error'), upstream(404, 'model_not_found'), upstream(413, 'upstream_413'), upstream(422, 'upstream_422'),
      upstream(503, 'upstream_503', { 'x-should-retry': 'false' }),
      new TypeError('a bug, not an outage'),
    ];
    for (const error of cases) {
      const c = classifyFailure(error);
      assert.equal(c.retryable, false, `${(error as Error).message} must not retry`);
      assert.equal(c.deploymentFault, false, `${(error as Error).message} is not the deployment's fault`);
    }
  });

  test('a client that went away is not retried', () => {
    const closed = new GatewayError({ status: 499, type: 'server_error', code: 'client_closed_request', message: 'gone' });
    assert.equal(classifyFailure(closed).kind, 'client_closed');
    assert.equal(classifyFailure(new DOMException('aborted', 'AbortError')).retryable, false);
  });

  test("an upstream 401/403 (the gateway's provider key) is for another deployment only", () => {
    const c = classifyFailure(upstream(401, 'provider_auth_failed'));
    assert.deepEqual([c.retryable, c.nextDeploymentOnly, c.deploymentFault], [true, true, true]);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-02T07:00:00Z');
  test('reads retry-after-ms first, then retry-after seconds or an HTTP date', () => {
    assert.equal(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now), 1500);
    assert.equal(retryAfterMs({ 'retry-after-ms': '12.3' }, now), 13);
    assert.equal(retryAfterMs({ 'retry-after': '7' }, now), 7000);
    assert.equal(retryAfterMs({ 'retry-after': '0.5' }, now), 500);
    assert.equal(retryAfterMs({ 'retry-after': 'Wed, 02 Dec 2026 07:00:30 GMT' }, now), 30_000);
    assert.equal(retryAfterMs({ 'retry-after': ['3', '4'] }, now), 3000);
  });

  test('a past date is 0; garbage and absence are undefined', () => {
    assert.equal(retryAfterMs({ 'retry-after': 'Wed, 02 Dec 2026 06:00:00 GMT' }, now), 0);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after': '-3' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after-ms': 'x' }, now), undefined);
    assert.equal(retryAfterMs({}, now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });
});

describe('backoffDelayMs (full jitter)', () => {
  test('grows as base·2^n up to max, and spans [0, cap) with the random source', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffDelayMs(n, 100, 1000, () => 0.999999)), [99, 199, 399, 799, 999]);
    assert.equal(backoffDelayMs(5, 100, 1000, () => 0), 0);
    const seen = new Set<number>();
    let x = 0;
    for (let i = 0; i < 50; i++) seen.add(backoffDelayMs(3, 100, 1000, () => (x = (x + 0.137) % 1)));
    assert.ok(seen.size > 20, 'the delay is spread, not a fixed value');
    for (const d of seen) assert.ok(d >= 0 && d < 800);
  });
});

describe('RetryPlan', () => {
  test('same deployment: backoff between attempts, then stops after the retry count', () => {
    const p = plan({ on: 'same', retries: 2, baseDelayMs: 100, maxDelayMs: 10_000 }, fakeClock(), () => 0.5);
    const a = p.next(upstream(500, 'upstream_500'), true);
    const b = p.next(upstream(500, 'upstream_500'), true);
    const c = p.next(upstream(500, 'upstream_500'), true);
    assert.deepEqual(a, { retry: true, delayMs: 50, switchDeployment: false, failure: a.failure });
    assert.deepEqual([b.retry, b.retry && b.delayMs], [true, 100]);
    assert.deepEqual([c.retry, !c.retry && c.reason], [false, 'retries_exhausted']);
  });

  test('a caller error stops at once, using no retry', () => {
    const p = plan({ retries: 3 });
    const step = p.next(upstream(400, 'invalid_request_error'), true);
    assert.deepEqual([step.retry, !step.retry && step.reason, p.retriesUsed], [false, 'not_retryable', 0]);
  });

  test('next deployment: moves on without waiting (the wait belongs to the one that failed)', () => {
    const p = plan({ on: 'next', retries: 2 });
    const step = p.next(upstream(429, 'upstream_rate_limited', { 'retry-after': '5' }), true);
    assert.deepEqual([step.retry, step.retry && step.delayMs, step.retry && step.switchDeployment], [true, 0, true]);
  });

  test('the last deployment is retried itself, honouring Retry-After', () => {
    const p = plan({ on: 'next', retries: 2, retryAfterCeilingMs: 10_000 });
    const step = p.next(upstream(429, 'upstream_rate_limited', { 'retry-after': '3' }), false);
    assert.deepEqual([step.retry, step.retry && step.delayMs, step.retry && step.switchDeployment], [true, 3000, false]);
  });

  test('Retry-After and retry-after-ms are waited exactly, not jittered', () => {
    const p = plan({ on: 'same', retries: 3, retryAfterCeilingMs: 10_000 }, fakeClock(), () => 0.01);
    const step = p.next(upstream(429, 'upstream_rate_limited', { 'retry-after-ms': '2500' }), true);
    assert.equal(step.retry && step.delayMs, 2500);
  });

  test('Retry-After above the ceiling is not waited: the next deployment, or stop when there is none', () => {
    const long = upstream(429, 'upstream_rate_limited', { 'retry-after': '60' });
    const moveOn = plan({ on: 'same', retries: 3, retryAfterCeilingMs: 10_000 }).next(long, true);
    assert.deepEqual([moveOn.retry, moveOn.retry && moveOn.delayMs, moveOn.retry && moveOn.switchDeployment], [true, 0, true]);
    const none = plan({ on: 'same', retries: 3, retryAfterCeilingMs: 10_000 }).next(long, false);
    assert.deepEqual([none.retry, !none.retry && none.reason], [false, 'retry_after_over_ceiling']);
  });

  test('no wait crosses the total deadline', () => {
    const clock = fakeClock();
    const p = plan({ on: 'same', retries: 5, deadlineMs: 10_000, retryAfterCeilingMs: 60_000 }, clock);
    clock.advance(7_000);
    const tooLong = p.next(upstream(503, 'upstream_503', { 'retry-after': '4' }), false);
    assert.deepEqual([tooLong.retry, !tooLong.retry && tooLong.reason], [false, 'deadline']);
    const fits = p.next(upstream(503, 'upstream_503', { 'retry-after': '2' }), false);
    assert.equal(fits.retry && fits.delayMs, 2000);
    // With another deployment at hand, the wait is skipped instead of the retry.
    const switched = p.next(upstream(503, 'upstream_503', { 'retry-after': '4' }), true);
    assert.deepEqual([switched.retry && switched.delayMs, switched.retry && switched.switchDeployment], [0, true]);
    clock.advance(3_000);
    const late = p.next(upstream(503, 'upstream_503'), true);
    assert.deepEqual([late.retry, !late.retry && late.reason], [false, 'deadline']);
  });

  test('the per-attempt timeout is cut to what the deadline leaves', () => {
    const clock = fakeClock();
    const p = plan({ attemptTimeoutMs: 30_000, deadlineMs: 45_000 }, clock);
    assert.equal(p.attemptTimeoutMs(), 30_000);
    clock.advance(20_000);
    assert.equal(p.attemptTimeoutMs(), 25_000);
    clock.advance(30_000);
    assert.equal(p.attemptTimeoutMs(), 0);
  });

  test('a provider key refused: next deployment even in same mode, and stop when there is none', () => {
    const auth = upstream(401, 'provider_auth_failed');
    const moved = plan({ on: 'same', retries: 2 }).next(auth, true);
    assert.equal(moved.retry && moved.switchDeployment, true);
    const none = plan({ on: 'same', retries: 2 }).next(auth, false);
    assert.deepEqual([none.retry, !none.retry && none.reason], [false, 'no_other_deployment']);
  });

  test('a deployment skipped by its open breaker moves on without spending a retry', () => {
    const p = plan({ on: 'same', retries: 1 });
    const open = circuitOpenError('openai:gpt-5.4#0', 1_000_000 + 4_000, 1_000_000);
    for (let i = 0; i < 3; i++) {
      const step = p.next(open, true);
      assert.deepEqual([step.retry, step.retry && step.delayMs, step.retry && step.switchDeployment], [true, 0, true]);
    }
    assert.equal(p.retriesUsed, 0);
    const real = p.next(upstream(500, 'upstream_500'), true);
    assert.equal(real.retry, true, 'the one retry is still there for a real failure');
    const last = p.next(open, false);
    assert.deepEqual([last.retry, !last.retry && last.reason], [false, 'no_other_deployment']);
    assert.equal(classifyFailure(open).deploymentFault, false, 'a skip does not count against the deployment again');
  });
});
