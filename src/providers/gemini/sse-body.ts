// Gemini's SSE body, with one addition to plain SSE reading: when Gemini fails in the
// middle of a stream it can write the bare JSON error object into the body instead
// of a `data:` line (see fixtures/gemini/stream-error-mid-stream.vertex.firebase.sse).
// An SSE parser ignores those lines, so they are collected here and handed on as one
// final event whose data is that JSON.
import { SseParser, type SseEvent } from '../../canonical/sse.ts';

const LF = 10;
const CR = 13;
/** First characters of the lines an SSE stream consists of: data, event, id, retry, comment, blank. */
const SSE_LINE_START = new Set(['d', 'e', 'i', 'r', ':'].map((ch) => ch.charCodeAt(0)));

/** Collects the lines of a body that are not SSE lines, chunk by chunk. */
export class StrayLineCollector {
  private atLineStart = true;
  private inStray = false;
  private stray = '';

  push(text: string): void {
    let pos = 0;
    while (pos < text.length) {
      if (this.atLineStart) {
        const first = text.charCodeAt(pos);
        this.inStray = first !== LF && first !== CR && !SSE_LINE_START.has(first);
        this.atLineStart = false;
      }
      const end = lineEnd(text, pos);
      if (this.inStray) this.stray += text.slice(pos, end === -1 ? text.length : end) + (end === -1 ? '' : '\n');
      if (end === -1) return;
      pos = end + 1;
      this.atLineStart = true;
    }
  }

  /** The collected text, or undefined when the body was pure SSE. */
  text(): string | undefined {
    const text = this.stray.trim();
    return text ? text : undefined;
  }
}

function lineEnd(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

/** SSE events of a Gemini body, then (if any) one event holding the non-SSE text it contained. */
export async function* readGeminiSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const stray = new StrayLineCollector();
  const events: SseEvent[] = [];
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    stray.push(text);
    parser.push(text, events);
    for (let i = 0; i < events.length; i++) yield events[i];
    events.length = 0;
  }
  const rest = decoder.decode();
  stray.push(rest);
  parser.push(rest, events);
  parser.end(events);
  for (const event of events) yield event;
  const leftover = stray.text();
  if (leftover !== undefined) yield { data: leftover };
}
