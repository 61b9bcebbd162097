// Helpers for admission tests: access services on a fresh SQLite file or a fresh
// PostgreSQL schema + Redis prefix, a captured log, and a simulated request.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccessServices, type AccessConfig, type AccessServices } from '../admin/access.ts';
import type { Usage } from '../canonical/types.ts';
import { costOf, worstCaseCost } from '../catalog/cost.ts';
import type { ModelInfo } from '../catalog/types.ts';
import type { CostEstimate, Principal } from '../services.ts';
import { POSTGRES_URL, REDIS_URL, clearRedisPrefix, dropSchema, tempDir, uniqueName } from '../store/testing.ts';

export const MASTER_KEY = 'sy-test-master-key-0123456789abcdef';

export interface TestServices {
  services: AccessServices;
  logs: string[];
  /** The SQLite file, when the store is SQLite. */
  dbPath?: string;
  schema?: string;
  redisPrefix?: string;
  done(): Promise<void>;
}

export async function sqliteServices(extra: Partial<AccessConfig> = {}): Promise<TestServices> {
  const { dir, cleanup } = tempDir();
  const dbPath = join(dir, 'switchyard.db');
  const logs: string[] = [];
  const services = await createAccessServices({
    store: 'sqlite', sqlitePath: dbPath, masterKey: MASTER_KEY, log: capture(logs), ...extra,
  });
  return { services, logs, dbPath, done: async () => { await services.close(); cleanup(); } };
}

/** PostgreSQL store + Redis counters, in a fresh schema and key prefix (shared if given). */
export async function sharedServices(extra: Partial<AccessConfig> & { schema?: string; redisPrefix?: string } = {}): Promise<TestServices> {
  const schema = extra.schema ?? uniqueName('test');
  const redisPrefix = extra.redisPrefix ?? `${uniqueName('test')}:`;
  const logs: string[] = [];
  const services = await createAccessServices({
    store: 'postgres', postgresUrl: POSTGRES_URL, postgresSchema: schema, redisUrl: REDIS_URL, redisPrefix,
    masterKey: MASTER_KEY, log: capture(logs), ...extra,
  });
  return {
    services, logs, schema, redisPrefix,
    done: async () => {
      await services.close();
      if (!extra.schema) await dropSchema(schema);
      if (!extra.redisPrefix) await clearRedisPrefix(redisPrefix);
    },
  };
}

function capture(logs: string[]) {
  return (level: string, message: string, fields?: Record<string, unknown>) => {
    logs.push(JSON.stringify({ level, message, ...fields }));
  };
}

export function estimateFor(model: ModelInfo, inputTokens: number, maxOutputTokens: number): CostEstimate {
  return { inputTokens, maxOutputTokens, worstCaseUsd: worstCaseCost(inputTokens, maxOutputTokens, model.pricing) };
}

export interface CallResult {
  admitted: boolean;
  costUsd: number;
  error?: { status: number; code: string; message: string; headers?: Record<string, string> };
}

/**
 * One request: admit, "call upstream" for a random few ms, settle with a random share
 * of the output cap (never more), like a real call that stops early.
 */
export async function simulateCall(services: AccessServices, principal: Principal, model: ModelInfo, estimate: CostEstimate, maxDelayMs = 20): Promise<CallResult> {
  let admitted;
  try {
    admitted = await services.admission.admit(principal, model, estimate);
  } catch (error) {
    const e = error as { status: number; code: string; message: string; headers?: Record<string, string> };
    return { admitted: false, costUsd: 0, error: { status: e.status, code: e.code, message: e.message, headers: e.headers } };
  }
  if (maxDelayMs > 0) await sleep(Math.random() * maxDelayMs);
  const usage: Usage = {
    inputTokens: estimate.inputTokens, cachedInputTokens: 0,
    outputTokens: Math.floor(estimate.maxOutputTokens * (0.3 + 0.7 * Math.random())), reasoningTokens: 0,
  };
  const costUsd = costOf(usage, model.pricing);
  admitted.settle(usage, costUsd);
  return { admitted: true, costUsd };
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
