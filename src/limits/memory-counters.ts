// In-process counters for a single gateway process. Check-and-take runs synchronously,
// so concurrent requests cannot interleave inside it.
import type {
  BudgetCharge, BudgetOutcome, Counters, MaybePromise, RateCharge, RateOutcome, RateState, Seeder, SlotCharge,
} from './counters.ts';
import { windowIndex } from './counters.ts';
import { judgeWindow } from './window.ts';

interface BudgetCounter { settled: number; reserved: number; expiresAt: number | null }
interface WindowCounter { index: number; cur: number; prev: number }

export class MemoryCounters implements Counters {
  readonly shared = false;
  private readonly budgets = new Map<string, BudgetCounter>();
  private readonly seeding = new Map<string, Promise<void>>();
  private readonly windows = new Map<string, WindowCounter>();
  private readonly slots = new Map<string, number>();

  reserve(charges: BudgetCharge[], seed: Seeder): MaybePromise<BudgetOutcome> {
    let missing: Promise<void>[] | undefined;
    for (const charge of charges) {
      if (!this.budgets.has(charge.key)) (missing ??= []).push(this.seedOnce(charge, seed));
    }
    // A counter not seeded yet waits for the store once; after that, every call answers at once.
    if (missing) return Promise.all(missing).then(() => this.reserveSeeded(charges));
    return this.reserveSeeded(charges);
  }

  /** Synchronous, so the check and the take are atomic. */
  private reserveSeeded(charges: BudgetCharge[]): BudgetOutcome {
    for (let i = 0; i < charges.length; i++) {
      const charge = charges[i];
      const counter = this.budgets.get(charge.key)!;
      if (charge.hard && counter.settled + counter.reserved + charge.units > charge.limitUnits) {
        return { ok: false, index: i, settledUnits: counter.settled, reservedUnits: counter.reserved };
      }
    }
    for (const charge of charges) this.budgets.get(charge.key)!.reserved += charge.units;
    return { ok: true };
  }

  private seedOnce(charge: BudgetCharge, seed: Seeder): Promise<void> {
    let pending = this.seeding.get(charge.key);
    if (!pending) {
      pending = seed(charge).then((value) => {
        this.dropExpired();
        this.budgets.set(charge.key, { settled: value.settledUnits, reserved: value.reservedUnits, expiresAt: charge.expiresAt });
      }).finally(() => this.seeding.delete(charge.key));
      this.seeding.set(charge.key, pending);
    }
    return pending;
  }

  private dropExpired(): void {
    if (this.budgets.size < 10_000) return;
    const now = Date.now();
    for (const [key, counter] of this.budgets) {
      if (counter.expiresAt !== null && counter.expiresAt < now && counter.reserved === 0) this.budgets.delete(key);
    }
  }

  settle(_reservationId: string, charges: BudgetCharge[], actualUnits: number): number[] | null {
    // Once-only is guaranteed by the caller (the Admitted object); reconcile after a
    // crash never reaches in-process counters, which start empty.
    const totals: number[] = [];
    for (const charge of charges) {
      const counter = this.budgets.get(charge.key);
      if (!counter) { totals.push(actualUnits); continue; }
      counter.reserved = Math.max(0, counter.reserved - charge.units);
      counter.settled += actualUnits;
      totals.push(counter.settled);
    }
    return totals;
  }

  take(slotId: string, rates: RateCharge[], slots: SlotCharge[], now: number): RateOutcome {
    const states: RateState[] = [];
    let refusal: RateOutcome | undefined;
    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i];
      const counter = this.windowAt(rate, now);
      const verdict = judgeWindow(counter.prev, counter.cur, now % rate.windowMs, rate.windowMs, rate.limit, rate.amount);
      const after = verdict.allowed ? verdict.used + rate.amount : verdict.used;
      states.push({ limit: rate.limit, remaining: Math.max(0, Math.floor(rate.limit - after)), resetMs: verdict.resetMs });
      if (!verdict.allowed && !refusal) refusal = { ok: false, index: i, kind: 'rate', retryAfterMs: verdict.retryAfterMs, states };
    }
    if (refusal) return refusal;
    for (let i = 0; i < slots.length; i++) {
      if ((this.slots.get(slots[i].key) ?? 0) >= slots[i].limit) return { ok: false, index: i, kind: 'slot', retryAfterMs: 1000, states };
    }
    for (const rate of rates) this.windowAt(rate, now).cur += rate.amount;
    for (const slot of slots) this.slots.set(slot.key, (this.slots.get(slot.key) ?? 0) + 1);
    return { ok: true, states };
  }

  private windowAt(rate: RateCharge, now: number): WindowCounter {
    const index = windowIndex(now, rate.windowMs);
    let counter = this.windows.get(rate.key);
    if (!counter) {
      counter = { index, cur: 0, prev: 0 };
      this.windows.set(rate.key, counter);
    } else if (counter.index !== index) {
      counter.prev = counter.index === index - 1 ? counter.cur : 0;
      counter.cur = 0;
      counter.index = index;
    }
    return counter;
  }

  adjust(rates: RateCharge[], takenAt: number, deltas: number[]): void {
    for (let i = 0; i < rates.length; i++) {
      if (deltas[i] === 0) continue;
      const counter = this.windows.get(rates[i].key);
      if (!counter) continue;
      const index = windowIndex(takenAt, rates[i].windowMs);
      if (counter.index === index) counter.cur = Math.max(0, counter.cur + deltas[i]);
      else if (counter.index === index + 1) counter.prev = Math.max(0, counter.prev + deltas[i]);
    }
  }

  freeSlots(_slotId: string, slots: SlotCharge[]): void {
    for (const slot of slots) {
      const held = this.slots.get(slot.key) ?? 0;
      if (held <= 1) this.slots.delete(slot.key);
      else this.slots.set(slot.key, held - 1);
    }
  }

  async close(): Promise<void> {}
}
