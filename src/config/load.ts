// Load switchyard.yaml: parse, interpolate ${ENV} (interpolate.ts), validate, and merge
// with the environment contract (SWITCHYARD_*, provider variables in providers.ts) and CLI flags.
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument, LineCounter } from 'yaml';
import { createRequire } from 'node:module';
import type { ConfigFile, configSchema as ConfigSchema } from './schema.ts';
import type { AccessConfig } from '../admin/access.ts';
import { protectReferences, resolveReferences } from './interpolate.ts';
import { resolveProviders, type ProviderInstance } from './providers.ts';
import { ConfigError, invalidConfig } from './errors.ts';
import { fieldName, locatorFor, type FieldPath, type SourceLocator } from './locate.ts';
import { resolveRouter, routerProblems, type RouterConfig } from '../router/config.ts';
import { knownModels } from './known-models.ts';
import { reviewSettings, type ReviewSettings } from '../review/rules.ts';
import { NO_FILE, resolveRouting, type ResolvedRouting, type RoutingConfig } from './routing.ts';

/**
 * The schema (and zod, about 18 MB of memory) is loaded only when there is a config
 * file to check; a gateway configured by environment variables never loads it.
 */
function loadSchema(): typeof ConfigSchema {
  return (createRequire(import.meta.url)('./schema.ts') as { configSchema: typeof ConfigSchema }).configSchema;
}

export { ConfigError } from './errors.ts';
export type { ProviderInstance } from './providers.ts';
export type { RoutingConfig, RetryPolicy, BreakerSettings, Strategy } from './routing.ts';

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
  access: Pick<AccessConfig, 'testKeyModels' | 'modelRateLimits' | 'modelOutputCaps' | 'retentionDays' | 'alertWebhook' | 'postgresSchema' | 'redisPrefix' | 'redisOutage'>;
  /** Balancing strategy per model, retry and circuit-breaker policies (src/config/routing.ts). */
  routing: RoutingConfig;
  /** Per model id: the models to try, in order, once all of its deployments failed (chains followed to the end). */
  fallbacks: ResolvedRouting['fallbacks'];
  /** Per model id: the larger-window model a prompt too long for it goes to. */
  contextFallbacks: ResolvedRouting['contextFallbacks'];
  /** Tiers and named routes of the auto-router (src/router/config.ts). */
  router: RouterConfig;
  /** Human review rules and defaults (src/review/rules.ts). */
  review: ReviewSettings;
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
  let parsed: ParsedConfig = { file: {}, source: NO_FILE };
  let configPath: string | undefined;
  if (existsSync(path)) {
    parsed = parseConfigDocument(readFileSync(path, 'utf8'), path, env);
    configPath = path;
  } else if (explicitPath) {
    throw new ConfigError(`Config file ${path} does not exist. Fix SWITCHYARD_CONFIG / --config, or remove it to start with defaults.`);
  }
  return resolveConfig(parsed, env, flags, configPath);
}

interface ParsedConfig {
  file: ConfigFile;
  source: { path: string; locate: SourceLocator };
}

/** Parse and validate config text, routing references included; errors name the file, line, field and fix. */
export function parseConfigText(text: string, path: string, env: NodeJS.ProcessEnv): ConfigFile {
  const { file, source } = parseConfigDocument(text, path, env);
  const providers = resolveProviders(file, env);
  resolveRouting(file, providers, upstreamTimeoutMs(file), source);
  checkedRouter(file, source, [...providers.values()].some((p) => p.discover));
  return file;
}

function parseConfigDocument(text: string, path: string, env: NodeJS.ProcessEnv): ParsedConfig {
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
  const locate = locatorFor(doc, lineCounter);
  const result = loadSchema().safeParse(doc.toJS() ?? {});
  if (result.success) return { file: result.data, source: { path, locate } };
  throw invalidConfig(result.error.issues.map((issue) => {
    const at = issue.path as FieldPath;
    const line = issue.code === 'unrecognized_keys' && issue.keys?.length ? locate.keyLine(at, issue.keys[0]) : locate.valueLine(at);
    return `${path}:${line}: ${fieldName(at)}: ${issueText(issue)}`;
  }));
}

function issueText(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; remove it or fix its spelling`;
  }
  return issue.message;
}

function resolveConfig({ file, source }: ParsedConfig, env: NodeJS.ProcessEnv, flags: NonNullable<LoadOptions['flags']>, configPath?: string): GatewayConfig {
  const port = flags.port ?? envInt(env, 'SWITCHYARD_PORT') ?? file.server?.port ?? 8787;
  const gatewayKeys = [...(file.auth?.keys ?? [])];
  if (env.SWITCHYARD_API_KEYS) gatewayKeys.push(...env.SWITCHYARD_API_KEYS.split(',').map((k) => k.trim()).filter(Boolean));
  const providers = resolveProviders(file, env);
  const { routing, fallbacks, contextFallbacks } = resolveRouting(file, providers, upstreamTimeoutMs(file), source);
  const router = checkedRouter(file, source, [...providers.values()].some((p) => p.discover));
  return {
    host: flags.host ?? env.SWITCHYARD_HOST ?? file.server?.host ?? '127.0.0.1',
    port,
    maxBodyBytes: Math.round((file.server?.max_body_mb ?? 16) * 1024 * 1024),
    upstreamTimeoutMs: upstreamTimeoutMs(file),
    headersTimeoutMs: file.server?.headers_timeout_ms ?? 30_000,
    requestTimeoutMs: file.server?.request_timeout_ms ?? 300_000,
    maxJsonDepth: file.server?.max_json_depth ?? 128,
    dbPath: flags.db ?? env.SWITCHYARD_DB ?? file.store?.path ?? 'switchyard.db',
    postgresUrl: env.SWITCHYARD_POSTGRES_URL ?? file.store?.postgres_url,
    redisUrl: env.SWITCHYARD_REDIS_URL ?? file.store?.redis_url,
    timezone: file.budgets?.timezone ?? 'UTC',
    masterKey: env.SWITCHYARD_MASTER_KEY || file.auth?.master_key,
    gatewayKeys,
    providers,
    access: {
      testKeyModels: file.keys?.test_key_models,
      modelRateLimits: file.limits,
      modelOutputCaps: file.output_caps,
      retentionDays: file.log?.retention_days,
      alertWebhook: env.SWITCHYARD_ALERT_WEBHOOK ?? file.budgets?.alert_webhook,
      postgresSchema: env.SWITCHYARD_POSTGRES_SCHEMA ?? file.store?.postgres_schema,
      redisPrefix: env.SWITCHYARD_REDIS_PREFIX ?? file.store?.redis_prefix,
      redisOutage: redisOutage(file),
    },
    routing,
    fallbacks,
    contextFallbacks,
    router,
    review: reviewSettings(file, (i) => `${source.path}:${source.locate.valueLine(['review', 'rules', i])}`),
    file,
    configPath,
    logLevel: (env.SWITCHYARD_LOG_LEVEL as GatewayConfig['logLevel']) ?? file.log?.level ?? 'info',
  };
}

/** The router's config; a tier naming an unknown model stops the start (unless a provider discovers its models). */
function checkedRouter(file: ConfigFile, source: ParsedConfig['source'], discovering: boolean): RouterConfig {
  const router = resolveRouter(file);
  const models = knownModels(file);
  const known = (id: string) => discovering || !file.tiers || models.get(id) !== undefined;
  const problems = routerProblems(router, known, (name) => `${source.path}:${source.locate.valueLine(['routes', name])}`, (tier) => `${source.path}:${source.locate.valueLine(['tiers', tier])}`);
  if (problems.length > 0) throw invalidConfig(problems);
  return router;
}

function upstreamTimeoutMs(file: ConfigFile): number {
  return file.server?.upstream_timeout_ms ?? 600_000;
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

/** store.redis_outage as admission takes it (unset concerns keep their defaults). */
function redisOutage(file: ConfigFile): AccessConfig['redisOutage'] {
  const outage = file.store?.redis_outage;
  if (!outage) return undefined;
  const policy: NonNullable<AccessConfig['redisOutage']> = {};
  if (outage.budgets) policy.budgets = outage.budgets;
  if (outage.rate_limits) policy.rateLimits = outage.rate_limits;
  return policy;
}
