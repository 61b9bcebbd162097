import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, loadConfig, ConfigError } from './load.ts';

const bad = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfigText(text, 'switchyard.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
};

test('a misspelt field is named with its line and the fix', () => {
  const message = bad('server:\n  port: 8080\n  hots: 0.0.0.0\n');
  assert.match(message, /switchyard\.yaml:3: server: unknown field 'hots'; remove it or fix its spelling/);
});

test('a wrong type names the field path and its line', () => {
  const message = bad('providers:\n  openai:\n    base_url: http://x/v1\n    timeout_ms: soon\n');
  assert.match(message, /switchyard\.yaml:4: providers\.openai\.timeout_ms: /);
});

test('a bad URL says what a URL must be', () => {
  assert.match(bad('providers:\n  vllm:\n    base_url: gpu-box:8000\n'), /:3: providers\.vllm\.base_url: must be an http:\/\/ or https:\/\/ URL/);
});

test('broken YAML names the line', () => {
  assert.match(bad('server:\n  port: [1,\n'), /switchyard\.yaml:\d+: not valid YAML/);
});

test('${VAR} is interpolated from the environment, with defaults; a missing one is named', () => {
  const parsed = parseConfigText('auth:\n  master_key: ${MK}\nproviders:\n  openai:\n    base_url: ${BASE:-http://127.0.0.1:4010/v1}\n', 'f', { MK: 'secret-master-1' });
  assert.equal(parsed.auth?.master_key, 'secret-master-1');
  assert.equal(parsed.providers?.openai.base_url, 'http://127.0.0.1:4010/v1');
  assert.match(bad('providers:\n  openai:\n    api_key: ${NOPE_KEY}\n'), /:3: \$\{NOPE_KEY\} is not set in the environment\. Export NOPE_KEY/);
});

test('the environment contract: SWITCHYARD_* and provider variables', () => {
  const config = loadConfig({
    cwd: '/nonexistent-dir-for-test',
    env: { SWITCHYARD_PORT: '9999', SWITCHYARD_HOST: '0.0.0.0', SWITCHYARD_DB: '/tmp/x.db', SWITCHYARD_MASTER_KEY: 'master-key-123', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1/', OPENAI_API_KEY: 'k', OLLAMA_HOST: 'gpu:11434' },
  });
  assert.equal(config.port, 9999);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.dbPath, '/tmp/x.db');
  assert.equal(config.masterKey, 'master-key-123');
  assert.equal(config.providers.get('openai')?.baseUrl, 'http://127.0.0.1:1/v1');
  assert.equal(config.providers.get('ollama')?.baseUrl, 'http://gpu:11434');
  assert.equal(loadConfig({ cwd: '/nonexistent-dir-for-test', env: { SWITCHYARD_PORT: '1' }, flags: { port: 2 } }).port, 2, 'flags win');
  assert.throws(() => loadConfig({ cwd: '/', env: { SWITCHYARD_PORT: 'http' } }), /SWITCHYARD_PORT="http" is not a port number/);
  assert.throws(() => loadConfig({ cwd: '/', env: { SWITCHYARD_CONFIG: '/no/such.yaml' } }), /does not exist/);
});

// Values that would break YAML if they were pasted into the text before parsing.
const HOSTILE = 'k3y"], x: {y: 1} # not a comment\n  - and: a new line \'\\';

test('${VAR} works unquoted in flow sequences and mappings, and a value never changes the structure', () => {
  const text = 'auth:\n  keys: [${TEAM_KEY}, plain-key-123]\nproviders:\n  openai:   { api_key: ${OPENAI_API_KEY} }\n  vllm: { base_url: "http://${GPU_HOST:-gpu-box}:8000/v1", headers: { x-k: \'${TEAM_KEY}\' } }\n';
  const parsed = parseConfigText(text, 'f', { TEAM_KEY: HOSTILE, OPENAI_API_KEY: HOSTILE });
  assert.deepEqual(parsed.auth?.keys, [HOSTILE, 'plain-key-123']);
  assert.equal(parsed.providers?.openai.api_key, HOSTILE);
  assert.equal(parsed.providers?.vllm.base_url, 'http://gpu-box:8000/v1');
  assert.deepEqual(parsed.providers?.vllm.headers, { 'x-k': HOSTILE });
  assert.deepEqual(Object.keys(parsed), ['auth', 'providers']);
});

test('config errors after interpolation keep their line and never show a substituted value', () => {
  const secret = 'short"]';
  const message = bad('server:\n  port: 1\nauth:\n  keys: [${TEAM_KEY}]\n  master_key: ${MK}\n', { TEAM_KEY: secret, MK: 'sk-secret-master-value' });
  assert.match(message, /:4: auth\.keys\.0: a gateway key must be at least 8 characters/);
  assert.ok(!message.includes(secret) && !message.includes('sk-secret-master-value'), message);
  assert.match(bad('a: 1\nproviders:\n  openai: { api_key: ${MISSING_ONE} }\n'), /f?switchyard\.yaml:3: \$\{MISSING_ONE\} is not set/);
});

test('a ${ that is not a reference is named, in flow and block context', () => {
  assert.match(bad('auth:\n  keys: [${1BAD}]\n'), /switchyard\.yaml:2: not valid YAML: .*A '\$\{' on that line is not a valid reference/);
  assert.match(bad('auth:\n  master_key: abc${oops\n'), /switchyard\.yaml:2: a '\$\{' here does not start a valid reference: write \$\{NAME\}/);
});

test('the environment fills what switchyard.yaml leaves unset, and each provider says where each setting came from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-config-'));
  writeFileSync(join(dir, 'switchyard.yaml'), 'providers:\n  openai: { api_key: from-file-key }\n  anthropic: {}\n  gemini: { base_url: "http://127.0.0.1:9/g" }\n  ollama: {}\n  vllm: { kind: openai, base_url: "http://gpu:8000/v1" }\n');
  const env = {
    OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1', OPENAI_API_KEY: 'env-openai-secret', ANTHROPIC_API_KEY: 'env-anthropic-secret', ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010',
    GEMINI_API_KEY: 'env-gemini-secret', GEMINI_BASE_URL: 'http://127.0.0.1:4010', OLLAMA_HOST: '127.0.0.1:11999',
  };
  const { providers } = loadConfig({ cwd: dir, env });
  const openai = providers.get('openai')!;
  assert.deepEqual([openai.baseUrl, openai.apiKey], ['http://127.0.0.1:4010/v1', 'from-file-key']);
  assert.equal(openai.origin, 'api_key from switchyard.yaml, base_url from OPENAI_BASE_URL, OPENAI_API_KEY set but not used: switchyard.yaml sets it');
  const anthropic = providers.get('anthropic')!;
  assert.deepEqual([anthropic.baseUrl, anthropic.apiKey, anthropic.origin], ['http://127.0.0.1:4010', 'env-anthropic-secret', 'api_key from ANTHROPIC_API_KEY, base_url from ANTHROPIC_BASE_URL']);
  const gemini = providers.get('gemini')!;
  assert.deepEqual([gemini.baseUrl, gemini.apiKey], ['http://127.0.0.1:9/g', 'env-gemini-secret']);
  assert.match(gemini.origin, /api_key from GEMINI_API_KEY, base_url from switchyard\.yaml, GEMINI_BASE_URL set but not used/);
  assert.deepEqual([providers.get('ollama')!.baseUrl, providers.get('ollama')!.origin], ['http://127.0.0.1:11999', 'base_url from OLLAMA_HOST']);
  const vllm = providers.get('vllm')!;
  assert.deepEqual([vllm.baseUrl, vllm.apiKey, vllm.origin], ['http://gpu:8000/v1', undefined, 'no api_key, base_url from switchyard.yaml'], 'OPENAI_* speak for the openai provider only');
  for (const p of providers.values()) assert.ok(!/secret|from-file-key/.test(p.origin), p.origin);
});

test('without a file each provider comes from its own variables; an unset base URL is the default', () => {
  const { providers } = loadConfig({ cwd: '/nonexistent-dir-for-test', env: { ANTHROPIC_API_KEY: 'a-key', GOOGLE_API_KEY: 'g-key' } });
  assert.deepEqual([...providers.keys()], ['anthropic', 'gemini']);
  assert.deepEqual([providers.get('anthropic')!.baseUrl, providers.get('anthropic')!.origin], ['https://api.anthropic.com', 'api_key from ANTHROPIC_API_KEY, default base_url']);
  assert.equal(providers.get('gemini')!.origin, 'api_key from GOOGLE_API_KEY, default base_url');
});

test('store.redis_outage: a policy per concern reaches admission; a wrong value names the choices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-outage-'));
  writeFileSync(join(dir, 'switchyard.yaml'), 'store:\n  redis_url: redis://127.0.0.1:6379\n  redis_outage:\n    budgets: fail_open\n    rate_limits: fail_closed\n');
  const config = loadConfig({ env: {}, cwd: dir, flags: {} });
  assert.deepEqual(config.access.redisOutage, { budgets: 'fail_open', rateLimits: 'fail_closed' });
  assert.equal(loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'sy-outage-')), flags: {} }).access.redisOutage, undefined, 'unset: the defaults');
  assert.match(bad('store:\n  redis_outage:\n    budgets: ignore\n'), /:3: store\.redis_outage\.budgets: must be fail_closed or fail_open/);
});
