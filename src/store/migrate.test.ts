// Opening a store migrates it to this build's schema version, once, and refuses a
// database a newer build migrated: on SQLite (PRAGMA user_version) and PostgreSQL
// (schema_version, under an advisory lock so processes starting together migrate once).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { PostgresStore } from './postgres.ts';
import { NewerSchemaError, SCHEMA_VERSION } from './schema.ts';
import { SqliteStore } from './sqlite.ts';
import { POSTGRES_URL, dropSchema, postgresUnavailable, tempDir, uniqueName } from './testing.ts';
import type { KeyRow } from './types.ts';

const pgSkip = await postgresUnavailable();

const newer = (where: RegExp) => (error: unknown) => {
  assert.ok(error instanceof NewerSchemaError, String(error));
  assert.match(error.message, where);
  assert.match(error.message, new RegExp(`migrated by a newer Switchyard \\(schema ${SCHEMA_VERSION + 1}, this build knows ${SCHEMA_VERSION}\\): upgrade the gateway, or point it at another database`));
  return true;
};

function keyRow(id: string): KeyRow {
  const now = new Date().toISOString();
  return {
    id, name: id, env: 'live', prefix: 'sy_live_abcd', hash: `hash-${id}`, previousHash: null, status: 'active', projectId: null,
    owner: null, allowedModels: null, allowedRoutes: null, maxOutputTokens: null, rateLimits: null,
    expiresAt: null, metadata: null, createdAt: now, updatedAt: now, revokedAt: null, rotatedAt: null, role: null,
  };
}

describe('SQLite schema version', () => {
  test('a file from before versions (no user_version, first-schema tables) is upgraded, its rows kept, and stamped', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'old.db');
    const old = new DatabaseSync(path);
    // The keys table as the first schema had it: no role column.
    old.exec(`CREATE TABLE keys (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, env TEXT NOT NULL, prefix TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE, previous_hash TEXT, status TEXT NOT NULL, project_id TEXT, owner TEXT,
      allowed_models TEXT, allowed_routes TEXT, max_output_tokens TEXT, rate_limits TEXT,
      expires_at TEXT, metadata TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      revoked_at TEXT, rotated_at TEXT)`);
    old.exec(`INSERT INTO keys (id, name, env, prefix, hash, status, created_at, updated_at)
      VALUES ('key_old', 'from before', 'live', 'sy_live_old', 'hash-old', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`);
    assert.equal((old.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 0);
    old.close();
    try {
      const store = new SqliteStore({ path, writerThread: false, journal: false });
      assert.equal((await store.getKey('key_old'))?.name, 'from before');
      await store.updateKey('key_old', { role: 'viewer' });
      assert.equal((await store.getKey('key_old'))?.role, 'viewer', 'the added column is there');
      await store.close();
      const check = new DatabaseSync(path);
      assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
      check.close();
      // A second open of a file at this version is an ordinary open.
      const again = new SqliteStore({ path, writerThread: false, journal: false });
      assert.equal((await again.getKey('key_old'))?.role, 'viewer');
      await again.close();
    } finally {
      cleanup();
    }
  });

  test('a file a newer build migrated is refused, and left as it was', () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'newer.db');
    const file = new DatabaseSync(path);
    file.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    file.exec('CREATE TABLE keys (id TEXT PRIMARY KEY, shape_of_the_future TEXT)');
    file.close();
    try {
      assert.throws(() => new SqliteStore({ path, writerThread: false, journal: false }), newer(new RegExp(`^SQLite file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: this database`)));
      const check = new DatabaseSync(path);
      assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION + 1);
      const tables = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name);
      assert.deepEqual(tables, ['keys'], 'no table was created in it');
      check.close();
    } finally {
      cleanup();
    }
  });
});

describe('PostgreSQL schema version and migration lock', { skip: pgSkip }, () => {
  async function admin(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    return client;
  }

  test('five stores opening one fresh schema at the same moment all succeed, and it is migrated once', async () => {
    const schema = uniqueName('migrate');
    const client = await admin();
    try {
      const opened = await Promise.allSettled(Array.from({ length: 5 }, () => PostgresStore.open({ url: POSTGRES_URL, schema, poolSize: 2 })));
      const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      try {
        assert.deepEqual(opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)), []);
        const versions = await client.query(`SELECT version FROM ${schema}.schema_version`);
        assert.deepEqual(versions.rows, [{ version: SCHEMA_VERSION }], 'one version row');
        const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, [schema])).rows.map((r) => r.tablename);
        for (const table of ['budgets', 'keys', 'requests', 'reservations', 'schema_version', 'spend_daily']) assert.ok(tables.includes(table), `${table} in ${tables}`);
        // They share one set of tables: what one writes, another reads.
        await stores[0].insertKey(keyRow('key_shared'));
        assert.equal((await stores[4].getKey('key_shared'))?.id, 'key_shared');
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });

  test('a schema from before versions (tables, no schema_version) is stamped with this version, its rows kept', async () => {
    const schema = uniqueName('migrate');
    const client = await admin();
    try {
      const first = await PostgresStore.open({ url: POSTGRES_URL, schema });
      await first.insertKey(keyRow('key_before'));
      await first.close();
      await client.query(`DROP TABLE ${schema}.schema_version`);
      const store = await PostgresStore.open({ url: POSTGRES_URL, schema });
      try {
        assert.equal((await store.getKey('key_before'))?.id, 'key_before');
        assert.deepEqual((await client.query(`SELECT version FROM ${schema}.schema_version`)).rows, [{ version: SCHEMA_VERSION }]);
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });

  test('a schema a newer build migrated is refused, naming it, and left as it was', async () => {
    const schema = uniqueName('migrate');
    const client = await admin();
    try {
      await (await PostgresStore.open({ url: POSTGRES_URL, schema })).close();
      await client.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [SCHEMA_VERSION + 1]);
      await client.query(`DROP TABLE ${schema}.alerts`);
      await assert.rejects(PostgresStore.open({ url: POSTGRES_URL, schema }), newer(new RegExp(`^PostgreSQL schema ${schema}: this database`)));
      const versions = (await client.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`)).rows.map((r) => r.version);
      assert.deepEqual(versions, [SCHEMA_VERSION, SCHEMA_VERSION + 1]);
      assert.equal((await client.query(`SELECT to_regclass('${schema}.alerts') AS t`)).rows[0].t, null, 'nothing was created in it');
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });
});
