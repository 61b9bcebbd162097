// Liveness of gateway processes sharing one SQLite file, by a lock that ends with the
// process: each instance holds an exclusive transaction open on its own small lock file
// (<db>.instances/<id>.lock). The OS releases that lock the moment the process dies —
// kill -9, crash, OOM — whatever its pid does afterwards (a zombie, or reused). Another
// process that can take the lock knows the instance is dead.
// Never open a lock file with node:fs while it is held: closing any descriptor of the
// file drops the process's POSIX locks on it; only node:sqlite (which tracks that) may.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export class SqliteInstanceLocks {
  private readonly dir: string | undefined;
  private readonly held = new Map<string, DatabaseSync>();

  /** `dbPath` ':memory:' has no other process: only the instances claimed here are alive. */
  constructor(dbPath: string) {
    this.dir = dbPath === ':memory:' ? undefined : `${dbPath}.instances`;
  }

  claim(id: string): void {
    if (this.held.has(id)) return;
    if (!this.dir) {
      this.held.set(id, new DatabaseSync(':memory:'));
      return;
    }
    mkdirSync(this.dir, { recursive: true });
    const lock = new DatabaseSync(this.file(id));
    lock.exec('PRAGMA busy_timeout = 0');
    lock.exec('CREATE TABLE IF NOT EXISTS instance (id TEXT)');
    lock.exec('BEGIN EXCLUSIVE');
    this.held.set(id, lock);
  }

  alive(id: string): boolean {
    if (this.held.has(id)) return true;
    if (!this.dir || !/^[A-Za-z0-9_-]+$/.test(id)) return false;
    const file = this.file(id);
    if (!existsSync(file)) return false;
    const probe = new DatabaseSync(file);
    try {
      probe.exec('PRAGMA busy_timeout = 0');
      probe.exec('BEGIN EXCLUSIVE');
      probe.exec('ROLLBACK');
    } catch (error) {
      const code = ((error as { errcode?: number }).errcode ?? -1) & 0xff;
      if (code === 5 || code === 6) return true; // busy, locked: its owner holds it
      if (code === 11 || code === 26) return false; // corrupt, not a database: nobody can hold it
      throw error;
    } finally {
      probe.close();
    }
    return false;
  }

  /** Remove a dead instance's lock file (after `alive` said false). */
  forget(id: string): void {
    if (this.dir && !this.held.has(id) && /^[A-Za-z0-9_-]+$/.test(id)) rmSync(this.file(id), { force: true });
  }

  release(id: string): void {
    const lock = this.held.get(id);
    if (!lock) return;
    this.held.delete(id);
    lock.close();
    if (this.dir) rmSync(this.file(id), { force: true });
  }

  releaseAll(): void {
    for (const id of [...this.held.keys()]) this.release(id);
  }

  private file(id: string): string {
    return join(this.dir!, `${id}.lock`);
  }
}
