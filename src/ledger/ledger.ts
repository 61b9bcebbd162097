// The usage ledger: request and attempt rows go into the store's group-commit queue
// and are written in batches, one transaction per batch, never on the request path.
// A request row carries its reservation's settlement (entry.settles): one queued write,
// one journal line, committed in one transaction. If the process dies before the row is
// written, the reservation is still open and reconciliation writes the row (billed at
// the reserved worst case).
import type { Ledger, LedgerEntry } from '../services.ts';
import type { Store } from '../store/types.ts';
import { errorText, type Logger } from './logger.ts';

export class StoreLedger implements Ledger {
  readonly carriesSettlements = true;
  private readonly store: Store;
  private readonly log: Logger;
  private closed = false;
  private failures = 0;

  constructor(store: Store, log: Logger) {
    this.store = store;
    this.log = log;
  }

  record(entry: LedgerEntry): void {
    if (this.closed) {
      // Its settlement with it: the reservation stays open and is reconciled at the next start.
      this.log('error', 'request row recorded after the ledger was closed; it is lost', { request_id: entry.requestId, attempt: entry.attempt });
      return;
    }
    this.store.appendLedger([entry]).catch((error) => this.failed(error));
  }

  queueDepth(): number {
    return this.store.queueDepth();
  }

  async flush(): Promise<void> {
    await this.store.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.store.flush();
    this.closed = true;
  }

  private failed(error: unknown): void {
    // One line per failed batch would flood the log when the database is down.
    this.failures++;
    if (this.failures === 1 || this.failures % 1000 === 0) {
      this.log('error', 'request rows could not be written', { failures: this.failures, error: errorText(error) });
    }
  }
}
