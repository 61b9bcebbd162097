// The running gateway's parts, built once at start and shared by every request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/load.ts';
import { Catalog } from './catalog/catalog.ts';
import type { ProviderKind } from './catalog/types.ts';
import type { ProviderAdapter } from './providers/types.ts';
import type { Admission, Authenticator, Ledger } from './services.ts';
import { StaticKeyAuthenticator } from './auth/static-keys.ts';
import { providerAdapters } from './providers/registry.ts';
import { discoverModels } from './providers/discover.ts';

export interface Gateway {
  config: GatewayConfig;
  catalog: Catalog;
  authenticator: Authenticator;
  admission: Admission;
  ledger: Ledger;
  adapters: Map<ProviderKind, ProviderAdapter>;
  log: Logger;
  /** Open requests, for graceful shutdown. */
  inflight: number;
  shuttingDown: boolean;
  /** Mounted at /admin/ when the admin API is configured. */
  adminHandler?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
  close(): Promise<void>;
}

/** Lets every request through with nothing reserved (no budgets or limits configured). */
export const openAdmission: Admission = {
  async admit() {
    return { headers: {}, settle() {}, release() {} };
  },
};

export const nullLedger: Ledger = {
  record() {},
  async flush() {},
  async close() {},
};

export interface GatewayOverrides {
  authenticator?: Authenticator;
  admission?: Admission;
  ledger?: Ledger;
  log?: Logger;
  onClose?: () => Promise<void>;
}

export async function createGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const log = overrides.log ?? pino({ level: config.logLevel, base: undefined, redact: { paths: ['*.apiKey', '*.api_key', '*.authorization', 'headers.authorization', 'headers["x-api-key"]'], censor: '[redacted]' } });
  const catalog = new Catalog(config);
  for (const provider of config.providers.values()) {
    if (!provider.discover) continue;
    const found = await discoverModels(provider);
    if (found.ok) catalog.addDiscovered(provider, found.ids);
    else log.warn(`could not list models of provider '${provider.name}' at start: ${found.reason}`);
  }
  const ledger = overrides.ledger ?? nullLedger;
  const gateway: Gateway = {
    config,
    catalog,
    authenticator: overrides.authenticator ?? new StaticKeyAuthenticator(config.gatewayKeys, config.masterKey),
    admission: overrides.admission ?? openAdmission,
    ledger,
    adapters: providerAdapters(),
    log,
    inflight: 0,
    shuttingDown: false,
    async close() {
      await ledger.close();
      await overrides.onClose?.();
    },
  };
  return gateway;
}
