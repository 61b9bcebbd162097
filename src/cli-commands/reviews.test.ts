// switchyard reviews: against the store directly and through a running gateway's admin
// API with a reviewer's own key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MASTER_KEY, sqliteServices } from '../budget/testing.ts';
import type { ReviewRow } from '../review/types.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { tempDir } from '../store/testing.ts';
import type { Store } from '../store/types.ts';
import { runAdminCommand } from './index.ts';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const [command, ...rest] = args;
  const code = await runAdminCommand(command as 'reviews', rest, { stdout: { write: (t: string) => { out += t; } }, stderr: { write: (t: string) => { err += t; } }, env });
  return { code, out, err };
}

function review(id: string, secondsAgo: number, text: string, over: Partial<ReviewRow> = {}): ReviewRow {
  const created = Date.now() - secondsAgo * 1000;
  return {
    id, requestId: `req_${id}`, keyId: 'key_client', projectId: null, mode: 'hold', status: 'pending', rule: 'refunds', reason: "matched 'refund'",
    endpoint: '/v1/chat/completions', stream: false, model: 'gpt-5.4-mini', reservationId: null, onTimeout: 'reject',
    request: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'Can I get a refund?' }] }),
    answer: JSON.stringify({ id: 'r', model: 'gpt-5.4-mini', created: 0, content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 3, reasoningTokens: 0 } }),
    finalAnswer: null, usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 3, reasoningTokens: 0 }, costUsd: 0.00001,
    createdAt: new Date(created).toISOString(), expiresAt: new Date(created + 3_600_000).toISOString(),
    decidedAt: null, decidedBy: null, decisionReason: null, editedText: null, ...over,
  };
}

async function seed(store: Store): Promise<void> {
  await store.insertReview(review('rev_a', 30, 'Yes, always.'));
  await store.insertReview(review('rev_b', 20, 'Only on Tuesdays.'));
  await store.insertReview(review('rev_c', 10, 'No refunds, ever, under any circumstances whatsoever, sorry about that.'));
}

test('reviews list|show|approve|edit|reject against the store directly', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'reviews.db');
  try {
    const store = new SqliteStore({ path: db });
    await seed(store);
    await store.close();

    const list = await run(['reviews', 'list', '--db', db]);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^ID\s+STATUS\s+MODE\s+RULE\s+KEY\s+MODEL\s+CREATED\s+EXPIRES \/ DECIDED\s+ANSWER/);
    assert.deepEqual([...list.out.matchAll(/^(rev_\w+)\s+pending\s+hold\s+refunds\s+key_client\s+gpt-5\.4-mini/gm)].map((m) => m[1]), ['rev_c', 'rev_b', 'rev_a']);
    assert.match(list.out, /No refunds, ever, under any circumstances whats…/, 'long answers are cut to one short line');

    const paged = await run(['reviews', 'list', '--db', db, '--limit', '2', '--json']);
    const page = JSON.parse(paged.out);
    assert.deepEqual([page.object, page.data.map((r: any) => r.id)], ['list', ['rev_c', 'rev_b']]);
    const next = JSON.parse((await run(['reviews', 'list', '--db', db, '--cursor', page.next_cursor, '--json'])).out);
    assert.deepEqual([next.data.map((r: any) => r.id), next.next_cursor], [['rev_a'], null]);
    assert.match((await run(['reviews', 'list', '--db', db, '--limit', '2'])).out, /More: switchyard reviews list --cursor \S+/);

    const show = await run(['reviews', 'show', 'rev_b', '--db', db]);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /^id\s+rev_b\nstatus\s+pending\n/);
    assert.match(show.out, /Request:\n[\s\S]*Can I get a refund\?[\s\S]*Answer:\n {2}Only on Tuesdays\.\n/);
    assert.match(show.out, /Pending: switchyard reviews approve\|edit\|reject rev_b/);

    const approved = await run(['reviews', 'approve', 'rev_a', '--db', db, '--reason', 'accurate']);
    assert.equal(approved.code, 0, approved.err);
    assert.equal(approved.out, 'Approved review rev_a: the client gets the answer as it was. Decided by cli (direct store).\n');
    const again = await run(['reviews', 'reject', 'rev_a', '--db', db, '--reason', 'oops']);
    assert.equal(again.code, 1);
    assert.match(again.err, /Review rev_a was already decided: approved by cli \(direct store\)/);

    const edited = JSON.parse((await run(['reviews', 'edit', 'rev_b', '--db', db, '--text', 'Refunds within 30 days.', '--json'])).out);
    assert.deepEqual([edited.status, edited.decision.before_text, edited.decision.after_text], ['edited', 'Only on Tuesdays.', 'Refunds within 30 days.']);
    const shownEdit = await run(['reviews', 'show', 'rev_b', '--db', db]);
    assert.match(shownEdit.out, /Decision: edited by cli \(direct store\) at \S+\nReleased instead:\n {2}Refunds within 30 days\./);

    const rejected = await run(['reviews', 'reject', 'rev_c', '--db', db, '--reason', 'wrong policy']);
    assert.match(rejected.out, /^Rejected review rev_c: the client gets an error with your reason\./);
    const pending = JSON.parse((await run(['reviews', 'list', '--db', db, '--status', 'pending', '--json'])).out);
    assert.deepEqual(pending.data, []);
    assert.equal((await run(['reviews', 'list', '--db', db, '--status', 'pending'])).out, 'No reviews.\n');

    const reopened = new SqliteStore({ path: db });
    assert.deepEqual([(await reopened.getReview('rev_c'))?.status, (await reopened.getReview('rev_c'))?.decisionReason], ['rejected', 'wrong policy']);
    await reopened.close();
  } finally {
    cleanup();
  }
});

test('reviews through a running gateway: a reviewer key decides, a viewer key may only look', async () => {
  const t = await sqliteServices();
  const server = createServer((req, res) => void t.services.adminHandler(req, res, new URL(req.url ?? '/', 'http://x')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    await seed(t.services.store);
    const master = { SWITCHYARD_MASTER_KEY: MASTER_KEY };
    const created = await runAdminCommandKeys(['create', '--url', url, '--name', 'rita', '--role', 'reviewer', '--json'], master);
    assert.equal(created.role, 'reviewer');
    const viewer = await runAdminCommandKeys(['create', '--url', url, '--name', 'vic', '--role', 'viewer', '--json'], master);

    const asReviewer = { SWITCHYARD_ADMIN_KEY: created.key };
    const approved = await run(['reviews', 'approve', 'rev_a', '--url', url], asReviewer);
    assert.equal(approved.code, 0, approved.err);
    assert.match(approved.out, new RegExp(`Approved review rev_a: .* Decided by ${created.id} \\(rita\\)\\.`));

    const asViewer = { SWITCHYARD_ADMIN_KEY: viewer.key, SWITCHYARD_MASTER_KEY: MASTER_KEY };
    const listed = await run(['reviews', 'list', '--url', url, '--status', 'approved', '--json'], asViewer);
    assert.deepEqual(JSON.parse(listed.out).data.map((r: any) => r.id), ['rev_a']);
    const refused = await run(['reviews', 'reject', 'rev_b', '--url', url, '--reason', 'no'], asViewer);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /needs the 'reviewer' role or higher; key 'vic' .* has the 'viewer' role/);
    const badStatus = await run(['reviews', 'list', '--url', url, '--status', 'maybe'], asViewer);
    assert.deepEqual([badStatus.code, /Invalid value for 'status'/.test(badStatus.err)], [1, true]);
    const missing = await run(['reviews', 'show', 'rev_zzz', '--url', url], asViewer);
    assert.match(missing.err, /No review 'rev_zzz' exists/);

    const keys = await run(['keys', 'list', '--url', url], master);
    assert.match(keys.out, /ROLE\n/);
    assert.match(keys.out, new RegExp(`${created.id}\\s+rita\\s.*\\sreviewer\\n`));
  } finally {
    server.close();
    await t.done();
  }
});

async function runAdminCommandKeys(args: string[], env: Record<string, string>): Promise<any> {
  const result = await run(['keys', ...args], env);
  assert.equal(result.code, 0, result.err);
  return JSON.parse(result.out);
}

test('reviews command-line mistakes say what to type, with exit code 2', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'mistakes.db');
  try {
    const cases: Array<[string[], RegExp]> = [
      [['reviews', 'approve', '--db', db], /needs the review's id/],
      [['reviews', 'reject', 'rev_a', '--db', db], /reject needs --reason/],
      [['reviews', 'edit', 'rev_a', '--db', db], /edit needs --text/],
      [['reviews', 'approve', 'rev_a', '--text', 'x', '--db', db], /--text is for 'switchyard reviews edit'/],
      [['reviews', 'list', '--limit', 'lots', '--db', db], /--limit 'lots' is not a positive whole number/],
      [['reviews', 'list', 'extra', '--db', db], /Unexpected argument 'extra'/],
      [['reviews', 'decide', 'rev_a', '--db', db], /Unknown reviews command 'decide'/],
      [['reviews', 'list', '--colour'], /Unknown option '--colour'/],
      [['keys', 'create', '--name', 'x', '--role', 'owner', '--db', db], /--role 'owner' is not a role/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.err, message);
    }
    const unknown = await run(['reviews', 'approve', 'rev_nope', '--db', db]);
    assert.deepEqual([unknown.code, /No review 'rev_nope' exists/.test(unknown.err)], [1, true]);
  } finally {
    cleanup();
  }
});

test('the switchyard binary runs the reviews command and lists it in its help', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const exec = promisify(execFile);
    const env = { ...process.env, SWITCHYARD_URL: '' };
    const { stdout } = await exec(process.execPath, [cli, 'reviews', 'list', '--db', join(dir, 'bin.db'), '--json'], { env });
    assert.deepEqual(JSON.parse(stdout), { object: 'list', data: [], next_cursor: null });
    assert.match((await exec(process.execPath, [cli, 'help'], { env })).stdout, /reviews\s+Human review/);
    assert.match((await exec(process.execPath, [cli, 'reviews', '--help'], { env })).stdout, /^Usage: switchyard reviews/);
  } finally {
    cleanup();
  }
});
