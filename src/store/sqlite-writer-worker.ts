// Worker thread entry: owns one SQLite connection and commits the batches it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import module from 'node:module';
import { SqliteWriter } from './sqlite-writer.ts';

const { path, timezone } = workerData as { path: string; timezone: string };
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA busy_timeout = 5000');
const writer = new SqliteWriter(db, timezone);
// This thread's share of Node's compile cache (src/main.js), saved now rather than at exit.
module.flushCompileCache?.();

parentPort!.on('message', ({ id, lines, replay }: { id: number; lines: string; replay: boolean }) => {
  try {
    parentPort!.postMessage({ id, result: writer.commitLines(lines, replay) });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
