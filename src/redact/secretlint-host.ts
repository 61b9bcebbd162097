// Runs the rules of @secretlint/secretlint-rule-preset-recommend synchronously, in-process.
// secretlint's own entry point (lintSource) is async and builds a source object, event
// emitter and translator per call; the rules themselves are plain synchronous functions
// (create(context) -> { file(source) } calling context.report), so we host them directly
// with a minimal context. Rules that need a file path or a binary file (.p12, .npmrc,
// package.json) see no path and stay silent.
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';

export interface SecretRange {
  start: number;
  end: number;
  /** secretlint rule id without the "@secretlint/secretlint-rule-" prefix, e.g. "aws". */
  rule: string;
}

interface HostedSource {
  content: string;
  filePath: undefined;
  ext: string;
  contentType: 'text';
}

interface ReportDescriptor {
  range: readonly [number, number];
}

interface HostedRule {
  meta: { id: string };
  create(context: unknown, options: unknown): { file?: (source: HostedSource) => unknown };
}

const RULE_PREFIX = '@secretlint/secretlint-rule-';
/** Only filters secretlint-disable comments: not wanted in a redactor. */
const SKIPPED_RULES = new Set(['filter-comments']);
/** The AWS rule finds access key ids (AKIA…) and account ids only when asked. */
const RULE_OPTIONS: Record<string, unknown> = { aws: { enableIDScanRule: true } };
const TOKEN_CHAR = /[A-Za-z0-9\/+=_-]/;
/** `aws_secret_access_key = ` and the like, which the AWS rule includes at the start of its range. */
const LEADING_LABEL = /^["']?[A-Za-z_]*(?:key|KEY|Key|id|ID|Id)["']?\s*(?::|=>|=)\s*["']?/;

/**
 * Some rules report a range that starts at their match (label included) but is only as long as
 * the secret: move the start past a leading `name = ` and extend the end to the end of the token.
 */
function secretRange(text: string, start: number, end: number): [number, number] {
  const label = LEADING_LABEL.exec(text.slice(start, end));
  if (label) start += label[0].length;
  while (end < text.length && TOKEN_CHAR.test(text[end])) end++;
  return [start, end];
}

type FileHandler = (source: HostedSource, sink: SecretRange[]) => void;

function hostRule(rule: HostedRule): FileHandler | undefined {
  const name = rule.meta.id.replace(RULE_PREFIX, '');
  if (SKIPPED_RULES.has(name)) return undefined;
  let sink: SecretRange[] = [];
  const context = {
    sharedOptions: {},
    createTranslator: () => (messageId: string, data?: unknown) => ({ message: messageId, messageId, data }),
    report(descriptor: ReportDescriptor) {
      sink.push({ start: descriptor.range[0], end: descriptor.range[1], rule: name });
    },
    ignore() {},
  };
  const handlers = rule.create(context, RULE_OPTIONS[name] ?? {});
  const file = handlers.file;
  if (!file) return undefined;
  return (source, target) => {
    sink = target;
    const result = file(source);
    // Only the .p12 check is async, and it needs a file path; any other would report too late.
    if (result instanceof Promise) throw new Error(`secretlint rule ${name} is asynchronous; the redactor needs synchronous rules`);
  };
}

/** A text every rule scans: makes a rule that turned async (after an upgrade) fail at start-up, not miss secrets. */
const PROBE_TEXT = 'probe -----BEGIN PRIVATE KEY----- sk-proj- ghp_ xoxb- AKIA postgres://u:p@h/db';

export interface SecretScanner {
  scan(text: string): SecretRange[];
}

/** Builds every rule once; scan() is synchronous and reuses the rule instances. */
export function createSecretlintScanner(): SecretScanner {
  const handlers = (recommendedRules as unknown as HostedRule[])
    .map(hostRule)
    .filter((handler): handler is FileHandler => handler !== undefined);
  const scanner: SecretScanner = {
    scan(text) {
      const found: SecretRange[] = [];
      const source: HostedSource = { content: text, filePath: undefined, ext: '.txt', contentType: 'text' };
      for (const handler of handlers) handler(source, found);
      for (const range of found) [range.start, range.end] = secretRange(text, range.start, range.end);
      return found;
    },
  };
  scanner.scan(PROBE_TEXT);
  return scanner;
}
