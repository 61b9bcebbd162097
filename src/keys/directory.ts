// A short-lived cache of keys and the budgets that apply to them, so the request path
// does not read the store per request: at most one read per key per TTL (default 1 s,
// which is also how long a revoke made by another process takes to bite). Concurrent
// misses for the same key share one read. Writes made through this process's admin
// API call invalidate(), so they apply at once here. While the store cannot be read, the
// last value read is used (the request is then refused at its reservation, with a 503
// that names the store, rather than failing here).
import { GatewayError } from '../canonical/errors.ts';
import type { Principal } from '../services.ts';
import type { BudgetRow, KeyRow, Store } from '../store/types.ts';

export interface KeyPolicy {
  /** The key's record; null for config and master keys. */
  row: KeyRow | null;
  /** Budgets that can apply to this key's requests: its own, its project's, global ones. */
  budgets: BudgetRow[];
  /** The principal handed to the pipeline, built once per load. */
  principal: Principal | null;
  /** Parsed expiry (epoch ms), or Infinity. */
  expiresAtMs: number;
  rotated: boolean;
}

interface Cached<T> { value: T; expires: number }

const MAX_ENTRIES = 50_000;

export class KeyDirectory {
  private readonly store: Store;
  private readonly ttlMs: number;
  private readonly byHash = new Map<string, Cached<KeyPolicy | null>>();
  private readonly byId = new Map<string, Cached<KeyPolicy>>();
  private readonly loading = new Map<string, Promise<KeyPolicy | null>>();
  private global: Cached<BudgetRow[]> | undefined;
  private globalLoading: Promise<BudgetRow[]> | undefined;

  constructor(store: Store, options: { ttlMs?: number } = {}) {
    this.store = store;
    this.ttlMs = options.ttlMs ?? 1000;
  }

  /** The key whose current or previous secret hashes to `hash`, or null when none does. */
  lookupHash(hash: string): KeyPolicy | null | Promise<KeyPolicy | null> {
    const cached = this.byHash.get(hash);
    if (cached && cached.expires > Date.now()) return cached.value;
    let pending = this.loading.get(hash);
    if (!pending) {
      pending = this.loadByHash(hash).catch((error) => staleOr(cached, error)).finally(() => this.loading.delete(hash));
      this.loading.set(hash, pending);
    }
    return pending;
  }

  /** The policy for an authenticated principal (cached by the authentication that made it). */
  policyFor(principal: Principal): KeyPolicy | Promise<KeyPolicy> {
    if (principal.env === 'config' || principal.env === 'master') return this.staticPolicy(principal);
    const cached = this.byId.get(principal.keyId);
    if (cached && cached.expires > Date.now()) return cached.value;
    const loadingKey = `id:${principal.keyId}`;
    let pending = this.loading.get(loadingKey) as Promise<KeyPolicy> | undefined;
    if (!pending) {
      pending = this.loadById(principal.keyId, principal).catch((error) => staleOr(cached, error)).finally(() => this.loading.delete(loadingKey));
      this.loading.set(loadingKey, pending);
    }
    return pending;
  }

  /** Cached policy without a store read, when there is one (for synchronous callers). */
  cachedPolicy(keyId: string): KeyPolicy | undefined {
    return this.byId.get(keyId)?.value;
  }

  invalidate(): void {
    this.byHash.clear();
    this.byId.clear();
    this.global = undefined;
  }

  private async loadByHash(hash: string): Promise<KeyPolicy | null> {
    const found = await this.store.keyByHash(hash);
    const policy = found ? await this.build(found.row, found.rotated) : null;
    this.remember(this.byHash, hash, policy);
    if (policy && !policy.rotated) this.remember(this.byId, policy.row!.id, policy);
    return policy;
  }

  private async loadById(keyId: string, principal: Principal): Promise<KeyPolicy> {
    const row = await this.store.getKey(keyId);
    if (!row) return { row: null, budgets: await this.globalBudgets(), principal, expiresAtMs: Infinity, rotated: false };
    const policy = await this.build(row, false);
    this.remember(this.byId, keyId, policy);
    return policy;
  }

  private async build(row: KeyRow, rotated: boolean): Promise<KeyPolicy> {
    const budgets = await this.store.budgetsFor(row.id, row.projectId);
    return {
      row,
      budgets,
      principal: toPrincipal(row),
      expiresAtMs: row.expiresAt ? Date.parse(row.expiresAt) : Infinity,
      rotated,
    };
  }

  /** A key from the environment or the config: the global budgets only (no promise while they are cached). */
  private staticPolicy(principal: Principal): KeyPolicy | Promise<KeyPolicy> {
    const budgets = this.globalBudgets();
    if (budgets instanceof Promise) return budgets.then((loaded) => ({ row: null, budgets: loaded, principal, expiresAtMs: Infinity, rotated: false }));
    return { row: null, budgets, principal, expiresAtMs: Infinity, rotated: false };
  }

  private globalBudgets(): BudgetRow[] | Promise<BudgetRow[]> {
    if (this.global && this.global.expires > Date.now()) return this.global.value;
    const stale = this.global;
    this.globalLoading ??= this.store.listBudgets('global').then((value) => {
      this.global = { value, expires: Date.now() + this.ttlMs };
      return value;
    }, (error) => staleOr(stale, error)).finally(() => { this.globalLoading = undefined; });
    return this.globalLoading;
  }

  private remember<T>(map: Map<string, Cached<T>>, key: string, value: T): void {
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { value, expires: Date.now() + this.ttlMs });
  }
}

/** The last value read when the store cannot be read now; without one, a 503 that says so. */
function staleOr<T>(stale: Cached<T> | undefined, error: unknown): T {
  if (stale) return stale.value;
  if (error instanceof GatewayError) throw error;
  throw new GatewayError({
    status: 503, type: 'server_error', code: 'store_unavailable',
    message: `Switchyard could not look up this API key: its store is unavailable. Retry shortly; if it persists, check the gateway's database (GET /readyz reports it).`,
  });
}

export function toPrincipal(row: KeyRow): Principal {
  const principal: Principal = { keyId: row.id, name: row.name, prefix: row.prefix, env: row.env };
  if (row.projectId) principal.projectId = row.projectId;
  if (row.allowedModels) principal.allowedModels = row.allowedModels;
  if (row.maxOutputTokens) {
    const caps: { default?: number; max?: number } = {};
    if (row.maxOutputTokens.default !== undefined) caps.default = row.maxOutputTokens.default;
    if (row.maxOutputTokens.max !== undefined) caps.max = row.maxOutputTokens.max;
    principal.maxOutputTokens = caps;
  }
  if (row.metadata) principal.metadata = row.metadata;
  if (row.role) principal.role = row.role;
  return principal;
}
