import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MASTER_KEY, sqliteServices } from '../budget/testing.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { tempDir } from '../store/testing.ts';
import { runAdminCommand, type CliIo } from './index.ts';

function io(env: Record<string, string | undefined> = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => { out += t; } },
    stderr: { write: (t: string) => { err += t; } },
    env,
    out: () => out,
    err: () => err,
  };
}

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const [command, ...rest] = args;
  const capture = io(env);
  const code = await runAdminCommand(command as 'keys' | 'usage', rest, capture);
  return { code, out: capture.out(), err: capture.err() };
}

test('keys create|list|show|rotate|revoke against the store directly', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'cli.db');
  try {
    const created = await run(['keys', 'create', '--db', db, '--name', 'ci', '--env', 'test', '--models', 'gpt-5.4-*', '--budget', '10/month',
      '--model-budget', 'gpt-5.5=20/day', '--max-output', '4096', '--rpm', '60', '--expires', '30d', '--metadata', 'team=platform', '--json']);
    assert.equal(created.code, 0, created.err);
    const key = JSON.parse(created.out);
    assert.match(key.key, /^sy_test_/);
    assert.deepEqual(key.allowed_models, ['gpt-5.4-*']);
    assert.deepEqual(key.budgets.map((b: any) => [b.limit_usd, b.period, b.model]), [[10, 'month', null], [20, 'day', 'gpt-5.5']]);
    assert.deepEqual([key.max_output_tokens, key.rate_limits, key.metadata], [{ max: 4096 }, { rpm: 60 }, { team: 'platform' }]);
    assert.ok(Date.parse(key.expires_at) > Date.now() + 29 * 86_400_000);

    const list = await run(['keys', 'list', '--db', db]);
    assert.equal(list.code, 0);
    assert.match(list.out, /^ID\s+NAME\s+ENV\s+PREFIX/);
    assert.match(list.out, new RegExp(`${key.id}\\s+ci\\s+test\\s+${key.prefix}…\\s+active\\s+\\$0/\\$10 month; gpt-5.5 \\$0/\\$20 day`));
    assert.ok(!list.out.includes(key.key));

    const show = await run(['keys', 'show', key.id, '--db', db]);
    assert.match(show.out, /allowed models\s+gpt-5\.4-\*/);
    assert.match(show.out, /gpt-5\.5\s+day\s+\$0\s+\$0\s+\$20\s+yes\s+\d{4}-/);
    assert.ok(!show.out.includes(key.key));

    const rotated = await run(['keys', 'rotate', key.id, '--db', db]);
    assert.equal(rotated.code, 0);
    const secret = /\n {2}(sy_test_[A-Za-z0-9]{32})\n/.exec(rotated.out)?.[1];
    assert.ok(secret && secret !== key.key);
    assert.match(rotated.out, /shown once/);

    const revoked = await run(['keys', 'revoke', key.id, '--db', db]);
    assert.match(revoked.out, new RegExp(`Revoked key ${key.id} \\(ci, ${key.prefix.slice(0, 8)}`));
    const after = JSON.parse((await run(['keys', 'show', key.id, '--db', db, '--json'])).out);
    assert.equal(after.status, 'revoked');
  } finally {
    cleanup();
  }
});

test('usage by key and day from the store', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'usage.db');
  try {
    const key = JSON.parse((await run(['keys', 'create', '--db', db, '--name', 'reporter', '--json'])).out);
    const store = new SqliteStore({ path: db });
    await store.appendLedger([0, 1, 2].map((i) => ({
      requestId: `r${i}`, attempt: 0, time: `2026-02-0${i + 1}T10:00:00.000Z`, keyId: key.id, endpoint: 'chat', modelRequested: 'gpt-5.4-mini',
      modelUsed: 'gpt-5.4-mini', stream: false, status: 200, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 }, costUsd: 0.5, latencyMs: 1,
    })));
    await store.close();
    const byDay = await run(['usage', '--db', db, '--from', '2026-02-01', '--to', '2026-02-28', '--group-by', 'key,day']);
    assert.equal(byDay.code, 0, byDay.err);
    assert.match(byDay.out, /KEY\s+DAY\s+REQUESTS\s+INPUT/);
    assert.match(byDay.out, new RegExp(`reporter \\(${key.id}\\)\\s+2026-02-02\\s+1\\s+10\\s+0\\s+5\\s+0\\s+\\$0\\.5000`));
    assert.match(byDay.out, /Total: 3 requests, \$1\.5000/);
    const json = JSON.parse((await run(['usage', '--db', db, '--from', '2026-02-01', '--to', '2026-02-28', '--group-by', 'model', '--json'])).out);
    assert.deepEqual(json.data, [{ model: 'gpt-5.4-mini', requests: 3, input_tokens: 30, cached_input_tokens: 0, output_tokens: 15, reasoning_tokens: 0, cost_usd: 1.5 }]);
  } finally {
    cleanup();
  }
});

test('keys and usage through a running gateway\'s admin API (--url)', async () => {
  const t = await sqliteServices();
  const server = createServer((req, res) => void t.services.adminHandler(req, res, new URL(req.url ?? '/', 'http://x')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const env = { SWITCHYARD_MASTER_KEY: MASTER_KEY };
    const created = await run(['keys', 'create', '--url', url, '--name', 'remote', '--budget', '5/week:soft'], env);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /Created key key_\w+ \(remote, live\)\.\n\n {2}sy_live_/);
    const list = JSON.parse((await run(['keys', 'list', '--url', `${url}/v1`, '--json'], env)).out);
    assert.deepEqual(list.map((k: any) => [k.name, k.budgets[0].hard]), [['remote', false]]);
    const usage = await run(['usage', '--url', url, '--json'], env);
    assert.equal(usage.code, 0);
    assert.equal(JSON.parse(usage.out).object, 'list');
    const noKey = await run(['keys', 'list', '--url', url], {});
    assert.equal(noKey.code, 1);
    assert.match(noKey.err, /SWITCHYARD_MASTER_KEY/);
    const wrongKey = await run(['keys', 'list', '--url', url], { SWITCHYARD_MASTER_KEY: 'wrong' });
    assert.match(wrongKey.err, /Invalid admin key/);
  } finally {
    server.close();
    await t.done();
  }
});

test('command-line mistakes say what to type, with exit code 2; store errors exit 1', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'err.db');
  try {
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'create', '--db', db], /needs --name/],
      [['keys', 'create', '--db', db, '--name', 'x', '--budget', '10/year'], /--budget '10\/year' is not USD\/period/],
      [['keys', 'create', '--db', db, '--name', 'x', '--model-budget', '20/day'], /is not MODEL=USD\/period/],
      [['keys', 'create', '--db', db, '--name', 'x', '--rpm', 'many'], /--rpm 'many' is not a positive whole number/],
      [['keys', 'show', '--db', db], /needs the key's id/],
      [['keys', 'explode', '--db', db], /Unknown keys command 'explode'/],
      [['keys', 'list', '--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.err, message);
    }
    const missing = await run(['keys', 'revoke', 'key_nope', '--db', db]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /No key with id 'key_nope'/);
    const invalid = await run(['keys', 'create', '--db', db, '--name', 'x', '--env', 'prod']);
    assert.deepEqual([invalid.code, /"live" or "test"/.test(invalid.err)], [1, true]);
  } finally {
    cleanup();
  }
});

test('the switchyard binary runs the keys command', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'keys', 'create', '--name', 'bin', '--db', join(dir, 'bin.db'), '--json'], { env: { ...process.env, SWITCHYARD_URL: '' } });
    assert.match(JSON.parse(stdout).key, /^sy_live_/);
  } finally {
    cleanup();
  }
});
