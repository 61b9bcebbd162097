// The admin API as a test drives it: create keys, read budgets, page through the
// request log, and wait for the ledger's batched writes to land.
import type { RequestRow, UsageRow } from '../../src/store/types.ts';
import type { BudgetView, KeyView } from '../../src/admin/service.ts';

export const MASTER_KEY = 'sy-master-e2e-key-0001';

export interface CreatedKey extends KeyView {
  /** The secret, shown once at creation (and at rotation). */
  key: string;
}

export interface AdminReply<T> {
  status: number;
  body: T;
}

export interface AdminApi {
  call<T = any>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<AdminReply<T>>;
  /** POST /admin/keys; throws unless 201. */
  createKey(body: Record<string, unknown>): Promise<CreatedKey>;
  key(id: string): Promise<KeyView>;
  /** Every request-log row, of one key or of all (all pages). */
  requests(keyId?: string): Promise<RequestRow[]>;
  /** Polls until the key has `count` attempt-0 rows and no open reservation; returns its rows. */
  settledRows(keyId: string, count: number, timeoutMs?: number): Promise<RequestRow[]>;
  usage(query: Record<string, string>): Promise<UsageRow[]>;
}

export function adminApi(origin: string, masterKey = MASTER_KEY): AdminApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<AdminReply<T>> => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const api: AdminApi = {
    call,
    async createKey(body) {
      const reply = await call<CreatedKey>('POST', '/admin/keys', body);
      if (reply.status !== 201) throw new Error(`POST /admin/keys answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
    async key(id) {
      const reply = await call<KeyView>('GET', `/admin/keys/${id}`);
      if (reply.status !== 200) throw new Error(`GET /admin/keys/${id} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
    async requests(keyId) {
      const rows: RequestRow[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '1000' });
        if (keyId) query.set('key_id', keyId);
        if (cursor) query.set('cursor', cursor);
        const reply = await call<{ data: RequestRow[]; next_cursor: string | null }>('GET', `/admin/requests?${query}`);
        if (reply.status !== 200) throw new Error(`GET /admin/requests answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        rows.push(...reply.body.data);
        cursor = reply.body.next_cursor;
      } while (cursor);
      return rows;
    },
    async settledRows(keyId, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = (await api.requests(keyId)).filter((r) => r.attempt === 0);
        const reserved = (await api.key(keyId)).budgets.reduce((sum: number, b: BudgetView) => sum + b.reserved_usd, 0);
        if (rows.length >= count && reserved === 0) return rows;
        if (Date.now() > deadline) throw new Error(`key ${keyId}: ${rows.length} of ${count} request rows, $${reserved} still reserved after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async usage(query) {
      const reply = await call<{ data: UsageRow[] }>('GET', `/admin/usage?${new URLSearchParams(query)}`);
      if (reply.status !== 200) throw new Error(`GET /admin/usage answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body.data;
    },
  };
  return api;
}

/** Sum of dollar amounts, rounded to the ledger's precision (1e-8 USD). */
export function sumUsd(values: number[]): number {
  return Math.round(values.reduce((a, b) => a + Math.round(b * 1e8), 0)) / 1e8;
}
