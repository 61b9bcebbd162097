// Rate limits, output caps and allowed models, through the admission a request meets.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessServices } from '../admin/access.ts';
import { estimateFor, sharedServices, sqliteServices, type TestServices } from '../budget/testing.ts';
import type { GatewayError } from '../canonical/errors.ts';
import { catalogModels, model, postgresUnavailable, redisUnavailable } from '../store/testing.ts';

const sharedSkip = (await postgresUnavailable()) ?? (await redisUnavailable());
const mini = model('gpt-5.4-mini');
const nano = model('gpt-5.4-nano');
const frontier = model('gpt-5.5');

async function principalFor(services: AccessServices, body: Record<string, unknown>) {
  const created = await services.admin.createKey({ name: 'limited', ...body });
  return services.authenticator.authenticate(created.key);
}

function rateLimitTests(name: string, open: () => Promise<TestServices>, skip?: string) {
  describe(`rate limits (${name})`, { skip }, () => {
    test('requests per minute: the request past the limit gets 429 with Retry-After and x-ratelimit headers', async () => {
      const { services, done } = await open();
      try {
        const principal = await principalFor(services, { rate_limits: { rpm: 5 } });
        const estimate = estimateFor(mini, 100, 100);
        const remaining: string[] = [];
        for (let i = 0; i < 5; i++) {
          const admitted = await services.admission.admit(principal, mini, estimate);
          assert.equal(admitted.headers['x-ratelimit-limit-requests'], '5');
          assert.match(admitted.headers['x-ratelimit-reset-requests'], /^\d+(\.\d+)?m?s$|^\d+m\d+s$/);
          remaining.push(admitted.headers['x-ratelimit-remaining-requests']);
          admitted.settle({ inputTokens: 100, cachedInputTokens: 0, outputTokens: 10, reasoningTokens: 0 }, 0.0001);
        }
        assert.deepEqual(remaining, ['4', '3', '2', '1', '0']);
        await assert.rejects(services.admission.admit(principal, mini, estimate), (error: GatewayError) => {
          assert.equal(error.status, 429);
          assert.equal(error.code, 'rate_limit_exceeded');
          assert.match(error.message, /key 'limited' allows 5 requests per minute/);
          assert.ok(Number(error.headers?.['retry-after']) >= 1);
          assert.equal(error.headers?.['x-ratelimit-remaining-requests'], '0');
          return true;
        });
      } finally {
        await done();
      }
    });

    test('concurrent requests: a slot frees when a request settles', async () => {
      const { services, done } = await open();
      try {
        const principal = await principalFor(services, { rate_limits: { concurrent: 2 } });
        const estimate = estimateFor(mini, 100, 100);
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => services.admission.admit(principal, mini, estimate)));
        const held = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
        assert.equal(held.length, 2);
        const refusal = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.match(refusal.reason.message, /allows 2 concurrent requests/);
        held[0].release();
        await services.admission.drain();
        const next = await services.admission.admit(principal, mini, estimate);
        next.release();
        held[1].release();
      } finally {
        await done();
      }
    });

    test('tokens per minute count input + max_tokens, corrected to real usage at settle', async () => {
      const { services, done } = await open();
      try {
        const principal = await principalFor(services, { rate_limits: { tpm: 10_000 } });
        const first = await services.admission.admit(principal, mini, estimateFor(mini, 1000, 5000));
        assert.equal(first.headers['x-ratelimit-remaining-tokens'], '4000');
        await assert.rejects(services.admission.admit(principal, mini, estimateFor(mini, 1000, 5000)), { code: 'rate_limit_exceeded' });
        // The call really used 1,500 tokens: 4,500 come back.
        first.settle({ inputTokens: 1000, cachedInputTokens: 0, outputTokens: 500, reasoningTokens: 0 }, 0.001);
        await services.admission.drain();
        const second = await services.admission.admit(principal, mini, estimateFor(mini, 1000, 5000));
        assert.equal(second.headers['x-ratelimit-remaining-tokens'], '2500');
        second.release();
        await assert.rejects(services.admission.admit(principal, mini, estimateFor(mini, 1000, 20_000)), /needs up to 21000 tokens/);
      } finally {
        await done();
      }
    });

    test('per-model limits inside a key leave other models alone', async () => {
      const { services, done } = await open();
      try {
        const principal = await principalFor(services, { rate_limits: { rpm: 100, models: { 'gpt-5.5': { rpm: 1 } } } });
        const estimate = estimateFor(frontier, 10, 10);
        (await services.admission.admit(principal, frontier, estimate)).release();
        await assert.rejects(services.admission.admit(principal, frontier, estimate), /key 'limited' for gpt-5\.5 allows 1 requests per minute/);
        (await services.admission.admit(principal, mini, estimateFor(mini, 10, 10))).release();
      } finally {
        await done();
      }
    });
  });
}

rateLimitTests('in-process', () => sqliteServices());
rateLimitTests('Redis', () => sharedServices(), sharedSkip);

test('gateway-wide per-model limits apply to every key', async () => {
  const { services, done } = await sqliteServices({ modelRateLimits: { 'gpt-5.5': { rpm: 2 } } });
  try {
    const a = await principalFor(services, {});
    const b = await principalFor(services, {});
    const estimate = estimateFor(frontier, 10, 10);
    (await services.admission.admit(a, frontier, estimate)).release();
    (await services.admission.admit(b, frontier, estimate)).release();
    await assert.rejects(services.admission.admit(a, frontier, estimate), /model gpt-5\.5 \(gateway-wide\) allows 2 requests per minute/);
  } finally {
    await done();
  }
});

test('output caps: default applied, larger requests clamped or refused as configured', async () => {
  const { services, done } = await sqliteServices({ modelOutputCaps: { 'gpt-5.5': { max: 8000 } } });
  try {
    const clamping = await principalFor(services, { max_output_tokens: { default: 1000, max: 4096 } });
    const byDefault = services.admission.outputCap(clamping, mini, undefined);
    assert.equal(byDefault.maxOutputTokens, 1000);
    assert.match(byDefault.headers['x-switchyard-output-cap'], /default max_tokens 1000/);
    const clamped = services.admission.outputCap(clamping, mini, 10_000);
    assert.deepEqual([clamped.maxOutputTokens, clamped.clamped], [4096, true]);
    assert.equal(clamped.headers['x-switchyard-output-cap'], "max_tokens 10000 clamped to 4096 (this key's maximum)");
    assert.equal(services.admission.outputCap(clamping, mini, 300).maxOutputTokens, 300);

    const refusing = await principalFor(services, { max_output_tokens: { max: 2048, on_exceed: 'refuse' } });
    assert.throws(() => services.admission.outputCap(refusing, mini, 4000, 'max_completion_tokens'), (error: GatewayError) => {
      assert.equal(error.status, 400);
      assert.equal(error.param, 'max_completion_tokens');
      assert.match(error.message, /max_completion_tokens 4000 is above this key's maximum of 2048 tokens for gpt-5\.4-mini/);
      return true;
    });
    // The gateway's per-model cap binds keys without their own.
    const plain = await principalFor(services, {});
    assert.equal(services.admission.outputCap(plain, frontier, 50_000).maxOutputTokens, 8000);
    // admit() applies the same decision and says what it changed; the reservation follows the cap.
    const admitted = await services.admission.admit(clamping, mini, estimateFor(mini, 10, 5000));
    assert.equal(admitted.outputCap, 4096);
    assert.deepEqual(admitted.warnings, ["max_tokens 5000 clamped to 4096 (this key's maximum)"]);
    assert.equal(admitted.budgets.charges.length, 0);
    admitted.release();
    const unset = await services.admission.admit(clamping, mini, estimateFor(mini, 10, mini.maxOutputTokens));
    assert.equal(unset.outputCap, 1000, 'no max_tokens sent: the key default applies');
    unset.release();
    const within = await services.admission.admit(clamping, mini, estimateFor(mini, 10, 300));
    assert.equal(within.outputCap, undefined);
    within.release();
    await assert.rejects(services.admission.admit(refusing, mini, estimateFor(mini, 10, 5000), { endpoint: 'responses' }), (error: GatewayError) => {
      assert.equal(error.code, 'max_tokens_too_large');
      assert.equal(error.param, 'max_output_tokens');
      return true;
    });
  } finally {
    await done();
  }
});

test('allowed models: a 403 lists what the key may use; test keys stay in their confinement', async () => {
  const { services, done } = await sqliteServices({ testKeyModels: ['tier:nano', 'provider:ollama'], catalog: catalogModels });
  try {
    const scoped = await principalFor(services, { allowed_models: ['gpt-5.4-*'] });
    (await services.admission.admit(scoped, mini, estimateFor(mini, 10, 10))).release();
    await assert.rejects(services.admission.admit(scoped, frontier, estimateFor(frontier, 10, 10)), (error: GatewayError) => {
      assert.equal(error.status, 403);
      assert.equal(error.code, 'model_not_allowed');
      assert.match(error.message, /may not use model 'gpt-5\.5'\. It may use: gpt-5\.4-mini, gpt-5\.4-nano\./);
      return true;
    });

    const testKey = await principalFor(services, { env: 'test' });
    assert.equal(testKey.env, 'test');
    (await services.admission.admit(testKey, nano, estimateFor(nano, 10, 10))).release();
    await assert.rejects(services.admission.admit(testKey, frontier, estimateFor(frontier, 10, 10)), (error: GatewayError) => {
      assert.equal(error.status, 403);
      assert.match(error.message, /Test keys \(sy_test_…\) are confined to tier:nano, provider:ollama/);
      assert.match(error.message, /It may use: [^.]*gpt-5\.4-nano/);
      assert.doesNotMatch(error.message, /It may use: [^.]*gpt-5\.5/);
      return true;
    });
    assert.equal(services.admission.isModelAllowed(testKey, frontier), false);
    // A live key with no list may use everything.
    const live = await principalFor(services, {});
    assert.equal(services.admission.isModelAllowed(live, frontier), true);
  } finally {
    await done();
  }
});

test('routes: a key limited to a route may use the models that route picks', async () => {
  const { services, done } = await sqliteServices();
  try {
    const routed = await principalFor(services, { allowed_models: ['gpt-5.4-nano'], allowed_routes: ['auto:cheap'] });
    assert.equal(services.admission.isRouteAllowed(routed, 'auto:cheap'), true);
    assert.equal(services.admission.isRouteAllowed(routed, 'auto:quality'), false);
    (await services.admission.admit(routed, mini, estimateFor(mini, 10, 10), { route: 'auto:cheap' })).release();
    await assert.rejects(services.admission.admit(routed, mini, estimateFor(mini, 10, 10)), { status: 403 });
  } finally {
    await done();
  }
});
