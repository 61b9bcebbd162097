// Chat under closed-loop load at several concurrencies, non-stream or streamed (a stream
// counts once it has ended): latency p50/p99 and throughput for every target, measured
// in alternating short rounds so the machine's noise falls on all targets alike.
import type { Target, Topology } from '../lib/topology.ts';
import { runLoad } from '../lib/load.ts';
import { summarize } from '../lib/stats.ts';
import { noThreadCpu, THREAD_KINDS } from '../lib/processes.ts';
import type { ThreadCpu } from '../lib/processes.ts';

export interface LatencyOptions {
  concurrencies: number[];
  rounds: number;
  /** Seconds per target per round. */
  seconds: number;
  warmupSeconds: number;
  /** Ask for streamed answers: a response counts once its stream has ended. */
  stream?: boolean;
}

export interface LatencyPoint {
  target: string;
  concurrency: number;
  /** Responses per second (2xx and not). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  responses: number;
  failures: number;
  /** CPU time of the process in the middle (proxy or gateway) per response. */
  cpuMsPerRequest?: number;
  /** The same by thread kind: event loop, worker threads (the SQLite writer), V8 helpers (GC), the rest. */
  cpuMsPerRequestByThread?: ThreadCpu;
}

const chatBody = (model: string, stream = false) => JSON.stringify({
  model,
  ...(stream ? { stream: true } : {}),
  messages: [
    { role: 'system', content: 'You are a helpful assistant. Answer in one short sentence.' },
    { role: 'user', content: 'Hello! What is a gateway, in a few words?' },
  ],
});

export const CHAT_BODY = chatBody('gpt-5.4-mini');
const STREAM_BODY = chatBody('gpt-5.4-mini', true);

const MAX_REQUESTS_PER_RUN = 200_000;

export async function latencySuite(topology: Topology, options: LatencyOptions, log: (line: string) => void): Promise<LatencyPoint[]> {
  const { targets } = topology;
  for (const target of targets) await runOnce(target, 16, options.warmupSeconds, options.stream);
  const points: LatencyPoint[] = [];
  for (const concurrency of options.concurrencies) {
    const acc = new Map(targets.map((t) => [t.id, { latencies: [] as number[], responses: 0, failures: 0, seconds: 0, cpuMs: 0, threads: noThreadCpu() }]));
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round, so no target always runs first (or after the same one).
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + round) % targets.length];
        const cpuBefore = target.process?.cpuMs() ?? 0;
        const threadsBefore = target.process?.cpuMsByThread();
        const run = await runOnce(target, concurrency, options.seconds, options.stream);
        const a = acc.get(target.id)!;
        for (const ms of run.latencies) a.latencies.push(ms);
        a.responses += run.responses;
        a.failures += run.non2xx + run.errors;
        a.seconds += run.seconds;
        a.cpuMs += (target.process?.cpuMs() ?? 0) - cpuBefore;
        const threadsAfter = target.process?.cpuMsByThread();
        if (threadsBefore && threadsAfter) for (const kind of THREAD_KINDS) a.threads[kind] += threadsAfter[kind] - threadsBefore[kind];
      }
    }
    for (const target of targets) {
      const a = acc.get(target.id)!;
      const s = summarize(a.latencies);
      const point: LatencyPoint = { target: target.id, concurrency, rps: a.responses / a.seconds, p50Ms: s.p50, p99Ms: s.p99, meanMs: s.mean, maxMs: s.max, responses: a.responses, failures: a.failures };
      if (target.process) {
        point.cpuMsPerRequest = a.cpuMs / a.responses;
        point.cpuMsPerRequestByThread = noThreadCpu();
        for (const kind of THREAD_KINDS) point.cpuMsPerRequestByThread[kind] = a.threads[kind] / a.responses;
      }
      points.push(point);
      log(`  ${options.stream ? 'stream ' : ''}c=${String(concurrency).padStart(2)} ${target.name.padEnd(26)} ${point.rps.toFixed(0).padStart(6)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms${a.failures ? `  (${a.failures} failed)` : ''}`);
    }
  }
  return points;
}

function runOnce(target: Target, connections: number, seconds: number, stream = false) {
  return runLoad({
    url: `${target.origin}/v1/chat/completions`,
    connections,
    duration: seconds,
    maxRequests: MAX_REQUESTS_PER_RUN,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` },
    body: target.model ? chatBody(target.model, stream) : stream ? STREAM_BODY : CHAT_BODY,
  });
}
