import { test } from 'node:test';
import assert from 'node:assert/strict';
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
