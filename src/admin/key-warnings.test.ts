import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyWarnings } from './key-warnings.ts';

const budget = (model: string | null) => ({ model, limit_usd: 20, period: 'day' });

test('a model budget outside the allowed models is warned about; one inside, or any budget of an unrestricted key, is not', () => {
  const [warning, ...more] = keyWarnings({ allowed_models: ['gpt-5.4-*'], budgets: [budget(null), budget('gpt-5.5'), budget('gpt-5.4-mini')] });
  assert.equal(more.length, 0);
  assert.match(warning, /budget for 'gpt-5\.5' \(\$20\/day\) can never be spent: this key may only call gpt-5\.4-\*/);
  assert.deepEqual(keyWarnings({ allowed_models: null, budgets: [budget('gpt-5.5')] }), []);
  assert.deepEqual(keyWarnings({ allowed_models: ['gpt-5.5', 'claude-*'], budgets: [budget('gpt-5.5'), budget('claude-haiku-4-5')] }), []);
});

test('selectors and globs that need the catalog to judge are not second-guessed', () => {
  assert.deepEqual(keyWarnings({ allowed_models: ['tier:mini'], budgets: [budget('gpt-5.5')] }), []);
  assert.deepEqual(keyWarnings({ allowed_models: ['gpt-5.4-*'], budgets: [budget('gpt-5.5*'), budget('provider:openai')] }), []);
});

test('the admin API answers the warning with the created and the changed key', async () => {
  const { createServer } = await import('node:http');
  const { MASTER_KEY, sqliteServices } = await import('../budget/testing.ts');
  const t = await sqliteServices();
  const server = createServer((req, res) => void t.services.adminHandler(req, res, new URL(req.url ?? '/', 'http://x')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/admin/keys`;
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any };
  };
  try {
    const fine = await call('POST', '', { name: 'ok', allowed_models: ['gpt-5.4-*'], budgets: [{ model: 'gpt-5.4-mini', limit_usd: 2, period: 'day' }] });
    assert.deepEqual([fine.status, fine.json.warnings], [201, undefined]);
    const changed = await call('PATCH', `/${fine.json.id}`, { allowed_models: ['gpt-5.5'] });
    assert.equal(changed.status, 200);
    assert.match(changed.json.warnings[0], /budget for 'gpt-5\.4-mini' .* may only call gpt-5\.5/);
    const shown = await call('GET', `/${fine.json.id}`, undefined);
    assert.equal(shown.json.warnings, undefined, 'warnings come with changes, not with every read');
  } finally {
    server.close();
    await t.done();
  }
});
