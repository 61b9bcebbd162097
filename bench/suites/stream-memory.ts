// Memory with many open streams: N streaming chats held open at once (the upstream
// sends a chunk every few hundred ms), the process's RSS sampled while all are open,
// and the cost per stream = (RSS with N open − RSS idle) / N.
import { Agent } from 'node:http';
import type { Target, Topology } from '../lib/topology.ts';
import { openStream } from '../lib/stream-client.ts';
import type { OpenStream } from '../lib/stream-client.ts';

export interface StreamMemoryOptions {
  streams: number;
  /** How long to wait for every stream's first chunk. */
  openTimeoutMs: number;
}

export interface StreamMemoryResult {
  target: string;
  streams: number;
  /** Streams that had their first chunk when RSS was sampled. */
  opened: number;
  idleRssBytes: number;
  openRssBytes: number;
  /** The process's own memory (RSS without shared pages such as the node binary), idle and with the streams open. */
  idlePrivateBytes: number;
  openPrivateBytes: number;
  perStreamBytes: number;
  /** Seconds until every stream had its first chunk (or the timeout). */
  openSeconds: number;
}

export const STREAM_BODY = JSON.stringify({
  model: 'gpt-5.4-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Tell me a long story about a railway switchyard.' }],
});

const BATCH = 100;

export async function streamMemorySuite(topology: Topology, options: StreamMemoryOptions, log: (line: string) => void): Promise<StreamMemoryResult[]> {
  const results: StreamMemoryResult[] = [];
  for (const target of topology.middles()) {
    const result = await measure(target, options);
    results.push(result);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    log(`  ${target.name.padEnd(26)} RSS idle ${mb(result.idleRssBytes)} MB, ${result.opened}/${result.streams} open ${mb(result.openRssBytes)} MB (own ${mb(result.openPrivateBytes)} MB) → ${(result.perStreamBytes / 1024).toFixed(1)} KB/stream (${result.openSeconds.toFixed(1)} s to open)`);
  }
  return results;
}

async function measure(target: Target, options: StreamMemoryOptions): Promise<StreamMemoryResult> {
  const proc = target.process!;
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const url = `${target.origin}/v1/chat/completions`;
  // Warm the code paths, then let the process settle.
  await holdStreams(url, target.key, agent, 20, 1000);
  await sleep(1500);
  const idleRssBytes = proc.rss();
  const idlePrivateBytes = proc.privateBytes();
  const started = performance.now();
  const streams: OpenStream[] = [];
  for (let i = 0; i < options.streams; i += BATCH) {
    for (let j = i; j < Math.min(options.streams, i + BATCH); j++) streams.push(openStream(url, target.key, STREAM_BODY, agent));
    await sleep(20);
  }
  const opened = await countOpened(streams, options.openTimeoutMs);
  const openSeconds = (performance.now() - started) / 1000;
  let openRssBytes = 0;
  let openPrivateBytes = 0;
  for (let i = 0; i < 5; i++) {
    openRssBytes = Math.max(openRssBytes, proc.rss());
    openPrivateBytes = Math.max(openPrivateBytes, proc.privateBytes());
    await sleep(200);
  }
  for (const s of streams) s.close();
  await Promise.all(streams.map((s) => s.done));
  agent.destroy();
  return { target: target.id, streams: options.streams, opened, idleRssBytes, openRssBytes, idlePrivateBytes, openPrivateBytes, perStreamBytes: (openRssBytes - idleRssBytes) / Math.max(1, opened), openSeconds };
}

async function countOpened(streams: OpenStream[], timeoutMs: number): Promise<number> {
  let opened = 0;
  const all = Promise.all(streams.map((s) => s.firstChunk.then((ok) => void (ok && opened++))));
  await Promise.race([all, sleep(timeoutMs)]);
  return opened;
}

async function holdStreams(url: string, key: string, agent: Agent, n: number, ms: number): Promise<void> {
  const streams = Array.from({ length: n }, () => openStream(url, key, STREAM_BODY, agent));
  await sleep(ms);
  for (const s of streams) s.close();
  await Promise.all(streams.map((s) => s.done));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
