// `switchyard start --instances N`: a primary process forks N gateway processes that
// share one listening port (node:cluster hands each new connection to one of them in
// turn), prints the start banner once they all listen, replaces a process that dies
// (backing off while they keep dying), and on SIGTERM/SIGINT has every process drain its
// open requests, exiting once all of them have.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';

/** What a gateway process tells the primary. */
export type WorkerReport =
  | { switchyard: 'listening'; announcement: string }
  | { switchyard: 'failed'; message: string };

/** What the primary tells a gateway process. */
export interface DrainOrder {
  switchyard: 'drain';
}

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
// A process that dies is replaced after 0.5 s, one that keeps dying after 1 s, 2 s … 30 s.
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const BACKOFF_WINDOW_MS = 60_000;
// A process that exits before listening has usually sent why; give the message time to land.
const LAST_WORDS_MS = 200;

export const isGatewayProcess = (): boolean => cluster.isWorker;

/** The id of this gateway process among the primary's (1, 2, …; a replacement gets the next). */
export const gatewayProcessId = (): number => cluster.worker?.id ?? 0;

/** Tell the primary; resolves once the message is on its way (so the process may exit). */
export function report(message: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

export function isDrainOrder(message: unknown): message is DrainOrder {
  return typeof message === 'object' && message !== null && (message as DrainOrder).switchyard === 'drain';
}

/**
 * Run the primary: fork `count` processes of `switchyard start <argv>`. Resolves undefined
 * once all of them listen (the primary then runs until a signal), or an exit code when
 * they could not start (the reason printed).
 */
export function superviseGateways(count: number, argv: string[]): Promise<number | undefined> {
  // Replacements run the same command: with --port 0 too, the primary hands them the port
  // it already listens on (node:cluster shares one listening socket per address asked for).
  cluster.setupPrimary({ exec: CLI, args: ['start', ...argv] });
  return new Promise((resolve) => {
    const live = new Map<number, { worker: Worker; listening: boolean }>();
    const deaths: number[] = [];
    const pending = new Set<NodeJS.Timeout>();
    let started = false;
    let stopping = false;
    let exitCode = 0;

    const fork = () => {
      const worker = cluster.fork();
      live.set(worker.id, { worker, listening: false });
      worker.on('message', (message: WorkerReport) => onReport(worker, message));
    };
    const finish = () => (started ? process.exit(exitCode) : resolve(exitCode));
    const stopAll = () => {
      stopping = true;
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      for (const { worker } of live.values()) {
        if (worker.isConnected()) worker.send({ switchyard: 'drain' } satisfies DrainOrder);
        else worker.process.kill('SIGTERM');
      }
      if (live.size === 0) finish();
    };
    let aborted = false;
    const abortStart = (why: string) => {
      if (aborted || stopping) return;
      aborted = true;
      exitCode = 1;
      process.stderr.write(`switchyard: cannot start.\n${why}\n`);
      stopAll();
    };

    const onReport = (worker: Worker, message: WorkerReport) => {
      const state = live.get(worker.id);
      if (!state) return;
      // Told to drain before it was listening for orders (they are not queued): tell it again.
      if (stopping) {
        if (message.switchyard === 'listening') worker.send({ switchyard: 'drain' } satisfies DrainOrder);
        return;
      }
      if (message.switchyard === 'failed') {
        if (!started) abortStart(message.message);
        else process.stderr.write(`switchyard: a replacement gateway process could not start: ${message.message}\n`);
        return;
      }
      state.listening = true;
      if (started) {
        process.stderr.write(`switchyard: replacement gateway process ${worker.process.pid} is serving (${listening()} of ${count}).\n`);
      } else if (listening() === count) {
        started = true;
        const pids = [...live.values()].map(({ worker: w }) => w.process.pid).join(', ');
        process.stdout.write(`${message.announcement}  ${count} gateway processes share this port (pids ${pids}); SIGTERM or Ctrl-C drains them all\n`);
        resolve(undefined);
      }
    };
    const listening = () => [...live.values()].filter((s) => s.listening).length;

    cluster.on('exit', (worker, code, signal) => {
      live.delete(worker.id);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (live.size === 0) finish();
        return;
      }
      if (!started) {
        const timer = setTimeout(() => { pending.delete(timer); abortStart(`A gateway process ${how} before it listened.`); }, LAST_WORDS_MS);
        pending.add(timer);
        return;
      }
      const delay = backoff(deaths);
      process.stderr.write(`switchyard: gateway process ${worker.process.pid} ${how}; starting a replacement in ${delay / 1000} s (${listening()} of ${count} serving).\n`);
      const timer = setTimeout(() => { pending.delete(timer); fork(); }, delay);
      pending.add(timer);
    });

    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: stop waiting for the drain.
        for (const { worker } of live.values()) worker.process.kill('SIGKILL');
        process.exit(1);
      }
      process.stdout.write(`switchyard: ${signal} received, draining ${live.size} gateway process(es)…\n`);
      stopAll();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    for (let i = 0; i < count; i++) fork();
  });
}

/** The wait before the next replacement: doubling with each death in the last minute. */
function backoff(deaths: number[]): number {
  const now = Date.now();
  deaths.push(now);
  while (deaths.length > 0 && deaths[0] < now - BACKOFF_WINDOW_MS) deaths.shift();
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (deaths.length - 1));
}
