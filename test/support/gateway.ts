// Starts a real gateway (config, catalog, HTTP server on a free loopback port) for
// end-to-end tests, optionally with a config file and environment of the test's own.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/load.ts';
import { createGateway } from '../../src/gateway.ts';
import type { Gateway, GatewayOverrides } from '../../src/gateway.ts';
import { createHttpServer, drainAndClose } from '../../src/server.ts';
import type { LedgerEntry, Ledger } from '../../src/services.ts';

export interface TestGateway {
  origin: string;
  baseURL: string;
  gateway: Gateway;
  ledger: MemoryLedger;
  close(): Promise<void>;
}

/** Keeps every entry in memory for assertions, and passes it on to the real ledger. */
export class MemoryLedger implements Ledger {
  readonly entries: LedgerEntry[] = [];
  private readonly inner: Ledger;
  constructor(inner: Ledger) {
    this.inner = inner;
  }
  record(entry: LedgerEntry): void {
    this.entries.push(entry);
    this.inner.record(entry);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  async close(): Promise<void> {}
  /** The request rows (attempt 0) for one request id. */
  forRequest(requestId: string): LedgerEntry | undefined {
    return this.entries.find((e) => e.requestId === requestId && e.attempt === 0);
  }
}

export interface StartOptions {
  env?: Record<string, string>;
  yaml?: string;
  overrides?: GatewayOverrides;
  /** The directory of the config and SQLite file; given, it is kept on close (a restart on the same store). */
  dir?: string;
}

export async function startGateway(options: StartOptions = {}): Promise<TestGateway> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  if (options.yaml) writeFileSync(join(dir, 'switchyard.yaml'), options.yaml);
  const env = { SWITCHYARD_DB: join(dir, 'test.db'), SWITCHYARD_LOG_LEVEL: 'silent', ...options.env };
  const config = loadConfig({ env, cwd: dir, flags: { port: 0 } });
  const gateway = await createGateway(config, options.overrides);
  const ledger = new MemoryLedger(gateway.ledger);
  gateway.ledger = ledger;
  const server = createHttpServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseURL: `${origin}/v1`,
    gateway,
    ledger,
    async close() {
      await drainAndClose(server, gateway, 2_000);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until the ledger has the request row (it is written after the response ends). */
export async function ledgerRow(ledger: MemoryLedger, requestId: string, timeoutMs = 2_000): Promise<LedgerEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = ledger.forRequest(requestId);
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no ledger row for ${requestId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
