// Redaction engine for stored request/response bodies: every detector is compiled once in
// createRedactor; redactText masks each finding as `[REDACTED:<kind>]`, redactJson does the
// same for every string in a JSON value (and inside strings that are themselves JSON).
import { resolveOverlaps, type Detector, type Finding } from './finding.ts';
import { createPiiDetectors } from './pii.ts';
import { createExactSecretDetector, createPatternDetector, createSecretDetector } from './secrets.ts';

export interface RedactorOptions {
  /** Extra patterns: regex source strings (compiled with flags "gu"), masked as `[REDACTED:<name>]`. */
  patterns?: Array<{ name: string; pattern: string }>;
  /** Exact strings to mask as `[REDACTED:secret]` (e.g. upstream provider keys from config). */
  secrets?: string[];
  /** ISO 3166-1 alpha-2 region for phone numbers written without a country code, e.g. "FR". */
  defaultRegion?: string;
}

export type FoundCounts = Record<string, number>;

export interface Redactor {
  redactText(text: string): { text: string; found: FoundCounts };
}

/** Shortest string worth scanning: "a@b.co" and 7-digit numbers are longer. */
const MIN_SCANNED_LENGTH = 6;
/** Nesting deeper than this is serialized and masked as text rather than walked (guards the stack). */
const MAX_JSON_DEPTH = 64;

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const builtIn: Detector[] = [createSecretDetector(), ...createPiiDetectors(options.defaultRegion)];
  // Configured patterns and secrets can match anything: they always run.
  const configured: Detector[] = [];
  const patterns = createPatternDetector(options.patterns ?? []);
  const exact = createExactSecretDetector(options.secrets ?? []);
  if (patterns) configured.push(patterns);
  if (exact) configured.push(exact);
  return {
    redactText(text) {
      const found: FoundCounts = {};
      return { text: redactInto(text, configured, builtIn, found), found };
    },
  };
}

/**
 * Whether a text can hold anything the built-in detectors find: an email needs an '@', a
 * phone, card or IBAN at least seven digits, a key, token or JWT a run of 16 or more
 * token characters, a private key its PEM armour, a bearer token the word. Most strings
 * of a chat body (roles, ids, model names, plain prose) have none, and skip the
 * detectors (about 15 µs each) in one pass over their characters.
 */
export function mightHoldSensitive(text: string): boolean {
  let digits = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 64) return true; // '@'
    const digit = (c >= 48 && c <= 57) || (c > 127 && isWideDigit(c));
    if (digit && ++digits >= 7) return true;
    const token = digit || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 43 || c === 47 || c === 61 || c === 46;
    run = token ? run + 1 : 0;
    if (run >= 16) return true;
  }
  return text.includes('-----BEGIN') || /bearer/i.test(text);
}

/** Digits libphonenumber also reads: full-width, Arabic-Indic, Persian, Devanagari, Bengali, Thai. */
function isWideDigit(c: number): boolean {
  return (c >= 0xff10 && c <= 0xff19) || (c >= 0x0660 && c <= 0x0669) || (c >= 0x06f0 && c <= 0x06f9) || (c >= 0x0966 && c <= 0x096f) || (c >= 0x09e6 && c <= 0x09ef) || (c >= 0x0e50 && c <= 0x0e59);
}

function redactInto(text: string, configured: readonly Detector[], builtIn: readonly Detector[], found: FoundCounts): string {
  if (text.length < MIN_SCANNED_LENGTH) return text;
  const findings: Finding[] = [];
  for (const detect of configured) detect(text, findings);
  if (mightHoldSensitive(text)) for (const detect of builtIn) detect(text, findings);
  if (findings.length === 0) return text;
  let out = '';
  let cursor = 0;
  for (const finding of resolveOverlaps(findings)) {
    out += text.slice(cursor, finding.start) + `[REDACTED:${finding.kind}]`;
    cursor = finding.end;
    found[finding.kind] = (found[finding.kind] ?? 0) + 1;
  }
  return out + text.slice(cursor);
}

function addCounts(into: FoundCounts, from: FoundCounts): void {
  for (const [kind, count] of Object.entries(from)) into[kind] = (into[kind] ?? 0) + count;
}

function looksLikeJson(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first !== 123 && first !== 91) return false; // '{' or '['
  const last = text.charCodeAt(text.length - 1);
  return last === 125 || last === 93; // '}' or ']'
}

function redactString(text: string, redactor: Redactor, found: FoundCounts, depth: number): string {
  const trimmed = text.trim();
  if (trimmed.length >= 2 && depth < MAX_JSON_DEPTH && looksLikeJson(trimmed)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const inner: FoundCounts = {};
      const value = walk(parsed, redactor, inner, depth + 1);
      if (Object.keys(inner).length === 0) return text; // keep the original formatting
      addCounts(found, inner);
      return JSON.stringify(value);
    }
  }
  return redactPlain(text, redactor, found);
}

function redactPlain(text: string, redactor: Redactor, found: FoundCounts): string {
  const result = redactor.redactText(text);
  addCounts(found, result.found);
  return result.text;
}

function redactTooDeep(value: object, redactor: Redactor, found: FoundCounts): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // Nesting too deep even for JSON.stringify: nothing of it can be kept safely.
    found.too_deep = (found.too_deep ?? 0) + 1;
    return '[REDACTED:too_deep]';
  }
  return redactPlain(text, redactor, found);
}

function walk(value: unknown, redactor: Redactor, found: FoundCounts, depth: number): unknown {
  if (typeof value === 'string') return redactString(value, redactor, found, depth);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) return redactTooDeep(value, redactor, found);
  if (Array.isArray(value)) return value.map((item) => walk(item, redactor, found, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = walk(item, redactor, found, depth + 1);
  return copy;
}

/**
 * A redacted deep copy of a JSON value: keys, numbers, booleans and structure are kept; every
 * string is redacted, and a string holding JSON (tool-call arguments, tool results) is parsed,
 * walked and re-serialized when something in it was masked.
 */
export function redactJson(value: unknown, redactor: Redactor): { value: unknown; found: FoundCounts } {
  const found: FoundCounts = {};
  return { value: walk(value, redactor, found, 0), found };
}
