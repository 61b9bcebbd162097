// The gateway configurations the benchmark compares, as data. Each runs as its own
// process in front of the same fake upstream, beside the direct call and the bare
// proxy, in every suite.
//
// Adding a scenario (e.g. routing rules, a Redis counter store, PostgreSQL): append an
// entry below. `env` and `files` shape the process (a switchyard.yaml,
// a database path, a log level); `setup` runs once the gateway listens and returns the
// bearer key the load uses (e.g. a virtual key created through the admin API, with a
// budget large enough never to refuse during the run). Nothing else changes: every
// suite, the tables, the JSON and the plot pick the new entry up.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ServerProcess } from './lib/processes.ts';

export interface ScenarioContext {
  /** The fake upstream's origin, e.g. http://127.0.0.1:41234 (no /v1). */
  upstream: string;
}

export interface GatewayScenario {
  /** Short key used in the JSON results and on the plot, e.g. "gateway". */
  id: string;
  /** What the tables call it. */
  name: string;
  /**
   * What to run instead of `src/main.js start` (what `npm start` runs): a script (relative to the repository, or
   * absolute) and its arguments; `--port 0` is appended. It must print "listening on http://…".
   */
  command?: string[];
  /** Environment on top of the base (provider pointed at the upstream, a gateway key, log level warn). */
  env?: (ctx: ScenarioContext) => Record<string, string>;
  /** Files written into the gateway's working directory before it starts (e.g. switchyard.yaml). */
  files?: (ctx: ScenarioContext) => Record<string, string>;
  /** Runs once the gateway listens; returns the bearer key to call it with (default: the base key). */
  setup?: (gateway: ServerProcess) => Promise<string | void>;
  /** The model the latency load asks for (default gpt-5.4-mini). */
  model?: string;
  /** Only in these suites (default every suite). */
  suites?: readonly string[];
}

/** The key every scenario accepts unless its setup returns another. */
export const BENCH_KEY = 'sy-bench-key-0123456789';
const MASTER_KEY = 'sy-bench-master-0123456789';

/** What `npm start` runs (package.json). */
export const DEFAULT_COMMAND: readonly string[] = ['src/main.js', 'start'];

export const scenarios: GatewayScenario[] = [
  {
    id: 'gateway-core',
    name: 'gateway, access stages off',
    // parse → route → relay, with the key check but no budgets, limits or request log.
    command: ['bench/servers/gateway-core.ts'],
    // Node's compile cache, as src/main.js turns it on for npm start.
    env: () => ({ NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache') }),
  },
  {
    id: 'gateway',
    name: 'gateway (npm start)',
    // As `npm start` runs with only env set: a plain gateway key, every request in the SQLite log.
  },
  {
    id: 'gateway-budget',
    name: 'gateway + budget key',
    // A virtual key with a monthly budget and a rate limit: each call reserves its worst
    // case, is counted against the limit, settles and is logged.
    env: () => ({ SWITCHYARD_MASTER_KEY: MASTER_KEY }),
    setup: (gateway) => createVirtualKey(gateway.origin, { name: 'bench', budgets: [{ limit_usd: 1_000_000, period: 'month' }], rate_limits: { rpm: 100_000_000 } }),
  },
  {
    id: 'gateway-auto',
    name: 'gateway, model "auto"',
    // As npm start, the request routed by the auto-router (classifier, constraints) instead of
    // naming its model: the difference to "gateway (npm start)" is the router's cost.
    model: 'auto',
    suites: ['latency'],
  },
  {
    id: 'gateway-traced',
    name: 'gateway + OTel tracing',
    // As npm start with tracing on: a span per request and per attempt, batched and
    // exported over OTLP/HTTP (to the fake upstream, which answers 404: the cost measured
    // is the gateway's, not a collector's).
    env: (ctx) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: ctx.upstream }),
    suites: ['latency'],
  },
  {
    id: 'gateway-bodies',
    name: 'gateway + redacted bodies',
    // As npm start with log.bodies.policy redacted: every prompt and answer redacted
    // (secrets, personal data) and stored with its request row.
    files: () => ({ 'switchyard.yaml': 'log:\n  bodies:\n    policy: redacted\n' }),
    suites: ['latency'],
  },
];

/** Create a virtual key through the admin API; returns its secret. */
async function createVirtualKey(origin: string, body: object): Promise<string> {
  const response = await fetch(`${origin}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const created = (await response.json()) as { key?: string };
  if (response.status !== 201 || !created.key) throw new Error(`creating the bench key failed: ${response.status} ${JSON.stringify(created)}`);
  return created.key;
}

/** The environment every gateway scenario starts from. */
export function baseGatewayEnv(ctx: ScenarioContext): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${ctx.upstream}/v1`,
    OPENAI_API_KEY: 'sk-bench-upstream-key',
    SWITCHYARD_API_KEYS: BENCH_KEY,
    SWITCHYARD_LOG_LEVEL: 'warn',
  };
}

/**
 * Every scenario twice: as is, and run from another checkout of the repository (`dir`,
 * with its own node_modules), with the same id and `@base`; an --only filter names either.
 */
export function withBaseline(list: GatewayScenario[], dir: string): GatewayScenario[] {
  return list.flatMap((scenario) => {
    let [script, ...args] = scenario.command ?? DEFAULT_COMMAND;
    // A checkout from before src/main.js ran the CLI directly.
    if (script === DEFAULT_COMMAND[0] && !existsSync(resolve(dir, script))) script = 'src/cli.ts';
    const base: GatewayScenario = { ...scenario, id: `${scenario.id}@base`, name: `${scenario.name} [baseline]`, command: [resolve(dir, script), ...args] };
    return [base, scenario];
  });
}
