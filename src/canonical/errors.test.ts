import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from './errors.ts';
import type { ErrorType } from './errors.ts';

const error = (status: number, type: ErrorType = 'invalid_request_error', headers?: Record<string, string>) =>
  new GatewayError({ status, type, code: 'c', message: 'm', headers });

test('errors the caller caused say x-should-retry: false', () => {
  for (const status of [400, 401, 403, 404, 405, 409, 413, 415, 417, 422, 431]) {
    assert.equal(error(status).responseHeaders()['x-should-retry'], 'false', String(status));
  }
});

test('temporary errors say x-should-retry: true, and a 503 when to retry', () => {
  for (const status of [408, 429, 500, 502, 503, 504]) assert.equal(error(status, 'server_error').responseHeaders()['x-should-retry'], 'true', String(status));
  assert.equal(error(503, 'server_error').responseHeaders()['retry-after'], '1');
  assert.equal(error(429, 'rate_limit_error', { 'retry-after': '7' }).responseHeaders()['retry-after'], '7');
});

test('an explicit x-should-retry from whoever built the error wins (an exhausted budget, an unconfigured provider)', () => {
  const exhausted = error(429, 'insufficient_quota', { 'x-should-retry': 'false' }).responseHeaders();
  assert.equal(exhausted['x-should-retry'], 'false');
  const unconfigured = error(503, 'server_error', { 'x-should-retry': 'false' }).responseHeaders();
  assert.equal(unconfigured['x-should-retry'], 'false');
  assert.equal(unconfigured['retry-after'], undefined, 'no Retry-After on an error not to retry');
});

test('responseHeaders leaves the error\'s own headers untouched', () => {
  const own = { 'retry-after': '3' };
  error(429, 'rate_limit_error', own).responseHeaders();
  assert.deepEqual(own, { 'retry-after': '3' });
});
