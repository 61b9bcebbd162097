// node scripts/routing-jsonl.ts [--out DIR] — writes DIR/mmlu.jsonl and DIR/gsm8k.jsonl (default
// /tmp/routing-eval) in the eval-router format from fixtures/routing-data, contaminated prompts dropped.
// MMLU rows carry weak/strong 0/1 and the subject as task; GSM8K rows also the weak model's answer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR, readBenchmarkFolder } from './lib/routing-data.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: '/tmp/routing-eval' } } });
const out = values.out ?? '/tmp/routing-eval';
mkdirSync(out, { recursive: true });
for (const benchmark of ['mmlu', 'gsm8k']) {
  const rows = readBenchmarkFolder(DATA_DIR + benchmark);
  const file = join(out, `${benchmark}.jsonl`);
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  console.log(`${file}: ${rows.length} rows`);
}
