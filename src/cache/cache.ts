// The exact-match response cache (config `cache:`), opt-in per key or route. An answer
// is cached under a hash of the normalised request — the model asked for, the
// messages, tools and parameters; never the key — and within the key's own scope,
// unless its route is listed in `shared_routes`, where every key gets the same answer
// on purpose. A hit is served in the client's format (streams replayed), costs 0, and is
// logged as a hit with the cost it saved; `Cache-Control: no-cache` skips the lookup
// (and stores the fresh answer), `no-store` skips the cache altogether.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CanonicalRequest } from '../canonical/types.ts';
import type { ConfigFile } from '../config/schema.ts';
import type { Principal } from '../services.ts';
import { durationMs } from '../review/rules.ts';
import type { AnswerCache } from './store.ts';

export interface CacheSettings {
  ttlMs: number;
  maxBytes: number;
  maxEntryBytes: number;
  keys: ReadonlySet<string>;
  routes: ReadonlySet<string>;
  shared: ReadonlySet<string>;
}

/** What the cache wrapper needs of one request (ModelCall.cache). */
export interface CacheContext {
  store: AnswerCache;
  key: string;
  ttlMs: number;
  maxEntryBytes: number;
  /** no-cache: do not read; no-store: neither read nor write (then there is no context). */
  lookup: boolean;
  shared: boolean;
}

export function cacheSettings(file: ConfigFile): CacheSettings | undefined {
  const cache = file.cache;
  if (!cache || (!cache.keys && !cache.routes && !cache.shared_routes)) return undefined;
  return {
    ttlMs: cache.ttl ? durationMs(cache.ttl) : 600_000,
    maxBytes: Math.round((cache.max_mb ?? 64) * 1024 * 1024),
    maxEntryBytes: Math.round((cache.max_entry_kb ?? 512) * 1024),
    keys: new Set(cache.keys ?? []),
    routes: new Set([...(cache.routes ?? []), ...(cache.shared_routes ?? [])]),
    shared: new Set(cache.shared_routes ?? []),
  };
}

/**
 * The cache context of a request, or undefined when its key and route did not opt in
 * (or the client said no-store). `route` is the auto route's name, else the model asked for.
 */
export function cacheContext(settings: CacheSettings, store: AnswerCache, principal: Principal, route: string, request: CanonicalRequest, headers: IncomingHttpHeaders): CacheContext | undefined {
  if (!settings.keys.has(principal.keyId) && !settings.keys.has(principal.name) && !settings.routes.has(route)) return undefined;
  const control = String(headers['cache-control'] ?? '').toLowerCase();
  if (/(^|[,\s])no-store\b/.test(control)) return undefined;
  const shared = settings.shared.has(route);
  return {
    store,
    key: requestHash(shared ? `route:${route}` : `key:${principal.keyId}`, request),
    ttlMs: settings.ttlMs,
    maxEntryBytes: settings.maxEntryBytes,
    lookup: !/(^|[,\s])no-cache\b/.test(control),
    shared,
  };
}

/** The normalised request: everything that shapes the answer, nothing about how it is delivered or who asked. */
export function requestHash(scope: string, request: CanonicalRequest): string {
  const { stream: _stream, metadata: _metadata, user: _user, ...shaping } = request as CanonicalRequest & { user?: unknown };
  return createHash('sha256').update(scope).update('\n').update(JSON.stringify(shaping)).digest('hex');
}
