import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureIndex, fixtureText, makeTarget } from '../anthropic/test-support.ts';
import { geminiHttpError } from './errors.ts';

const target = makeTarget('gemini', 'gemini-2.5-flash', { upstreamModel: 'gemini-3.6-flahs' });
const key = target.deployment.apiKey!;

const EXPECTED: Record<string, { status: number; code: string; says: RegExp; retryAfter?: string }> = {
  'gemini/error-400-api-key-invalid.firebase.json': { status: 401, code: 'provider_authentication_failed', says: /GEMINI_API_KEY.*api_key/ },
  'gemini/error-400-api-key-invalid.json': { status: 401, code: 'provider_authentication_failed', says: /not your Switchyard key/ },
  'gemini/error-400-input-token-count-exceeded.vertex.json': { status: 400, code: 'context_length_exceeded', says: /1250074.*1048576/ },
  'gemini/error-404-model-not-found.firebase.json': { status: 404, code: 'upstream_model_not_found', says: /'gemini-3\.6-flahs'/ },
  'gemini/error-404-model-not-found.json': { status: 404, code: 'upstream_model_not_found', says: /upstream_id/ },
  'gemini/error-429-quota-exceeded.vertex.firebase.json': { status: 429, code: 'upstream_rate_limited', says: /Quota exceeded/ },
  'gemini/error-429-resource-exhausted.json': { status: 429, code: 'upstream_rate_limited', says: /exceeded your current quota/, retryAfter: '48' },
  'gemini/error-429-retry-info.vercel.json': { status: 429, code: 'upstream_rate_limited', says: /Retry after 35 seconds/, retryAfter: '35' },
};

describe('geminiHttpError on every recorded error body', () => {
  for (const entry of fixtureIndex('gemini', ['error'])) {
    it(`${entry.file} -> ${EXPECTED[entry.file]?.status} ${EXPECTED[entry.file]?.code}`, () => {
      const want = EXPECTED[entry.file];
      assert.ok(want, `no expectation for ${entry.file}`);
      const error = geminiHttpError(entry.http_status!, fixtureText(entry.file), {}, target);
      assert.equal(error.status, want.status);
      assert.equal(error.code, want.code);
      assert.equal(error.source, 'provider:gemini');
      assert.match(error.message, /^Gemini \(deployment gemini:gemini-2\.5-flash#0/);
      assert.match(error.message, want.says);
      assert.equal(error.headers?.['retry-after'], want.retryAfter);
      assert.ok(!error.message.includes(key));
      assert.ok(!error.message.includes('key1234'), 'debug details that echo the key are not quoted');
    });
  }

  it("an upstream Retry-After header wins over the body's retryDelay", () => {
    const error = geminiHttpError(429, fixtureText('gemini/error-429-retry-info.vercel.json'), { 'retry-after': '5' }, target);
    assert.deepEqual(error.headers, { 'retry-after': '5' });
  });

  it('redacts a key the upstream message echoes', () => {
    const body = JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: `bad key ${key} or AIzaSyOTHERKEY000000000` } });
    const error = geminiHttpError(400, body, {}, target);
    assert.ok(!error.message.includes(key));
    assert.ok(!error.message.includes('AIzaSyOTHERKEY000000000'));
  });

  it('503 UNAVAILABLE is overloaded; 500 INTERNAL is an upstream failure', () => {
    assert.equal(geminiHttpError(503, JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' } }), {}, target).code, 'upstream_overloaded');
    const internal = geminiHttpError(500, JSON.stringify({ error: { code: 500, status: 'INTERNAL', message: 'oops' } }), {}, target);
    assert.deepEqual([internal.status, internal.type], [502, 'upstream_error']);
  });
});
