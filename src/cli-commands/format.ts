// Shared pieces of the admin CLI commands: the io they write to, flag parsing for
// budgets and expiry, and plain-text tables.

/** Where a command writes; `process` fits. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

/** A mistake in the command line: printed with exit code 2. */
export class UsageError extends Error {}

/** node:util's parse error without its advice about `--`, which is not what a mistyped option needs. */
export function parseErrorText(error: Error): string {
  return error.message.replace(/\. To specify a positional argument starting with a '-'[\s\S]*$/, '.');
}

export const BACKEND_OPTIONS = {
  url: { type: 'string' },
  db: { type: 'string' },
  postgres: { type: 'string' },
  schema: { type: 'string' },
  timezone: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const PERIOD_WORDS: Record<string, string> = {
  day: 'day', daily: 'day', d: 'day', week: 'week', weekly: 'week', w: 'week',
  month: 'month', monthly: 'month', m: 'month', total: 'total', lifetime: 'total',
};

/** "10/month", "2.5/day:soft" → a budget body. */
export function parseBudget(text: string, flag: string): Record<string, unknown> {
  const match = /^\$?(\d+(?:\.\d+)?)\/([a-z]+)(?::(soft|hard))?$/.exec(text.trim());
  const period = match ? PERIOD_WORDS[match[2]] : undefined;
  if (!match || !period) throw new UsageError(`${flag} '${text}' is not USD/period: use e.g. 10/month, 2.5/day or 100/total (':soft' to alert instead of refusing).`);
  return { limit_usd: Number(match[1]), period, hard: match[3] !== 'soft' };
}

/** "gpt-5.5=20/day" → a per-model budget body. */
export function parseModelBudget(text: string): Record<string, unknown> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--model-budget '${text}' is not MODEL=USD/period: use e.g. gpt-5.5=20/day.`);
  return { ...parseBudget(text.slice(eq + 1), '--model-budget'), model: text.slice(0, eq) };
}

/** An ISO date/time, or "30d" / "12h" / "45m" from now. */
export function parseExpiry(text: string, now = Date.now()): string {
  const relative = /^(\d+)([dhm])$/.exec(text);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now + Number(relative[1]) * unit).toISOString();
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`--expires '${text}' is not a date: use 2026-12-31, 2026-12-31T18:00:00Z, or 30d / 12h from now.`);
  return new Date(time).toISOString();
}

export function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${flag} '${text}' is not a positive whole number.`);
  return value;
}

/** Repeated and comma-separated values, flattened. */
export function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: string[]) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
