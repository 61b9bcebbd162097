// Where the CLI's admin commands go: a running gateway's admin API (--url, key from
// SWITCHYARD_ADMIN_KEY — a virtual key with a role — or SWITCHYARD_MASTER_KEY), or the
// store directly (--postgres, or the SQLite file of --db / SWITCHYARD_DB / switchyard.yaml,
// default ./switchyard.db).
import { request } from 'undici';
import { GatewayError } from '../canonical/errors.ts';
import { AdminService } from '../admin/service.ts';
import { decisionInput, reviewListQuery, type DecisionAction } from '../admin/validate.ts';
import { createReviewDesk } from '../review/desk.ts';
import type { Reviewer } from '../review/types.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/types.ts';

export interface AdminBackend {
  /** Where the commands went, for messages ("http://127.0.0.1:8787", "./switchyard.db"). */
  readonly where: string;
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

export interface BackendOptions {
  url?: string;
  db?: string;
  postgres?: string;
  schema?: string;
  timezone?: string;
  env: Record<string, string | undefined>;
}

/** An error the CLI prints as is (no stack): the admin API's or the store's message. */
export class CliError extends Error {}

export async function openBackend(options: BackendOptions): Promise<AdminBackend> {
  const env = options.env;
  const url = options.url ?? env.SWITCHYARD_URL;
  if (url) return httpBackend(url, env.SWITCHYARD_ADMIN_KEY || env.SWITCHYARD_MASTER_KEY);
  const defaults = options.db || options.postgres ? {} : await configDefaults(env);
  const postgres = options.postgres ?? env.SWITCHYARD_POSTGRES_URL ?? defaults.postgresUrl;
  const timezone = options.timezone ?? env.SWITCHYARD_TIMEZONE ?? defaults.timezone ?? 'UTC';
  const store: Store = postgres && !options.db
    ? await openStore({ store: 'postgres', postgresUrl: postgres, postgresSchema: options.schema, timezone })
    : await openStore({ store: 'sqlite', sqlitePath: options.db ?? env.SWITCHYARD_DB ?? defaults.dbPath ?? './switchyard.db', timezone });
  return directBackend(store, timezone, postgres && !options.db ? 'PostgreSQL' : options.db ?? env.SWITCHYARD_DB ?? defaults.dbPath ?? './switchyard.db');
}

/** The store and time zone switchyard.yaml names, when there is a readable one. */
async function configDefaults(env: Record<string, string | undefined>): Promise<{ dbPath?: string; postgresUrl?: string; timezone?: string }> {
  try {
    const { loadConfig } = await import('../config/load.ts');
    const config = loadConfig({ env: env as NodeJS.ProcessEnv });
    return { dbPath: config.dbPath, postgresUrl: config.postgresUrl, timezone: config.timezone };
  } catch {
    return {};
  }
}

function httpBackend(base: string, adminKey: string | undefined): AdminBackend {
  if (!adminKey) throw new CliError('--url talks to the admin API, which needs a key: set SWITCHYARD_MASTER_KEY (or SWITCHYARD_ADMIN_KEY to a virtual key with a role) in the environment.');
  const root = base.replace(/\/+$/, '').replace(/\/v1$/, '');
  return {
    where: root,
    async call(method, path, body) {
      let response;
      try {
        response = await request(`${root}${path}`, {
          method,
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
      } catch (error) {
        throw new CliError(`Could not reach the gateway at ${root} (${(error as Error).message}). Is it running? Check --url / SWITCHYARD_URL.`);
      }
      const text = await response.body.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError(`The gateway at ${root} answered ${response.statusCode} with a body that is not JSON. Is --url the gateway's address?`);
      }
      if (response.statusCode >= 400) throw new CliError(json?.error?.message ?? `The gateway answered ${response.statusCode}.`);
      return json;
    },
    async close() {},
  };
}

/** Who decides a review made through the store directly: whoever may open the store is its admin. */
const CLI_REVIEWER: Reviewer = { keyId: 'cli', name: 'direct store', role: 'admin' };
const DECISIONS: readonly string[] = ['approve', 'edit', 'reject'];

function directBackend(store: Store, timezone: string, where: string): AdminBackend {
  const service = new AdminService({ store, timezone });
  // No onDecided: a gateway holding the request sees the decision by polling the store.
  const desk = createReviewDesk({ store });
  const list = async (data: Promise<unknown[]>) => ({ object: 'list', data: await data });
  return {
    where,
    async call(method, path, body) {
      const url = new URL(path, 'http://cli');
      const parts = url.pathname.split('/').filter(Boolean); // admin, keys, id?, action?
      const query = Object.fromEntries(url.searchParams);
      try {
        if (parts[1] === 'keys') {
          if (method === 'POST' && parts.length === 2) { const r = await service.createKey(body); return { ...r.record, key: r.key }; }
          if (method === 'GET' && parts.length === 2) return list(service.listKeys());
          if (method === 'GET') return service.getKey(parts[2]);
          if (method === 'PATCH') return service.updateKey(parts[2], body);
          if (parts[3] === 'revoke') return service.revokeKey(parts[2]);
          if (parts[3] === 'rotate') { const r = await service.rotateKey(parts[2]); return { ...r.record, key: r.key }; }
        }
        if (parts[1] === 'usage') return { object: 'list', ...(await service.usage(query)) };
        if (parts[1] === 'requests') return { object: 'list', ...(await service.requests(query)) };
        if (parts[1] === 'reviews') {
          if (method === 'GET' && parts.length === 2) return { object: 'list', ...(await desk.list(reviewListQuery(query))) };
          if (method === 'GET' && parts.length === 3) return desk.get(parts[2]);
          if (method === 'POST' && DECISIONS.includes(parts[3])) return desk.decide(parts[2], decisionInput(parts[3] as DecisionAction, body ?? {}), CLI_REVIEWER);
        }
      } catch (error) {
        if (error instanceof GatewayError) throw new CliError(error.message);
        throw error;
      }
      throw new Error(`no direct route for ${method} ${path}`);
    },
    close: () => store.close(),
  };
}
