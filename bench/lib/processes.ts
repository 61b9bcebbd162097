// Every server under test runs as its own child process, so its memory and CPU time
// are its own: read from /proc/<pid>/status (VmRSS, VmHWM), /proc/<pid>/stat and, per thread, /proc/<pid>/task.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MS_PER_CLOCK_TICK = 10; // USER_HZ is 100 on Linux

export interface ServerProcess {
  name: string;
  pid: number;
  /** e.g. http://127.0.0.1:41234 (no path). */
  origin: string;
  /** Resident set size now, in bytes. */
  rss(): number;
  /** Resident memory that is the process's own (RSS minus pages shared with other processes, such as the node binary). */
  privateBytes(): number;
  /** Peak resident set size since start (or since resetPeak), in bytes. */
  peakRss(): number;
  /** Reset the peak (VmHWM) to the current RSS, so a later peak belongs to what runs next. */
  resetPeak(): void;
  /** User + system CPU time used so far, in ms. */
  cpuMs(): number;
  /** The same, split by thread kind: the event loop, worker threads (the SQLite writer), V8's GC and compiler helpers, the rest (libuv pool). */
  cpuMsByThread(): ThreadCpu;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Arguments after the node executable, e.g. ['src/cli.ts', 'start', '--port', '0']. */
  args: string[];
  env?: Record<string, string>;
  /** The line the server prints once it listens; group 1 is its origin. */
  ready: RegExp;
  /** Node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeFlags?: string[];
  /** Files written into the process's (fresh, temporary) working directory first. */
  files?: Record<string, string>;
}

export async function startServer(options: SpawnOptions): Promise<ServerProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(cwd, name), text);
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...options.args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const origin = await waitForLine(child, options.ready, () => stderr, options.name);
  child.stdout!.resume();
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`bench: ${options.name} exited unexpectedly (${signal ?? code}):\n${stderr}\n`);
  });
  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    origin,
    rss: () => statusField(pid, 'VmRSS'),
    privateBytes: () => privateBytes(pid),
    peakRss: () => statusField(pid, 'VmHWM'),
    resetPeak: () => resetPeak(pid),
    cpuMs: () => cpuMs(pid),
    cpuMsByThread: () => cpuMsByThread(pid),
    stop: () => {
      stopping = true;
      return stop(child, cwd);
    },
  };
}

function waitForLine(child: ChildProcess, ready: RegExp, stderr: () => string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 20 s`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve(match[1]);
    };
    const onExit = (code: number | null) => fail(new Error(`${name} exited (${code}) before it listened:\n${stderr()}`));
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stop(child: ChildProcess, cwd: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(cwd, { recursive: true, force: true });
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

function privateBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  let kb = 0;
  for (const match of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(match[1]);
  return kb * 1024;
}

/** Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0). */
function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not permitted: the peak then covers the whole life of the process
  }
}

export const THREAD_KINDS = ['main', 'workers', 'v8', 'other'] as const;
export type ThreadCpu = Record<(typeof THREAD_KINDS)[number], number>;

export const noThreadCpu = (): ThreadCpu => ({ main: 0, workers: 0, v8: 0, other: 0 });

/** Thread names as Node sets them: the event loop is the process's own name, a worker_threads Worker "WorkerThread", V8's platform threads "V8Worker". */
function cpuMsByThread(pid: number): ThreadCpu {
  const split = noThreadCpu();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return split;
  }
  for (const tid of tids) {
    try {
      const ms = cpuMs(pid, tid);
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      if (name === 'main') split.main += ms;
      else if (name === 'WorkerThread') split.workers += ms;
      else if (name === 'V8Worker') split.v8 += ms;
      else split.other += ms;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return split;
}

function cpuMs(pid: number, tid?: string): number {
  const stat = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) * MS_PER_CLOCK_TICK;
}
