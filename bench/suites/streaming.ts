// Streaming chat against the chunk-stamping upstream:
// - time to first chunk, one stream at a time, targets taking turns request by request;
// - chunk relay latency (upstream write → client receipt, from the stamps) with a few
//   streams open at once, in alternating rounds.
import { Agent } from 'node:http';
import type { Target, Topology } from '../lib/topology.ts';
import { openStream } from '../lib/stream-client.ts';
import { summarize } from '../lib/stats.ts';

export interface StreamingOptions {
  /** Streams per target for time to first chunk. */
  firstChunkSamples: number;
  /** Concurrent streams during the relay measurement. */
  relayConcurrency: number;
  /** Content chunks per stream during the relay measurement. */
  relayChunks: number;
  rounds: number;
  /** Seconds per target per round of the relay measurement. */
  seconds: number;
}

export interface StreamingPoint {
  target: string;
  firstChunkP50Ms: number;
  firstChunkP99Ms: number;
  relayP50Ms: number;
  relayP99Ms: number;
  chunks: number;
  streams: number;
  failures: number;
}

function streamBody(chunks: number): string {
  return JSON.stringify({ model: 'gpt-5.4-mini', stream: true, max_tokens: chunks, messages: [{ role: 'user', content: 'Count slowly.' }] });
}

export async function streamingSuite(topology: Topology, options: StreamingOptions, log: (line: string) => void): Promise<StreamingPoint[]> {
  const { targets } = topology;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const first = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  const relay = new Map<string, { ms: number[]; streams: number; failures: number }>(targets.map((t) => [t.id, { ms: [], streams: 0, failures: 0 }]));
  const shortBody = streamBody(2);
  for (const target of targets) await streamOnce(target, shortBody, agent); // warm
  for (let i = 0; i < options.firstChunkSamples; i++) {
    for (let j = 0; j < targets.length; j++) {
      const target = targets[(i + j) % targets.length];
      const timing = await streamOnce(target, shortBody, agent);
      if (timing.status === 200) first.get(target.id)!.push(timing.firstChunkMs);
      else relay.get(target.id)!.failures++;
    }
  }
  const longBody = streamBody(options.relayChunks);
  for (let round = 0; round < options.rounds; round++) {
    for (let j = 0; j < targets.length; j++) {
      const target = targets[(round + j) % targets.length];
      await relayRound(target, longBody, agent, options, relay.get(target.id)!);
    }
  }
  agent.destroy();
  const points: StreamingPoint[] = [];
  for (const target of targets) {
    const f = summarize(first.get(target.id)!);
    const r = relay.get(target.id)!;
    const rs = summarize(r.ms);
    points.push({ target: target.id, firstChunkP50Ms: f.p50, firstChunkP99Ms: f.p99, relayP50Ms: rs.p50, relayP99Ms: rs.p99, chunks: rs.count, streams: r.streams, failures: r.failures });
    log(`  ${target.name.padEnd(26)} first chunk p50 ${f.p50.toFixed(2)} ms p99 ${f.p99.toFixed(2)} ms; chunk relay p50 ${rs.p50.toFixed(3)} ms p99 ${rs.p99.toFixed(3)} ms (${rs.count} chunks)${r.failures ? ` ${r.failures} failed` : ''}`);
  }
  return points;
}

function streamOnce(target: Target, body: string, agent: Agent) {
  return openStream(`${target.origin}/v1/chat/completions`, target.key, body, agent).done;
}

/** Keep `relayConcurrency` streams going for `seconds`, collecting every chunk's relay time. */
async function relayRound(target: Target, body: string, agent: Agent, options: StreamingOptions, into: { ms: number[]; streams: number; failures: number }): Promise<void> {
  const deadline = performance.now() + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const timing = await streamOnce(target, body, agent);
      into.streams++;
      if (timing.status !== 200) into.failures++;
      for (const ms of timing.relayMs) into.ms.push(ms);
    }
  };
  await Promise.all(Array.from({ length: options.relayConcurrency }, worker));
}
