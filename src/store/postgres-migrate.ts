// Create or upgrade the PostgreSQL tables, once, however many gateway processes start at
// the same moment: the whole migration is one transaction that first takes a
// transaction-level advisory lock, so the others wait for it to commit and then find
// nothing left to do. (Without the lock, concurrent CREATE TABLE IF NOT EXISTS on a fresh
// schema fail with duplicate-key errors on PostgreSQL's catalog.) A transaction lock ends
// with the transaction whatever happens, so no connection goes back to the pool holding it.
import type pg from 'pg';
import { NewerSchemaError, SCHEMA_VERSION, schemaStatements } from './schema.ts';

/** The advisory lock key every Switchyard migration takes (one per database, any schema). */
export const MIGRATION_LOCK_KEY = 8015001;

/**
 * Migrate the schema on `client` (whose search_path names it) to SCHEMA_VERSION, creating
 * it if missing. Refuses, changing nothing, a schema a newer build migrated.
 */
export async function migratePostgres(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    // One row per version migrated to, with when: the current version is the highest.
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, migrated_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const found = (await client.query<{ version: number | null; at: string }>('SELECT max(version) AS version, current_schema() AS at FROM schema_version')).rows[0];
    if (found.version !== null && found.version > SCHEMA_VERSION) throw new NewerSchemaError(`PostgreSQL schema ${found.at}`, found.version);
    // Every statement is idempotent: a schema already at this version gets what it lacks, if anything.
    for (const statement of schemaStatements('postgres')) await client.query(statement);
    await client.query('INSERT INTO schema_version (version) VALUES ($1) ON CONFLICT (version) DO NOTHING', [SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

