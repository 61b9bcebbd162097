// Provider secrets never leave the gateway. One masker, built from the configured
// providers at start, replaces every provider key and every configured header value
// in what an upstream says that is passed on (error messages, relayed error events)
// and in every log line, whatever the secret's shape; the shape-based redaction
// (`sk-…`, `AIza…`, `sy_live_…`) still catches keys the gateway was not told about.
import { GatewayError } from '../canonical/errors.ts';
import { redactSecrets } from './http.ts';

/** Shorter values (`true`, a region name) are not secrets and would mask ordinary words. */
const MIN_SECRET_LENGTH = 8;
const MASK = '***';

export interface SecretSource {
  apiKey?: string;
  headers?: Record<string, string>;
}

export class SecretMasker {
  readonly #secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const unique = new Set<string>();
    for (const secret of secrets) {
      if (secret === undefined) continue;
      const value = secret.trim();
      if (value.length >= MIN_SECRET_LENGTH) unique.add(value);
      // "Bearer <token>", "Basic <token>": the token alone is just as secret.
      const token = /^[A-Za-z]+\s+(\S+)$/.exec(value)?.[1];
      if (token && token.length >= MIN_SECRET_LENGTH) unique.add(token);
    }
    // Longest first, so a secret that contains another is masked whole.
    this.#secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  /** Every configured secret in `text` replaced, then anything shaped like a key. */
  mask(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.replaceAll(secret, MASK);
    return redactSecrets(out);
  }

  /** Whether `text` holds a configured secret (a cheap test before re-writing text that passes through). */
  leaks(text: string): boolean {
    for (const secret of this.#secrets) if (text.includes(secret)) return true;
    return false;
  }

  /** The error with its message, code, param and headers masked (the same object when nothing changes). */
  error(error: GatewayError): GatewayError {
    const message = this.mask(error.message);
    const code = this.mask(error.code);
    const param = error.param === null ? null : this.mask(error.param);
    let headers = error.headers;
    let headersChanged = false;
    if (headers) {
      const masked: Record<string, string> = {};
      for (const name in headers) {
        masked[name] = this.mask(headers[name]);
        if (masked[name] !== headers[name]) headersChanged = true;
      }
      if (headersChanged) headers = masked;
    }
    if (message === error.message && code === error.code && param === error.param && !headersChanged) return error;
    return new GatewayError({ status: error.status, type: error.type, code, message, param, headers, source: error.source });
  }
}

/** The masker for a gateway's providers: their api keys and every value of their `headers:`. */
export function secretMaskerFor(providers: Iterable<SecretSource>): SecretMasker {
  const secrets: string[] = [];
  for (const provider of providers) {
    if (provider.apiKey) secrets.push(provider.apiKey);
    for (const name in provider.headers ?? {}) secrets.push(provider.headers![name]);
  }
  return new SecretMasker(secrets);
}
