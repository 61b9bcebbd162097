// Every ```yaml block of the README is a switchyard.yaml a reader may copy: each one must
// load through the real loader, with the variables it references set to values that
// would break the YAML if they were pasted into the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function yamlBlocks(markdown: string): Array<{ line: number; text: string }> {
  const blocks: Array<{ line: number; text: string }> = [];
  const fence = /^```ya?ml[^\n]*\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(fence)) {
    blocks.push({ line: markdown.slice(0, match.index).split('\n').length, text: match[1] });
  }
  return blocks;
}

function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))];
}

test('the README has config examples', () => {
  assert.ok(yamlBlocks(README).length > 0, 'no ```yaml block found in README.md');
});

for (const block of yamlBlocks(README)) {
  test(`README.md line ${block.line}: the yaml example loads through the config loader`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-readme-'));
    try {
      writeFileSync(join(dir, 'switchyard.yaml'), block.text);
      const env: NodeJS.ProcessEnv = {};
      for (const name of referencedVariables(block.text)) env[name] = `readme-${name}: "x"], {y} # z`;
      const config = loadConfig({ cwd: dir, env });
      assert.equal(config.configPath, join(dir, 'switchyard.yaml'));
      const loaded = JSON.stringify(config.file);
      for (const [name, value] of Object.entries(env)) assert.ok(loaded.includes(JSON.stringify(value).slice(1, -1)), `\${${name}} did not arrive as its value`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
