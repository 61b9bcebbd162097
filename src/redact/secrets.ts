// Secret detectors: secretlint's recommended rules, plus the few formats that preset lacks
// (the gateway's own virtual keys, Google API keys, JWTs, bearer tokens), configured exact
// secrets and configured patterns.
import { createSecretlintScanner } from './secretlint-host.ts';
import type { Finding, Detector } from './finding.ts';
import { PRIORITY } from './finding.ts';

interface FormatRule {
  kind: string;
  pattern: RegExp;
  /** Redact only this capture group (e.g. the token after "Bearer "). */
  group?: number;
}

// Formats missing from the recommended preset. Each is a vendor's documented prefix + alphabet.
const EXTRA_FORMATS: FormatRule[] = [
  // Same shape as src/keys/secret.ts: sy_live_/sy_test_ + 32 base62.
  { kind: 'switchyard_key', pattern: /\bsy_(?:live|test)_[A-Za-z0-9]{32}(?![A-Za-z0-9])/g },
  { kind: 'google_api_key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{10,}/g },
  { kind: 'bearer', pattern: /\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)/gi, group: 1 },
];

const MIN_EXACT_SECRET_LENGTH = 4;
const MASK_NAME = /^[A-Za-z0-9_.-]+$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function collect(rule: FormatRule, text: string, priority: number, out: Finding[]): void {
  rule.pattern.lastIndex = 0;
  for (const match of text.matchAll(rule.pattern)) {
    if (match[0].length === 0) continue;
    const value = rule.group === undefined ? match[0] : match[rule.group];
    const start = match.index + match[0].length - value.length;
    out.push({ start, end: start + value.length, kind: rule.kind, priority });
  }
}

export function createSecretDetector(): Detector {
  const secretlint = createSecretlintScanner();
  return (text, out) => {
    for (const range of secretlint.scan(text)) {
      out.push({ start: range.start, end: range.end, kind: range.rule, priority: PRIORITY.knownSecret });
    }
    for (const rule of EXTRA_FORMATS) {
      const priority = rule.kind === 'bearer' ? PRIORITY.genericSecret : PRIORITY.knownSecret;
      collect(rule, text, priority, out);
    }
  };
}

/** One alternation of the configured secrets, longest first so a longer one wins. */
export function createExactSecretDetector(secrets: readonly string[]): Detector | undefined {
  const usable = [...new Set(secrets)].filter((secret) => secret.length >= MIN_EXACT_SECRET_LENGTH);
  if (usable.length === 0) return undefined;
  usable.sort((a, b) => b.length - a.length);
  const rule: FormatRule = { kind: 'secret', pattern: new RegExp(usable.map(escapeRegExp).join('|'), 'g') };
  return (text, out) => collect(rule, text, PRIORITY.configured, out);
}

export function createPatternDetector(patterns: ReadonlyArray<{ name: string; pattern: string }>): Detector | undefined {
  if (patterns.length === 0) return undefined;
  const rules = patterns.map(({ name, pattern }): FormatRule => {
    if (!MASK_NAME.test(name)) throw new Error(`redaction pattern name "${name}" must match ${MASK_NAME}`);
    try {
      return { kind: name, pattern: new RegExp(pattern, 'gu') };
    } catch (error) {
      throw new Error(`redaction pattern "${name}" is not a valid regular expression: ${(error as Error).message}`);
    }
  });
  return (text, out) => {
    for (const rule of rules) collect(rule, text, PRIORITY.configured, out);
  };
}
