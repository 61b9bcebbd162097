// One request's bad data never touches another's, end to end on both stores: a model id
// with a NUL byte among 25 concurrent requests, and an upstream reporting usage the
// store cannot take (17.5 tokens, −1,000,000 tokens) among 20. Every other request
// succeeds, every request has its row, no reservation stays open, no cost is negative,
// and the budget's spend is exactly the sum of the rows.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, uniqueName } from '../src/store/testing.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY, sumUsd, type AdminApi, type CreatedKey } from './support/admin.ts';
import { pricedMockYaml } from './support/stack.ts';

const pgSkip = await postgresUnavailable();

const yaml = (mockUrl: string) => pricedMockYaml(mockUrl, { 'gpt-5.4-mini': { input: 100, output: 1000 } });

function suite(name: string, env: () => Record<string, string>, cleanup: () => Promise<void>, skip?: string) {
  describe(`${name}: bad data in one request leaves the others and the ledger whole`, { skip }, () => {
    let mock: MockUpstream;
    let gw: TestGateway;
    let admin: AdminApi;
    before(async () => {
      mock = await startMockUpstream();
      gw = await startGateway({ yaml: yaml(mock.url), env: { SWITCHYARD_MASTER_KEY: MASTER_KEY, ...env() } });
      admin = adminApi(gw.origin);
    });
    after(async () => {
      await gw?.close();
      await mock?.close();
      await cleanup();
    });

    const checkLedger = async (key: CreatedKey, count: number) => {
      const rows = (await admin.settledRows(key.id, count)).filter((r) => r.attempt === 0);
      assert.equal(rows.length, count, 'every request has exactly one row');
      for (const row of rows) {
        assert.ok(Number.isFinite(row.cost_usd) && row.cost_usd >= 0, `row ${row.request_id} cost ${row.cost_usd}`);
        assert.ok([row.input_tokens, row.output_tokens].every((n) => Number.isSafeInteger(n) && n >= 0), `row ${row.request_id} tokens`);
      }
      const [budget] = (await admin.key(key.id)).budgets;
      assert.equal(budget.reserved_usd, 0, 'no reservation left open');
      assert.equal(budget.spent_usd, sumUsd(rows.map((r) => r.cost_usd)), 'the spend is the sum of the rows');
      return rows;
    };

    test('a NUL byte in one model id among 25 concurrent requests: it gets 404, the 24 others 200', async () => {
      const key = await admin.createKey({ name: 'nul-model', budgets: [{ limit_usd: 50, period: 'total' }] });
      const sdk = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
      const calls = Array.from({ length: 25 }, (_, i) => sdk.chat.completions.create({
        model: i === 12 ? 'gpt-5.4-mini\u0000' : 'gpt-5.4-mini', max_tokens: 20, messages: [{ role: 'user', content: `request ${i}` }],
      }));
      const outcomes = await Promise.allSettled(calls);
      const statuses = outcomes.map((o) => (o.status === 'fulfilled' ? 200 : (o.reason as InstanceType<typeof OpenAI.APIError>).status));
      assert.deepEqual(statuses, statuses.map((_, i) => (i === 12 ? 404 : 200)));
      const rows = await checkLedger(key, 25);
      assert.ok(rows.some((r) => r.model_requested === 'gpt-5.4-mini\uFFFD' && r.status === 404), 'the bad request is logged, sanitised');
    });

    test('an upstream reporting fractional or negative usage among 20 requests: every row lands, the spend agrees', async () => {
      const key = await admin.createKey({ name: 'bad-usage', budgets: [{ limit_usd: 50, period: 'total' }] });
      const sdk = new OpenAI({ baseURL: gw.baseURL, apiKey: key.key, maxRetries: 0 });
      const faults = ['prompt_tokens=17.5', 'completion_tokens=-1000000'];
      const calls = Array.from({ length: 20 }, (_, i) => sdk.chat.completions.create(
        { model: 'gpt-5.4-mini', max_tokens: 20, messages: [{ role: 'user', content: `request ${i}` }] },
        i % 5 === 0 ? { headers: { 'x-mock-usage': faults[(i / 5) % 2] } } : {},
      ));
      const outcomes = await Promise.allSettled(calls);
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.status);
      assert.ok(failed.every((status) => status !== 503), `no request failed for another's data: ${failed}`);
      assert.ok(outcomes.filter((o) => o.status === 'fulfilled').length >= 16, 'the requests with good usage all succeed');
      await checkLedger(key, 20);
    });
  });
}

const schema = uniqueName('e2e');
suite('sqlite', () => ({}), async () => {});
suite('postgres', () => ({ SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema }), () => (pgSkip ? Promise.resolve() : dropSchema(schema)), pgSkip);
