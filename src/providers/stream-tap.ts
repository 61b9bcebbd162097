// Reading a relayed stream without changing it: what the gateway needs to bill it.
import type { Usage } from '../canonical/types.ts';

/**
 * Watches the events of a relayed stream. `keep` says whether the event goes to the
 * client (false only for a usage chunk the gateway asked for on the client's behalf).
 * `contentEvents` counts events that carried generated content: upstreams send about
 * one token per delta, so it is the output estimate used only when a stream ends
 * before the upstream reports usage.
 */
export interface StreamTap {
  usage: Usage | undefined;
  model: string | undefined;
  contentEvents: number;
  /** performance.now() of the first content event (0: none yet). */
  firstContentAt: number;
  keep(data: string, event: string | undefined): boolean;
}

/** The bookkeeping every tap shares; subclasses read their format's usage. */
export abstract class CountingTap implements StreamTap {
  usage: Usage | undefined;
  model: string | undefined;
  contentEvents = 0;
  firstContentAt = 0;

  abstract keep(data: string, event: string | undefined): boolean;

  protected sawContent(): void {
    if (this.contentEvents++ === 0) this.firstContentAt = performance.now();
  }
}
