// x-mock-fixture: replay a recorded body from the repository's fixtures/ byte for byte, with
// the content type and HTTP status it was recorded with (INDEX.json). A request
// file or a bare exchange name plays the exchange's response file. `.jsonl` files
// hold only the data: payloads (PROVENANCE.md); they are replayed as SSE rebuilt
// by the documented conventions: `event: <type>` lines for Anthropic and OpenAI
// Responses, a final `data: [DONE]` for OpenAI chat, CRLF framing for Gemini.
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reply, Template } from './wire.ts';

export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

interface IndexEntry {
  file: string;
  http_status: number | null;
}

export class FixtureLibrary {
  private readonly dir: string;
  private readonly loaded = new Map<string, Reply>();
  private statuses: Map<string, number | null> | undefined;

  constructor(dir: string = DEFAULT_FIXTURES_DIR) {
    this.dir = resolve(dir);
  }

  /** The recorded reply for a fixture name, or undefined when there is no such file. */
  async reply(name: string): Promise<Reply | undefined> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    for (const candidate of candidates(name)) {
      const path = resolve(this.dir, candidate);
      if (!path.startsWith(this.dir + sep)) return undefined;
      const bytes = await readFile(path, 'utf8').catch(() => undefined);
      if (bytes === undefined) continue;
      const reply = await this.build(candidate, bytes);
      this.loaded.set(name, reply);
      return reply;
    }
    return undefined;
  }

  private async build(file: string, text: string): Promise<Reply> {
    const status = (await this.recordedStatus(file)) ?? statusFromName(file);
    const gemini = file.startsWith('gemini/');
    switch (extname(file)) {
      case '.sse':
        return { status, headers: { 'content-type': 'text/event-stream; charset=utf-8' }, frames: splitEvents(text).map(literal), cacheable: false };
      case '.jsonl':
        return { status, headers: { 'content-type': 'text/event-stream; charset=utf-8' }, frames: rebuildSse(file, text).map(literal), cacheable: false };
      default:
        return { status, headers: { 'content-type': gemini ? 'application/json; charset=UTF-8' : 'application/json' }, body: literal(text), cacheable: false };
    }
  }

  private async recordedStatus(file: string): Promise<number | null | undefined> {
    if (!this.statuses) {
      const index = await readFile(resolve(this.dir, 'INDEX.json'), 'utf8').then((t) => JSON.parse(t) as IndexEntry[]).catch(() => []);
      this.statuses = new Map(index.map((entry) => [entry.file, entry.http_status]));
    }
    return this.statuses.get(file);
  }
}

function candidates(name: string): string[] {
  const clean = name.replace(/^\/+/, '');
  if (clean.endsWith('.request.json')) {
    const stem = clean.slice(0, -'.request.json'.length);
    return [`${stem}.response.sse`, `${stem}.response.json`];
  }
  if (extname(clean) !== '') return [clean];
  return [`${clean}.response.sse`, `${clean}.response.json`, `${clean}.sse`, `${clean}.json`, `${clean}.jsonl`];
}

/** Error files recorded without a status: insufficient_quota comes with 429, the rest with 400. */
function statusFromName(file: string): number {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (!base.startsWith('error-')) return 200;
  const digits = /^error-(\d{3})-/.exec(base);
  if (digits) return Number(digits[1]);
  return base.includes('insufficient-quota') ? 429 : 400;
}

/** Split an SSE body after each blank line, keeping every byte (any line ending). */
export function splitEvents(text: string): string[] {
  const events: string[] = [];
  const boundary = /\r\n\r\n|\n\n|\r\r/g;
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    events.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) {
    // Trailing bytes after the last blank line belong to the last event (a final event without its blank line).
    if (events.length > 0 && text.slice(start).trim() === '') events[events.length - 1] += text.slice(start);
    else events.push(text.slice(start));
  }
  return events;
}

function rebuildSse(file: string, text: string): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (file.startsWith('gemini/')) return lines.map((line) => `data: ${line}\r\n\r\n`);
  if (file.startsWith('openai/chat')) return [...lines.map((line) => `data: ${line}\n\n`), 'data: [DONE]\n\n'];
  return lines.map((line) => `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`);
}

/** Recorded text is sent as is: no id placeholders are filled in. */
function literal(text: string): Template {
  return { literals: [text], slots: [] };
}
