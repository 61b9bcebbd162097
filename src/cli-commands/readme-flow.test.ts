// The README's keys block is a flow a reader copies line by line: every
// `npm run switchyard -- …` line in it must run as written, without a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../store/testing.ts';
import { runAdminCommand, type CliIo } from './index.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const PREFIX = 'npm run switchyard -- ';

/** The CLI lines of the first sh block that creates a key, continuations joined, comments dropped. */
function keysFlow(markdown: string): string[][] {
  const block = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]).find((b) => b.includes('keys create'));
  assert.ok(block, 'the README has no sh block with keys create');
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => l.startsWith(PREFIX));
  return lines.map((line) => words(line.slice(PREFIX.length)));
}

/** Shell words: single quotes group, `#` outside quotes starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|(#.*$)|(\S+)/g)) {
    if (m[2] !== undefined) break;
    out.push(m[1] ?? m[3]);
  }
  return out;
}

test('the README keys flow runs as written: create, list, show, revoke by name, usage', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const flow = keysFlow(README);
    assert.deepEqual(flow.map((args) => args.slice(0, 2).join(' ')), ['keys create', 'keys list', 'keys show', 'keys revoke', 'usage --group-by']);
    for (const args of flow) {
      let out = '';
      let err = '';
      const io: CliIo = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: { SWITCHYARD_DB: join(dir, 'readme.db') } };
      const code = await runAdminCommand(args[0] as 'keys' | 'usage', args.slice(1), io);
      assert.equal(code, 0, `${args.join(' ')}: ${err}`);
      assert.equal(err, '', `${args.join(' ')} printed: ${err}`);
      if (args[1] === 'revoke') assert.match(out, /Revoked key key_\w+ \(ci, sy_test/);
      if (args[1] === 'list') assert.match(out, /^ID\s+NAME/);
    }
  } finally {
    cleanup();
  }
});

test('keys show|revoke|rotate --name find the one key of that name, and say so when there is none or several', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'names.db');
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const code = await runAdminCommand('keys', [...args, '--db', db], { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} });
      return { code, out, err };
    };
    const first = JSON.parse((await run(['create', '--name', 'ci', '--json'])).out);
    assert.match((await run(['show', '--name', 'ci'])).out, new RegExp(`id\\s+${first.id}`));
    const second = JSON.parse((await run(['create', '--name', 'ci', '--json'])).out);
    const ambiguous = await run(['revoke', '--name', 'ci']);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.err, new RegExp(`2 keys are named 'ci' \\((${first.id}|${second.id}), `));
    assert.equal((await run(['revoke', first.id])).code, 0);
    assert.match((await run(['rotate', '--name', 'ci'])).out, new RegExp(`Rotated key ${second.id}`), 'the revoked one is not a candidate');
    const none = await run(['revoke', '--name', 'nobody']);
    assert.deepEqual([none.code, /No usable key is named 'nobody'/.test(none.err)], [1, true]);
    const listed = JSON.parse((await run(['list', '--json'])).out);
    assert.deepEqual(listed.map((k: any) => [k.id, k.status]).sort(), [[first.id, 'revoked'], [second.id, 'active']].sort(), 'nothing else changed');
  } finally {
    cleanup();
  }
});

test('a model budget the key can never spend is created with a warning, on stderr and in the JSON', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let out = '';
    let err = '';
    const code = await runAdminCommand('keys', ['create', '--db', join(dir, 'w.db'), '--name', 'ci', '--models', 'gpt-5.4-*', '--model-budget', 'gpt-5.5=20/day', '--json'],
      { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} });
    assert.equal(code, 0);
    const key = JSON.parse(out);
    assert.deepEqual(key.budgets.map((b: any) => b.model), ['gpt-5.5'], 'the budget is still created');
    assert.match(key.warnings[0], /budget for 'gpt-5\.5' .* may only call gpt-5\.4-\*/);
    assert.match(err, /^switchyard: warning: The budget for 'gpt-5\.5'/);
  } finally {
    cleanup();
  }
});
