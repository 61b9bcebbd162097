// Virtual key secrets: `sy_live_` or `sy_test_` + 32 base62 characters (~190 bits from
// crypto.randomBytes). Stored only as SHA-256: for secrets this random a fast hash is
// safe (no dictionary to try), and lookups by hash need no constant-time compare —
// the lookup itself reveals nothing an attacker can steer toward a match.
import { createHash, randomBytes } from 'node:crypto';
import type { KeyEnv } from '../store/types.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_LENGTH = 32;
/** Characters of a key shown in lists and errors: "sy_live_" and 4 more. */
export const SHOWN_PREFIX_LENGTH = 12;
const WELL_FORMED = /^sy_(live|test)_[A-Za-z0-9]{32}$/;

/** Uniform base62 characters: bytes >= 248 are skipped so no character is favoured. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateSecret(env: KeyEnv): string {
  return `sy_${env}_${randomBase62(SECRET_LENGTH)}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function isWellFormedKey(token: string): boolean {
  return WELL_FORMED.test(token);
}

/** The part of a key that may be shown: at most 12 characters and never more than a third of it. */
export function shownPrefix(token: string): string {
  return token.slice(0, Math.min(SHOWN_PREFIX_LENGTH, Math.floor(token.length / 3)));
}

/** Record ids: `key_…`, `proj_…`, `bud_…`, `res_…`. */
export function newId(kind: 'key' | 'proj' | 'bud' | 'res' | 'inst' | 'rev'): string {
  return `${kind}_${randomBase62(16)}`;
}
