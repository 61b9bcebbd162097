// A gateway killed with SIGKILL under load, three times, restarted each time on the same
// SQLite file: no request the upstream saw goes unbilled or is billed twice, and the
// budget's spend is exactly the sum of the request log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMockUpstream } from '../src/mock-upstream/index.ts';
import type { MockUpstream } from '../src/mock-upstream/index.ts';
import { spawnGateway } from './support/child-gateway.ts';
import type { ChildGateway } from './support/child-gateway.ts';
import { adminApi, MASTER_KEY, sumUsd } from './support/admin.ts';
import type { CreatedKey } from './support/admin.ts';
import { PROVIDER_KEY } from './support/stack.ts';

// $0.001 per output token, free input: a request reserves 40 tokens ($0.04) and its
// short answer costs less, so a row billed at the worst case stands out.
const MAX_TOKENS = 40;
const WORST_CASE_USD = 0.04;
const LIMIT_USD = 8;
const RUNS = 3;
const WORKERS = 12;

const yaml = (mockUrl: string) => `
providers:
  openai:
    base_url: ${mockUrl}/v1
    api_key: ${PROVIDER_KEY}
    forward_headers: [x-mock-*]
models:
  gpt-5.4-mini: { pricing: { input: 0, cached_input: 0, output: 1000 } }
`;

interface Load { done: Promise<void>; stop(): void; succeeded: Set<string> }

/** Workers sending requests back to back until stopped; failures (the crash) are expected. */
function startLoad(baseURL: string, secret: string): Load {
  const sdk = new OpenAI({ baseURL, apiKey: secret, maxRetries: 0, timeout: 5_000 });
  const succeeded = new Set<string>();
  let stopped = false;
  const worker = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      const messages = [{ role: 'user' as const, content: `worker ${n} request ${i}` }];
      try {
        if (n % 2 === 0) {
          const { response } = await sdk.chat.completions.create({ model: 'gpt-5.4-mini', max_tokens: MAX_TOKENS, messages }).withResponse();
          succeeded.add(response.headers.get('x-request-id')!);
        } else {
          // Half the workers stream, so some streams are mid-way when the process dies.
          const { data, response } = await sdk.chat.completions.create({ model: 'gpt-5.4-mini', max_tokens: MAX_TOKENS, stream: true, messages }, { headers: { 'x-mock-chunk-delay-ms': '5' } }).withResponse();
          for await (const _chunk of data);
          succeeded.add(response.headers.get('x-request-id')!);
        }
      } catch {
        if (stopped) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n))).then(() => undefined);
  return { done, succeeded, stop: () => { stopped = true; } };
}

async function checkLedger(gw: ChildGateway, mock: MockUpstream, key: CreatedKey, clientSuccesses: Set<string>): Promise<{ interrupted: number; rows: number }> {
  const admin = adminApi(gw.origin);
  const rows = (await admin.requests(key.id)).filter((r) => r.attempt === 0);
  const byId = new Map<string, number>();
  for (const row of rows) byId.set(row.request_id, (byId.get(row.request_id) ?? 0) + 1);
  const seen = new Set(mock.requests.map((r) => String(r.headers['x-client-request-id'])));
  assert.ok(seen.size > 0);
  const missing = [...seen].filter((id) => !byId.has(id));
  const twice = [...byId].filter(([, n]) => n > 1);
  assert.deepEqual(missing, [], 'every request the upstream saw has a usage row');
  assert.deepEqual(twice, [], 'no request has two rows');
  for (const id of clientSuccesses) assert.ok(byId.has(id), `answered request ${id} has a row`);

  const interrupted = rows.filter((r) => r.error_code === 'interrupted');
  for (const row of interrupted) assert.equal(row.cost_usd, WORST_CASE_USD, 'a request cut off by the crash is billed at its reserved worst case');
  const [budget] = (await admin.key(key.id)).budgets;
  assert.equal(budget.reserved_usd, 0, 'reservations of the dead process were closed at restart');
  assert.equal(budget.spent_usd, sumUsd(rows.map((r) => r.cost_usd)), 'the budget is the sum of the rows');
  assert.ok(budget.spent_usd <= LIMIT_USD);
  return { interrupted: interrupted.length, rows: rows.length };
}

test(`kill -9 under load, ${RUNS} times: every request the upstream saw is billed exactly once, and the budget equals the rows`, async (t) => {
  const mock = await startMockUpstream({ latencyMs: 30, maxRecorded: 100_000 });
  const dir = mkdtempSync(join(tmpdir(), 'sy-crash-'));
  writeFileSync(join(dir, 'switchyard.yaml'), yaml(mock.url));
  const env = { SWITCHYARD_DB: join(dir, 'crash.db'), SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_LOG_LEVEL: 'warn' };
  let gw = await spawnGateway({ cwd: dir, env });
  try {
    const key = await adminApi(gw.origin).createKey({ name: 'crash-load', budgets: [{ limit_usd: LIMIT_USD, period: 'total' }] });
    const successes = new Set<string>();
    let interrupted = 0;
    let lastRows = 0;
    for (let run = 0; run < RUNS; run++) {
      const load = startLoad(gw.baseURL, key.key);
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
      load.stop();
      await gw.crash();
      await load.done;
      for (const id of load.succeeded) successes.add(id);
      gw = await spawnGateway({ cwd: dir, env });
      const found = await checkLedger(gw, mock, key, successes);
      assert.ok(found.rows > lastRows, `run ${run + 1} added rows`);
      t.diagnostic(`run ${run + 1}: ${found.rows} request rows, ${found.interrupted} reconciled after kills, upstream saw ${mock.requests.length}`);
      lastRows = found.rows;
      interrupted = found.interrupted;
    }
    assert.ok(successes.size > 0);
    assert.ok(interrupted > 0, 'some requests were cut off by the kills and reconciled');
    // After a clean stop nothing changes.
    await gw.stop();
    gw = await spawnGateway({ cwd: dir, env });
    await checkLedger(gw, mock, key, successes);
  } finally {
    await gw.crash();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
