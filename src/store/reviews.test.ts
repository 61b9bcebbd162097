// The review store's contract (src/review/types.ts ReviewStore), run against SQLite and
// PostgreSQL; and the keys table gaining its `role` column on an old database.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { ReviewDecisionPatch, ReviewRow } from '../review/types.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import { dropSchema, POSTGRES_URL, postgresUnavailable, tempDir, uniqueName } from './testing.ts';
import type { Store } from './types.ts';

const pgSkip = await postgresUnavailable();
if (pgSkip) process.stdout.write(`# PostgreSQL review store tests skipped: ${pgSkip}\n`);

const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function review(id: string, over: Partial<ReviewRow> = {}): ReviewRow {
  return {
    id, requestId: `req_${id}`, keyId: 'key_a', projectId: 'proj_a', mode: 'hold', status: 'pending', rule: 'refunds',
    reason: "matched 'refund'", endpoint: '/v1/chat/completions', stream: true, model: 'gpt-5.4-mini', reservationId: `res_${id}`,
    onTimeout: 'reject', request: JSON.stringify({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'refund me' }] }),
    answer: JSON.stringify({ content: [{ type: 'text', text: 'ok' }], finishReason: 'stop' }), finalAnswer: null,
    usage: { inputTokens: 12, cachedInputTokens: 2, outputTokens: 30, reasoningTokens: 4, cacheWriteTokens: 1 }, costUsd: 0.00123,
    createdAt: at(0), expiresAt: at(300), decidedAt: null, decidedBy: null, decisionReason: null, editedText: null, ...over,
  };
}

function approval(over: Partial<ReviewDecisionPatch> = {}): ReviewDecisionPatch {
  return { status: 'approved', decidedAt: at(60), decidedBy: 'key_r (reviewer)', decisionReason: 'fine', editedText: null, finalAnswer: '{"content":[]}', ...over };
}

interface Opened { store: Store; reopen(): Promise<Store>; cleanup(): Promise<void> }

async function openSqlite(): Promise<Opened> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'reviews.db');
  let store: Store = new SqliteStore({ path });
  return {
    get store() { return store; },
    async reopen() { await store.close(); store = new SqliteStore({ path }); return store; },
    async cleanup() { await store.close(); cleanup(); },
  };
}

async function openPostgres(): Promise<Opened> {
  const schema = uniqueName('reviews');
  let store: Store = await PostgresStore.open({ url: POSTGRES_URL, schema });
  return {
    get store() { return store; },
    async reopen() { await store.close(); store = await PostgresStore.open({ url: POSTGRES_URL, schema }); return store; },
    async cleanup() { await store.close(); await dropSchema(schema); },
  };
}

function contract(name: string, open: () => Promise<Opened>, skip?: string) {
  describe(`${name} review store`, { skip }, () => {
    let opened: Opened;
    before(async () => { opened = await open(); });
    after(async () => opened?.cleanup());

    test('insert and get round-trip every field', async () => {
      const store = opened.store;
      const full = review('rev_full', {
        projectId: null, mode: 'after', stream: false, reservationId: null, onTimeout: 'pro', status: 'edited', finalAnswer: '{"edited":true}',
        decidedAt: at(5), decidedBy: 'master (master key)', decisionReason: '', editedText: 'Hello\nthere — ünïcode',
      });
      await store.insertReview(full);
      assert.deepEqual(await store.getReview('rev_full'), full);
      const plain = review('rev_plain');
      await store.insertReview(plain);
      assert.deepEqual(await store.getReview('rev_plain'), plain);
      assert.equal(await store.getReview('rev_nope'), undefined);
      await assert.rejects(store.insertReview(plain), 'an id is inserted once');
    });

    test('list newest first, by status and key, paged by cursor', async () => {
      const store = opened.store;
      // Two share a created_at: the id breaks the tie, so paging never skips or repeats.
      for (let i = 0; i < 7; i++) {
        await store.insertReview(review(`rev_l${i}`, {
          createdAt: at(100 + Math.min(i, 5)), status: i % 3 === 0 ? 'approved' : 'pending', keyId: i === 4 ? 'key_b' : 'key_a',
        }));
      }
      const ids: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await store.listReviews({ limit: 3, cursor, keyId: 'key_a' });
        ids.push(...result.rows.map((r) => r.id).filter((id) => id.startsWith('rev_l')));
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
      }
      assert.deepEqual(ids, ['rev_l6', 'rev_l5', 'rev_l3', 'rev_l2', 'rev_l1', 'rev_l0']);
      const pending = await store.listReviews({ limit: 2, status: 'pending' });
      assert.deepEqual(pending.rows.map((r) => r.id), ['rev_l5', 'rev_l4']);
      assert.ok(pending.nextCursor);
      const next = await store.listReviews({ limit: 50, status: 'pending', cursor: pending.nextCursor! });
      assert.deepEqual(next.rows.map((r) => r.id), ['rev_l2', 'rev_l1', 'rev_plain']);
      assert.equal(next.nextCursor, null);
      const approved = await store.listReviews({ limit: 50, status: 'approved' });
      assert.deepEqual(approved.rows.map((r) => r.id), ['rev_l6', 'rev_l3', 'rev_l0']);
      await assert.rejects(store.listReviews({ limit: 5, cursor: 'garbage' }), /invalid review cursor/);
    });

    test('a review is decided once: the second decision changes nothing', async () => {
      const store = opened.store;
      await store.insertReview(review('rev_d'));
      const decided = await store.decideReview('rev_d', approval({ usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 }, costUsd: 0.5, model: 'gpt-5.5-pro' }));
      assert.deepEqual(decided, {
        ...review('rev_d'), status: 'approved', decidedAt: at(60), decidedBy: 'key_r (reviewer)', decisionReason: 'fine', finalAnswer: '{"content":[]}',
        usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 }, costUsd: 0.5, model: 'gpt-5.5-pro',
      });
      const second = await store.decideReview('rev_d', approval({ status: 'rejected', decidedBy: 'timeout', finalAnswer: null, decisionReason: 'late' }));
      assert.equal(second, undefined);
      assert.deepEqual(await store.getReview('rev_d'), decided, 'the row is as the first decision left it');
      assert.equal(await store.decideReview('rev_missing', approval()), undefined);

      // Racing deciders: exactly one wins.
      await store.insertReview(review('rev_race'));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.decideReview('rev_race', approval({ decidedBy: `r${i}` }))));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.getReview('rev_race'))?.decidedBy, results.find(Boolean)!.decidedBy);
    });

    test('due reviews: pending holds past their expiry, oldest first, at most limit', async () => {
      const store = opened.store;
      await store.insertReview(review('rev_due2', { expiresAt: at(1_000_020) }));
      await store.insertReview(review('rev_due1', { expiresAt: at(1_000_010) }));
      await store.insertReview(review('rev_due3', { expiresAt: at(1_000_030) }));
      await store.insertReview(review('rev_later', { expiresAt: at(1_000_100) }));
      await store.insertReview(review('rev_after', { mode: 'after', expiresAt: at(1_000_000) }));
      await store.insertReview(review('rev_done', { status: 'approved', expiresAt: at(1_000_000) }));
      // Everything inserted earlier expired at 300 s; only the ones of this test are past the first window.
      const due = (await store.dueReviews(at(1_000_030), 10)).filter((r) => r.expiresAt > at(1_000_000));
      assert.deepEqual(due.map((r) => r.id), ['rev_due1', 'rev_due2', 'rev_due3']);
      const old = await store.dueReviews(at(1_000), 100);
      assert.ok(old.every((r) => r.status === 'pending' && r.mode === 'hold' && r.expiresAt <= at(1_000)));
      assert.ok(!old.some((r) => r.id === 'rev_after' || r.id === 'rev_done'));
      assert.equal((await store.dueReviews(at(1_000_030), 2)).length, 2);
      assert.deepEqual(await store.dueReviews(at(-1), 10), []);
    });

    test('a due review is leased to one sweeper: the others, and a decided review, get false', async () => {
      const store = opened.store;
      await store.insertReview(review('rev_lease', { expiresAt: at(2_000_000) }));
      const claims = await Promise.all([1, 2, 3, 4].map(() => store.leaseReview('rev_lease', at(2_000_010), at(2_000_900))));
      assert.deepEqual(claims.filter(Boolean).length, 1);
      assert.equal((await store.getReview('rev_lease'))!.expiresAt, at(2_000_900));
      assert.equal(await store.leaseReview('rev_lease', at(2_000_010), at(2_001_000)), false, 'not due any more');
      assert.equal(await store.leaseReview('rev_lease', at(2_000_901), at(2_001_800)), true, 'due again once the lease ran out');
      await store.decideReview('rev_lease', approval());
      assert.equal(await store.leaseReview('rev_lease', at(2_999_999), at(3_000_000)), false);
    });

    test('held reservation ids: of pending holds only', async () => {
      const store = opened.store;
      await store.insertReview(review('rev_h1', { reservationId: 'res_held_1' }));
      await store.insertReview(review('rev_h2', { reservationId: null }));
      await store.insertReview(review('rev_h3', { mode: 'after', reservationId: 'res_after' }));
      await store.insertReview(review('rev_h4', { reservationId: 'res_held_4' }));
      await store.decideReview('rev_h4', approval());
      const held = await store.heldReservationIds();
      assert.ok(held.includes('res_held_1'));
      for (const id of ['res_after', 'res_held_4', 'null']) assert.ok(!held.includes(id), id);
    });

    test('reviews survive closing and reopening the store', async () => {
      const before = await opened.store.getReview('rev_full');
      const pending = await opened.store.listReviews({ limit: 500, status: 'pending' });
      const store = await opened.reopen();
      assert.deepEqual(await store.getReview('rev_full'), before);
      assert.deepEqual(await store.listReviews({ limit: 500, status: 'pending' }), pending);
      assert.ok((await store.heldReservationIds()).includes('res_held_1'));
      assert.ok(await store.decideReview('rev_h1', approval()));
      assert.ok(!(await store.heldReservationIds()).includes('res_held_1'));
    });
  });
}

contract('SQLite', openSqlite);
contract('PostgreSQL', openPostgres, pgSkip);

// The keys table as it was before roles.
const OLD_KEYS = (time: string, json: string) => `CREATE TABLE keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, env TEXT NOT NULL, prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE, previous_hash TEXT, status TEXT NOT NULL, project_id TEXT, owner TEXT,
  allowed_models ${json}, allowed_routes ${json}, max_output_tokens ${json}, rate_limits ${json},
  expires_at ${time}, metadata ${json}, created_at ${time} NOT NULL, updated_at ${time} NOT NULL,
  revoked_at ${time}, rotated_at ${time});
  INSERT INTO keys (id, name, env, prefix, hash, status, created_at, updated_at)
  VALUES ('key_old', 'old', 'live', 'sy_live_abcd', 'h_old', 'active', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`;

async function checkRoles(store: Store): Promise<void> {
  assert.equal((await store.getKey('key_old'))?.role, null, 'an old key has no role');
  const updated = await store.updateKey('key_old', { role: 'reviewer' });
  assert.equal(updated?.role, 'reviewer');
  assert.equal((await store.keyByHash('h_old'))?.row.role, 'reviewer');
  assert.equal((await store.updateKey('key_old', { role: null }))?.role, null);
}

describe('a keys table made before roles gains the role column on open', () => {
  test('sqlite', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'old-keys.db');
    const old = new DatabaseSync(path);
    old.exec(OLD_KEYS('TEXT', 'TEXT'));
    old.close();
    try {
      for (let open = 0; open < 2; open++) {
        const store = new SqliteStore({ path });
        try {
          await checkRoles(store);
        } finally {
          await store.close();
        }
      }
    } finally {
      cleanup();
    }
  });

  test('postgres', { skip: pgSkip }, async () => {
    const schema = uniqueName('oldkeys');
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}; ${OLD_KEYS('TIMESTAMPTZ', 'JSONB')}`);
      for (let open = 0; open < 2; open++) {
        const store = await PostgresStore.open({ url: POSTGRES_URL, schema });
        try {
          await checkRoles(store);
        } finally {
          await store.close();
        }
      }
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });
});
