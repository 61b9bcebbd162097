// Server-sent events: an incremental reader (any line ending: \n, \r\n, \r) and a writer.

export interface SseEvent {
  /** The `event:` field, if the server sent one. */
  event?: string;
  /** The `data:` lines joined with \n. */
  data: string;
}

/** Incremental parser: push decoded text as it arrives, get whole events back. */
export class SseParser {
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];
  private pendingCR = false;

  push(text: string, out: SseEvent[] = []): SseEvent[] {
    let input = text;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (input.startsWith('\n')) input = input.slice(1);
    }
    this.buffer += input;
    let start = 0;
    const buf = this.buffer;
    for (let i = 0; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      if (ch === 13) {
        if (i + 1 === buf.length) this.pendingCR = true;
        else if (buf.charCodeAt(i + 1) === 10) {
          this.line(buf.slice(start, i), out);
          i++;
          start = i + 1;
          continue;
        }
      }
      this.line(buf.slice(start, i), out);
      start = i + 1;
    }
    this.buffer = start === 0 ? buf : buf.slice(start);
    return out;
  }

  /** Flush a final event that was not followed by a blank line. */
  end(out: SseEvent[] = []): SseEvent[] {
    if (this.buffer.length > 0) this.line(this.buffer, out);
    this.buffer = '';
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      if (this.data.length > 0 || this.event !== undefined) {
        out.push(this.event === undefined ? { data: this.data.join('\n') } : { event: this.event, data: this.data.join('\n') });
      }
      this.event = undefined;
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* : comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
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
