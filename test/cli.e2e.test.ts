// The CLI as a user runs it: start (banner, flags, bad config, graceful stop, a port in
// use), help and usage errors of every command, doctor, mock-upstream and the README
// quickstart, each as a real child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

function run(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'sy-cli-')), script = CLI): Running {
  const child = spawn(process.execPath, [script, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

interface Finished { code: number | null; stdout: string; stderr: string }

/** Runs each argv through runToEnd, four at a time (the machine's cores are shared). */
async function runAll(cases: string[][]): Promise<Finished[]> {
  const results: Finished[] = [];
  for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map((args) => runToEnd(args)))));
  return results;
}

/** Runs a command that must end by itself (a server would not): its exit code and both streams. */
function runToEnd(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const cwd = mkdtempSync(join(tmpdir(), 'sy-cli-'));
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  // Only a command that never ends (a server started unasked) is killed; a slow start on a busy machine is not.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

test('one help convention: no command, help, --help and -h print the usage and exit 0, for every command; none starts a server', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^Switchyard — [\s\S]*Commands:[\s\S]*start[\s\S]*mock-upstream[\s\S]*doctor[\s\S]*keys[\s\S]*usage/],
    [['--help'], /^Switchyard — /], [['-h'], /^Switchyard — /], [['help'], /^Switchyard — /],
    [['start', '--help'], /^Usage: switchyard start [\s\S]*--port N[\s\S]*SWITCHYARD_PORT/], [['start', '-h', '--port', '1'], /^Usage: switchyard start /],
    [['help', 'start'], /^Usage: switchyard start /],
    [['doctor', '--help'], /^Usage: switchyard doctor [\s\S]*--url URL/], [['doctor', '-h'], /^Usage: switchyard doctor /],
    [['mock-upstream', '--help'], /^Usage: switchyard mock-upstream [\s\S]*--latency-ms/],
    [['keys'], /^Usage: switchyard keys /], [['keys', '--help'], /^Usage: switchyard keys /], [['keys', 'create', '--help'], /^Usage: switchyard keys [\s\S]*--model-budget/],
    [['keys', 'list', '-h'], /^Usage: switchyard keys /], [['usage', '--help'], /^Usage: switchyard usage /], [['help', 'usage'], /^Usage: switchyard usage /],
  ];
  const results = await runAll(cases.map(([args]) => args));
  cases.forEach(([args, usage], i) => {
    const { code, stdout, stderr } = results[i];
    assert.equal(code, 0, `switchyard ${args.join(' ')} exited ${code}: ${stderr}`);
    assert.match(stdout, usage, `switchyard ${args.join(' ')}`);
    assert.equal(stderr, '', `switchyard ${args.join(' ')}`);
    assert.ok(!/listening on/.test(stdout), `switchyard ${args.join(' ')} started a server`);
  });
});

test('an unknown command, option or argument says what was wrong, then the usage, with exit code 2', async () => {
  const cases: Array<[string[], RegExp, RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'/, /Commands:/],
    [['--port', '9000'], /unknown command '--port'\. To start the gateway: switchyard start --port 9000/, /Commands:/],
    [['help', 'frobnicate'], /unknown command 'frobnicate'/, /Commands:/],
    [['start', '--bogus'], /switchyard start: Unknown option '--bogus'/, /Usage: switchyard start /],
    [['start', 'now'], /switchyard start: .*'now'/, /Usage: switchyard start /],
    [['doctor', '--bogus'], /switchyard doctor: Unknown option '--bogus'/, /Usage: switchyard doctor /],
    [['mock-upstream', '--bogus'], /switchyard mock-upstream: Unknown option '--bogus'/, /Usage: switchyard mock-upstream /],
    [['mock-upstream', '--port', 'x'], /Invalid --port 'x'/, /Usage: switchyard mock-upstream /],
    [['keys', 'list', '--bogus'], /Unknown option '--bogus'/, /Usage: switchyard keys /],
    [['usage', '--bogus'], /Unknown option '--bogus'/, /Usage: switchyard usage /],
  ];
  const results = await runAll(cases.map(([args]) => args));
  cases.forEach(([args, message, usage], i) => {
    const { code, stdout, stderr } = results[i];
    assert.equal(code, 2, `switchyard ${args.join(' ')} exited ${code}: ${stderr}`);
    assert.match(stderr, message, `switchyard ${args.join(' ')}`);
    assert.match(stderr, usage, `switchyard ${args.join(' ')}`);
    assert.ok(stderr.indexOf(usage.exec(stderr)![0]) > stderr.search(message), 'the mistake comes first, then the usage');
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace: ${stderr}`);
    assert.equal(stdout, '');
  });
});

test('a port already in use says so and how to choose another, exit 1, no stack trace', async () => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    for (const [args, env] of [[['start', '--port', String(port)], {}], [['start'], { SWITCHYARD_PORT: String(port) }]] as const) {
      const { code, stdout, stderr } = await runToEnd([...args], env);
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(stderr, /--port \d+ \(npm start -- --port \d+\) or SWITCHYARD_PORT=\d+/);
      assert.ok(!/\n\s+at |EADDRINUSE/.test(stderr), `no stack trace or error code: ${stderr}`);
      assert.ok(!/listening on/.test(stdout));
    }
  } finally {
    taken.close();
  }
});

/** Generous: two processes start on a machine whose cores the whole suite shares. */
const SLOW_START = 60_000;

/** The env assignments of the README quickstart's `npm start`, pointed at a mock on `mockUrl`. */
function quickstartEnv(mockUrl: string): Record<string, string> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]).find((b) => b.includes('npm run mock-upstream'));
  assert.ok(block, 'the README quickstart has no mock-upstream block');
  const command = block.replace(/\\\n/g, ' ').split('\n').find((line) => line.includes('npm start'));
  const env: Record<string, string> = {};
  for (const [, name, value] of command!.matchAll(/\b([A-Z][A-Z0-9_]*)=(\S+)/g)) env[name] = value.replace('http://127.0.0.1:4010', mockUrl);
  return env;
}

test('the README quickstart, as written: all three providers at the mock, Claude and Gemini models answer, the banner says where each setting came from', async () => {
  const mock = run(['mock-upstream', '--port', '0', '--quiet']);
  let gw: Running | undefined;
  try {
    const [mockUrl] = await mock.waitFor(/http:\/\/127\.0\.0\.1:\d+/, SLOW_START);
    const env = quickstartEnv(mockUrl);
    assert.deepEqual(Object.keys(env).sort(), ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'GEMINI_API_KEY', 'GEMINI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'SWITCHYARD_MASTER_KEY']);
    gw = run(['start', '--port', '0'], env);
    const [, url] = await gw.waitFor(/listening on (http:\/\/\S+)\/v1/, SLOW_START);
    await gw.waitFor(/models available/, SLOW_START);
    for (const kind of ['openai', 'anthropic', 'gemini']) {
      const upper = kind.toUpperCase();
      assert.match(gw.output(), new RegExp(`provider ${kind} \\(${kind}\\) at ${mockUrl}: api_key from ${upper}_API_KEY, base_url from ${upper}_BASE_URL`));
    }
    assert.ok(!gw.output().includes('mock '), 'no key value is printed');
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: env.SWITCHYARD_MASTER_KEY, maxRetries: 0 });
    for (const model of ['gpt-5.4-mini', 'claude-haiku-4-5', 'gemini-2.5-flash']) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
      assert.match(data.choices[0].message.content ?? '', /^Echo: Hello! .*\.$/, model);
      assert.equal(response.headers.get('x-switchyard-model'), model);
    }
    const alias = await client.chat.completions.create({ model: 'claude-haiku-4-5-20251001', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(alias.response.headers.get('x-switchyard-route-reason'), 'alias claude-haiku-4-5-20251001 -> claude-haiku-4-5');
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const claude = new Anthropic({ baseURL: url, apiKey: env.SWITCHYARD_MASTER_KEY, maxRetries: 0 });
    const message = await claude.messages.create({ model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hello!' }] });
    assert.equal(message.content[0].type === 'text' && message.content[0].text.startsWith('Echo: Hello!'), true);
    const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sy-dev-key-124', maxRetries: 0 });
    const refused = await wrong.models.list().then(() => assert.fail('a wrong key was accepted'), (e: InstanceType<typeof OpenAI.APIError>) => e);
    assert.deepEqual([refused.status, refused.code], [401, 'invalid_api_key']);
    assert.match(refused.message, /SWITCHYARD_MASTER_KEY/);
  } finally {
    gw?.child.kill('SIGTERM');
    mock.child.kill('SIGTERM');
  }
});

test('with a switchyard.yaml present, the environment fills what it leaves unset, and the banner says which source won', async () => {
  const mock = run(['mock-upstream', '--port', '0', '--quiet']);
  let gw: Running | undefined;
  try {
    const [mockUrl] = await mock.waitFor(/http:\/\/127\.0\.0\.1:\d+/, SLOW_START);
    const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
    writeFileSync(join(dir, 'switchyard.yaml'), 'providers:\n  openai: { api_key: ${OPENAI_API_KEY} }\n  anthropic: { base_url: "' + mockUrl + '" }\n');
    gw = run(['start', '--port', '0'], { OPENAI_BASE_URL: `${mockUrl}/v1`, OPENAI_API_KEY: 'mock', ANTHROPIC_API_KEY: 'mock', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/unused' }, dir);
    const [, url] = await gw.waitFor(/listening on (http:\/\/\S+)\/v1/, SLOW_START);
    await gw.waitFor(/models available/, SLOW_START);
    assert.match(gw.output(), new RegExp(`provider openai \\(openai\\) at ${mockUrl}: api_key from switchyard\\.yaml, base_url from OPENAI_BASE_URL`));
    assert.match(gw.output(), new RegExp(`provider anthropic \\(anthropic\\) at ${mockUrl}: api_key from ANTHROPIC_API_KEY, base_url from switchyard\\.yaml, ANTHROPIC_BASE_URL set but not used`));
    assert.match(gw.output(), /not configured: gemini, ollama \(their models answer 503; set GEMINI_API_KEY, OLLAMA_HOST/);
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });
    for (const model of ['gpt-5.4-mini', 'claude-haiku-4-5']) {
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      assert.match(answer.choices[0].message.content ?? '', /^Echo: hi\./, `${model} reached the mock`);
    }
    const gemini = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).then(() => assert.fail('gemini is not configured'), (e: InstanceType<typeof OpenAI.APIError>) => e);
    assert.deepEqual([gemini.status, gemini.code], [503, 'provider_not_configured']);
    assert.match(gemini.message, /GEMINI_API_KEY/);
    assert.ok(!/OPENAI_|ANTHROPIC_/.test(gemini.message), gemini.message);
  } finally {
    gw?.child.kill('SIGTERM');
    mock.child.kill('SIGTERM');
  }
});

test("npm start's entry (src/main.js) keeps Node's compile cache, saved once listening: a gateway killed with kill -9 still left it, a second start adds nothing, NODE_DISABLE_COMPILE_CACHE=1 turns it off", async () => {
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sy-cc-'));
  const cache = join(dir, 'compile-cache');
  const startAndKill = async (env: Record<string, string>) => {
    const gw = run(['start', '--port', '0'], env, dir, main);
    await gw.waitFor(/listening on http/);
    gw.child.kill('SIGKILL');
    await gw.exited;
  };
  const entries = () => (existsSync(cache) ? readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0);
  await startAndKill({ NODE_COMPILE_CACHE: cache, NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.equal(entries(), 0);
  await startAndKill({ NODE_COMPILE_CACHE: cache });
  const first = entries();
  // The CLI, the gateway's modules and the SQLite writer thread's: well over a hundred files.
  assert.ok(first > 100, `only ${first} cache entries after the first start`);
  await startAndKill({ NODE_COMPILE_CACHE: cache });
  assert.equal(entries(), first);
});
