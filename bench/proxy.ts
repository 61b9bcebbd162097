// The floor: a bare pass-through proxy (node:http in, undici out, bodies piped both
// ways, nothing parsed). What any Node gateway adds on top of this is its own cost.
// Run: node bench/proxy.ts --port 0 --upstream http://127.0.0.1:4010
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import type { AddressInfo } from 'node:net';

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' } } });
if (!values.upstream) throw new Error('--upstream http://HOST:PORT is required');
const upstream = values.upstream.replace(/\/$/, '');
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : req;
  request(upstream + req.url, { method: req.method as 'POST', headers: endToEnd(req.headers), body, signal: abort.signal, dispatcher: agent }).then(
    (answer) => {
      if (res.destroyed) return answer.body.destroy();
      res.writeHead(answer.statusCode, endToEnd(answer.headers));
      pipeline(answer.body, res, () => {});
    },
    () => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
      else res.destroy();
    },
  );
});

server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
