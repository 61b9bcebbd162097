// Retention: request rows older than N days are deleted in small batches (so no long
// lock or transaction), with a yield between batches; closed reservations after two
// days. spend_daily is kept: budgets with month and total periods need it.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Store } from '../store/types.ts';
import { errorText, type Logger } from './logger.ts';

const DAY_MS = 24 * 3600 * 1000;

export async function pruneOnce(store: Store, retentionDays: number, batchSize = 1000, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionDays * DAY_MS).toISOString();
  let total = 0;
  for (;;) {
    const deleted = await store.pruneRequests(before, batchSize);
    total += deleted;
    if (deleted < batchSize) break;
    await yieldToEventLoop();
  }
  await store.pruneReservations(new Date(now - 2 * DAY_MS).toISOString());
  return total;
}

/** Prune shortly after start and then every hour; returns a stop function. */
export function startRetention(store: Store, retentionDays: number, log: Logger): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    pruneOnce(store, retentionDays)
      .then((deleted) => { if (deleted > 0) log('info', 'pruned old request rows', { deleted, retention_days: retentionDays }); })
      .catch((error) => log('error', 'pruning request rows failed', { error: errorText(error) }))
      .finally(() => { running = false; });
  };
  const first = setTimeout(run, 10_000);
  const every = setInterval(run, 3600_000);
  first.unref();
  every.unref();
  return () => { clearTimeout(first); clearInterval(every); };
}
