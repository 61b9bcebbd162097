// Outages a test can play mid-traffic: a Redis of its own (a redis-server child on a free
// port, stopped and started again on the same port) and a TCP proxy in front of a service
// (PostgreSQL, Redis) whose link the test cuts and restores.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A reason to skip when there is no redis-server binary to run, else undefined. */
export function ownRedisUnavailable(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `no ${REDIS_SERVER} to run a test-owned Redis`;
}

/** A loopback port nothing listens on (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OwnRedis {
  url: string;
  port: number;
  /** Start it again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Stop it (SIGKILL: a crash; SIGTERM: a clean stop) and wait until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A redis-server of the test's own, without persistence, on a free loopback port. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await untilAnswers(port);
    },
    async stop(signal = 'SIGKILL') {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      await exited;
    },
  };
  await own.start();
  return own;
}

/** Until a PING on the port gets +PONG (redis-server takes a few ms to listen). */
async function untilAnswers(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', () => resolve(false));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('connect', () => socket.write('PING\r\n'));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export interface TcpProxy {
  port: number;
  /** Connections passed on so far. */
  readonly connections: number;
  /** The link goes down: open connections are reset and new ones refused. */
  cut(): Promise<void>;
  /** The link hangs: new connections are accepted but nothing passes (nor on open ones). */
  hang(): void;
  /** The link is back on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on a free loopback port to `host:port`. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const held = new Set<Socket>();
  let hung = false;
  let connections = 0;
  let server: Server | undefined;
  let port = 0;
  const pipe = (client: Socket) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => {});
    if (hung) {
      held.add(client);
      return;
    }
    connections++;
    const upstream = connect(targetPort, targetHost);
    open.add(upstream);
    upstream.once('close', () => { open.delete(upstream); client.destroy(); });
    upstream.on('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = async () => {
    server = createServer(pipe);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    const closing = server;
    server = undefined;
    for (const socket of open) socket.destroy();
    open.clear();
    held.clear();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return {
    get port() { return port; },
    get connections() { return connections; },
    cut: stop,
    hang() {
      hung = true;
      for (const socket of open) socket.pause();
    },
    async restore() {
      if (hung) {
        // Hung connections never carried anything a client can resume: reset them.
        hung = false;
        await stop();
      }
      if (!server) await listen();
    },
    close: stop,
  };
}
