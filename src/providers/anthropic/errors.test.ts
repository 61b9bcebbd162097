import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicHttpError } from './errors.ts';
import { fixtureIndex, fixtureText, makeTarget } from './test-support.ts';

const target = makeTarget('anthropic', 'claude-sonnet-4-5', { upstreamModel: 'claude-sonet-4-5' });
const key = target.deployment.apiKey!;

const EXPECTED: Record<string, { status: number; code: string; says: RegExp }> = {
  'anthropic/error-400-invalid-request.json': { status: 400, code: 'invalid_request', says: /effort level 'xhigh'/ },
  'anthropic/error-400-prompt-too-long.json': { status: 400, code: 'context_length_exceeded', says: /3333404 tokens > 200000/ },
  'anthropic/error-401-authentication.json': { status: 401, code: 'provider_authentication_failed', says: /ANTHROPIC_API_KEY.*api_key/ },
  'anthropic/error-404-not-found-model.json': { status: 404, code: 'upstream_model_not_found', says: /'claude-sonet-4-5'/ },
  'anthropic/error-529-overloaded.json': { status: 503, code: 'upstream_overloaded', says: /overloaded/i },
};

describe('anthropicHttpError on every recorded error body', () => {
  for (const entry of fixtureIndex('anthropic', ['error'])) {
    it(`${entry.file} -> ${EXPECTED[entry.file]?.status} ${EXPECTED[entry.file]?.code}`, () => {
      const want = EXPECTED[entry.file];
      assert.ok(want, `no expectation for ${entry.file}`);
      const error = anthropicHttpError(entry.http_status!, fixtureText(entry.file), {}, target);
      assert.equal(error.status, want.status);
      assert.equal(error.code, want.code);
      assert.equal(error.source, 'provider:anthropic');
      assert.match(error.message, /^Anthropic \(deployment anthropic:claude-sonnet-4-5#0/);
      assert.match(error.message, want.says);
      assert.ok(!error.message.includes(key));
    });
  }

  it('429 keeps retry-after so the caller and the router can wait', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } });
    const error = anthropicHttpError(429, body, { 'retry-after': '17' }, target);
    assert.equal(error.status, 429);
    assert.equal(error.type, 'rate_limit_error');
    assert.deepEqual(error.headers, { 'retry-after': '17' });
    assert.match(error.message, /17 seconds/);
  });

  it('never repeats a key the upstream echoed, whatever its shape', () => {
    const custom = makeTarget('anthropic', 'claude-sonnet-4-5', { apiKey: 'proxy-key-9f8e7d6c' });
    const body = JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key proxy-key-9f8e7d6c (also sk-ant-api03-abcdefghijklmnop)' } });
    const error = anthropicHttpError(401, body, {}, custom);
    assert.ok(!error.message.includes('proxy-key-9f8e7d6c'));
    assert.ok(!error.message.includes('abcdefghijklmnop'));
  });

  it('a 500 with a non-JSON body is an upstream failure, not a gateway bug', () => {
    const error = anthropicHttpError(500, '<html>bad gateway</html>', {}, target);
    assert.equal(error.status, 502);
    assert.equal(error.type, 'upstream_error');
    assert.match(error.message, /Anthropic/);
  });
});
