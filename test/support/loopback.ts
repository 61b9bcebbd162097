// A test's own fake upstream on a free loopback port: its /v1 base URL and a close that
// also ends kept-alive connections (so the test's `after` never waits on the gateway's pool).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function serveOnLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
