// A minimal OpenAI-format streaming upstream for measuring relay latency: every
// chunk's content is the monotonic time (process.hrtime, shared by all processes on
// Linux) at which it was written, so the client can tell how long each chunk took
// to reach it. Chunks have the size and fields of recorded OpenAI traffic.
// A request's max_tokens (or max_completion_tokens), when set, is its number of content chunks.
// Run: node bench/servers/stamp-upstream.ts --port 0 --chunks 20 --chunk-delay-ms 5
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, chunks: { type: 'string', default: '20' }, 'chunk-delay-ms': { type: 'string', default: '5' } } });
const CHUNKS = Number(values.chunks);
const DELAY_MS = Number(values['chunk-delay-ms']);
const HEAD = '{"id":"chatcmpl-BenchStamp0000000000000000000","object":"chat.completion.chunk","created":1727346168,"model":"gpt-5.4-mini","service_tier":"default","system_fingerprint":"fp_bench0000","choices":[{"index":0,"delta":';

function frame(delta: string, finish: string | null, withUsage: boolean): string {
  return `data: ${HEAD}${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${withUsage ? ',"usage":null' : ''},"obfuscation":"aBcDeF"}\n\n`;
}

function stamped(first: boolean, withUsage: boolean): string {
  const content = `"content":"t${process.hrtime.bigint()} "`;
  return frame(first ? `{"role":"assistant",${content},"refusal":null}` : `{${content}}`, null, withUsage);
}

function stream(res: ServerResponse, withUsage: boolean, chunks: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  let sent = 0;
  const step = () => {
    if (res.destroyed) return;
    if (sent < chunks) {
      res.write(stamped(sent === 0, withUsage));
      sent++;
      setTimeout(step, DELAY_MS);
      return;
    }
    let tail = frame('{}', 'stop', withUsage);
    if (withUsage) tail += `data: ${HEAD.slice(0, HEAD.indexOf('"choices"'))}"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":${chunks},"total_tokens":${12 + chunks},"completion_tokens_details":{"reasoning_tokens":0}}}\n\n`;
    res.end(`${tail}data: [DONE]\n\n`);
  };
  step();
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (raw += chunk));
  req.on('end', () => {
    let includeUsage = false;
    let chunks = CHUNKS;
    try {
      const body = JSON.parse(raw);
      includeUsage = body?.stream_options?.include_usage === true;
      const max = body?.max_completion_tokens ?? body?.max_tokens;
      if (Number.isInteger(max) && max > 0) chunks = max;
    } catch {
      // not JSON: stream anyway
    }
    stream(res, includeUsage, chunks);
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`stamp upstream listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
