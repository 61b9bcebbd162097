import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeCorked } from './drain.ts';

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

test('writeCorked: a chunk goes out within its turn, and a stream whose last chunks and end come in one turn keeps their order and its trailer (a corked response would lose them)', async () => {
  let sendRest!: () => void;
  const server = createServer((_req, res) => {
    res.setHeader('trailer', 'x-cost');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    writeCorked(res, 'data: first\n\n');
    sendRest = () => {
      writeCorked(res, 'data: second\n\n');
      writeCorked(res, Buffer.from('data: [DONE]\n\n'));
      res.addTrailers({ 'x-cost': '0.5' });
      res.end();
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    for (let round = 0; round < 2; round++) {
      // Twice on one keep-alive connection: the second response is not held by the first's cork.
      const { body, trailers } = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
        const req = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', agent: keepAlive }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            // The first chunk arrives while the rest is not even written yet.
            if (body === '') setTimeout(sendRest, 20);
            body += chunk;
          });
          res.on('end', () => resolve({ body, trailers: res.trailers }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, 'data: first\n\ndata: second\n\ndata: [DONE]\n\n');
      assert.equal(trailers['x-cost'], '0.5');
    }
  } finally {
    keepAlive.destroy();
    server.close();
  }
});
