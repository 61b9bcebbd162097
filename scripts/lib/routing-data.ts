// Rows of the router evaluation format, read from fixtures/routing-data (the RouteLLM CSVs) or
// from an eval JSONL file. Contaminated prompts (those in contaminated_prompts.jsonl as
// eval_prompt) are dropped.
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { parse } from 'csv-parse/sync';

export interface EvalRow {
  prompt: string;
  /** Quality of the weak and the strong model's answer, 0..1. */
  weak: number;
  strong: number;
  weak_answer?: string;
  task?: string;
}

export const WEAK_COLUMN = 'mistralai/Mixtral-8x7B-Instruct-v0.1';
export const STRONG_COLUMN = 'gpt-4-1106-preview';
export const DATA_DIR = new URL('../../fixtures/routing-data/', import.meta.url).pathname;

function contaminatedPrompts(folder: string): Set<string> {
  const file = join(folder, 'contaminated_prompts.jsonl');
  const prompts = new Set<string>();
  if (!existsSync(file)) return prompts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim()) prompts.add((JSON.parse(line) as { eval_prompt: string }).eval_prompt);
  }
  return prompts;
}

function truthy(value: string): number {
  return /^true$/i.test(value.trim()) ? 1 : 0;
}

function readCsv(file: string): Record<string, string>[] {
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, relax_quotes: true }) as Record<string, string>[];
}

/** One benchmark folder (mmlu or gsm8k) of fixtures/routing-data as eval rows. */
export function readBenchmarkFolder(folder: string): EvalRow[] {
  const dropped = contaminatedPrompts(folder);
  const rows: EvalRow[] = [];
  for (const name of readdirSync(folder).filter((f) => f.endsWith('.csv')).sort()) {
    const task = basename(name, '.csv').replace(/_responses$/, '');
    for (const record of readCsv(join(folder, name))) {
      if (dropped.has(record.prompt)) continue;
      const row: EvalRow = { prompt: record.prompt, weak: truthy(record[WEAK_COLUMN]), strong: truthy(record[STRONG_COLUMN]), task };
      const answer = record[`${WEAK_COLUMN}_response`];
      if (answer !== undefined) row.weak_answer = answer;
      rows.push(row);
    }
  }
  return rows;
}

/** A score on the file's scale to 0..1: a 1..10 scale (chosen per file) maps 1 → 0 and 10 → 1. */
export function normaliseScore(value: number, tenPoint: boolean): number {
  return tenPoint ? (Math.min(10, Math.max(1, value)) - 1) / 9 : Math.min(1, Math.max(0, value));
}

/** Eval JSONL rows; a 1..10 scale is detected per file (any weak/strong score above 1). */
export function parseEvalJsonl(text: string): EvalRow[] {
  const raw = text.split('\n').filter((line) => line.trim()).map((line, i) => {
    const row = JSON.parse(line) as Partial<EvalRow>;
    if (typeof row.prompt !== 'string' || typeof row.weak !== 'number' || typeof row.strong !== 'number') {
      throw new Error(`line ${i + 1}: needs "prompt" (string), "weak" and "strong" (numbers)`);
    }
    return row as EvalRow;
  });
  const tenPoint = raw.some((row) => row.weak > 1 || row.strong > 1);
  return raw.map((row) => ({ ...row, weak: normaliseScore(row.weak, tenPoint), strong: normaliseScore(row.strong, tenPoint) }));
}

/** --data accepts an eval JSONL file or a benchmark folder of fixtures/routing-data. */
export function readEvalRows(path: string): EvalRow[] {
  if (statSync(path).isDirectory()) return readBenchmarkFolder(path);
  return parseEvalJsonl(readFileSync(path, 'utf8'));
}
