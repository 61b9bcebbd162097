// Reconciliation of reservations left open by a process that died. Such a request may
// have reached the upstream and cost money we never learned of, so it is billed at
// its reserved worst case: a hard budget stays on the safe side, the request gets a
// ledger row (status 0, error_code "interrupted"), and it is closed so it is never
// counted twice. An owner is dead when the lock it claimed at start is free
// (store.instanceAlive): a lock that ends with the process, unlike a pid, which a zombie
// keeps for a while and a new process may reuse. A reservation a pending `hold` review
// keeps is left open whoever its owner was: the answer it paid for is waiting for a
// reviewer, and whoever decides the review settles it; once the review is decided or
// expired, a reservation still open is an orphan like any other.
import type { LedgerEntry } from '../services.ts';
import type { Counters } from '../limits/counters.ts';
import type { InstanceRow, ReservationRow, Store } from '../store/types.ts';
import { toUsd } from './money.ts';
import { counterKey } from './plan.ts';

export interface ReconcileOptions {
  store: Store;
  counters: Counters;
  self: InstanceRow;
}

export async function reconcileReservations(options: ReconcileOptions): Promise<number> {
  const { store, counters, self } = options;
  // A dead process's journal first: what it held only there becomes rows (closed or open).
  await store.recoverJournals();
  const [open, instances] = await Promise.all([store.openReservations(), store.instances()]);
  const owners = new Set([...open.map((r) => r.owner), ...instances.map((i) => i.id)]);
  owners.delete(self.id);
  const dead = new Set<string>();
  for (const owner of owners) if (!(await store.instanceAlive(owner))) dead.add(owner);
  let orphans = open.filter((r) => dead.has(r.owner));
  for (const instance of instances) if (dead.has(instance.id)) await store.removeInstance(instance.id);
  if (orphans.length === 0) return 0;
  const held = new Set(await store.heldReservationIds());
  if (held.size > 0) orphans = orphans.filter((r) => !held.has(r.id));
  if (orphans.length === 0) return 0;
  // Closing and the ledger row are queued in the same tick, so they commit together.
  const closing = orphans.map((r) => store.finishReservation(r.id, 'reconciled', r.reservedUnits));
  const logging = store.appendLedger(orphans.map(interruptedEntry));
  const closed = await Promise.all(closing);
  await logging;
  let count = 0;
  for (let i = 0; i < orphans.length; i++) {
    if (!closed[i]) continue;
    count++;
    // In-process counters start empty and are seeded from the store afterwards;
    // shared counters still hold the dead process's reservation.
    if (counters.shared) await settleShared(counters, orphans[i]);
  }
  return count;
}

async function settleShared(counters: Counters, reservation: ReservationRow): Promise<void> {
  const charges = reservation.charges.map((c) => ({
    key: counterKey(c.budgetId, c.window), limitUnits: 0, units: c.units, hard: false, expiresAt: null,
  }));
  if (charges.length > 0) await counters.settle(reservation.id, charges, reservation.reservedUnits);
}

function interruptedEntry(r: ReservationRow): LedgerEntry {
  const entry: LedgerEntry = {
    requestId: r.requestId ?? r.id,
    attempt: 0,
    time: r.createdAt,
    keyId: r.keyId,
    endpoint: r.endpoint ?? 'unknown',
    modelRequested: r.model,
    modelUsed: r.model,
    stream: false,
    status: 0,
    errorCode: 'interrupted',
    usage: { inputTokens: r.inputTokens, cachedInputTokens: 0, outputTokens: r.maxOutputTokens, reasoningTokens: 0 },
    costUsd: toUsd(r.reservedUnits),
    latencyMs: 0,
  };
  if (r.projectId) entry.projectId = r.projectId;
  return entry;
}
