import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccessServices } from '../admin/access.ts';
import { MASTER_KEY, sqliteServices } from '../budget/testing.ts';
import type { GatewayError } from '../canonical/errors.ts';

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a refusal');
}

test('each kind of bad key gets a 401 that says which, showing only a prefix', async () => {
  const { services, done } = await sqliteServices();
  const auth = services.authenticator;
  try {
    const missing = await refusal(auth.authenticate(undefined));
    assert.deepEqual([missing.status, missing.code], [401, 'missing_api_key']);
    assert.equal((await refusal(auth.authenticate('Bearer '))).code, 'missing_api_key');

    const malformed = await refusal(auth.authenticate('sy_live_tooShort123'));
    assert.equal(malformed.code, 'malformed_api_key');
    assert.match(malformed.message, /Malformed API key 'sy_liv…'/);
    assert.ok(!malformed.message.includes('tooShort'));

    const stranger = `sy_live_${'A'.repeat(32)}`;
    const unknown = await refusal(auth.authenticate(stranger));
    assert.equal(unknown.code, 'invalid_api_key');
    assert.match(unknown.message, /Unknown API key 'sy_live_AAAA…'/);
    assert.ok(!unknown.message.includes(stranger));

    const provider = await refusal(auth.authenticate('sk-proj-0123456789abcdefghijklmnop'));
    assert.match(provider.message, /looks like an OpenAI key/);

    const created = await services.admin.createKey({ name: 'ci' });
    const principal = await auth.authenticate(`Bearer ${created.key}`);
    assert.equal(principal.keyId, created.record.id);
    assert.equal(principal.prefix, created.key.slice(0, 12));

    const rotated = await services.admin.rotateKey(created.record.id);
    const old = await refusal(auth.authenticate(created.key));
    assert.equal(old.code, 'key_rotated');
    assert.match(old.message, /key 'ci'\) was replaced by rotation/);
    assert.equal((await auth.authenticate(rotated.key)).keyId, created.record.id);

    await services.admin.revokeKey(created.record.id);
    const revoked = await refusal(auth.authenticate(rotated.key));
    assert.equal(revoked.code, 'key_revoked');
    assert.match(revoked.message, /was revoked at \d{4}-/);
    assert.ok(!revoked.message.includes(rotated.key));

    const expiring = await services.admin.createKey({ name: 'temp', expires_at: new Date(Date.now() - 1000).toISOString() });
    const expired = await refusal(auth.authenticate(expiring.key));
    assert.equal(expired.code, 'key_expired');
    assert.match(expired.message, /expired at .*PATCH \/admin\/keys\/key_/);
  } finally {
    await done();
  }
});

test('master and config keys work, compared in constant time', async () => {
  const { services, done } = await sqliteServices({ gatewayKeys: ['plain-config-key-1', 'x'] });
  try {
    assert.equal((await services.authenticator.authenticate(MASTER_KEY)).env, 'master');
    const config = await services.authenticator.authenticate('plain-config-key-1');
    assert.deepEqual([config.env, config.keyId], ['config', 'config:0']);
    assert.equal((await services.authenticator.authenticate('x')).keyId, 'config:1');
    assert.equal((await refusal(services.authenticator.authenticate('plain-config-key-2'))).status, 401);
  } finally {
    await done();
  }
});

test('keys are cached: one store read per key per TTL, not one per request', async () => {
  const { services, done } = await sqliteServices();
  try {
    const created = await services.admin.createKey({ name: 'hot' });
    let reads = 0;
    const original = services.store.keyByHash.bind(services.store);
    services.store.keyByHash = (hash) => { reads++; return original(hash); };
    await Promise.all(Array.from({ length: 1000 }, () => services.authenticator.authenticate(created.key)));
    assert.equal(reads, 1);
  } finally {
    await done();
  }
});

test('a revoke made by another process applies within about a second', async () => {
  const a = await sqliteServices();
  const b = await createAccessServices({ store: 'sqlite', sqlitePath: a.dbPath, masterKey: MASTER_KEY, log: () => {} });
  try {
    const created = await a.services.admin.createKey({ name: 'shared' });
    await a.services.authenticator.authenticate(created.key);
    const revokedAt = Date.now();
    await b.admin.revokeKey(created.record.id);
    for (;;) {
      const outcome = await refusal(a.services.authenticator.authenticate(created.key)).catch(() => undefined);
      if (outcome?.code === 'key_revoked') break;
      assert.ok(Date.now() - revokedAt < 1500, 'the revoke applied within 1.5 s');
      await sleep(50);
    }
  } finally {
    await b.close();
    await a.done();
  }
});
