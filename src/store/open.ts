// Open the configured store: SQLite by default, PostgreSQL for several processes.
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';
import type { WriteQueueOptions } from './write-queue.ts';

export interface StoreConfig extends WriteQueueOptions {
  store: 'sqlite' | 'postgres';
  /** SQLite file; default SWITCHYARD_DB or ./switchyard.db. */
  sqlitePath?: string;
  postgresUrl?: string;
  /** PostgreSQL schema for the tables; default "public". */
  postgresSchema?: string;
  timezone?: string;
}

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.store === 'postgres') {
    const url = config.postgresUrl ?? process.env.SWITCHYARD_POSTGRES_URL ?? process.env.DATABASE_URL;
    if (!url) throw new Error('store is postgres but no URL is set: give postgresUrl (or SWITCHYARD_POSTGRES_URL / DATABASE_URL).');
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open({ ...config, url, schema: config.postgresSchema });
  }
  return new SqliteStore({ ...config, path: config.sqlitePath });
}
