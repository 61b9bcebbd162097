// Where cached answers live: Redis when the gateway has one (shared by every process,
// each entry expiring by its TTL), else this process's memory, bounded in bytes (LRU).
import { LRUCache } from 'lru-cache';
import type { CanonicalResponse } from '../canonical/types.ts';

/** One cached answer: what the model said and what it cost when it was asked. */
export interface CachedAnswer {
  response: CanonicalResponse;
  model: string;
  deployment: string;
  costUsd: number;
  /** ISO time the answer was made. */
  createdAt: string;
}

export interface AnswerCache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

export function memoryCache(maxBytes: number): AnswerCache {
  const entries = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (text) => text.length * 2 + 64, ttlAutopurge: false });
  return {
    kind: 'memory',
    async get(key) {
      const text = entries.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as CachedAnswer);
    },
    async set(key, answer, ttlMs) {
      entries.set(key, JSON.stringify(answer), { ttl: ttlMs });
    },
    async close() {
      entries.clear();
    },
  };
}

export async function redisCache(url: string, prefix: string): Promise<AnswerCache> {
  const { Redis } = await import('ioredis');
  // A cache that is down is a miss, never a wait: no offline queue, a short command timeout.
  const redis = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 });
  redis.on('error', () => {});
  const at = (key: string) => `${prefix}cache:${key}`;
  return {
    kind: 'redis',
    async get(key) {
      const text = await redis.get(at(key));
      return text === null ? undefined : (JSON.parse(text) as CachedAnswer);
    },
    async set(key, answer, ttlMs) {
      await redis.set(at(key), JSON.stringify(answer), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async close() {
      redis.disconnect();
    },
  };
}
