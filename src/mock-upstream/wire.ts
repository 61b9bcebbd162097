// Shared pieces of the mock's wire output: replies built once and rendered per
// request (only the ids and the timestamp differ between identical requests), SSE
// framing, and Google's JSON spacing.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Placeholder for the per-request id token inside a built reply. */
export const ID = '@@id@@';
/** Placeholder for the unix time; written as a JSON string, rendered as a number. */
export const CREATED = '@@created@@';
const SLOT = /@@id@@|"@@created@@"/g;

/** Text split around its placeholders: literals[0] slot[0] literals[1] ... */
export interface Template {
  literals: string[];
  /** 0 = id, 1 = created. */
  slots: number[];
}

export function template(text: string): Template {
  const literals: string[] = [];
  const slots: number[] = [];
  let last = 0;
  for (const match of text.matchAll(SLOT)) {
    literals.push(text.slice(last, match.index));
    slots.push(match[0] === ID ? 0 : 1);
    last = match.index + match[0].length;
  }
  literals.push(last === 0 ? text : text.slice(last));
  return { literals, slots };
}

export function render(t: Template, id: string, created: string): string {
  let out = t.literals[0];
  for (let i = 0; i < t.slots.length; i++) out += (t.slots[i] === 0 ? id : created) + t.literals[i + 1];
  return out;
}

/** One request's answer, built from the request alone so identical requests can share it. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** A whole body (non-stream answers and errors). */
  body?: Template;
  /** SSE events, each complete with its framing. */
  frames?: Template[];
  /** The provider's in-band error event(s) after `sent` events (x-mock-error-after-chunks). */
  streamError?: (sent: number) => string;
  /** False when the answer depends on server state (simulated prompt cache). */
  cacheable: boolean;
}

/** What a provider handler gets for one request. */
export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Stream deltas the answer text is cut into. */
  chunks: number;
  /** x-mock-cached-tokens: input tokens to report as read from the provider's cache. */
  cachedTokens: number;
  /** Per-server memory of cached prompt prefixes (Anthropic cache_control). */
  promptCache: Set<string>;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string>, pretty = false): Reply {
  return { status, headers, body: template(pretty ? `${JSON.stringify(value, null, 2)}\n` : JSON.stringify(value)), cacheable: true };
}

/** A streamed answer: each frame is one complete event (SSE, or one element of a JSON array). */
export function streamReply(frames: string[], headers: Record<string, string>, streamError?: (sent: number) => string): Reply {
  return { status: 200, headers, frames: frames.map(template), streamError, cacheable: true };
}

export function dataFrame(json: string): string {
  return `data: ${json}\n\n`;
}

export function eventFrame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}

/** Google's JSON layout on its streams: `{"key": value,"next": value}`. */
export function googleJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(googleJson).join(',')}]`;
  const fields: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined) fields.push(`${JSON.stringify(key)}: ${googleJson(field)}`);
  }
  return `{${fields.join(',')}}`;
}

const PROCESS_TAG = randomBytes(6).toString('hex');
let idCounter = 0;

/** A token unique in this process, for ids of one response: 20 characters of [0-9a-z]. */
export function nextIdToken(): string {
  idCounter++;
  return PROCESS_TAG + idCounter.toString(36).padStart(8, '0');
}

const OBFUSCATION_SOURCE = 'Qup1BsQ3yhjoJbEFdTh9RiQLLkh5Vgg3RsaN';

/** OpenAI's `obfuscation` padding field: a short random-looking string of varying length. */
export function obfuscation(seed: number): string {
  return OBFUSCATION_SOURCE.slice(seed % 7, (seed % 7) + 3 + ((seed * 5) % 13));
}

export const JSON_TYPE = 'application/json';
export const SSE_TYPE = 'text/event-stream; charset=utf-8';

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
