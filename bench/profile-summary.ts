// Where a process spent its CPU: sums self time by function (and by source) over the
// .cpuprofile files `node --cpu-prof` wrote into a directory.
// Run: node bench/profile-summary.ts /tmp/prof [top]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfiles(dir: string, top = 25): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < profile.samples.length; i++) {
      const frame = nodes.get(profile.samples[i])!.callFrame;
      const us = profile.timeDeltas[i] ?? 0;
      if (frame.functionName === '(idle)') continue;
      total += us;
      const where = shortUrl(frame.url);
      add(byFunction, `${frame.functionName || '(anonymous)'}  ${where}${where ? `:${frame.lineNumber + 1}` : ''}`, us);
      add(bySource, sourceGroup(where, frame.functionName), us);
    }
  }
  const lines = [`CPU profile: ${files.length} file(s) in ${dir}, ${(total / 1000).toFixed(0)} ms busy (idle excluded)`, '', 'self time by function:'];
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us, total)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  lines.push('', 'self time by source:');
  for (const [name, us] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`${pct(us, total)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  return lines.join('\n');
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function pct(us: number, total: number): string {
  return `${((100 * us) / total).toFixed(1).padStart(5)}%`;
}

function shortUrl(url: string): string {
  const at = url.indexOf('/node_modules/');
  if (at !== -1) return url.slice(at + 1);
  const src = url.indexOf('/src/');
  if (src !== -1) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** A package, a folder of ours, Node's internals, or V8's own buckets (GC, program). */
function sourceGroup(where: string, fn: string): string {
  if (!where) return fn.startsWith('(') ? fn : '(native)';
  if (where.startsWith('node_modules/')) return where.split('/').slice(0, where.startsWith('node_modules/@') ? 3 : 2).join('/');
  if (where.startsWith('src/')) return where.split('/').slice(0, -1).join('/') + '/';
  if (where.startsWith('node:')) return where.split('/').slice(0, 3).join('/');
  return where;
}

if (import.meta.main) {
  const [dir, top] = process.argv.slice(2);
  if (!dir) throw new Error('usage: node bench/profile-summary.ts DIR [top]');
  process.stdout.write(summarizeProfiles(dir, top ? Number(top) : 25) + '\n');
}
