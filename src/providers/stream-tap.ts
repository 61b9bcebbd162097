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
  /** The format's last event (or the upstream's own in-band error) was seen: the stream is whole. */
  ended: boolean;
  /** What was wrong with the first event that is not valid JSON, if any. */
  malformed: string | undefined;
  /** The event a whole stream of this format ends with, for messages ("data: [DONE]"). */
  readonly finalEvent: string;
  keep(data: string, event: string | undefined): boolean;
}

/** The bookkeeping every tap shares; subclasses read their format's usage. */
export abstract class CountingTap implements StreamTap {
  usage: Usage | undefined;
  model: string | undefined;
  contentEvents = 0;
  firstContentAt = 0;
  ended = false;
  malformed: string | undefined;
  abstract readonly finalEvent: string;

  abstract keep(data: string, event: string | undefined): boolean;

  protected sawContent(): void {
    if (this.contentEvents++ === 0) this.firstContentAt = performance.now();
  }

  /** A content delta, checked for shape only (no parse on the hot path). */
  protected sawDelta(data: string, event: string | undefined): void {
    if (looksWhole(data)) this.sawContent();
    else this.sawMalformed(data, event);
  }

  /** The event's data as a JSON object, or undefined (and the stream marked malformed). */
  protected parsed(data: string, event: string | undefined): any {
    try {
      const json = JSON.parse(data);
      if (typeof json === 'object' && json !== null) return json;
    } catch {
      // reported below
    }
    this.sawMalformed(data, event);
    return undefined;
  }

  protected sawMalformed(data: string, event: string | undefined): void {
    this.malformed ??= `${event === undefined ? 'an event' : `a '${event}' event`} whose data is not JSON (${JSON.stringify(data.length > 60 ? `${data.slice(0, 60)}…` : data)})`;
  }
}

/**
 * Whether a delta the tap does not parse is at least a closed JSON object (`{…}`). Upstreams
 * that break mid-event send a cut-off object; this catches that without a parse.
 */
export function looksWhole(data: string): boolean {
  let end = data.length - 1;
  // Anthropic pads some events with trailing spaces.
  while (end > 0 && data.charCodeAt(end) === 32) end--;
  return data.charCodeAt(0) === 123 && data.charCodeAt(end) === 125;
}
