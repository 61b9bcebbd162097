// Records the first request each real agent sends, into fixtures/clients/ (see the
// PROVENANCE.md there). The agents talk straight to the mock upstream, which
// records every request; nothing else is reachable (blocking proxy).
//   node test/support/record-agents.ts
import { writeFileSync } from 'node:fs';
import { startMockUpstream } from '../../src/mock-upstream/index.ts';
import { fixturePath } from '../../src/testing/fixtures.ts';
import { claudeEnv, codexEnv, findAgent, makeSandbox, runAgent, startBlockingProxy, writeCodexConfig } from './agents.ts';
import type { BlockingProxy } from './agents.ts';

const TEST_KEY = 'sy-test-gateway-key-0001';
/** Prose longer than this (prompts, tool descriptions) is the vendor's text: left out, its length kept; JSON strings stay. */
const PROSE_LIMIT = 400;
const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'x-api-key', 'authorization']);

interface Recording {
  file: string;
  agent: 'claude' | 'codex';
  model: string;
  /** The header that carries the key, and how. */
  auth: { header: string; format: string };
}

const RECORDINGS: Recording[] = [
  { file: 'claude-code-gpt-5.4-mini.request.json', agent: 'claude', model: 'gpt-5.4-mini', auth: { header: 'x-api-key', format: '<key>' } },
  { file: 'claude-code-claude-sonnet-4-5.request.json', agent: 'claude', model: 'claude-sonnet-4-5', auth: { header: 'x-api-key', format: '<key>' } },
  { file: 'codex-exec.request.json', agent: 'codex', model: 'gpt-5.4-mini', auth: { header: 'authorization', format: 'Bearer <key>' } },
];

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function redact(value: unknown, vendor: string): unknown {
  if (typeof value === 'string') return value.length > PROSE_LIMIT && !isJson(value) ? `[${value.length} characters of ${vendor} prompt text left out; see PROVENANCE.md]` : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, vendor));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, vendor)]));
  return value;
}

async function record(recording: Recording, proxy: BlockingProxy): Promise<string> {
  const agent = findAgent(recording.agent);
  if ('missing' in agent) throw new Error(agent.missing);
  const mock = await startMockUpstream({});
  const sandbox = makeSandbox();
  try {
    if (recording.agent === 'codex') writeCodexConfig(sandbox, `${mock.url}/v1`, recording.model);
    const run = recording.agent === 'claude'
      ? await runAgent(agent.path, ['-p', 'say hi', '--model', recording.model], claudeEnv(sandbox, proxy, mock.url, TEST_KEY), sandbox.cwd)
      : await runAgent(agent.path, ['exec', '--skip-git-repo-check', '--ephemeral', 'say hi'], codexEnv(sandbox, proxy, TEST_KEY), sandbox.cwd);
    const first = mock.requests[0];
    if (run.code !== 0 || !first) throw new Error(`${recording.agent} exited ${run.code}: ${run.stderr.slice(0, 500)}`);
    const headers = Object.fromEntries(Object.entries(first.headers).filter(([name]) => !DROPPED_HEADERS.has(name)));
    const vendor = recording.agent === 'claude' ? 'Claude Code' : 'Codex CLI';
    const out = { client: { name: vendor, version: agent.version }, method: first.method, path: first.path, auth: recording.auth, headers, body: redact(first.body, vendor) };
    writeFileSync(fixturePath(`clients/${recording.file}`), `${JSON.stringify(out, null, 2)}\n`);
    return `${recording.file}: ${vendor} ${agent.version}, ${mock.requests.length} request(s)`;
  } finally {
    sandbox.remove();
    await mock.close();
  }
}

const proxy = await startBlockingProxy();
try {
  for (const recording of RECORDINGS) console.log(await record(recording, proxy));
  if (proxy.attempts.length > 0) console.log(`refused: ${proxy.attempts.join(', ')}`);
} finally {
  await proxy.close();
}
