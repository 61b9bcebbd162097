// Large requests: 1 MB and 4 MB chats (one big user message; 4 MB of text is about
// a million-token context), one at a time, targets taking turns: latency and each
// process's peak RSS. Then a body over the gateway's limit (16 MiB by default), which
// must be refused with 413 without being buffered.
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import type { Target, Topology } from '../lib/topology.ts';
import { summarize } from '../lib/stats.ts';
import { sleep } from './stream-memory.ts';

export interface LargeBodyOptions {
  sizesMb: number[];
  samples: number;
  oversizeMb: number;
}

export interface LargeBodyPoint {
  target: string;
  sizeMb: number;
  p50Ms: number;
  maxMs: number;
  failures: number;
  /** Peak RSS of the process in the middle during these requests, and its RSS before. */
  peakRssBytes?: number;
  rssBeforeBytes?: number;
}

export interface OversizeResult {
  target: string;
  sizeMb: number;
  /** Whether the client declared the size (content-length) or streamed it chunked. */
  declared: boolean;
  status: number;
  ms: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
}

/** A model whose window takes a 4 MB (~1M-token) prompt. */
const BIG_CONTEXT_MODEL = 'gpt-5.5';

export async function largeBodySuite(topology: Topology, options: LargeBodyOptions, log: (line: string) => void): Promise<{ points: LargeBodyPoint[]; oversize: OversizeResult[] }> {
  const { targets } = topology;
  const agent = new Agent({ keepAlive: true });
  const points: LargeBodyPoint[] = [];
  for (const sizeMb of options.sizesMb) {
    const body = chatOfSize(sizeMb * 1_000_000);
    for (const t of targets) await post(t, body, agent); // warm
    await sleep(300);
    const before = new Map(targets.map((t) => [t.id, t.process?.rss() ?? 0]));
    for (const t of targets) t.process?.resetPeak();
    const ms = new Map<string, number[]>(targets.map((t) => [t.id, []]));
    const failures = new Map<string, number>(targets.map((t) => [t.id, 0]));
    for (let i = 0; i < options.samples; i++) {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(i + j) % targets.length];
        const r = await post(t, body, agent);
        if (r.status === 200) ms.get(t.id)!.push(r.ms);
        else failures.set(t.id, failures.get(t.id)! + 1);
      }
    }
    for (const t of targets) {
      const s = summarize(ms.get(t.id)!);
      const point: LargeBodyPoint = { target: t.id, sizeMb, p50Ms: s.p50, maxMs: s.max, failures: failures.get(t.id)! };
      if (t.process) {
        point.peakRssBytes = t.process.peakRss();
        point.rssBeforeBytes = before.get(t.id)!;
      }
      points.push(point);
      const mem = t.process ? `; RSS ${mb(point.rssBeforeBytes!)} → peak ${mb(point.peakRssBytes!)} MB` : '';
      log(`  ${sizeMb} MB ${t.name.padEnd(26)} p50 ${s.p50.toFixed(1)} ms${mem}${point.failures ? ` (${point.failures} failed)` : ''}`);
    }
  }
  agent.destroy();
  const oversize: OversizeResult[] = [];
  for (const t of targets.filter((x) => x.kind === 'gateway')) {
    for (const declared of [true, false]) {
      const r = await oversizeRequest(t, options.oversizeMb, declared);
      oversize.push(r);
      log(`  ${options.oversizeMb} MB ${declared ? 'with content-length' : 'chunked'} → ${t.name}: ${r.status} in ${r.ms.toFixed(1)} ms; RSS ${mb(r.rssBeforeBytes)} → peak ${mb(r.peakRssBytes)} MB`);
    }
  }
  return { points, oversize };
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she ' +
  'there would their we him been has when who will more no if out so said what up its about into than them can only other new some ' +
  'could time these two may then do first any my now such like our over man me even most made after also did many before must through ' +
  'back years where much your way well down should because each just those people how too little state good very make world still own ' +
  'see men work long get here between both life being under never day same another know while last might us great old year off come ' +
  'since against go came right used take three railway switchyard signal freight engine timetable junction platform carriage gateway ' +
  'request response latency throughput stream token model provider budget ledger'
).split(' ');

/**
 * A chat with one user message of about `bytes` bytes of English-like text (common
 * words, Zipf-like frequencies, from a fixed seed): about 4.5 bytes per o200k token,
 * so 4 MB is about 900k tokens.
 */
export function chatOfSize(bytes: number): string {
  let seed = 42;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const parts: string[] = [];
  let size = 0;
  let sentence = 0;
  while (size < bytes) {
    let w = WORDS[Math.floor(WORDS.length * next() ** 2.2)];
    if (sentence === 0) w = w[0].toUpperCase() + w.slice(1);
    sentence = next() < 0.08 ? 0 : sentence + 1;
    w += sentence === 0 ? '. ' : next() < 0.05 ? ', ' : ' ';
    parts.push(w);
    size += w.length;
  }
  return JSON.stringify({ model: BIG_CONTEXT_MODEL, max_tokens: 16, messages: [{ role: 'user', content: parts.join('') }] });
}

function post(target: Target, body: string, agent: Agent): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(`${target.origin}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${target.key}` } }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

/**
 * Send `sizeMb` MB and see how the gateway answers, and what it cost in memory. A raw
 * socket, so an answer that arrives while the body is still being sent is read (as
 * curl does) rather than lost to the write error when the gateway closes.
 */
async function oversizeRequest(target: Target, sizeMb: number, declared: boolean): Promise<OversizeResult> {
  const proc = target.process!;
  await sleep(300);
  const rssBeforeBytes = proc.rss();
  proc.resetPeak();
  const piece = Buffer.alloc(64 * 1024, 'a');
  const pieces = Math.ceil((sizeMb * 1024 * 1024) / piece.length);
  const { port } = new URL(target.origin);
  const result = await new Promise<{ status: number; ms: number }>((resolve) => {
    const started = performance.now();
    let answer = '';
    let sent = 0;
    const socket = connect(Number(port), '127.0.0.1');
    const finish = () => {
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ status: status ? Number(status[1]) : 0, ms: performance.now() - started });
    };
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      answer += text;
      if (answer.includes('\r\n\r\n')) finish();
    });
    socket.once('error', finish);
    socket.once('close', finish);
    const chunked = !declared;
    const length = pieces * piece.length;
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${target.key}\r\ncontent-type: application/json\r\n${chunked ? 'transfer-encoding: chunked' : `content-length: ${length}`}\r\n\r\n`);
    const write = () => {
      while (sent < pieces && !socket.destroyed) {
        sent++;
        if (chunked) socket.write(`${piece.length.toString(16)}\r\n`);
        let ok = socket.write(piece);
        if (chunked) ok = socket.write('\r\n');
        if (!ok) return void socket.once('drain', write);
      }
      if (chunked && !socket.destroyed) socket.write('0\r\n\r\n');
    };
    write();
  });
  await sleep(200);
  return { target: target.id, sizeMb, declared, status: result.status, ms: result.ms, rssBeforeBytes, peakRssBytes: proc.peakRss() };
}
