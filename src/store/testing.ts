// Test helpers for the store and counters: a fresh SQLite file, a fresh PostgreSQL
// schema and a fresh Redis key prefix per test run (parallel runs never collide), each
// removed again by its cleanup. PostgreSQL and Redis tests skip, with the reason, when
// the server is not there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { shippedCatalog } from '../catalog/catalog.ts';
import type { ModelInfo } from '../catalog/types.ts';
import { randomBase62 } from '../keys/secret.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';

export const POSTGRES_URL = process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function model(id: string): ModelInfo {
  const found = shippedCatalog().models.find((m) => m.id === id);
  if (!found) throw new Error(`no model ${id} in the shipped catalog`);
  return found;
}

export function catalogModels(): readonly ModelInfo[] {
  return shippedCatalog().models;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempSqlite(timezone = 'UTC'): { store: SqliteStore; path: string; cleanup: () => Promise<void> } {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'switchyard.db');
  const store = new SqliteStore({ path, timezone });
  return { store, path, cleanup: async () => { await store.close(); cleanup(); } };
}

/** A reason to skip when PostgreSQL is not reachable, else undefined. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL not reachable at ${POSTGRES_URL} (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function redisUnavailable(): Promise<string | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis not reachable at ${REDIS_URL} (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

export function uniqueName(kind: string): string {
  return `sy_${kind}_${process.pid}_${randomBase62(8).toLowerCase()}`;
}

/** A fresh schema; cleanup drops it. */
export async function tempPostgres(timezone = 'UTC'): Promise<{ store: PostgresStore; schema: string; cleanup: () => Promise<void> }> {
  const schema = uniqueName('test');
  const store = await PostgresStore.open({ url: POSTGRES_URL, schema, timezone });
  return { store, schema, cleanup: async () => { await store.close(); await dropSchema(schema); } };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Delete every Redis key under a prefix. */
export async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
