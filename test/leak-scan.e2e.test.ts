// The leak scan: every secret a gateway handles — the provider key, the admin key, a
// gateway key, virtual keys (created, rotated, revoked) — searched for in every log line
// (at debug level) and in every byte of the SQLite store (database, WAL, journals) and
// every row of every PostgreSQL table, after a run that touches every path: chat, stream,
// Responses, Messages, an auto cascade, upstream errors, wrong keys, admin calls, and
// prompts in which the caller pasted the secrets themselves (stored under the redacted
// body policy on SQLite, `full` on PostgreSQL: the gateway's own secrets are masked under
// both). Zero hits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import pg from 'pg';
import { startMockUpstream, type MockUpstream } from '../src/mock-upstream/index.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, uniqueName } from '../src/store/testing.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { adminApi, MASTER_KEY } from './support/admin.ts';

const PROVIDER_KEY = 'sk-proj-leakscan0123456789abcdefABCDEFghij';
const GATEWAY_KEY = 'sy-leak-scan-gateway-key-0001';
const pgSkip = await postgresUnavailable();
if (pgSkip) console.log(`# PostgreSQL leak scan skipped: ${pgSkip}`);

const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

interface Run {
  secrets: string[];
  logs: string[];
  gw: TestGateway;
  mock: MockUpstream;
}

async function exercise(env: Record<string, string>, policy: 'redacted' | 'full'): Promise<Run> {
  const mock = await startMockUpstream({ apiKey: PROVIDER_KEY });
  const logs: string[] = [];
  const gw = await startGateway({
    env: { SWITCHYARD_MASTER_KEY: MASTER_KEY, SWITCHYARD_API_KEYS: GATEWAY_KEY, SWITCHYARD_LOG_LEVEL: 'debug', ...env },
    overrides: { logDestination: { write: (line: string) => void logs.push(line) } },
    yaml: `
providers:
  openai: { base_url: ${mock.url}/v1, api_key: ${PROVIDER_KEY}, forward_headers: [x-mock-*] }
  anthropic: { base_url: ${mock.url}, api_key: ${PROVIDER_KEY} }
routing:
  retry: { attempts: 0 }
log:
  bodies: { policy: ${policy} }
`,
  });
  const admin = adminApi(gw.origin);
  const created = await admin.createKey({ name: 'leaky', budgets: [{ limit_usd: 100, period: 'month' }] });
  const secrets = [PROVIDER_KEY, MASTER_KEY, GATEWAY_KEY, created.key];
  const openai = (key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
  const pasted = `my keys: ${PROVIDER_KEY} and ${created.key} and ${MASTER_KEY}, please keep them`;

  const client = openai(created.key);
  await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: pasted }] });
  const stream = await client.chat.completions.create({ model: 'gpt-5.4-mini', stream: true, messages: [{ role: 'user', content: pasted }] });
  for await (const _ of stream) { /* drain */ }
  await client.responses.create({ model: 'gpt-5.4-mini', input: pasted });
  await client.chat.completions.create({ model: 'auto:cascade', messages: [{ role: 'user', content: pasted }] });
  await client.chat.completions.create({ model: 'gpt-5.4-nano', messages: [{ role: 'user', content: pasted }] }, { headers: { 'x-mock-status': '500' } }).catch(() => {});
  await openai(GATEWAY_KEY).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: pasted }] });
  const anthropic = new Anthropic({ baseURL: gw.origin, apiKey: created.key, maxRetries: 0 });
  await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: pasted }] });
  await openai(`${created.key}x`).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'hi' }] }).catch(() => {});

  const rotated = await admin.call<{ key: string }>('POST', `/admin/keys/${created.id}/rotate`);
  secrets.push(rotated.body.key);
  await openai(rotated.body.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: pasted.replace(created.key, rotated.body.key) }] });
  await openai(created.key).chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'old key' }] }).catch(() => {});
  await admin.call('POST', `/admin/keys/${created.id}/revoke`);
  await admin.requests();
  await gw.gateway.ledger.flush();
  return { secrets, logs, gw, mock };
}

function assertNoSecret(where: string, text: string, secrets: string[]): void {
  for (const secret of secrets) {
    const at = text.indexOf(secret);
    assert.equal(at, -1, `${where} holds a secret (${secret.slice(0, 10)}…): …${text.slice(Math.max(0, at - 80), at + 20)}…`);
  }
}

/** Every file the SQLite store keeps: the database, its WAL and shared memory, the journals and instance locks. */
function storeFiles(dbPath: string): string[] {
  const dir = join(dbPath, '..');
  const out: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else out.push(path);
  };
  for (const name of readdirSync(dir)) if (name.startsWith('test.db')) walk(join(dir, name));
  return out;
}

test('SQLite: no secret in any log line or any byte of the store, and the pasted secrets are masked in the stored bodies', async () => {
  const run = await exercise({}, 'redacted');
  const dbPath = run.gw.gateway.config.dbPath;
  try {
    const rows = await adminApi(run.gw.origin).requests();
    assert.ok(rows.length >= 8, `the run wrote its rows (${rows.length})`);
    assert.ok(run.logs.some((line) => line.includes('"router decision"')), `debug logging captured (${run.logs.length} lines)`);
    for (const [i, line] of run.logs.entries()) assertNoSecret(`log line ${i}`, line, run.secrets);
    // Every row is in the database file or its WAL once the ledger has flushed.
    const files = storeFiles(dbPath);
    assert.ok(files.some((f) => f.endsWith('test.db')) && existsSync(dbPath));
    for (const file of files) assertNoSecret(file, readFileSync(file).toString('latin1'), run.secrets);
  } finally {
    await run.gw.close();
    await run.mock.close();
  }
});

test('PostgreSQL, bodies stored in full: no secret in any log line or any row of any table', { skip: pgSkip }, async () => {
  const schema = uniqueName('leak');
  schemas.push(schema);
  const run = await exercise({ SWITCHYARD_POSTGRES_URL: POSTGRES_URL, SWITCHYARD_POSTGRES_SCHEMA: schema }, 'full');
  try {
    for (const [i, line] of run.logs.entries()) assertNoSecret(`log line ${i}`, line, run.secrets);
  } finally {
    await run.gw.close();
    await run.mock.close();
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    assert.ok(tables.rows.length >= 5, 'the store made its tables');
    let rowsSeen = 0;
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${table_name}" t`);
      rowsSeen += rows.rows.length;
      for (const { row } of rows.rows) assertNoSecret(`${table_name} row`, row, run.secrets);
    }
    assert.ok(rowsSeen > 10, `rows scanned: ${rowsSeen}`);
  } finally {
    await client.end();
  }
});
