// The CLI as a user runs it: start (banner, flags, bad config, graceful stop),
// doctor, and mock-upstream, each as a real child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'sy-cli-'))): Running {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`timed out waiting for ${pattern}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

test('with no provider, start says how to add one; model calls name the missing setting; SIGTERM drains and exits 0', async () => {
  const gw = run(['start', '--port', '0']);
  try {
    const [, url] = await gw.waitFor(/listening on (http:\/\/\S+)\/v1/);
    assert.match(gw.output(), /No provider is configured yet/);
    assert.match(gw.output(), /OPENAI_API_KEY/);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 503);
    assert.match((await res.json()).error.message, /OPENAI_API_KEY/);
  } finally {
    gw.child.kill('SIGTERM');
  }
  assert.equal(await gw.exited, 0);
  assert.match(gw.output(), /draining/);
});

test('a bad config file stops the start with the line, the field and the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
  writeFileSync(join(dir, 'switchyard.yaml'), 'server:\n  port: 8080\nprovders:\n  openai: {}\n');
  const gw = run(['start'], {}, dir);
  assert.equal(await gw.exited, 1);
  assert.match(gw.output(), /switchyard\.yaml:3: .*unknown field 'provders'/);
});

test('a bad --port is refused with a clear message', async () => {
  const gw = run(['start', '--port', 'abc']);
  assert.equal(await gw.exited, 1);
  assert.match(gw.output(), /--port abc is not a port number/);
});

test('refuses to listen beyond loopback with no key configured', async () => {
  const gw = run(['start', '--port', '0', '--host', '0.0.0.0']);
  assert.equal(await gw.exited, 1);
  assert.match(gw.output(), /refusing to listen on 0\.0\.0\.0 with no keys configured/);
});

test('mock-upstream + start + doctor: every check passes; a wrong key fails at step 2 with the fix', async () => {
  const mock = run(['mock-upstream', '--port', '0']);
  let gw: Running | undefined;
  try {
    const [mockUrl] = (await mock.waitFor(/http:\/\/127\.0\.0\.1:\d+/));
    gw = run(['start', '--port', '0'], { OPENAI_BASE_URL: `${mockUrl}/v1`, OPENAI_API_KEY: 'mock', SWITCHYARD_MASTER_KEY: 'sy-master-key-123' });
    const [, url] = await gw.waitFor(/listening on (http:\/\/\S+)\/v1/);
    const ok = run(['doctor', '--url', `${url}/v1`, '--key', 'sy-master-key-123', '--model', 'gpt-5.4-mini']);
    assert.equal(await ok.exited, 0, ok.output());
    assert.match(ok.output(), /5\. streaming works: ok/);
    assert.match(ok.output(), /All checks passed/);
    const bad = run(['doctor', '--url', `${url}/v1`, '--key', 'sy-wrong-key-999999']);
    assert.equal(await bad.exited, 1);
    assert.match(bad.output(), /2\. key valid: FAILED/);
    const noV1 = run(['doctor', '--url', url, '--key', 'sy-master-key-123']);
    assert.equal(await noV1.exited, 1);
    assert.match(noV1.output(), /must end in \/v1/);
    const badModel = run(['doctor', '--url', `${url}/v1`, '--key', 'sy-master-key-123', '--model', 'gpt-5.4-mnii']);
    assert.equal(await badModel.exited, 1);
    assert.match(badModel.output(), /3\. model id exists: FAILED[\s\S]*gpt-5\.4-mini/);
  } finally {
    gw?.child.kill('SIGTERM');
    mock.child.kill('SIGTERM');
  }
});
