// Test helpers for the translating providers (anthropic, gemini): fixture files, a
// catalog target, a loopback server that replays recorded bytes, and a stream folder.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SseEvent } from '../../canonical/sse.ts';
import type { FinishReason, StreamEvent, Usage } from '../../canonical/types.ts';
import type { ModelInfo, ProviderKind } from '../../catalog/types.ts';
import { readFixtureJson, readFixtureSse, readFixtureText } from '../../testing/fixtures.ts';
import type { CallContext, Target } from '../types.ts';

export { readFixtureJson as fixtureJson, readFixtureText as fixtureText } from '../../testing/fixtures.ts';

/** The SSE events of a raw *.sse recording or of a *.jsonl file (one data payload a line). */
export function fixtureEvents(name: string): SseEvent[] {
  if (!name.endsWith('.jsonl')) return readFixtureSse(name);
  return readFixtureText(name).split('\n').filter((line) => line.trim()).map((data) => ({ data }));
}

export function catalogModel(id: string): ModelInfo {
  const catalog = JSON.parse(readFileSync(new URL('../../catalog/models.json', import.meta.url), 'utf8')) as { models: ModelInfo[] };
  const model = catalog.models.find((m) => m.id === id);
  if (!model) throw new Error(`no catalog model ${id}`);
  return model;
}

export function makeTarget(provider: ProviderKind, modelId: string, overrides: Partial<Target['deployment']> = {}): Target {
  return {
    model: catalogModel(modelId),
    deployment: {
      id: `${provider}:${modelId}#0`,
      provider,
      providerName: provider,
      baseUrl: 'http://127.0.0.1:9',
      apiKey: provider === 'gemini' ? 'AIzaSyTEST-secret-key-0123456789' : 'sk-ant-api03-TESTSECRETKEY0123456789',
      upstreamModel: modelId,
      weight: 1,
      timeoutMs: 5_000,
      ...overrides,
    },
  };
}

export function callContext(): CallContext {
  return { requestId: 'req_test', signal: new AbortController().signal };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  /** Send the body in pieces of this many bytes, one per event-loop turn. */
  chunkSize?: number;
}

/** A loopback HTTP server answering every request with the next reply (the last one repeats). */
export async function replayServer(...replies: Reply[]): Promise<{ baseUrl: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', async () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      const reply = replies[Math.min(requests.length - 1, replies.length - 1)];
      res.writeHead(reply.status ?? 200, reply.headers ?? { 'content-type': 'application/json' });
      const bytes = Buffer.from(reply.body);
      const size = reply.chunkSize ?? bytes.length;
      for (let at = 0; at < bytes.length; at += size) {
        res.write(bytes.subarray(at, at + size));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FoldedStream {
  text: string;
  reasoning: string;
  signatures: string[];
  redacted: string[];
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason?: FinishReason;
  providerFinishReason?: string;
  usage?: Usage;
  error?: StreamEvent & { type: 'error' };
  warnings?: string[];
  /** The order of event kinds, consecutive repeats collapsed. */
  shape: string[];
}

/** Fold canonical events into what a client ends up with, checking the event-order contract on the way. */
export function foldStream(events: StreamEvent[]): FoldedStream {
  const folded: FoldedStream = { text: '', reasoning: '', signatures: [], redacted: [], toolCalls: [], shape: [] };
  const open = new Set<number>();
  events.forEach((event, i) => {
    if (folded.shape[folded.shape.length - 1] !== event.type) folded.shape.push(event.type);
    if ((event.type === 'start') !== (i === 0)) throw new Error(`'start' must come first and only once (event ${i}: ${event.type})`);
    if ((folded.finishReason || folded.error) && i > 0) throw new Error(`event after the end of the stream: ${event.type}`);
    switch (event.type) {
      case 'start':
        folded.warnings = event.warnings;
        break;
      case 'text-delta':
        folded.text += event.text;
        break;
      case 'reasoning-delta':
        folded.reasoning += event.text;
        break;
      case 'reasoning-end':
        if (event.signature) folded.signatures.push(event.signature);
        if (event.redacted) folded.redacted.push(event.redacted);
        break;
      case 'tool-call-start':
        if (folded.toolCalls[event.index]) throw new Error(`tool call ${event.index} started twice`);
        folded.toolCalls[event.index] = { id: event.id, name: event.name, arguments: '' };
        open.add(event.index);
        break;
      case 'tool-call-delta':
        if (!open.has(event.index)) throw new Error(`delta for tool call ${event.index}, which is not open`);
        folded.toolCalls[event.index].arguments += event.argumentsDelta;
        break;
      case 'tool-call-end':
        if (!open.delete(event.index)) throw new Error(`end of tool call ${event.index}, which is not open`);
        break;
      case 'finish':
        if (open.size > 0) throw new Error('finish while tool calls are still open');
        folded.finishReason = event.finishReason;
        folded.providerFinishReason = event.providerFinishReason;
        folded.usage = event.usage;
        break;
      case 'error':
        folded.error = event;
        folded.usage = event.usage;
        break;
    }
  });
  return folded;
}

export async function drain(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export interface IndexEntry {
  file: string;
  kind: 'request' | 'response' | 'stream-sse' | 'stream-jsonl' | 'error';
  http_status: number | null;
}

/** Fixture files of one provider folder and kind, as listed in INDEX.json. */
export function fixtureIndex(folder: string, kinds: Array<IndexEntry['kind']>): IndexEntry[] {
  return readFixtureJson<IndexEntry[]>('INDEX.json').filter((entry) => entry.file.startsWith(`${folder}/`) && kinds.includes(entry.kind));
}
