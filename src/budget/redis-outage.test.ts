// Admission while its counters (Redis) cannot be reached: the configured policy per
// concern. Budgets fail closed by default (a 503 naming Redis), rate limits fail open
// (admitted uncounted, one warning per 10 s, counted for the metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../canonical/errors.ts';
import type { Counters } from '../limits/counters.ts';
import { model } from '../store/testing.ts';
import { AccessAdmission, type AccessAdmissionOptions } from './admission.ts';
import { estimateFor, sqliteServices, type TestServices } from './testing.ts';

const mini = model('gpt-5.4-mini');

/** Counters whose every call fails, as Redis does while it is down; records what was called. */
function downCounters(): Counters & { calls: string[] } {
  const calls: string[] = [];
  const fail = (name: string) => async () => {
    calls.push(name);
    throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
  };
  return {
    shared: true, location: 'Redis at 10.1.2.3:6379', calls,
    reserve: fail('reserve'), settle: fail('settle'), take: fail('take'), adjust: fail('adjust'), freeSlots: fail('freeSlots'), close: async () => {},
  };
}

async function setup(policy?: AccessAdmissionOptions['outagePolicy']) {
  const services: TestServices = await sqliteServices();
  const counters = downCounters();
  const admission = new AccessAdmission({ ...services.services.admission.options, counters, outagePolicy: policy });
  const key = async (body: Record<string, unknown>) => {
    const created = await services.services.admin.createKey({ name: `k${Math.random().toString(36).slice(2, 8)}`, ...body });
    return services.services.authenticator.authenticate(created.key);
  };
  return { services, counters, admission, key };
}

const refusal = async (promise: Promise<unknown>): Promise<GatewayError> => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
};

test('by default a budget is not bypassed: a clear 503 naming Redis, retryable, and nothing reserved', async () => {
  const { services, admission, key } = await setup();
  try {
    const principal = await key({ budgets: [{ limit_usd: 1, period: 'month' }] });
    const error = await refusal(admission.admit(principal, mini, estimateFor(mini, 100, 100)));
    assert.equal(error.status, 503);
    assert.equal(error.code, 'redis_unavailable');
    assert.match(error.message, /Redis at 10\.1\.2\.3:6379 is unreachable, and store\.redis_outage\.budgets is fail_closed, so the request was not sent/);
    assert.match(error.message, /check that Redis is running and reachable from the gateway \(store\.redis_url\)/);
    assert.equal(error.responseHeaders()['x-should-retry'], 'true');
    await services.services.store.flush();
    assert.deepEqual(await services.services.store.openReservations(), [], 'no reservation left behind');
    for (let i = 0; i < 3; i++) await refusal(admission.admit(principal, mini, estimateFor(mini, 100, 100)));
    assert.equal(services.logs.filter((l) => l.includes('"level":"error"') && l.includes('refusing requests that need its budgets')).length, 1, 'one line for many refusals');
  } finally {
    await services.done();
  }
});

test('by default rate limits fail open: admitted uncounted, one warning for many, counted for the metrics', async () => {
  const { services, counters, admission, key } = await setup();
  try {
    const principal = await key({ rate_limits: { rpm: 1, concurrent: 1 } });
    for (let i = 0; i < 5; i++) {
      const admitted = await admission.admit(principal, mini, estimateFor(mini, 100, 100));
      assert.equal(admitted.headers['x-ratelimit-limit-requests'], undefined, 'no rate headers: nothing was counted');
      admitted.settle({ inputTokens: 100, cachedInputTokens: 0, outputTokens: 50, reasoningTokens: 0 }, 0.0001);
    }
    await admission.drain();
    assert.deepEqual(admission.failOpenCounts(), { budgets: 0, rate_limits: 5 });
    const warnings = services.logs.filter((l) => l.includes('rate limits are not enforced (store.redis_outage.rate_limits: fail_open)'));
    assert.equal(warnings.length, 1, 'one warning, not one per request');
    assert.match(warnings[0], /Redis at 10\.1\.2\.3:6379 is unreachable/);
    assert.deepEqual(counters.calls, ['take', 'take', 'take', 'take', 'take'], 'nothing untaken is given back (no adjust, no slot freed)');
  } finally {
    await services.done();
  }
});

test('the policy can be turned around: rate limits refuse, budgets admit and keep the reservation for re-seeding', async () => {
  const { services, admission, key } = await setup({ budgets: 'fail_open', rateLimits: 'fail_closed' });
  try {
    const limited = await key({ rate_limits: { rpm: 100 } });
    const error = await refusal(admission.admit(limited, mini, estimateFor(mini, 100, 100)));
    assert.equal(error.code, 'redis_unavailable');
    assert.match(error.message, /could not check this key's rate limits: Redis at 10\.1\.2\.3:6379 is unreachable, and store\.redis_outage\.rate_limits is fail_closed/);

    const budgeted = await key({ budgets: [{ limit_usd: 1, period: 'month' }] });
    const admitted = await admission.admit(budgeted, mini, estimateFor(mini, 100, 100));
    await services.services.store.flush();
    const open = await services.services.store.openReservations();
    assert.equal(open.length, 1);
    assert.equal(open[0].id, admitted.id);
    assert.equal(open[0].charges.length, 1, 'its charges are stored: once Redis is back, seeding counts it');
    assert.deepEqual(admission.failOpenCounts(), { budgets: 1, rate_limits: 0 });
    admitted.release();
    await admission.drain();
  } finally {
    await services.done();
  }
});
