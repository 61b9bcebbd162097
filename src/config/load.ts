// Load switchyard.yaml: parse, interpolate ${ENV} (interpolate.ts), validate, and merge
// with the environment contract (SWITCHYARD_*, provider variables in providers.ts) and CLI flags.
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument, LineCounter } from 'yaml';
import type { Document } from 'yaml';
import { createRequire } from 'node:module';
import type { ConfigFile, configSchema as ConfigSchema } from './schema.ts';
import type { AccessConfig } from '../admin/access.ts';
import { protectReferences, resolveReferences } from './interpolate.ts';
import { resolveProviders, type ProviderInstance } from './providers.ts';

/**
 * The schema (and zod, about 18 MB of memory) is loaded only when there is a config
 * file to check; a gateway configured by environment variables never loads it.
 */
function loadSchema(): typeof ConfigSchema {
  return (createRequire(import.meta.url)('./schema.ts') as { configSchema: typeof ConfigSchema }).configSchema;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type { ProviderInstance } from './providers.ts';

export interface GatewayConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** Time to receive a request's headers, then the whole request (body included); 408 after. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Deepest [ / { nesting a JSON body may have. */
  maxJsonDepth: number;
  dbPath: string;
  postgresUrl?: string;
  redisUrl?: string;
  timezone: string;
  masterKey?: string;
  gatewayKeys: string[];
  providers: Map<string, ProviderInstance>;
  /** Settings of keys, budgets, limits and the ledger (see src/admin/access.ts). */
  access: Pick<AccessConfig, 'testKeyModels' | 'modelRateLimits' | 'modelOutputCaps' | 'retentionDays' | 'alertWebhook' | 'postgresSchema' | 'redisPrefix'>;
  file: ConfigFile;
  configPath?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Parsed CLI flags: port, host, config, db. */
  flags?: { port?: number; host?: string; config?: string; db?: string };
  cwd?: string;
}

export function loadConfig(options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const explicitPath = flags.config ?? env.SWITCHYARD_CONFIG;
  const path = explicitPath ? resolve(cwd, explicitPath) : resolve(cwd, 'switchyard.yaml');
  let file: ConfigFile = {};
  let configPath: string | undefined;
  if (existsSync(path)) {
    file = parseConfigText(readFileSync(path, 'utf8'), path, env);
    configPath = path;
  } else if (explicitPath) {
    throw new ConfigError(`Config file ${path} does not exist. Fix SWITCHYARD_CONFIG / --config, or remove it to start with defaults.`);
  }
  return resolveConfig(file, env, flags, configPath);
}

/** Parse and validate config text; errors name the file, line, field and fix. */
export function parseConfigText(text: string, path: string, env: NodeJS.ProcessEnv): ConfigFile {
  const { text: protectedText, references } = protectReferences(text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(protectedText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const { line } = lineCounter.linePos(first.pos[0]);
    const badReference = protectedText.split('\n')[line - 1]?.includes('${') ? " A '${' on that line is not a valid reference: write ${NAME} or ${NAME:-default}." : '';
    throw new ConfigError(`${path}:${line}: not valid YAML: ${first.message.split('\n')[0]}. Check the indentation and quoting on that line.${badReference}`);
  }
  resolveReferences(doc, references, env, lineCounter, (line, message) => new ConfigError(`${path}:${line}: ${message}`));
  const result = loadSchema().safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const field = issue.path.join('.') || '(top level)';
    const at = issue.path as Array<string | number>;
    const line = issue.code === 'unrecognized_keys' && issue.keys?.length ? lineOfKey(doc, lineCounter, at, issue.keys[0]) : lineOf(doc, lineCounter, at);
    return `${path}:${line}: ${field}: ${issueText(issue)}`;
  });
  throw new ConfigError(`Invalid config:\n  ${lines.join('\n  ')}\nSee "Configuration reference" in the README for every field.`);
}

function issueText(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; remove it or fix its spelling`;
  }
  return issue.message;
}

/** The line of a key itself (an unknown field), not of its value. */
function lineOfKey(doc: Document, counter: LineCounter, path: Array<string | number>, key: string): number {
  const parent = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null;
  const pair = parent?.items?.find((item) => item.key?.value === key);
  return pair?.key?.range ? counter.linePos(pair.key.range[0]).line : lineOf(doc, counter, path);
}

function lineOf(doc: Document, counter: LineCounter, path: Array<string | number>): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

function resolveConfig(file: ConfigFile, env: NodeJS.ProcessEnv, flags: NonNullable<LoadOptions['flags']>, configPath?: string): GatewayConfig {
  const port = flags.port ?? envInt(env, 'SWITCHYARD_PORT') ?? file.server?.port ?? 8787;
  const gatewayKeys = [...(file.auth?.keys ?? [])];
  if (env.SWITCHYARD_API_KEYS) gatewayKeys.push(...env.SWITCHYARD_API_KEYS.split(',').map((k) => k.trim()).filter(Boolean));
  return {
    host: flags.host ?? env.SWITCHYARD_HOST ?? file.server?.host ?? '127.0.0.1',
    port,
    maxBodyBytes: Math.round((file.server?.max_body_mb ?? 16) * 1024 * 1024),
    upstreamTimeoutMs: file.server?.upstream_timeout_ms ?? 600_000,
    headersTimeoutMs: file.server?.headers_timeout_ms ?? 30_000,
    requestTimeoutMs: file.server?.request_timeout_ms ?? 300_000,
    maxJsonDepth: file.server?.max_json_depth ?? 128,
    dbPath: flags.db ?? env.SWITCHYARD_DB ?? file.store?.path ?? 'switchyard.db',
    postgresUrl: env.SWITCHYARD_POSTGRES_URL ?? file.store?.postgres_url,
    redisUrl: env.SWITCHYARD_REDIS_URL ?? file.store?.redis_url,
    timezone: file.budgets?.timezone ?? 'UTC',
    masterKey: env.SWITCHYARD_MASTER_KEY || file.auth?.master_key,
    gatewayKeys,
    providers: resolveProviders(file, env),
    access: {
      testKeyModels: file.keys?.test_key_models,
      modelRateLimits: file.limits,
      modelOutputCaps: file.output_caps,
      retentionDays: file.log?.retention_days,
      alertWebhook: env.SWITCHYARD_ALERT_WEBHOOK ?? file.budgets?.alert_webhook,
      postgresSchema: env.SWITCHYARD_POSTGRES_SCHEMA ?? file.store?.postgres_schema,
      redisPrefix: env.SWITCHYARD_REDIS_PREFIX ?? file.store?.redis_prefix,
    },
    file,
    configPath,
    logLevel: (env.SWITCHYARD_LOG_LEVEL as GatewayConfig['logLevel']) ?? file.log?.level ?? 'info',
  };
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a port number. Use an integer from 0 to 65535.`);
  }
  return value;
}
