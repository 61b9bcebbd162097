import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { runMockUpstreamCli } from './cli.ts';
import { parseSse } from './test-support.ts';

test('the command prints its URL and how to point the gateway at it, serves, and stops on SIGTERM', async () => {
  const entry = new URL('./index.ts', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(entry)}).then((m) => m.runMockUpstreamCli(['--port', '0', '--chunks', '3']))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (out += text));
    while (!out.includes('\n')) await once(child.stdout, 'data');
    const banner = out.slice(0, out.indexOf('\n'));
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(banner)?.[0];
    assert.ok(url, banner);
    assert.ok(banner.includes(`OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=mock ANTHROPIC_BASE_URL=${url} ANTHROPIC_API_KEY=mock GEMINI_BASE_URL=${url} GEMINI_API_KEY=mock npm start`), banner);

    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    const deltas = parseSse(await res.text()).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data).choices[0]?.delta?.content).filter(Boolean);
    assert.equal(deltas.length, 3, '--chunks sets the default');
    while (!out.includes('POST /v1/chat/completions 200')) await once(child.stdout, 'data');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('bad flags are refused with a message that names the flag', async () => {
  await assert.rejects(runMockUpstreamCli(['--fail-rate', '2']), /--fail-rate '2'/);
  await assert.rejects(runMockUpstreamCli(['--chunks', 'many']), /--chunks 'many'/);
  await assert.rejects(runMockUpstreamCli(['--nope']), /--nope/);
});
