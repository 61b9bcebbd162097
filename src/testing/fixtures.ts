// Loads the recorded wire traffic in <repo>/fixtures (copied from the project's shared
// fixtures with their PROVENANCE.md and LICENSES) for tests. Paths are
// relative to that fixtures folder, e.g. "openai/chat-basic.json".
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SseParser } from '../canonical/sse.ts';
import type { SseEvent } from '../canonical/sse.ts';

const FIXTURES_ROOT = new URL('../../fixtures/', import.meta.url);

export function fixturePath(rel: string): string {
  return fileURLToPath(new URL(rel, FIXTURES_ROOT));
}

export function readFixtureText(rel: string): string {
  return readFileSync(fixturePath(rel), 'utf8');
}

export function readFixtureJson<T = any>(rel: string): T {
  return JSON.parse(readFixtureText(rel)) as T;
}

/** Every SSE event of a recorded `.sse` body, `data: [DONE]` included. */
export function readFixtureSse(rel: string): SseEvent[] {
  const parser = new SseParser();
  const events = parser.push(readFixtureText(rel));
  return parser.end(events);
}

/** One parsed JSON value per non-empty line of a `.jsonl` file. */
export function readFixtureJsonl<T = any>(rel: string): T[] {
  const out: T[] = [];
  for (const line of readFixtureText(rel).split('\n')) {
    if (line.trim() !== '') out.push(JSON.parse(line) as T);
  }
  return out;
}
