// A refused key's message must be true for every kind of key a gateway takes: the
// quickstart's configured `sy-dev-key-123` as much as a virtual `sy_live_…` key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyAuthenticator } from './authenticator.ts';
import type { KeyDirectory } from './directory.ts';
import type { GatewayError } from '../canonical/errors.ts';

const noVirtualKeys = { lookupHash: async () => undefined } as unknown as KeyDirectory;

async function refusal(auth: KeyAuthenticator, header: string | undefined): Promise<GatewayError> {
  try {
    await auth.authenticate(header);
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a refusal');
}

test('a wrong, missing or mangled key is told about configured keys as well as virtual ones', async () => {
  const auth = new KeyAuthenticator({ directory: noVirtualKeys, masterKey: 'sy-dev-key-123', gatewayKeys: ['team-key-4567'] });
  assert.equal((await auth.authenticate('Bearer sy-dev-key-123')).keyId, 'master');
  for (const [header, code] of [['Bearer sy-dev-key-124', 'invalid_api_key'], [undefined, 'missing_api_key'], ['Bearer sy_dev key 123', 'malformed_api_key']] as const) {
    const error = await refusal(auth, header);
    assert.deepEqual([error.status, error.code], [401, code]);
    for (const name of ['SWITCHYARD_MASTER_KEY', 'SWITCHYARD_API_KEYS', 'auth.keys', 'sy_live_']) assert.ok(error.message.includes(name), `${code}: ${error.message}`);
    for (const secret of ['sy-dev-key-124', 'sy-dev-key-123', 'team-key-4567', 'key 123']) assert.ok(!error.message.includes(secret), `${code} shows a secret: ${error.message}`);
  }
});

test('a provider key sent to the gateway is named as one', async () => {
  const auth = new KeyAuthenticator({ directory: noVirtualKeys, masterKey: 'sy-dev-key-123' });
  const error = await refusal(auth, 'Bearer sk-ant-api03-abcdefghijklmnop');
  assert.match(error.message, /looks like an Anthropic key: provider keys belong in the gateway config/);
  assert.ok(!error.message.includes('abcdefghijklmnop'));
});
