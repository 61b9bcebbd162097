// A raw SSE client for the streaming suites: node:http, no parsing beyond finding
// the chunk stamps, so the client itself costs little and the same for every target.
import { request, Agent } from 'node:http';
import type { ClientRequest } from 'node:http';

export interface StreamTiming {
  status: number;
  /** ms from sending the request to its response headers. */
  headersMs: number;
  /** ms from sending the request to the first body bytes (the first chunk). */
  firstChunkMs: number;
  /** ms each stamped chunk took from the upstream's write to arrival here. */
  relayMs: number[];
  bytes: number;
}

export interface OpenStream {
  /** Resolves when the first body bytes arrive (false if the stream failed first). */
  firstChunk: Promise<boolean>;
  /** Resolves when the stream ends, fails or is closed. */
  done: Promise<StreamTiming>;
  close(): void;
}

const STAMP = /"content":"t(\d+) /g;

/** Open one streaming chat request; the body must ask for `stream: true`. */
export function openStream(url: string, key: string, body: string, agent: Agent): OpenStream {
  const started = process.hrtime.bigint();
  const sinceStart = () => Number(process.hrtime.bigint() - started) / 1e6;
  const timing: StreamTiming = { status: 0, headersMs: NaN, firstChunkMs: NaN, relayMs: [], bytes: 0 };
  let req: ClientRequest;
  let markFirst: (ok: boolean) => void = () => {};
  const firstChunk = new Promise<boolean>((resolve) => (markFirst = resolve));
  const done = new Promise<StreamTiming>((resolve) => {
    req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } }, (res) => {
      timing.status = res.statusCode ?? 0;
      timing.headersMs = sinceStart();
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const now = process.hrtime.bigint();
        if (timing.bytes === 0) {
          timing.firstChunkMs = Number(now - started) / 1e6;
          markFirst(true);
        }
        timing.bytes += text.length;
        // A stamp may be split across reads: keep the unfinished tail of the last event.
        const scan = carry + text;
        const end = scan.lastIndexOf('\n\n');
        carry = end === -1 ? scan : scan.slice(end + 2);
        if (end === -1) return;
        STAMP.lastIndex = 0;
        const complete = scan.slice(0, end);
        for (let m = STAMP.exec(complete); m; m = STAMP.exec(complete)) timing.relayMs.push(Number(now - BigInt(m[1])) / 1e6);
      });
      res.once('close', () => {
        markFirst(false);
        resolve(timing);
      });
    });
    req.once('error', () => {
      markFirst(false);
      resolve(timing);
    });
    req.end(body);
  });
  return { firstChunk, done, close: () => req.destroy() };
}
