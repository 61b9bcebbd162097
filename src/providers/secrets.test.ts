import test from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../canonical/errors.ts';
import { secretMaskerFor } from './secrets.ts';

const masker = secretMaskerFor([
  { apiKey: 'az9f8e7d6c5b4a39281706f5e4d3c2b1a0', headers: { 'x-org': 'acme', authorization: 'Bearer tok-5e4d3c2b1a0z9y8x' } },
  { apiKey: 'az9f8e7d6c5b4a39' },
]);

test('every configured secret is masked whatever its shape, the longer one whole', () => {
  assert.equal(masker.mask('key az9f8e7d6c5b4a39281706f5e4d3c2b1a0 rejected'), 'key *** rejected');
  assert.equal(masker.mask('short az9f8e7d6c5b4a39!'), 'short ***!');
  assert.equal(masker.mask('auth was "Bearer tok-5e4d3c2b1a0z9y8x"'), 'auth was "***"');
  assert.equal(masker.mask('token tok-5e4d3c2b1a0z9y8x alone'), 'token *** alone');
  assert.equal(masker.mask('org acme is fine'), 'org acme is fine', 'values shorter than 8 characters are not secrets');
  assert.equal(masker.mask('an unknown sk-proj-abcdefghijkl key'), 'an unknown sk-proj-*** key', 'shape-based redaction still applies');
});

test('an error is masked in its message, code, param and headers; a clean one is returned as is', () => {
  const leaky = new GatewayError({ status: 401, type: 'authentication_error', code: 'bad_az9f8e7d6c5b4a39', message: 'no az9f8e7d6c5b4a39281706f5e4d3c2b1a0', param: 'az9f8e7d6c5b4a39', headers: { 'retry-after': 'az9f8e7d6c5b4a39' }, source: 'provider:azure' });
  const masked = masker.error(leaky);
  assert.deepEqual([masked.message, masked.code, masked.param, masked.headers, masked.status, masked.source], ['no ***', 'bad_***', '***', { 'retry-after': '***' }, 401, 'provider:azure']);
  const clean = new GatewayError({ status: 502, type: 'upstream_error', code: 'x', message: 'fine' });
  assert.equal(masker.error(clean), clean);
  assert.equal(masker.leaks('…az9f8e7d6c5b4a39…'), true);
  assert.equal(masker.leaks('nothing here'), false);
});
