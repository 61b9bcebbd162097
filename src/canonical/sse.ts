// Server-sent events: an incremental reader (any line ending: \n, \r\n, \r) and a writer.

export interface SseEvent {
  /** The `event:` field, if the server sent one. */
  event?: string;
  /** The `data:` lines joined with \n. */
  data: string;
}

/**
 * Incremental parser: push decoded text as it arrives, get whole events back. Lines
 * are found with indexOf when the text has no CR (what servers send), and events of
 * one `data:` line, the usual kind, cost one slice.
 */
export class SseParser {
  private buffer = '';
  private event: string | undefined;
  /** The data lines so far, joined with \n; undefined before the first. */
  private data: string | undefined;
  private pendingCR = false;

  push(text: string, out: SseEvent[] = []): SseEvent[] {
    if (text.length === 0) return out;
    let input = text;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (input.charCodeAt(0) === 10) input = input.slice(1);
    }
    const buf = this.buffer.length === 0 ? input : this.buffer + input;
    let start = 0;
    if (buf.indexOf('\r') === -1) {
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n', start)) {
        this.line(buf, start, nl, out);
        start = nl + 1;
      }
    } else {
      for (let i = 0; i < buf.length; i++) {
        const ch = buf.charCodeAt(i);
        if (ch !== 10 && ch !== 13) continue;
        this.line(buf, start, i, out);
        if (ch === 13) {
          if (i + 1 === buf.length) this.pendingCR = true;
          else if (buf.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
      }
    }
    this.buffer = start === 0 ? buf : buf.slice(start);
    return out;
  }

  /** Flush a final event that was not followed by a blank line. */
  end(out: SseEvent[] = []): SseEvent[] {
    if (this.buffer.length > 0) this.line(this.buffer, 0, this.buffer.length, out);
    this.buffer = '';
    this.line('', 0, 0, out);
    return out;
  }

  /** The line text[from, to). */
  private line(text: string, from: number, to: number, out: SseEvent[]): void {
    if (from === to) {
      if (this.data !== undefined || this.event !== undefined) {
        out.push(this.event === undefined ? { data: this.data ?? '' } : { event: this.event, data: this.data ?? '' });
      }
      this.event = undefined;
      this.data = undefined;
      return;
    }
    if (text.startsWith('data: ', from)) return this.addData(text.slice(from + 6, to));
    if (text.charCodeAt(from) === 58 /* : comment */) return;
    let colon = text.indexOf(':', from);
    if (colon === -1 || colon > to) colon = to;
    let valueFrom = colon + 1;
    if (valueFrom < to && text.charCodeAt(valueFrom) === 32) valueFrom++;
    const value = valueFrom < to ? text.slice(valueFrom, to) : '';
    const nameLength = colon - from;
    if (nameLength === 4 && text.startsWith('data', from)) this.addData(value);
    else if (nameLength === 5 && text.startsWith('event', from)) this.event = value;
  }

  private addData(value: string): void {
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
  }
}

/** Read SSE events from a byte stream (an undici body, a Node stream, a fetch body). */
export async function* readSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for await (const chunk of body) {
    parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }), events);
    for (let i = 0; i < events.length; i++) yield events[i];
    events.length = 0;
  }
  parser.push(decoder.decode(), events);
  parser.end(events);
  for (const event of events) yield event;
}

export function formatSse(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
