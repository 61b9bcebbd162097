// Helpers for the mock upstream's tests: raw HTTP calls, SSE parsing, and a
// structural comparison against recorded responses (same keys, same value types).
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../canonical/sse.ts';
import type { MockUpstream } from './server.ts';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(mock: MockUpstream, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function get(mock: MockUpstream, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(mock.url + path, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function parseSse(text: string): SseEvent[] {
  const parser = new SseParser();
  return parser.end(parser.push(text));
}

/** The JSON payloads of an SSE body, `[DONE]` left out. */
export function sseJson(text: string): any[] {
  return parseSse(text).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
}

/** Event types in order, runs of the same type collapsed to one. */
export function collapsedTypes(types: string[]): string[] {
  return types.filter((type, i) => type !== types[i - 1]);
}

/** A value's structure: object keys (sorted) with their structures, arrays by their first element, else the JSON type. */
export function shapeOf(value: unknown, ignore: ReadonlySet<string> = new Set()): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0], ignore)];
  if (typeof value !== 'object') return typeof value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (!ignore.has(key)) out[key] = shapeOf((value as Record<string, unknown>)[key], ignore);
  }
  return out;
}

/** The mock's value has the same keys and value types as the recorded one (keys in `ignore` skipped at any depth). */
export function assertSameShape(actual: unknown, recorded: unknown, ignore: string[] = [], message?: string): void {
  const skip = new Set(ignore);
  assert.deepEqual(shapeOf(actual, skip), shapeOf(recorded, skip), message);
}

/** The distinct shapes of a stream's payloads, in order of first appearance. */
export function distinctShapes(payloads: unknown[], ignore: string[] = []): string[] {
  const skip = new Set(ignore);
  const seen: string[] = [];
  for (const payload of payloads) {
    const shape = JSON.stringify(shapeOf(payload, skip));
    if (!seen.includes(shape)) seen.push(shape);
  }
  return seen;
}
