// The real coding agents against the gateway, with only base URL and key changed:
// Claude Code (`claude -p`) with an OpenAI model (translated) and a Claude model
// (relayed), the Codex CLI (`codex exec`) with an OpenAI model, and Claude Code
// with a wrong key, which must give up after one request. The mock upstream plays
// every provider; anything not on loopback goes to a proxy that refuses it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, GATEWAY_KEY } from './support/stack.ts';
import type { Stack } from './support/stack.ts';
import { claudeEnv, codexEnv, explain, findAgent, makeSandbox, runAgent, startBlockingProxy, startFront, writeCodexConfig } from './support/agents.ts';
import type { BlockingProxy, Exchange, Front, RunResult } from './support/agents.ts';

const claude = findAgent('claude');
const codex = findAgent('codex');
const claudeSkip = 'missing' in claude ? claude.missing : false;
const codexSkip = 'missing' in codex ? codex.missing : false;

let stack: Stack;
let proxy: BlockingProxy;
before(async () => {
  stack = await startStack({ providersFor: (url) => `\n  anthropic: { base_url: ${url}, api_key: k-anthropic }` });
  proxy = await startBlockingProxy();
});
after(async () => {
  await proxy.close();
  await stack.close();
});

interface AgentRun {
  run: RunResult;
  exchanges: Exchange[];
}

/** Runs one agent in a fresh sandbox behind a front that notes what reached the gateway. */
async function runThroughGateway(start: (front: Front, sandbox: ReturnType<typeof makeSandbox>) => Promise<RunResult>): Promise<AgentRun> {
  const front = await startFront(stack.gw.origin);
  const sandbox = makeSandbox();
  try {
    return { run: await start(front, sandbox), exchanges: front.exchanges };
  } finally {
    await front.close();
    sandbox.remove();
  }
}

function runClaude(model: string, apiKey: string, timeoutMs?: number): Promise<AgentRun> {
  const agent = claude as { path: string };
  return runThroughGateway((front, sandbox) =>
    runAgent(agent.path, ['-p', 'say hi', '--model', model], claudeEnv(sandbox, proxy, front.url, apiKey), sandbox.cwd, timeoutMs),
  );
}

/** The mock's answers start with "Echo: "; a line of the agent's output must be one. */
function assertMockAnswerShown({ run, exchanges }: AgentRun): void {
  assert.equal(run.code, 0, explain(run, exchanges));
  assert.match(run.stdout, /^Echo: \S/m, explain(run, exchanges));
}

function upstreamModels(path: string): unknown[] {
  return stack.mock.requests.filter((r) => r.path.split('?')[0] === path).map((r) => (r.body as { model?: unknown }).model);
}

function noteBlocked(t: { diagnostic(message: string): void }): void {
  if (proxy.attempts.length > 0) t.diagnostic(`refused off-loopback connections: ${proxy.attempts.join(', ')}`);
}

test('Claude Code with an OpenAI model: claude -p answers with the mock reply, translated to Chat Completions', { skip: claudeSkip }, async (t) => {
  stack.mock.reset();
  const result = await runClaude('gpt-5.4-mini', GATEWAY_KEY);
  noteBlocked(t);
  assertMockAnswerShown(result);
  assert.ok(result.exchanges.every((e) => e.path.startsWith('/v1/messages')), explain(result.run, result.exchanges));
  assert.ok(upstreamModels('/v1/chat/completions').includes('gpt-5.4-mini'), 'the OpenAI upstream got no chat request for gpt-5.4-mini');
});

test('Claude Code with a Claude model: claude -p answers with the mock reply, relayed to the Messages API', { skip: claudeSkip }, async (t) => {
  stack.mock.reset();
  const result = await runClaude('claude-sonnet-4-5', GATEWAY_KEY);
  noteBlocked(t);
  assertMockAnswerShown(result);
  const relayed = stack.mock.requests.filter((r) => r.path.startsWith('/v1/messages'));
  assert.ok(relayed.length > 0 && relayed.every((r) => (r.body as { model?: unknown }).model === 'claude-sonnet-4-5'), 'the Anthropic upstream got no Messages request for claude-sonnet-4-5');
  // Relayed as it came: Claude Code's beta list reaches the provider.
  assert.match(String(relayed[0].headers['anthropic-beta']), /claude-code-/);
});

test('Codex CLI with an OpenAI model: codex exec answers with the mock reply through /v1/responses', { skip: codexSkip }, async (t) => {
  stack.mock.reset();
  const agent = codex as { path: string };
  const result = await runThroughGateway((front, sandbox) => {
    writeCodexConfig(sandbox, `${front.url}/v1`, 'gpt-5.4-mini');
    return runAgent(agent.path, ['exec', '--skip-git-repo-check', '--ephemeral', 'say hi'], codexEnv(sandbox, proxy, GATEWAY_KEY), sandbox.cwd);
  });
  noteBlocked(t);
  assertMockAnswerShown(result);
  assert.ok(result.exchanges.some((e) => e.path === '/v1/responses' && e.status === 200), explain(result.run, result.exchanges));
  assert.ok(upstreamModels('/v1/responses').includes('gpt-5.4-mini'), 'the OpenAI upstream got no Responses request for gpt-5.4-mini');
});

test('Claude Code with a wrong key fails at the first 401: one request, no retries', { skip: claudeSkip }, async (t) => {
  stack.mock.reset();
  // Bounded well below Claude Code's retry schedule (~45 s), so a retrying client shows as several requests.
  const { run, exchanges } = await runClaude('gpt-5.4-mini', 'sy-wrong-key-for-agent-test-0001', 30_000);
  noteBlocked(t);
  assert.equal(run.timedOut, false, `Claude Code was still retrying after 30 s:\n${explain(run, exchanges)}`);
  assert.notEqual(run.code, 0, explain(run, exchanges));
  assert.deepEqual(exchanges.map((e) => e.status), [401], explain(run, exchanges));
  assert.equal(stack.mock.requests.length, 0, 'a refused key must not reach the provider');
  assert.match(`${run.stdout}\n${run.stderr}`, /401|invalid|key/i, 'Claude Code should say why it stopped');
});
