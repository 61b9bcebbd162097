// switchyard <command>: start (default), mock-upstream, doctor, keys, usage.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config/load.ts';
import type { GatewayConfig } from './config/load.ts';
import { createGateway } from './gateway.ts';
import { createHttpServer, listen, drainAndClose } from './server.ts';
import { runDoctor } from './doctor.ts';

const HELP = `Switchyard — one OpenAI-compatible endpoint for every model.

Usage: switchyard <command> [options]     (npm start -- [options] runs "start")

Commands:
  start            Start the gateway (default). --port N --host H --config FILE --db FILE
  mock-upstream    A local fake OpenAI/Anthropic/Gemini server to try the gateway without a key.
                   --port 4010 --host H --latency-ms N --chunk-delay-ms N --chunks N --fail-rate 0..1
                   --api-key KEY (require it) --quiet (no per-request lines)
  doctor           Check a running gateway step by step. --url http://127.0.0.1:8787/v1 --key KEY --model ID
  keys             Manage virtual keys (create, list, show, revoke, rotate). --help for options.
  usage            Spend and tokens by key, project, model and day.
`;

async function main(argv: string[]): Promise<void> {
  const [command = 'start', ...rest] = argv[0]?.startsWith('-') ? ['start', ...argv] : argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'mock-upstream': {
      const { runMockUpstreamCli } = await import('./mock-upstream/index.ts');
      try {
        return await runMockUpstreamCli(rest);
      } catch (err) {
        process.stderr.write(`switchyard mock-upstream: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
    }
    case 'doctor':
      process.exitCode = await runDoctor(rest);
      return;
    case 'keys':
    case 'usage': {
      const { runAdminCommand } = await import('./cli-commands/index.ts');
      process.exitCode = await runAdminCommand(command, rest);
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      process.stderr.write(`Unknown command '${command}'.\n\n${HELP}`);
      process.exitCode = 2;
  }
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' }, db: { type: 'string' } },
    strict: true,
  });
  let config: GatewayConfig;
  try {
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ConfigError(`--port ${values.port} is not a port number (0-65535).`);
    config = loadConfig({ flags: { port, host: values.host, config: values.config, db: values.db } });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchyard: cannot start.\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.gatewayKeys.length === 0 && !config.masterKey && !isLoopback(config.host)) {
    process.stderr.write(`switchyard: refusing to listen on ${config.host} with no keys configured: anyone could spend your provider credits. Set SWITCHYARD_MASTER_KEY (or auth.keys in switchyard.yaml), or listen on 127.0.0.1.\n`);
    process.exit(1);
  }
  // The tokenizer loads on the first prompt over 8 KB (about 30 ms), not at start: 11 MB less idle.
  const gateway = await createGateway(config);
  const server = createHttpServer(gateway);
  const address = await listen(server, config.host, config.port);
  printBanner(gateway.config, `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`, gateway.catalog.available().length);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`switchyard: ${signal} received, draining ${gateway.inflight} open request(s)…\n`);
    drainAndClose(server, gateway).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

function printBanner(config: GatewayConfig, origin: string, modelCount: number): void {
  const lines = [`Switchyard listening on ${origin}/v1  (OpenAI base URL; Anthropic SDKs use ${origin})`];
  if (config.providers.size === 0) {
    lines.push(
      'No provider is configured yet, so every model call will answer 503 provider_not_configured. Add one:',
      '  export OPENAI_API_KEY=sk-...            (OpenAI; add OPENAI_BASE_URL=http://host/v1 for vLLM, llama.cpp or another relay)',
      '  export ANTHROPIC_API_KEY=... GEMINI_API_KEY=... OLLAMA_HOST=127.0.0.1:11434',
      '  or a providers: section in switchyard.yaml (see README), then restart.',
      '  No key at hand? npm run mock-upstream, then OPENAI_BASE_URL=http://127.0.0.1:4010/v1 OPENAI_API_KEY=mock npm start',
    );
  } else {
    for (const p of config.providers.values()) lines.push(`  provider ${p.name} (${p.kind}) at ${new URL(p.baseUrl).origin}, from ${p.origin}`);
    lines.push(`  ${modelCount} models available: GET ${origin}/v1/models`);
  }
  if (config.gatewayKeys.length === 0 && !config.masterKey) {
    lines.push('No gateway key is configured: any client on this machine can call it. Set SWITCHYARD_MASTER_KEY to require a key.');
  }
  lines.push(`Store: ${config.postgresUrl ? 'PostgreSQL' : `SQLite file ${config.dbPath}`}${config.configPath ? `; config ${config.configPath}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
