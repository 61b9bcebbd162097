// A real gateway as its own process (`node src/cli.ts start --port 0`), for tests that
// read what it printed, kill it hard, or run several of it side by side.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface ChildGateway {
  child: ChildProcess;
  origin: string;
  baseURL: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful drain) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no drain, no flush, no goodbye. */
  crash(): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  cwd: string;
  args?: string[];
  startTimeoutMs?: number;
}

export async function spawnGateway(options: SpawnOptions): Promise<ChildGateway> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  let origin = '';
  while (!origin) {
    const match = /listening on (http:\/\/\S+)\/v1/.exec(out);
    if (match) origin = match[1];
    else if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start; output:\n${out}`);
    } else await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    origin,
    baseURL: `${origin}/v1`,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
