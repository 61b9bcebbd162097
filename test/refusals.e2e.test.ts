// An unauthenticated flood must not grow the store: model calls refused before
// authentication succeeded write no request row; they are counted in memory by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import { startGateway } from './support/gateway.ts';
import { localModelsYaml, PROVIDER_KEY } from './support/stack.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';

test('200 model calls with a wrong key: 200 SDK-visible 401s, no new request row, and the refusal counter says 200', async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    yaml: localModelsYaml(mock.url),
    env: { OPENAI_BASE_URL: `${mock.url}/v1`, OPENAI_API_KEY: PROVIDER_KEY, SWITCHYARD_MASTER_KEY: MASTER_KEY },
  });
  try {
    const admin = adminApi(gw.origin);
    const key = await admin.createKey({ name: 'refusals' });
    const good = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
    await good.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] });
    await gw.gateway.ledger.flush();
    const before = (await admin.requests()).length;
    assert.equal(before, 1, 'an authenticated call is logged');

    const wrong = `sy_live_${'x'.repeat(32)}`;
    const openai = new OpenAI({ baseURL: gw.baseURL, apiKey: wrong, maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: wrong, maxRetries: 0 });
    const calls = Array.from({ length: 200 }, (_, i) => {
      if (i % 4 === 0) return anthropic.messages.create({ model: 'gpt-5.4-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      if (i % 4 === 1) return openai.responses.create({ model: 'gpt-5.4-mini', input: 'hi' });
      if (i % 4 === 2) return openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
      return openai.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] });
    });
    const outcomes = await Promise.allSettled(calls);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      const error = outcome.reason as { status?: number };
      assert.equal(error.status, 401);
    }
    const openaiCodes = outcomes.filter((_, i) => i % 4 !== 0).map((o) => ((o as PromiseRejectedResult).reason as InstanceType<typeof OpenAI.APIError>).code);
    assert.ok(openaiCodes.every((code) => code === 'invalid_api_key'), 'the SDK sees why');

    await gw.gateway.ledger.flush();
    assert.equal((await admin.requests()).length, before, 'no request row for any refused call');
    assert.equal(gw.gateway.refusals.get('invalid_api_key'), 200);
    assert.equal(gw.gateway.refusals.total, 200);
    assert.equal(mock.requests.length, 1, 'nothing refused reached the upstream');
  } finally {
    await gw.close();
    await mock.close();
  }
});
