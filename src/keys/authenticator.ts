// Authentication of data-plane requests: virtual keys from the store (through the
// cached KeyDirectory), plus static keys from config — the master key and any plain
// gateway keys. Static keys are compared as SHA-256 digests with timingSafeEqual
// (equal lengths by construction), so the comparison time says nothing about the key.
// Errors say which of missing / malformed / unknown / revoked / expired, showing at
// most the key's prefix.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../canonical/errors.ts';
import type { Authenticator, Principal } from '../services.ts';
import type { KeyDirectory, KeyPolicy } from './directory.ts';
import { isWellFormedKey, shownPrefix } from './secret.ts';

export interface KeyAuthenticatorOptions {
  directory: KeyDirectory;
  /** The admin key; it also works on the data plane. */
  masterKey?: string;
  /** Plain keys from config (no budgets or limits of their own). */
  gatewayKeys?: string[];
}

interface StaticKey { digest: Buffer; principal: Principal }

/** Tokens that were verified, bounded: a flood of wrong keys never enters it. */
const MAX_VERIFIED = 10_000;

export class KeyAuthenticator implements Authenticator {
  private readonly directory: KeyDirectory;
  private readonly staticKeys: StaticKey[];
  /**
   * A token already verified → the static principal it is, or the hash a virtual key is
   * looked up by: no SHA-256 per request. A virtual key's row still comes from the
   * directory (cached ≤ 1 s), so a revoke applies as soon as before.
   */
  private readonly verified = new Map<string, Principal | string>();

  constructor(options: KeyAuthenticatorOptions) {
    this.directory = options.directory;
    this.staticKeys = [];
    if (options.masterKey) this.staticKeys.push(staticKey(options.masterKey, 'master', 'master', 'master key'));
    (options.gatewayKeys ?? []).forEach((key, i) => {
      this.staticKeys.push(staticKey(key, 'config', `config:${i}`, `config key ${i + 1}`));
    });
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : header?.trim();
    if (!token) throw missingKey();
    const known = this.verified.get(token);
    if (typeof known === 'object') return known;
    if (known !== undefined) return this.virtualKey(token, known);
    const digest = createHash('sha256').update(token).digest();
    for (const key of this.staticKeys) {
      if (timingSafeEqual(digest, key.digest)) {
        this.remember(token, key.principal);
        return key.principal;
      }
    }
    if (!isWellFormedKey(token)) throw notAKey(token);
    return this.virtualKey(token, digest.toString('hex'));
  }

  private async virtualKey(token: string, hash: string): Promise<Principal> {
    const found = await this.directory.lookupHash(hash);
    if (!found || !found.row || !found.principal) {
      this.verified.delete(token);
      throw unknownKey(token);
    }
    this.remember(token, hash);
    return checkUsable(found, token);
  }

  private remember(token: string, value: Principal | string): void {
    if (this.verified.has(token)) return;
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, value);
  }
}

function checkUsable(policy: KeyPolicy, token: string): Principal {
  const row = policy.row!;
  const shown = `'${shownPrefix(token)}…' (key '${row.name}')`;
  if (policy.rotated) {
    throw authError('key_rotated', `API key ${shown} was replaced by rotation${row.rotatedAt ? ` at ${row.rotatedAt}` : ''}; the old secret no longer works. Use the new secret shown at rotation, or rotate again to get one.`);
  }
  if (row.status === 'revoked') {
    throw authError('key_revoked', `API key ${shown} was revoked${row.revokedAt ? ` at ${row.revokedAt}` : ''}. Use another key or ask an admin to create a new one (switchyard keys create).`);
  }
  if (policy.expiresAtMs <= Date.now()) {
    throw authError('key_expired', `API key ${shown} expired at ${row.expiresAt}. Ask an admin to extend it (PATCH /admin/keys/${row.id} with a later expires_at) or create a new key.`);
  }
  return policy.principal!;
}

function staticKey(secret: string, env: 'master' | 'config', keyId: string, name: string): StaticKey {
  return {
    digest: createHash('sha256').update(secret).digest(),
    principal: { keyId, name, prefix: shownPrefix(secret), env },
  };
}

/** Both kinds of key a gateway takes: a quickstart's `sy-dev-key-123` is as valid as a `sy_live_…`. */
const KEY_KINDS = "Use a key the gateway's operator configured (SWITCHYARD_MASTER_KEY, SWITCHYARD_API_KEYS or auth.keys in switchyard.yaml) or a virtual key (sy_live_… or sy_test_…, made with 'switchyard keys create').";

export function authError(code: string, message: string): GatewayError {
  return new GatewayError({ status: 401, type: 'authentication_error', code, message });
}

function missingKey(): GatewayError {
  return authError('missing_api_key', `Missing API key: send a key of this gateway as 'Authorization: Bearer <key>' (Anthropic clients: 'x-api-key'). ${KEY_KINDS}`);
}

function notAKey(token: string): GatewayError {
  if (/\s/.test(token) || token.startsWith('sy_')) {
    return authError('malformed_api_key', `Malformed API key '${shownPrefix(token)}…': virtual keys are 'sy_live_' or 'sy_test_' followed by 32 letters and digits, and configured keys (SWITCHYARD_MASTER_KEY, SWITCHYARD_API_KEYS, auth.keys) must match exactly. Check that the whole key was copied, without quotes or spaces.`);
  }
  const hint = /^sk-ant-/.test(token) ? ' It looks like an Anthropic key: provider keys belong in the gateway config, not in clients.'
    : /^sk-/.test(token) ? ' It looks like an OpenAI key: provider keys belong in the gateway config, not in clients.'
      : '';
  return authError('invalid_api_key', `Unknown API key '${shownPrefix(token)}…': it is not a key of this gateway.${hint} ${KEY_KINDS}`);
}

function unknownKey(token: string): GatewayError {
  return authError('invalid_api_key', `Unknown API key '${shownPrefix(token)}…': no key with this secret exists on this gateway. Check the key, or create one with 'switchyard keys create'.`);
}
