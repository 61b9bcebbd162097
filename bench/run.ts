// `npm run bench`: what the gateway adds to every call, against calling the fake
// upstream directly and a bare pass-through proxy, all measured in one run.
// Writes bench/results/latest.{md,json} and latency-vs-concurrency.svg.
//
//   npm run bench                      every suite (about 10 minutes on 2 cores)
//   npm run bench -- --quick           shorter rounds, 300 streams: a smoke run
//   npm run bench -- --suite latency   only some suites: latency, streaming, memory, bodies, crash, router, redaction, requestlog
//   npm run bench -- --suite crash     kill -9 cycles under load on SQLite and PostgreSQL (10; 3 with --quick)
//   npm run bench -- --scenario gateway only some gateway scenarios (see bench/scenarios.ts)
//   npm run bench -- --suite latency --scenario gateway --profile /tmp/prof
//                                      gateways run under --cpu-prof; prints where their CPU went
//                                      (node bench/profile-summary.ts DIR reads a folder again)
//   npm run bench -- --node-flag=--heap-prof --node-flag=--heap-prof-dir=/tmp/heap
//                                      more Node flags for every gateway process
//   npm run bench -- --suite latency --scenario gateway --baseline /tmp/main
//                                      each scenario also run from another checkout (its own
//                                      node_modules), taking turns: a change against its base, one run
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/processes.ts';
import { scenarios, withBaseline } from './scenarios.ts';
import { startTopology } from './lib/topology.ts';
import type { Topology, TopologyOptions, UpstreamSpec } from './lib/topology.ts';
import { latencySuite } from './suites/latency.ts';
import { streamingSuite } from './suites/streaming.ts';
import { streamMemorySuite } from './suites/stream-memory.ts';
import { largeBodySuite } from './suites/large-bodies.ts';
import { crashSuite } from './suites/crash.ts';
import { runRouterDecisionBench } from './suites/router-decision.ts';
import { runRedactionBench } from './suites/redaction.ts';
import { requestLogSuite } from './suites/request-log.ts';
import { gatewayRatios, targetChecks } from './report/results.ts';
import type { BenchResults } from './report/results.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderLatencyPlot } from './report/plot.ts';
import { summarizeProfiles } from './profile-summary.ts';

const SUITES = ['latency', 'streaming', 'memory', 'bodies', 'crash', 'router', 'redaction', 'requestlog'] as const;
type Suite = (typeof SUITES)[number];
/** The suites that run the servers of a topology (the others run in-process or on their own). */
const TOPOLOGY_SUITES: readonly Suite[] = ['latency', 'streaming', 'memory', 'bodies'];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    suite: { type: 'string', multiple: true },
    scenario: { type: 'string', multiple: true },
    streams: { type: 'string' },
    profile: { type: 'string' },
    'node-flag': { type: 'string', multiple: true },
    baseline: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
  },
});
const suites = (values.suite?.flatMap((s) => s.split(',')) ?? [...SUITES]) as Suite[];
for (const s of suites) if (!SUITES.includes(s)) throw new Error(`unknown suite '${s}': use ${SUITES.join(', ')}`);
const quick = values.quick;
// Each run profiles into a folder of its own, so the summary covers this run only.
const profileDir = values.profile ? join(values.profile, `run-${Date.now()}`) : undefined;
const topologyOptions: TopologyOptions = {
  only: values.scenario?.flatMap((s) => s.split(',')),
  scenarios: values.baseline ? withBaseline(scenarios, values.baseline) : undefined,
  // As `npm start` runs the gateway (package.json), plus the profiler when asked.
  gatewayNodeFlags: ['--max-semi-space-size=8', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(values['node-flag'] ?? [])],
};
const log = (line: string) => process.stdout.write(line + '\n');

async function withTopology<T>(results: BenchResults, spec: UpstreamSpec, run: (t: Topology) => Promise<T>, suite: Suite): Promise<T> {
  const topology = await startTopology(spec, { ...topologyOptions, suite });
  for (const { id, name, kind } of topology.targets) if (!results.targets.some((t) => t.id === id)) results.targets.push({ id, name, kind });
  try {
    return await run(topology);
  } finally {
    await topology.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpus();
  const results: BenchResults = {
    meta: { date: new Date().toISOString(), node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? 'unknown', platform: `${platform()} ${release()}`, quick, seconds: 0 },
    targets: [],
  };
  if (suites.some((s) => TOPOLOGY_SUITES.includes(s))) {
    // Every gateway measured as from its second start on, with Node's compile cache warm
    // (src/main.js): a first start also holds Node's TypeScript stripper, ~20 MB per thread.
    log('Warming the compile cache: one start and stop of every server…');
    await (await startTopology({ kind: 'mock', flags: [] }, topologyOptions)).stop();
  }
  if (suites.includes('latency')) {
    log('Non-stream chat, closed-loop load (autocannon):');
    // Warm-up: a freshly started gateway needs ~30,000 requests before V8 has optimised its
    // hot path (measured at c=16: ~400 µs of CPU per request in its first 2 s, ~330 in the
    // next 2, ~220 from 8 s on). A gateway runs for days: the rounds measure it warm, as
    // they do the proxy (which settles sooner, having less code).
    const options = { concurrencies: [1, 16, 64], rounds: quick ? 1 : 3, seconds: quick ? 1 : 1.5, warmupSeconds: quick ? 0.5 : 8 };
    results.latency = await withTopology(results, { kind: 'mock', flags: [] }, (t) => latencySuite(t, options, log), 'latency');
    results.ratios = gatewayRatios(results.latency, results.targets);
    log('Streamed chat, closed-loop load (whole streams, the upstream sending as fast as it can):');
    const streamed = { ...options, concurrencies: [16, 64], stream: true };
    results.streamThroughput = await withTopology(results, { kind: 'mock', flags: [] }, (t) => latencySuite(t, streamed, log), 'latency');
    results.streamRatios = gatewayRatios(results.streamThroughput, results.targets);
  }
  if (suites.includes('streaming')) {
    log('Streaming (chunk-stamping upstream, a chunk every 5 ms):');
    const options = { firstChunkSamples: quick ? 20 : 60, relayConcurrency: 8, relayChunks: 40, rounds: quick ? 1 : 3, seconds: quick ? 1 : 2 };
    results.streaming = await withTopology(results, { kind: 'stamp', flags: ['--chunk-delay-ms', '5'] }, (t) => streamingSuite(t, options, log), 'streaming');
  }
  if (suites.includes('memory')) {
    const streams = Number(values.streams ?? (quick ? 300 : 1000));
    log(`Memory with ${streams} open streams (the upstream sends a chunk every 200 ms):`);
    const memory = await withTopology(results, { kind: 'mock', flags: ['--chunks', '100', '--chunk-delay-ms', '200'] }, (t) => streamMemorySuite(t, { streams, openTimeoutMs: 10_000 }, log), 'memory');
    results.streamMemory = { streams, results: memory };
  }
  if (suites.includes('bodies')) {
    log('Large request bodies:');
    results.largeBodies = await withTopology(results, { kind: 'mock', flags: [] }, (t) => largeBodySuite(t, { sizesMb: [1, 4], samples: quick ? 3 : 8, oversizeMb: 20 }, log), 'bodies');
  }
  if (suites.includes('crash')) {
    const cycles = quick ? 3 : 10;
    log(`Crash: ${cycles} kill -9 cycles under mixed stream and non-stream load, each restarted on the same store:`);
    results.crash = await crashSuite({ cycles, workers: 12, killAfterMs: [250, 750] }, log);
  }
  if (suites.includes('router')) {
    log('Router decision time (the difficulty classifier on a ~4k-token prompt, in-process):');
    results.router = await runRouterDecisionBench();
    log(`  ${results.router.promptTokens} tokens: p50 ${results.router.p50Ms.toFixed(3)} ms, p99 ${results.router.p99Ms.toFixed(3)} ms`);
  }
  if (suites.includes('redaction')) {
    log('Redaction of a typical chat prompt (secrets and personal data masked, JSON walked):');
    results.redaction = await runRedactionBench();
    log(`  ${results.redaction.bytes} bytes: p50 ${results.redaction.p50Ms.toFixed(3)} ms, p99 ${results.redaction.p99Ms.toFixed(3)} ms`);
  }
  if (suites.includes('requestlog')) {
    const rows = quick ? 100_000 : 1_000_000;
    log(`Request log: ${rows} rows, the dashboard's queries (first page, a deep page, a page 15 days back):`);
    results.requestLog = { rows, queries: await requestLogSuite({ rows, log }) };
  }
  results.checks = targetChecks(results);
  results.meta.seconds = (performance.now() - started) / 1000;
  write(results);
  if (profileDir) log(summarizeProfiles(profileDir, 25));
}

function write(results: BenchResults): void {
  mkdirSync(values.out!, { recursive: true });
  const markdown = renderMarkdown(results);
  writeFileSync(join(values.out!, 'latest.md'), markdown + '\n');
  writeFileSync(join(values.out!, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  if (results.latency) {
    const subtitle = `${results.meta.cpus} × ${results.meta.cpuModel}, Node ${results.meta.node}, ${results.meta.date.slice(0, 10)}`;
    writeFileSync(join(values.out!, 'latency-vs-concurrency.svg'), renderLatencyPlot(results.latency, results.targets, subtitle));
  }
  log('\n' + markdown);
  log(`\nWritten to ${values.out}/latest.md, latest.json${results.latency ? ', latency-vs-concurrency.svg' : ''}`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
