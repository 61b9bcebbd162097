import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = new URL('./eval-router.ts', import.meta.url).pathname;

function evalRows(): string[] {
  const rows: object[] = [];
  for (let i = 0; i < 12; i++) {
    const hard = i % 3 === 0;
    const row: Record<string, unknown> = {
      prompt: hard ? `Prove step by step why identity ${i} holds for every integer n.` : `Reformat item ${i} as CSV.`,
      weak: hard ? 0 : 1,
      strong: 1,
    };
    if (i % 2 === 0) row.weak_answer = hard ? `We get ${i} + 1 = ${i + 5}.\n#### ${i + 5}` : `item,${i}`;
    rows.push(row);
  }
  return rows.map((row) => JSON.stringify(row));
}

for (const extra of [[], ['--cv', '2'], ['--cv', '2', '--seed', '11']]) {
  test(`eval-router ${extra.join(' ') || '(shipped weights)'} prints one JSON report, the SVG and one score line per row`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-router-'));
    try {
      const data = join(dir, 'rows.jsonl');
      writeFileSync(data, evalRows().join('\n') + '\n');
      const scoresOut = join(dir, 'scores.jsonl');
      const svg = join(dir, 'curve.svg');
      const { stdout } = await run(process.execPath, [script, '--data', data, '--json', '--scores-out', scoresOut, '--svg', svg, ...extra]);
      const report = JSON.parse(stdout);
      assert.equal(report.rows, 12);
      for (const key of ['router', 'cascade', 'random']) {
        for (const metric of ['apgr', 'cpt50', 'cpt80', 'strong_share_at_95']) assert.equal(typeof report[key][metric], 'number', `${key}.${metric}`);
      }
      assert.ok(report.router.strong_share_at_95 >= 0 && report.router.strong_share_at_95 <= 1);
      assert.equal(report.cascade.rows, 6);
      assert.ok(Math.abs(report.random.apgr - 0.5) < 1e-9);
      assert.ok(report.always_strong.cost_per_1k > report.always_weak.cost_per_1k);
      const lines = readFileSync(scoresOut, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.equal(lines.length, 12);
      lines.forEach((line, i) => {
        assert.equal(typeof line.router, 'number');
        assert.equal(line.cascade === null, i % 2 === 1);
      });
      assert.match(readFileSync(svg, 'utf8'), /^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
