// Authentication against the gateway keys and master key named in config/env.
// (Virtual keys from the store are a separate Authenticator.)
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../canonical/errors.ts';
import type { Authenticator, Principal } from '../services.ts';

export function unauthorized(code: string, message: string): GatewayError {
  return new GatewayError({ status: 401, type: 'authentication_error', code, message });
}

/** The key a client sent: `Authorization: Bearer <key>`, or Anthropic's `x-api-key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    if (!auth.startsWith('Bearer ') && !auth.startsWith('bearer ')) {
      throw unauthorized('malformed_api_key', "The Authorization header is malformed: it must be 'Bearer <your Switchyard key>'.");
    }
    return auth.slice(7).trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/** The first characters of a key: enough to recognise it, never enough to use it. */
export function keyPrefix(key: string): string {
  const cut = key.startsWith('sy_') ? 12 : 6;
  return key.length > cut + 4 ? `${key.slice(0, cut)}…` : '(too short to show)';
}

const digest = (key: string) => createHash('sha256').update(key).digest();

export class StaticKeyAuthenticator implements Authenticator {
  private readonly keys: Array<{ digest: Buffer; principal: Principal }> = [];
  /** No key configured at all: the gateway is open (only allowed on loopback). */
  readonly open: boolean;

  constructor(gatewayKeys: string[], masterKey: string | undefined) {
    gatewayKeys.forEach((key, i) => this.keys.push({ digest: digest(key), principal: { keyId: `config:${i}`, name: `config key #${i + 1}`, prefix: keyPrefix(key), env: 'config' } }));
    if (masterKey) this.keys.push({ digest: digest(masterKey), principal: { keyId: 'master', name: 'master key', prefix: keyPrefix(masterKey), env: 'master' } });
    this.open = this.keys.length === 0;
  }

  async authenticate(token: string | undefined): Promise<Principal> {
    if (this.open) return { keyId: 'open', name: 'open gateway (no keys configured)', prefix: '', env: 'config' };
    if (token === undefined || token === '') {
      throw unauthorized('missing_api_key', 'No API key was sent. Send your Switchyard key as Authorization: Bearer <key> (the OpenAI SDKs do this when you pass apiKey).');
    }
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of this.keys) if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
    if (found) return found;
    throw unauthorized('invalid_api_key', `The key ${keyPrefix(token)} is not a key of this gateway. Check for a typo, or ask the gateway's admin for a key.`);
  }
}
