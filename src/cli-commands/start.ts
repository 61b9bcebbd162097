// switchyard start: load the config, open the gateway, listen, print where every
// provider's settings came from, and drain on SIGTERM/SIGINT. With --instances N, N such
// gateway processes share the port under one primary (cluster.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import module from 'node:module';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config/load.ts';
import type { GatewayConfig } from '../config/load.ts';
import { MOCKED_KINDS, mockVariables, PROVIDER_VARIABLES } from '../config/providers.ts';
import type { ProviderKind } from '../catalog/types.ts';
import type { Gateway } from '../gateway.ts';
import { NewerSchemaError } from '../store/schema.ts';
import { gatewayProcessId, isDrainOrder, isGatewayProcess, report, superviseGateways } from './cluster.ts';

export const START_HELP = `Usage: switchyard start [options]        (npm start -- [options])

Start the gateway: one OpenAI-compatible endpoint at http://HOST:PORT/v1.

Options:
  --port N        port to listen on (default 8787; also SWITCHYARD_PORT or server.port)
  --host H        address to listen on (default 127.0.0.1; also SWITCHYARD_HOST or server.host)
  --config FILE   the config file (default ./switchyard.yaml when present; also SWITCHYARD_CONFIG)
  --db FILE       the SQLite store (default ./switchyard.db; also SWITCHYARD_DB or store.path)
  --instances N   run N gateway processes sharing the port, each draining on SIGTERM/SIGINT
                  (default 1; also SWITCHYARD_INSTANCES). More than 1 needs PostgreSQL
                  (store.postgres_url or SWITCHYARD_POSTGRES_URL) and Redis (SWITCHYARD_REDIS_URL)
  -h, --help      print this help

Providers come from switchyard.yaml and from the environment (OPENAI_API_KEY and
OPENAI_BASE_URL, ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, GEMINI_API_KEY and
GEMINI_BASE_URL, OLLAMA_HOST); the environment fills what the file leaves unset, and
the start banner says where each provider's settings came from.
`;

/** Starts the gateway; resolves once it listens (a number: it could not start, exit with it). */
export async function runStart(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' }, db: { type: 'string' }, instances: { type: 'string' } },
    strict: true,
  });
  let config: GatewayConfig;
  let instances: number;
  try {
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (values.port!.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new ConfigError(`--port ${values.port} is not a port number (0-65535).`);
    }
    instances = instanceCount(values.instances, process.env.SWITCHYARD_INSTANCES);
    config = loadConfig({ flags: { port, host: values.host, config: values.config, db: values.db } });
  } catch (err) {
    if (err instanceof ConfigError) return cannotStart(err.message);
    throw err;
  }
  if (config.gatewayKeys.length === 0 && !config.masterKey && !isLoopback(config.host)) {
    process.stderr.write(`switchyard: refusing to listen on ${config.host} with no keys configured: anyone could spend your provider credits. Set SWITCHYARD_MASTER_KEY (or auth.keys in switchyard.yaml), or listen on 127.0.0.1.\n`);
    return 1;
  }
  if (isGatewayProcess()) return serveForPrimary(config);
  if (instances > 1) {
    if (!config.postgresUrl) return cannotStart(sqliteIsOneProcess(instances));
    if (!config.redisUrl) {
      process.stderr.write(`switchyard: warning: no Redis (SWITCHYARD_REDIS_URL or store.redis_url): each of the ${instances} processes counts rate limits and budgets on its own, so a key's limits are ${instances} times looser.\n`);
    }
    return superviseGateways(instances, argv);
  }
  const serving = await openGateway(config);
  if (typeof serving === 'string') return cannotStart(serving);
  process.stdout.write(serving.announcement);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`switchyard: ${signal} received, draining ${serving.gateway.inflight} open request(s)…\n`);
    serving.drain().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return undefined;
}

interface Serving {
  gateway: Gateway;
  /** The start banner, and where the metrics are when they have their own address. */
  announcement: string;
  /** Stop taking requests, let the open ones finish, close the gateway. */
  drain(): Promise<void>;
}

/** The gateway, listening; or why it cannot start. */
async function openGateway(config: GatewayConfig, processId?: number): Promise<Serving | string> {
  // Loaded here, not at the top: `start --help` should not load the whole gateway.
  const [{ createGateway }, { createHttpServer, listen, drainAndClose }] = await Promise.all([import('../gateway.ts'), import('../server.ts')]);
  // The tokenizer loads on the first prompt over 8 KB (about 30 ms), not at start: 11 MB less idle.
  let gateway: Gateway;
  try {
    gateway = await createGateway(config);
  } catch (err) {
    // Routing config naming a discovered model is checked only once discovery has run.
    if (err instanceof ConfigError || err instanceof NewerSchemaError) return err.message;
    throw err;
  }
  const server = createHttpServer(gateway);
  // Which of the processes sharing the port answered: first, so every answer has it.
  if (processId !== undefined) server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('x-switchyard-process', String(processId)));
  let address;
  try {
    address = await listen(server, config.host, config.port);
  } catch (err) {
    const why = listenFailure(err as NodeJS.ErrnoException, config);
    if (!why) throw err;
    await gateway.close().catch(() => {});
    return why;
  }
  // Saved now, not only at exit: a gateway that is killed still starts warm the next time (src/main.js).
  module.flushCompileCache?.();
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  let announcement = banner(gateway.config, `http://${host}:${address.port}`, gateway.catalog.available().length);
  const metricsAt = config.file.metrics?.listen;
  if (metricsAt) {
    const { createMetricsServer } = await import('../observability/metrics-endpoint.ts');
    const [metricsHost, metricsPort] = [metricsAt.slice(0, metricsAt.lastIndexOf(':')), Number(metricsAt.slice(metricsAt.lastIndexOf(':') + 1))];
    const metricsServer = createMetricsServer(gateway);
    try {
      const bound = await listen(metricsServer, metricsHost, metricsPort);
      const shared = processId === undefined ? '' : '; each scrape is answered by one of the processes, with its own counters';
      announcement += `Prometheus metrics on http://${metricsHost}:${bound.port}/metrics (no key: keep this address private${shared})\n`;
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${metricsAt} is already in use` : String((err as Error).message);
      process.stderr.write(`switchyard: metrics.listen ${metricsAt}: ${why}; metrics stay on ${'GET /metrics'} with the admin key.\n`);
    }
    metricsServer.unref();
  }
  return { gateway, announcement, drain: () => drainAndClose(server, gateway) };
}

/**
 * One of the processes of `--instances N`: serve, tell the primary (which prints the
 * banner once for all), and drain when it says so (or on a signal of our own: Ctrl-C
 * reaches every process of the terminal's group).
 */
async function serveForPrimary(config: GatewayConfig): Promise<number | undefined> {
  let serving: Serving | undefined;
  let draining = false;
  const drain = () => {
    if (draining) return;
    draining = true;
    // Not open yet: nothing in flight to wait for.
    if (!serving) process.exit(0);
    serving.drain().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('message', (message) => { if (isDrainOrder(message)) drain(); });
  process.on('SIGTERM', drain);
  process.on('SIGINT', drain);
  let opened: Serving | string;
  try {
    opened = await openGateway(config, gatewayProcessId());
  } catch (err) {
    opened = err instanceof Error ? err.message : String(err);
  }
  if (typeof opened === 'string') {
    await report({ switchyard: 'failed', message: opened });
    return 1;
  }
  serving = opened;
  await report({ switchyard: 'listening', announcement: opened.announcement });
  return undefined;
}

/** --instances (or SWITCHYARD_INSTANCES): how many gateway processes; 1 unless asked. */
function instanceCount(flag: string | undefined, env: string | undefined): number {
  const [value, name] = flag !== undefined ? [flag, '--instances'] : [env, 'SWITCHYARD_INSTANCES'];
  if (value === undefined || value === '') return 1;
  const count = Number(value);
  if (value.trim() === '' || !Number.isInteger(count) || count < 1 || count > MAX_INSTANCES) {
    throw new ConfigError(`${name} ${value} is not a number of processes: give a whole number from 1 to ${MAX_INSTANCES} (this machine has ${availableParallelism()} CPU cores).`);
  }
  return count;
}

const MAX_INSTANCES = 256;

function sqliteIsOneProcess(instances: number): string {
  return `--instances ${instances} needs a store the processes share, and the embedded SQLite store belongs to one process. `
    + 'Point store.postgres_url in switchyard.yaml (or SWITCHYARD_POSTGRES_URL) at PostgreSQL, and store.redis_url (or SWITCHYARD_REDIS_URL) at Redis so rate limits and budgets are counted across the processes; or start one process (--instances 1).';
}

function cannotStart(message: string): number {
  process.stderr.write(`switchyard: cannot start.\n${message}\n`);
  return 1;
}

/** What to do when the address cannot be taken; undefined for errors that are not about the address. */
function listenFailure(err: NodeJS.ErrnoException, config: GatewayConfig): string | undefined {
  const other = config.port === 8787 ? 8788 : config.port + 1 > 65535 ? 8787 : config.port + 1;
  const choose = `choose another port with --port ${other} (npm start -- --port ${other}) or SWITCHYARD_PORT=${other}${config.configPath ? ', or server.port in switchyard.yaml' : ''}`;
  if (err.code === 'EADDRINUSE') {
    return `Port ${config.port} on ${config.host} is already in use (another Switchyard, or another program). Stop that program, or ${choose}.`;
  }
  if (err.code === 'EACCES') return `Not allowed to listen on port ${config.port} on ${config.host} (ports below 1024 need privileges): ${choose}.`;
  if (err.code === 'EADDRNOTAVAIL') return `${config.host} is not an address of this machine. Use --host 127.0.0.1 (or SWITCHYARD_HOST), or an address this machine has.`;
  return undefined;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

function banner(config: GatewayConfig, origin: string, modelCount: number): string {
  const lines = [`Switchyard listening on ${origin}/v1  (OpenAI base URL; Anthropic SDKs use ${origin})`];
  if (config.providers.size === 0) {
    lines.push(
      'No provider is configured yet, so every model call will answer 503 provider_not_configured. Add one:',
      '  export OPENAI_API_KEY=sk-...            (OpenAI; add OPENAI_BASE_URL=http://host/v1 for vLLM, llama.cpp or another relay)',
      '  export ANTHROPIC_API_KEY=... GEMINI_API_KEY=... OLLAMA_HOST=127.0.0.1:11434',
      '  or a providers: section in switchyard.yaml (see README), then restart.',
      `  No key at hand? npm run mock-upstream, then ${MOCKED_KINDS.map((kind) => mockVariables(kind)).join(' ')} npm start`,
    );
  } else {
    for (const p of config.providers.values()) lines.push(`  provider ${p.name} (${p.kind}) at ${new URL(p.baseUrl).origin}: ${p.origin}`);
    const kinds = new Set([...config.providers.values()].map((p) => p.kind));
    const missing = (Object.keys(PROVIDER_VARIABLES) as ProviderKind[]).filter((kind) => !kinds.has(kind));
    if (missing.length) {
      lines.push(`  not configured: ${missing.join(', ')} (their models answer 503; set ${missing.map((kind) => PROVIDER_VARIABLES[kind].apiKey ?? PROVIDER_VARIABLES[kind].baseUrl).join(', ')} to add them)`);
    }
    lines.push(`  ${modelCount} models available: GET ${origin}/v1/models`);
  }
  if (config.gatewayKeys.length === 0 && !config.masterKey) {
    lines.push('No gateway key is configured: any client on this machine can call it. Set SWITCHYARD_MASTER_KEY to require a key.');
  }
  lines.push(`Store: ${config.postgresUrl ? 'PostgreSQL' : `SQLite file ${config.dbPath}`}${config.configPath ? `; config ${config.configPath}` : ''}`);
  return lines.join('\n') + '\n';
}
