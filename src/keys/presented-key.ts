// The key a client presents, from whichever header its SDK uses.
import type { IncomingHttpHeaders } from 'node:http';
import { authError } from './authenticator.ts';

/** The key a client sent: `Authorization: Bearer <key>`, or Anthropic's `x-api-key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    if (!auth.startsWith('Bearer ') && !auth.startsWith('bearer ')) {
      throw authError('malformed_api_key', "The Authorization header is malformed: it must be 'Bearer <your Switchyard key>'.");
    }
    return auth.slice(7).trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}
