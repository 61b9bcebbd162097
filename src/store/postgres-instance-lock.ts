// Liveness of gateway processes sharing PostgreSQL, by a lock that ends with the
// process: each instance holds a session-level advisory lock on its own key, on a
// dedicated connection. When the process dies its connection closes and PostgreSQL
// releases the lock; TCP keepalives bound how long a vanished host keeps it. Another
// process that can take the lock knows the instance is dead — whatever its pid does.
import { createHash } from 'node:crypto';
import pg from 'pg';

// A host that vanishes (no FIN) is noticed after about idle + interval × count seconds.
const KEEPALIVE = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';

export class PostgresInstanceLocks {
  private readonly url: string;
  private readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly held = new Map<string, pg.Client>();
  private readonly onError: (message: string, error: unknown) => void;
  private closed = false;

  constructor(url: string, schema: string, pool: pg.Pool, onError: (message: string, error: unknown) => void) {
    this.url = url;
    this.schema = schema;
    this.pool = pool;
    this.onError = onError;
  }

  async claim(id: string): Promise<void> {
    if (this.held.has(id)) return;
    const client = new pg.Client({ connectionString: this.url, options: KEEPALIVE, keepAlive: true });
    await client.connect();
    const got = (await client.query('SELECT pg_try_advisory_lock($1::bigint) AS got', [this.key(id)])).rows[0].got;
    if (!got) {
      await client.end();
      throw new Error(`instance ${id} is already claimed by another process`);
    }
    this.held.set(id, client);
    client.on('error', (error) => {
      if (this.closed) return;
      // The lock died with its connection: peers may now bill this process's open reservations
      // at their worst case (the safe side); take the lock again on a new connection.
      this.held.delete(id);
      this.onError('the instance lock connection to PostgreSQL was lost; reclaiming it', error);
      this.reclaim(id);
    });
  }

  /** Take the lock again, once a second until it works (or the store closes). */
  private reclaim(id: string): void {
    setTimeout(() => {
      if (this.closed) return;
      this.claim(id).catch((error) => {
        this.onError('reclaiming the instance lock failed; retrying', error);
        this.reclaim(id);
      });
    }, 1000).unref();
  }

  async alive(id: string): Promise<boolean> {
    if (this.held.has(id)) return true;
    const client = await this.pool.connect();
    // A checked-out client has no pool listener: a connection reset must not be an unhandled 'error' (a crash).
    let broken: Error | undefined;
    const onError = (error: Error) => { broken = error; };
    client.on('error', onError);
    try {
      const key = this.key(id);
      const got = (await client.query('SELECT pg_try_advisory_lock($1::bigint) AS got', [key])).rows[0].got === true;
      if (got) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      return !got;
    } catch (error) {
      broken ??= error as Error;
      throw error;
    } finally {
      client.off('error', onError);
      // A client that failed is destroyed, not handed to the next caller.
      client.release(broken);
    }
  }

  async releaseAll(): Promise<void> {
    this.closed = true;
    const clients = [...this.held.values()];
    this.held.clear();
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }

  /** A 64-bit key from the schema and instance id (schemas share one database's lock space). */
  private key(id: string): string {
    return createHash('sha256').update(`switchyard-instance:${this.schema}:${id}`).digest().readBigInt64BE(0).toString();
  }
}
