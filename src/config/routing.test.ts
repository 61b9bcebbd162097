import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfigText, type GatewayConfig } from './load.ts';
import { verifyDiscoveredModels } from './routing.ts';
import { Catalog } from '../catalog/catalog.ts';

function load(text: string, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const dir = mkdtempSync(join(tmpdir(), 'sy-routing-'));
  try {
    writeFileSync(join(dir, 'switchyard.yaml'), text);
    return loadConfig({ cwd: dir, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function refused(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfigText(text, 'switchyard.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail('expected a ConfigError');
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;

test('the resilience settings arrive typed, with every default filled in', () => {
  const config = load(lines(
    'aliases:',
    '  opus: claude-opus-4-5',
    'routing:',
    '  strategy: least-busy',
    '  retry: { attempts: 3, base_ms: 100, max_ms: 2000, max_retry_after_ms: 5000, attempt_timeout_ms: 30000, deadline_ms: 90000, same_deployment: true }',
    '  breaker: { failures: 3, error_rate: 0.25, window_ms: 10000, min_requests: 4, cooldown_ms: 15000 }',
    'strategies:',
    '  gpt-5.5: lowest-latency',
    '  claude-opus-4-5-20251101: priority',
    'fallbacks:',
    '  gpt-5.5: [opus, gpt-5.4]',
    '  claude-opus-4-5: [claude-sonnet-4-5]',
    '  gpt-5.4: [gpt-5.4-mini, claude-sonnet-4-5]',
    'context_fallbacks:',
    '  gpt-4o: gpt-5.4',
    '  gpt-5.4: gpt-5.5',
  ));
  assert.equal(config.routing.strategy, 'least-busy');
  assert.deepEqual(config.routing.retry, { retries: 3, on: 'same', baseDelayMs: 100, maxDelayMs: 2000, retryAfterCeilingMs: 5000, attemptTimeoutMs: 30000, deadlineMs: 90000 });
  assert.deepEqual(config.routing.breaker, { consecutiveFailures: 3, errorRate: 0.25, minRequests: 4, windowMs: 10000, coolDownMs: 15000 });
  assert.equal(config.routing.strategyFor('gpt-5.5'), 'lowest-latency');
  assert.equal(config.routing.strategyFor('claude-opus-4-5'), 'priority', 'a strategy written for an alias applies to the model');
  assert.equal(config.routing.strategyFor('gpt-5.4'), 'least-busy', 'the default');
  // The written chain first, then the chains of the models in it, each model once, aliases resolved.
  assert.deepEqual(config.fallbacks.get('gpt-5.5'), ['claude-opus-4-5', 'gpt-5.4', 'claude-sonnet-4-5', 'gpt-5.4-mini']);
  assert.deepEqual(config.fallbacks.get('gpt-5.4'), ['gpt-5.4-mini', 'claude-sonnet-4-5']);
  assert.equal(config.fallbacks.get('gpt-5.4-mini'), undefined);
  assert.deepEqual([...config.contextFallbacks], [['gpt-4o', 'gpt-5.4'], ['gpt-5.4', 'gpt-5.5']]);
});

test('without routing settings: weighted, production defaults, no chains; deadlines follow the upstream timeout', () => {
  for (const config of [loadConfig({ cwd: '/nonexistent-dir-for-test', env: {} }), load('server: { upstream_timeout_ms: 120000 }\n')]) {
    const upstream = config.upstreamTimeoutMs;
    assert.equal(config.routing.strategy, 'weighted');
    assert.equal(config.routing.strategyFor('gpt-5.5'), 'weighted');
    assert.deepEqual(config.routing.retry, { retries: 2, on: 'next', baseDelayMs: 200, maxDelayMs: 5000, retryAfterCeilingMs: 10000, attemptTimeoutMs: upstream, deadlineMs: upstream });
    assert.deepEqual(config.routing.breaker, { consecutiveFailures: 5, errorRate: 0.5, minRequests: 20, windowMs: 30000, coolDownMs: 30000 });
    assert.equal(config.fallbacks.size, 0);
    assert.equal(config.contextFallbacks.size, 0);
  }
  assert.equal(load('routing: { retry: { deadline_ms: 5000 } }\n').routing.retry.attemptTimeoutMs, 5000, 'no attempt outlives the deadline');
});

test('a chain naming an unknown model is refused at its line, with the closest ids', () => {
  const message = refused(lines('server:', '  port: 8080', 'fallbacks:', '  gpt-5.5:', '    - claude-opus-4-5', '    - gpt-5.44'));
  assert.match(message, /^Invalid config:\n {2}switchyard\.yaml:6: fallbacks\.gpt-5\.5\.1: 'gpt-5\.44' is not a model on this gateway; the closest are: gpt-5\.4, gpt-5\.5, gpt-4\.1\. Use a model id or alias/);
  assert.match(refused(lines('fallbacks:', '  gtp-5.5:', '    - gpt-5.4')), /switchyard\.yaml:2: fallbacks\.gtp-5\.5: 'gtp-5\.5' is not a model on this gateway; the closest are: gpt-5\.5,/, 'an unknown chain owner: the line of its key');
  assert.match(refused(lines('strategies:', '  gpt-5.4-min: priority')), /switchyard\.yaml:2: strategies\.gpt-5\.4-min: 'gpt-5\.4-min' is not a model on this gateway; the closest are: gpt-5\.4-mini/);
});

test('a context fallback naming an unknown model is refused at its line', () => {
  assert.match(refused(lines('context_fallbacks:', '  gpt-4o: gemini-2.5-prp')), /switchyard\.yaml:2: context_fallbacks\.gpt-4o: 'gemini-2\.5-prp' is not a model on this gateway; the closest are: gemini-2\.5-pro/);
  assert.match(refused(lines('context_fallbacks:', '  gpt4o: gpt-5.5')), /switchyard\.yaml:2: context_fallbacks\.gpt4o: 'gpt4o' is not a model/);
});

test('models added under models: and aliases may be named', () => {
  const config = load(lines(
    'providers: { vllm: { kind: openai, base_url: "http://127.0.0.1:9/v1" } }',
    'models:',
    '  qwen3-coder: { provider: vllm, context_window: 32768 }',
    '  qwen3-coder-long: { provider: vllm, context_window: 262144 }',
    'aliases: { coder: qwen3-coder }',
    'fallbacks: { coder: [gpt-5.4-mini] }',
    'context_fallbacks: { qwen3-coder: qwen3-coder-long }',
  ));
  assert.deepEqual(config.fallbacks.get('qwen3-coder'), ['gpt-5.4-mini']);
  assert.equal(config.contextFallbacks.get('qwen3-coder'), 'qwen3-coder-long');
});

test('a cycle across chains is refused and named, at the entry that closes it', () => {
  const message = refused(lines('fallbacks:', '  gpt-5.5: [gpt-5.4]', '  gpt-5.4: [claude-sonnet-4-5, gpt-5.5]'));
  assert.match(message, /switchyard\.yaml:3: fallbacks\.gpt-5\.4\.1: the fallbacks form a cycle: gpt-5\.5 → gpt-5\.4 → gpt-5\.5\. A model's fallbacks continue/);
  assert.equal(message.match(/cycle/g)?.length, 1, 'one cycle, named once');
  const viaAlias = refused(lines('fallbacks:', '  claude-opus-4-5: [gpt-5.5]', '  gpt-5.5: [gemini-2.5-pro]', '  gemini-2.5-pro:', '    - claude-opus-4-5-20251101'));
  assert.match(viaAlias, /switchyard\.yaml:5: fallbacks\.gemini-2\.5-pro\.0: the fallbacks form a cycle: claude-opus-4-5 → gpt-5\.5 → gemini-2\.5-pro → claude-opus-4-5\./);
});

test('a model falling back to itself, directly or through an alias, is refused', () => {
  assert.match(refused(lines('fallbacks:', '  gpt-5.5: [gpt-5.4, gpt-5.5]')), /switchyard\.yaml:2: fallbacks\.gpt-5\.5\.1: 'gpt-5\.5' is the model this chain is for: a model cannot fall back to itself/);
  assert.match(refused(lines('fallbacks:', '  claude-opus-4-5:', '    - claude-opus-4-5-20251101')), /switchyard\.yaml:3: fallbacks\.claude-opus-4-5\.0: 'claude-opus-4-5-20251101' \(alias of claude-opus-4-5\) is the model this chain is for/);
  assert.match(refused(lines('context_fallbacks:', '  gpt-5.5: gpt-5.5')), /switchyard\.yaml:2: context_fallbacks\.gpt-5\.5: 'gpt-5\.5' is the model this context fallback is for/);
});

test('a model listed twice in one chain, or given two entries through an alias, is refused', () => {
  assert.match(refused(lines('fallbacks:', '  gpt-5.5:', '    - gpt-5.4', '    - gpt-5.4')), /switchyard\.yaml:4: fallbacks\.gpt-5\.5\.1: 'gpt-5\.4' is already in this chain \(line 3\)\. List each model once\./);
  assert.match(refused(lines('strategies:', '  claude-opus-4-5: priority', '  claude-opus-4-5-20251101: weighted')), /switchyard\.yaml:3: strategies\.claude-opus-4-5-20251101: 'claude-opus-4-5-20251101' \(alias of claude-opus-4-5\) is the same model as 'claude-opus-4-5' on line 2/);
});

test('a strategy that does not exist is refused with the valid ones', () => {
  assert.match(refused(lines('routing:', '  strategy: least_busy')), /switchyard\.yaml:2: routing\.strategy: 'least_busy' is not a strategy; use one of weighted, least-busy, lowest-latency, priority \(did you mean least-busy\?\)/);
  assert.match(refused(lines('strategies:', '  gpt-5.5: fastest')), /switchyard\.yaml:2: strategies\.gpt-5\.5: 'fastest' is not a strategy; use one of weighted, least-busy, lowest-latency, priority/);
  assert.match(refused(lines('routing:', '  strategy: 3')), /switchyard\.yaml:2: routing\.strategy: must be one of weighted, least-busy, lowest-latency, priority/);
});

test('a context fallback whose window is not larger is refused, with models that are', () => {
  const message = refused(lines('context_fallbacks:', '  gpt-5.4: claude-opus-4-5'));
  assert.match(message, /switchyard\.yaml:2: context_fallbacks\.gpt-5\.4: 'claude-opus-4-5' has a context window of 200000 tokens, not more than gpt-5\.4's 400000, so it could never take a prompt too long for gpt-5\.4\. Name a model with a larger window, such as gpt-4\.1 \(1047576\), gpt-4\.1-mini \(1047576\), gpt-4\.1-nano \(1047576\), or/);
  assert.match(message, /or set models\.claude-opus-4-5\.context_window if the catalog's is wrong/);
  assert.match(refused(lines('context_fallbacks:', '  gpt-5.5: gpt-4.1')), /:2: context_fallbacks\.gpt-5\.5: 'gpt-4\.1' has a context window of 1047576 tokens, not more than gpt-5\.5's 1050000/);
  assert.match(refused(lines('context_fallbacks:', '  gpt-5.4: gpt-5')), /:2: context_fallbacks\.gpt-5\.4: 'gpt-5' has a context window of 400000 tokens, not more than gpt-5\.4's 400000/, 'an equal window is not larger');
  // The catalog's window as overridden in models: is what counts.
  assert.equal(load(lines('models: { claude-opus-4-5: { context_window: 1000000 } }', 'context_fallbacks: { gpt-5.4: claude-opus-4-5 }')).contextFallbacks.get('gpt-5.4'), 'claude-opus-4-5');
});

test('an embedding model in a chat chain, or the other way round, is refused', () => {
  assert.match(refused(lines('fallbacks:', '  gpt-5.5: [text-embedding-3-small]')), /:2: fallbacks\.gpt-5\.5\.0: 'text-embedding-3-small' is an embedding model and gpt-5\.5 is not: a fallback must serve the same requests\. Name a chat model\./);
  assert.match(refused(lines('fallbacks:', '  text-embedding-3-large: [gpt-4o]')), /:2: fallbacks\.text-embedding-3-large\.0: 'gpt-4o' is not an embedding model and text-embedding-3-large is one/);
  assert.deepEqual(load('fallbacks: { text-embedding-3-large: [gemini-embedding-001] }\n').fallbacks.get('text-embedding-3-large'), ['gemini-embedding-001']);
});

test('nonsensical numbers are refused at their line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['routing:', '  retry:', '    attempts: -1'], /:3: routing\.retry\.attempts: must be 0 \(never retry\) or more/],
    [['routing:', '  retry:', '    attempts: 1.5'], /:3: routing\.retry\.attempts: must be a whole number of retries/],
    [['routing:', '  retry:', '    base_ms: -100'], /:3: routing\.retry\.base_ms: must be 0 or more milliseconds/],
    [['routing:', '  retry:', '    deadline_ms: 0'], /:3: routing\.retry\.deadline_ms: must be more than 0 milliseconds/],
    [['routing:', '  retry:', '    max_ms: soon'], /:3: routing\.retry\.max_ms: must be a number of milliseconds/],
    [['routing:', '  breaker:', '    error_rate: 1.5'], /:3: routing\.breaker\.error_rate: must be a fraction above 0 and at most 1/],
    [['routing:', '  breaker:', '    error_rate: 0'], /:3: routing\.breaker\.error_rate: must be a fraction above 0 and at most 1/],
    [['routing:', '  breaker:', '    failures: 0'], /:3: routing\.breaker\.failures: must be 1 or more failures in a row/],
    [['routing:', '  breaker:', '    cooldown_ms: -5'], /:3: routing\.breaker\.cooldown_ms: must be more than 0 milliseconds/],
    [['routing:', '  retry:', '    base_ms: 5000', '    max_ms: 1000'], /:3: routing\.retry\.base_ms: base_ms 5000 is more than max_ms \(1000\): the first wait would already be over the cap\. Lower base_ms or raise max_ms\./],
    [['routing:', '  retry:', '    base_ms: 10000'], /:3: routing\.retry\.base_ms: base_ms 10000 is more than the default max_ms \(5000\)/],
    [['routing:', '  retry:', '    max_ms: 100'], /:3: routing\.retry\.max_ms: base_ms 200 is more than max_ms \(100\)/],
    [['routing:', '  retry:', '    deadline_ms: 10000', '    attempt_timeout_ms: 60000'], /:4: routing\.retry\.attempt_timeout_ms: 60000 is longer than deadline_ms \(10000\), so the deadline would end every attempt first/],
    [['routing:', '  breaker:', '    failurs: 3'], /:3: routing\.breaker: unknown field 'failurs'; remove it or fix its spelling/],
    [['fallbacks:', '  gpt-5.5: []'], /:2: fallbacks\.gpt-5\.5: list at least one model, or remove the entry/],
  ];
  for (const [text, expected] of cases) assert.match(refused(lines(...text)), expected, text.join(' / '));
  assert.equal(load('routing: { retry: { attempts: 0, base_ms: 0, max_ms: 0, max_retry_after_ms: 0 }, breaker: { error_rate: 1 } }\n').routing.retry.retries, 0, 'zero retries and no waits are allowed');
});

test('every problem is listed, in line order', () => {
  const message = refused(lines('fallbacks:', '  gpt-5.5: [gpt-5.44]', 'routing:', '  retry: { base_ms: 9000 }', 'context_fallbacks:', '  gpt-5.4: gpt-4o'));
  const found = [...message.matchAll(/switchyard\.yaml:(\d+): (\S+):/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(found, ['2 fallbacks.gpt-5.5.0', '4 routing.retry.base_ms', '6 context_fallbacks.gpt-5.4']);
});

/** The catalog as createGateway builds it, after the Ollama provider listed `ids`. */
function discovered(config: GatewayConfig, ids: string[]): Catalog {
  const catalog = new Catalog(config);
  catalog.addDiscovered(config.providers.get('ollama')!, ids);
  return catalog;
}

test('with a provider that discovers its models, an unknown name waits for discovery, then gets the same file:line refusal', () => {
  const text = lines(
    'providers:',
    '  ollama: { base_url: "http://127.0.0.1:9" }',
    'aliases: { local: llama3.2 }',
    'fallbacks:',
    '  local: [gpt-5.4-mini]',
    '  gpt-5.4-mini:',
    '    - qwen3:8b',
    'context_fallbacks: { llama3.2: gpt-5.5 }',
  );
  const config = load(text);
  assert.deepEqual(config.fallbacks.get('llama3.2'), ['gpt-5.4-mini', 'qwen3:8b'], 'an alias of a model yet to be discovered resolves');
  assert.deepEqual(config.contextFallbacks.get('llama3.2'), 'gpt-5.5');
  assert.deepEqual(verifyDiscoveredModels(config.routing, discovered(config, ['llama3.2', 'qwen3:8b'])), []);
  assert.throws(() => verifyDiscoveredModels(config.routing, discovered(config, ['llama3.2', 'qwen3:4b'])), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^Invalid config:\n {2}\S+\/switchyard\.yaml:7: fallbacks\.gpt-5\.4-mini\.0: 'qwen3:8b' is not a model on this gateway; the closest are: qwen3:4b/);
    assert.doesNotMatch(err.message, /llama3\.2' is not/);
    return true;
  });
  const warnings = verifyDiscoveredModels(config.routing, discovered(config, ['llama3.2']), ['ollama']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /switchyard\.yaml:7: fallbacks\.gpt-5\.4-mini\.0: 'qwen3:8b' is not a model on this gateway.*not refused: the models of ollama could not be listed at start/);
});

test('after discovery, a context fallback to a discovered model that is not larger is refused', () => {
  const config = load(lines('providers: { ollama: {} }', 'context_fallbacks:', '  gpt-4o: llama3.2', '  gpt-5.5: qwen3:8b'));
  assert.throws(() => verifyDiscoveredModels(config.routing, discovered(config, ['llama3.2', 'qwen3:8b'])), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /switchyard\.yaml:4: context_fallbacks\.gpt-5\.5: 'qwen3:8b' has a context window of 131072 tokens, not more than gpt-5\.5's 1050000/);
    assert.doesNotMatch(err.message, /gpt-4o/, 'gpt-4o (128000) to llama3.2 (131072) is larger');
    return true;
  });
});

test('without a discovering provider, an unknown name is refused at load, not deferred', () => {
  assert.match(refused(lines('providers: { ollama: { discover: false } }', 'fallbacks: { llama3.2: [gpt-5.4-mini] }')), /switchyard\.yaml:2: fallbacks\.llama3\.2: 'llama3\.2' is not a model/);
  assert.doesNotThrow(() => parseConfigText('fallbacks: { llama3.2: [gpt-5.4-mini] }\n', 'switchyard.yaml', { OLLAMA_HOST: '127.0.0.1:9' }), 'OLLAMA_HOST alone configures a discovering provider');
});
