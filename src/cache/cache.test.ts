// The cache's key and its in-memory store: what shapes an answer is in the key and what
// only delivers it is not; the key scope keeps keys apart; the memory store is bounded in
// size and expires entries by TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest } from '../canonical/types.ts';
import type { Principal } from '../services.ts';
import { cacheContext, cacheSettings, requestHash } from './cache.ts';
import { memoryCache, type CachedAnswer } from './store.ts';

const base: CanonicalRequest = { model: 'gpt-5.4-mini', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false };

test('the key: model, messages, tools and parameters count; stream, metadata and user do not; scopes differ', () => {
  const h = (r: Partial<CanonicalRequest>, scope = 'key:a') => requestHash(scope, { ...base, ...r });
  assert.equal(h({}), h({ stream: true, metadata: { trace: '1' }, user: 'u-9' }));
  assert.notEqual(h({}), h({ model: 'gpt-5.4' }));
  assert.notEqual(h({}), h({ temperature: 0.2 }));
  assert.notEqual(h({}), h({ tools: [{ name: 'f' }] }));
  assert.notEqual(h({}), h({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi!' }] }] }));
  assert.notEqual(h({}), h({}, 'key:b'));
});

test('opt-in by key or route; no-store skips, no-cache only skips the lookup; shared routes scope by route', () => {
  const settings = cacheSettings({ cache: { keys: ['alice'], routes: ['gpt-5.4-mini'], shared_routes: ['auto:faq'] } })!;
  const store = memoryCache(1 << 20);
  const who = (name: string): Principal => ({ keyId: `key_${name}`, name, prefix: '', env: 'live' });
  assert.equal(cacheContext(settings, store, who('carol'), 'gpt-5.4', base, {}), undefined);
  assert.ok(cacheContext(settings, store, who('alice'), 'gpt-5.4', base, {}));
  assert.ok(cacheContext(settings, store, who('carol'), 'gpt-5.4-mini', base, {}));
  assert.equal(cacheContext(settings, store, who('alice'), 'gpt-5.4', base, { 'cache-control': 'no-store' }), undefined);
  assert.equal(cacheContext(settings, store, who('alice'), 'gpt-5.4', base, { 'cache-control': 'max-age=0, no-cache' })!.lookup, false);
  const a = cacheContext(settings, store, who('alice'), 'auto:faq', base, {})!;
  const c = cacheContext(settings, store, who('carol'), 'auto:faq', base, {})!;
  assert.equal(a.key, c.key);
  assert.notEqual(cacheContext(settings, store, who('alice'), 'gpt-5.4-mini', base, {})!.key, cacheContext(settings, store, who('carol'), 'gpt-5.4-mini', base, {})!.key);
  assert.equal(cacheSettings({}), undefined);
});

const answer = (text: string): CachedAnswer => ({
  response: { id: 'r', model: 'm', created: 0, finishReason: 'stop', usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, content: [{ type: 'text', text }] },
  model: 'gpt-5.4-mini', deployment: 'd', costUsd: 0.001, createdAt: new Date(0).toISOString(),
});

test('the memory store is bounded in bytes (least recently used out first) and expires by TTL', async () => {
  const store = memoryCache(4_000);
  await store.set('a', answer('x'.repeat(500)), 60_000);
  await store.set('b', answer('y'.repeat(500)), 60_000);
  assert.ok(await store.get('a'));
  await store.set('c', answer('z'.repeat(800)), 60_000);
  assert.equal(await store.get('b'), undefined, 'the least recently used entry went');
  assert.equal((await store.get('a'))?.response.content[0].type, 'text');
  await store.set('short', answer('s'), 20);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(await store.get('short'), undefined);
});
